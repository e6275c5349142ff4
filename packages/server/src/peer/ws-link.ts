import { encodeMessage, type PeerLink, type PeerMessage } from "@meridian/core";
import type { Writable } from "node:stream";
import { WebSocket } from "ws";

/**
 * Bounds on what one peer socket sends and receives.
 *
 * @remarks Every node should use the same `maxPayload`: a node never sends a frame larger than
 * its own bound, and the receiving side closes the link (1009) on a frame over its bound.
 */
export interface LinkLimits {
  /** Largest frame accepted or sent, in bytes. */
  readonly maxPayload: number;
  /** Bytes queued in the socket beyond which sends are refused (the peer is too slow). */
  readonly maxBufferedBytes: number;
}

/**
 * Encodes and queues `message` on `ws`.
 *
 * @remarks Returns false, sending nothing, when the socket is not open, its queue is over
 * `maxBufferedBytes`, or the frame would exceed the peer's `maxPayload` (the peer would close
 * the link on it). A false answer is the replicator's cue to fall back to anti-entropy.
 */
export function sendMessage(ws: WebSocket, message: PeerMessage, limits: LinkLimits): boolean {
  if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > limits.maxBufferedBytes) return false;
  const frame = encodeMessage(message);
  if (frame.length > limits.maxPayload) return false;
  ws.send(frame, { binary: true });
  return true;
}

/**
 * A {@link PeerLink} over one authenticated WebSocket.
 *
 * @remarks Exists only after the handshake, so `peerId` is the id the peer proved. Sends never
 * throw; see {@link sendMessage} for when they answer false. The frames sent in one run of
 * synchronous code (a tick's ack and deltas, say) leave in one socket write: the first send
 * corks the socket, and a microtask uncorks it once that code has returned.
 */
export class WsLink implements PeerLink {
  private corked = false;

  constructor(
    readonly peerId: string,
    readonly region: string,
    private readonly ws: WebSocket,
    private readonly limits: LinkLimits,
    private readonly closeSocket: (code: number, reason: string) => void,
    /** The socket under `ws`, corked while a run of sends lasts; none: each frame its own write. */
    private readonly socket?: Writable,
  ) {}

  send(message: PeerMessage): boolean {
    const socket = this.socket;
    if (socket !== undefined && !this.corked && !socket.destroyed) {
      this.corked = true;
      socket.cork();
      queueMicrotask(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    return sendMessage(this.ws, message, this.limits);
  }

  close(code: number, reason: string): void {
    this.closeSocket(code, reason);
  }
}
