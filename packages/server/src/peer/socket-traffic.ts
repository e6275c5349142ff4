import { Socket } from "node:net";
import type { Duplex } from "node:stream";

/**
 * Byte totals of a set of peer sockets: the live ones read at each call, the closed ones kept.
 *
 * @remarks Counts what crossed the socket (upgrade request and answer, WebSocket framing and
 * handshake included), which is what a network bill or a link's capacity sees. A socket is
 * counted once however often it is watched.
 */
export class SocketTraffic {
  private readonly live = new Set<Socket>();
  private closedIn = 0;
  private closedOut = 0;

  /** Starts counting `socket` (anything but a TCP or TLS socket is ignored). */
  watch(socket: Duplex): void {
    if (!(socket instanceof Socket) || this.live.has(socket)) return;
    this.live.add(socket);
    socket.once("close", () => {
      if (!this.live.delete(socket)) return;
      this.closedIn += socket.bytesRead;
      this.closedOut += socket.bytesWritten;
    });
  }

  /** Bytes received and sent by every watched socket so far. */
  totals(): { bytesIn: number; bytesOut: number } {
    let bytesIn = this.closedIn;
    let bytesOut = this.closedOut;
    for (const s of this.live) {
      bytesIn += s.bytesRead;
      bytesOut += s.bytesWritten;
    }
    return { bytesIn, bytesOut };
  }
}
