import type { PeerMessage } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { sendMessage } from "../src/peer/ws-link.ts";

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
