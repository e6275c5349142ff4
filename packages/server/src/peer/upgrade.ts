import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { PEER_PATH } from "./dialer.ts";

/** Whether an upgrade request asks for the peer endpoint (the query string is ignored). */
export function isPeerUpgrade(req: IncomingMessage): boolean {
  const url = req.url ?? "";
  const q = url.indexOf("?");
  return (q === -1 ? url : url.slice(0, q)) === PEER_PATH;
}

/**
 * Answers an upgrade request with a bare HTTP error and destroys the socket.
 *
 * @remarks The socket is the raw connection (Node stops handling it once it emits `upgrade`), so
 * an error on it must be caught here or it would crash the process.
 */
export function refuseUpgrade(socket: Duplex, status: 401 | 404 | 503, text: string): void {
  socket.on("error", () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once("finish", () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
