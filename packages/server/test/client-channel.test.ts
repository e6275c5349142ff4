import {
  type ChannelAnswer,
  type ChannelCall,
  decodeChannelAnswers,
  encodeChannelCalls,
  packValue,
} from "@meridian/core";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { RunningNode } from "../src/index.ts";
import { waitFor } from "../src/testing/wait-for.ts";
import { sid, startTestNode } from "./http-kit.ts";

const nodes: RunningNode[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const n of nodes.splice(0)) await n.close();
});

async function node(overrides: Parameters<typeof startTestNode>[0] = {}): Promise<RunningNode> {
  const n = await startTestNode(overrides);
  nodes.push(n);
  return n;
}

/** Opens a channel; resolves once open, or rejects with the refused upgrade's status. */
function open(n: RunningNode, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${n.url.replace("http", "ws")}/v1/channel`, { headers });
    sockets.push(ws);
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

/** Sends calls in one frame and collects an answer for each, in id order. */
function call(ws: WebSocket, calls: ChannelCall[]): Promise<ChannelAnswer[]> {
  return new Promise((resolve) => {
    const got: ChannelAnswer[] = [];
    const onMessage = (data: Buffer) => {
      got.push(...decodeChannelAnswers(data));
      if (got.length >= calls.length) {
        ws.off("message", onMessage);
        resolve(got.sort((a, b) => a.id - b.id));
      }
    };
    ws.on("message", onMessage);
    ws.send(encodeChannelCalls(calls));
  });
}

const closeCode = (ws: WebSocket) =>
  new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));

describe("client channel", () => {
  it("answers pipelined calls as the HTTP API does, matched by id", async () => {
    const n = await node();
    const ws = await open(n);
    const id = sid("channel-1");
    const [put] = await call(ws, [
      { id: 7, method: "PUT", target: `/v1/sessions/${id}`, body: { data: { cart: [1, 2] } } },
    ]);
    expect(put).toMatchObject({ id: 7, status: 201, body: { id, data: { cart: [1, 2] } } });
    expect(put?.version).toMatch(/^1\.eu-/);
    const answers = await call(ws, [
      { id: 1, method: "GET", target: `/v1/sessions/${id}` },
      { id: 2, method: "PATCH", target: `/v1/sessions/${id}`, body: { set: { n: 3 } } },
      { id: 3, method: "GET", target: `/v1/sessions/${sid("missing")}` },
      { id: 4, method: "GET", target: "/v1/sessions/bad" },
      { id: 5, method: "DELETE", target: `/v1/sessions/${id}?consistency=sometimes` },
      { id: 6, method: "GET", target: "/nowhere" },
    ]);
    expect(answers.map((a) => [a.id, a.status])).toEqual([
      [1, 200],
      [2, 200],
      [3, 404],
      [4, 400],
      [5, 400],
      [6, 404],
    ]);
    expect(answers[0]?.body).toMatchObject({ data: { cart: [1, 2] } });
    expect(answers[1]?.body).toMatchObject({ data: { cart: [1, 2], n: 3 } });
    expect(answers[2]?.body).toEqual({
      error: { code: "MERIDIAN_ERR_NOT_FOUND", message: expect.any(String) },
    });
    expect(answers[3]?.body).toMatchObject({ error: { code: "MERIDIAN_ERR_BAD_ID" } });
    // The bad consistency level was refused before anything was written: the session lives.
    const [after] = await call(ws, [{ id: 8, method: "GET", target: `/v1/sessions/${id}` }]);
    expect(after?.status).toBe(200);
    const metrics = await (await fetch(`${n.url}/metrics`)).text();
    expect(metrics).toMatch(/^meridian_client_channels(\{[^}]*\})? 1$/m);
    expect(metrics).toMatch(/meridian_http_requests_total\{[^}]*op="patch_session"[^}]*\} 1/);
  });

  it("closes with 4400 on a frame that does not decode, stores nothing and stays up", async () => {
    const n = await node();
    for (const frame of [
      Buffer.from([0xc1, 0x00]),
      packValue([[1, "PUT", `/v1/sessions/${sid("x")}`, {}, "extra"]]),
      packValue("not a batch"),
    ]) {
      const ws = await open(n);
      const closed = closeCode(ws);
      ws.send(frame);
      expect(await closed).toBe(4400);
    }
    const text = await open(n);
    const closed = closeCode(text);
    text.send("[]");
    expect(await closed).toBe(4400);
    expect(n.replica.store.sessionCount()).toBe(0);
    expect((await fetch(`${n.url}/healthz`)).status).toBe(200);
  });

  it("with tokens, refuses an upgrade without a valid one and serves one with it", async () => {
    const n = await node({ tokens: ["t-one", "t-two"] });
    await expect(open(n)).rejects.toThrow("status 401");
    await expect(open(n, { authorization: "Bearer nope" })).rejects.toThrow("status 401");
    const ws = await open(n, { authorization: "Bearer t-two" });
    const [a] = await call(ws, [
      { id: 1, method: "POST", target: "/v1/sessions", body: { data: { a: 1 } } },
    ]);
    expect(a?.status).toBe(201);
  });

  it("stops reading a client's calls while its unread answers pass the bound, then serves them all", async () => {
    const n = await node();
    const ws = await open(n);
    const id = sid("big-answer");
    // About 900 KiB per answer: 15 fields of 60 KiB.
    const data = Object.fromEntries(
      Array.from({ length: 15 }, (_, i) => [
        `f${i}`,
        String.fromCharCode(97 + i).repeat(60 * 1024),
      ]),
    );
    const [put] = await call(ws, [
      { id: 1, method: "PUT", target: `/v1/sessions/${id}`, body: { data } },
    ]);
    expect(put?.status).toBe(201);
    const metric = async (pattern: RegExp) =>
      Number(pattern.exec(await (await fetch(`${n.url}/metrics`)).text())?.[1] ?? 0);
    const served = () => metric(/meridian_http_requests_total\{[^}]*op="get_session"[^}]*\} (\d+)/);
    const paused = () => metric(/^meridian_client_channels_paused(?:\{[^}]*\})? (\d+)$/m);
    const got: ChannelAnswer[] = [];
    ws.on("message", (frame: Buffer) => got.push(...decodeChannelAnswers(frame)));
    const get = (i: number) =>
      ws.send(encodeChannelCalls([{ id: 100 + i, method: "GET", target: `/v1/sessions/${id}` }]));
    // The client stops reading its answers and keeps calling, one call at a time, until the node
    // stops reading (16 MiB of answers plus what the socket buffers hold: a few dozen calls).
    ws.pause();
    let sent = 0;
    while ((await paused()) === 0) {
      expect(sent).toBeLessThan(500);
      get(sent++);
      await waitFor(
        async () => (await served()) === sent || (await paused()) === 1,
        "a call served",
      );
    }
    const servedWhenPaused = await served();
    for (let i = 0; i < 50; i++) get(sent++);
    // A round trip on another channel: the node is serving, just not this client's calls.
    const other = await open(n);
    const [probe] = await call(other, [{ id: 1, method: "GET", target: `/v1/sessions/${id}` }]);
    expect(probe?.status).toBe(200);
    expect(await served()).toBe(servedWhenPaused + 1);
    expect(await paused()).toBe(1);
    ws.resume();
    await waitFor(() => got.length === sent, "every answer", 30_000);
    expect(got.every((a) => a.status === 200)).toBe(true);
    expect(new Set(got.map((a) => a.id)).size).toBe(sent);
    expect(await served()).toBe(sent + 1);
    await waitFor(async () => (await paused()) === 0, "the node to read the channel again");
  });

  it("refuses other upgrade paths with 404", async () => {
    const n = await node();
    const ws = new WebSocket(`${n.url.replace("http", "ws")}/v1/elsewhere`);
    sockets.push(ws);
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode));
      ws.once("error", () => resolve(undefined));
    });
    expect(status).toBe(404);
  });
});
