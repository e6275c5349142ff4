import type { Socket } from "node:net";
import { decodeMessage, type PeerMessage } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { sendMessage, WsLink } from "../src/peer/ws-link.ts";
import { freePorts, waitFor } from "../src/testing/index.ts";

/** The parts of a socket `sendMessage` looks at, recording what it sends. */
function socket(readyState: number, bufferedAmount: number) {
  const sent: Uint8Array[] = [];
  const ws = { readyState, bufferedAmount, send: (frame: Uint8Array) => sent.push(frame) };
  return { ws: ws as unknown as WebSocket, sent };
}

const ping: PeerMessage = { type: "ping", req: 1, sent: { wall: 1, logical: 0, node: "eu-1" } };
const limits = { maxPayload: 1024, maxBufferedBytes: 100 };

describe("sending on a peer link", () => {
  it("sends on an open socket under its buffer bound", () => {
    const { ws, sent } = socket(WebSocket.OPEN, 100);
    expect(sendMessage(ws, ping, limits)).toBe(true);
    expect(sent).toHaveLength(1);
  });

  it("answers false and sends nothing when the buffer is over its bound", () => {
    const { ws, sent } = socket(WebSocket.OPEN, 101);
    expect(sendMessage(ws, ping, limits)).toBe(false);
    expect(sent).toHaveLength(0);
  });

  it("answers false when the socket is not open", () => {
    for (const state of [WebSocket.CONNECTING, WebSocket.CLOSING, WebSocket.CLOSED]) {
      const { ws, sent } = socket(state, 0);
      expect(sendMessage(ws, ping, limits)).toBe(false);
      expect(sent).toHaveLength(0);
    }
  });

  it("answers false for a frame the peer would refuse as too large", () => {
    const { ws, sent } = socket(WebSocket.OPEN, 0);
    expect(sendMessage(ws, ping, { ...limits, maxPayload: 8 })).toBe(false);
    expect(sent).toHaveLength(0);
  });
});

/** A ws client connected to a local ws server, with the client's TCP socket and what the server got. */
async function connectedPair() {
  const [port] = await freePorts(1);
  const wss = new WebSocketServer({ port, host: "127.0.0.1", perMessageDeflate: false });
  const received: PeerMessage[] = [];
  const closedWith = new Promise<number>((resolve) =>
    wss.on("connection", (peer) => {
      peer.on("message", (data) => received.push(decodeMessage(data as Buffer)));
      peer.on("close", (code) => resolve(code));
    }),
  );
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  const upgraded = new Promise<Socket>((resolve) =>
    ws.once("upgrade", (res) => resolve(res.socket as Socket)),
  );
  await new Promise((resolve) => ws.once("open", resolve));
  const socket = await upgraded;
  const end = async () => {
    ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  };
  return { ws, socket, received, closedWith, end };
}

describe("a peer link's sends in one run of code", () => {
  it("leave in one socket write, and every frame arrives", async () => {
    const { ws, socket, received, end } = await connectedPair();
    try {
      let writes = 0;
      const write = socket._write.bind(socket);
      const writev = socket._writev?.bind(socket);
      socket._write = (...args) => {
        writes += 1;
        write(...args);
      };
      if (writev !== undefined) {
        socket._writev = (...args) => {
          writes += 1;
          writev(...args);
        };
      }
      const link = new WsLink("eu-1", "eu", ws, { ...limits, maxPayload: 4096 }, () => {}, socket);
      const ack: PeerMessage = { type: "ack", dots: [{ origin: "eu-1", seq: 7 }] };
      expect([link.send(ack), link.send(ping), link.send(ack)]).toEqual([true, true, true]);
      expect(writes).toBe(0);
      await Promise.resolve();
      expect(writes).toBe(1);
      await waitFor(() => received.length === 3, "the three frames");
      expect(received).toEqual([ack, ping, ack]);
    } finally {
      await end();
    }
  });

  it("still leave when the link is closed before the run ends, and the close frame follows them", async () => {
    const { ws, socket, received, closedWith, end } = await connectedPair();
    try {
      const link = new WsLink("eu-1", "eu", ws, { ...limits, maxPayload: 4096 }, () => {}, socket);
      expect(link.send(ping)).toBe(true);
      ws.close(1000, "done");
      expect(link.send(ping)).toBe(false);
      await Promise.resolve();
      expect(socket.writableCorked).toBe(0);
      expect(await closedWith).toBe(1000);
      expect(received).toEqual([ping]);
    } finally {
      await end();
    }
  });

  it("leave the socket uncorked when it is destroyed before the run ends", async () => {
    const { ws, socket, end } = await connectedPair();
    try {
      const link = new WsLink("eu-1", "eu", ws, { ...limits, maxPayload: 4096 }, () => {}, socket);
      expect(link.send(ping)).toBe(true);
      socket.destroy(new Error("connection reset"));
      // ws learns of the close a tick later; this send must neither throw nor cork again.
      expect(() => link.send(ping)).not.toThrow();
      await Promise.resolve();
      expect(socket.writableCorked).toBe(0);
      expect(socket.destroyed).toBe(true);
    } finally {
      await end();
    }
  });
});
