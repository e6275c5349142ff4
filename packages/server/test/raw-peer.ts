import { decodeMessage, type PeerMessage } from "@meridian/core";
import { WebSocket } from "ws";

/** How a raw connection ended. */
export interface RawClose {
  readonly code: number;
  readonly reason: string;
}

/**
 * A bare WebSocket client on a node's peer endpoint, for tests that speak (or break) the
 * protocol by hand.
 */
export class RawPeer {
  /** Settles when the socket closes. */
  readonly closed: Promise<RawClose>;
  private readonly inbox: PeerMessage[] = [];
  private readonly waiting: { resolve: (m: PeerMessage) => void; reject: (e: Error) => void }[] =
    [];
  private ended: RawClose | undefined;

  private constructor(private readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.ended = { code, reason: reason.toString() };
        for (const w of this.waiting.splice(0)) w.reject(closedError(this.ended));
        resolve(this.ended);
      });
    });
    ws.on("error", () => {});
    ws.on("message", (data) => {
      const m = decodeMessage(new Uint8Array(data as Buffer));
      const w = this.waiting.shift();
      if (w) w.resolve(m);
      else this.inbox.push(m);
    });
  }

  /** Connects to `ws://127.0.0.1:<port><path>`. */
  static open(port: number, path = "/v1/peer"): Promise<RawPeer> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new RawPeer(ws)));
      ws.once("error", reject);
    });
  }

  /** The next message the node sent. */
  next(): Promise<PeerMessage> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    if (this.ended) return Promise.reject(closedError(this.ended));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Sends one frame: bytes as binary, a string as text. */
  send(frame: Uint8Array | string): void {
    this.ws.send(frame, { binary: typeof frame !== "string" });
  }

  close(): void {
    this.ws.close();
  }
}

function closedError(end: RawClose): Error {
  return new Error(`socket closed (${end.code} ${end.reason}) before the next message`);
}
