import type { AddressInfo } from "node:net";
import { type ChannelCall, decodeChannelCalls, encodeChannelAnswers } from "@meridian/core";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { RequestTimeoutError } from "../src/errors.ts";
import { RegionChannel } from "../src/region-channel.ts";
import { VirtualClock } from "../src/testing/index.ts";

/** A channel endpoint that answers only the calls the test tells it to. */
class ScriptedNode {
  readonly calls: ChannelCall[] = [];
  private readonly wss: WebSocketServer;
  private socket: import("ws").WebSocket | undefined;

  private constructor(wss: WebSocketServer) {
    this.wss = wss;
    wss.on("connection", (ws) => {
      this.socket = ws;
      ws.on("message", (data) => this.calls.push(...decodeChannelCalls(data as Buffer)));
    });
  }

  static async start(): Promise<ScriptedNode> {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    return new ScriptedNode(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/v1/channel`;
  }

  /** Answers the call of `target` with 200 and `{target}`. */
  answer(target: string): void {
    const call = this.calls.find((c) => c.target === target);
    if (call === undefined || this.socket === undefined) throw new Error(`no call ${target}`);
    this.socket.send(encodeChannelAnswers([{ id: call.id, status: 200, body: { target } }]));
  }

  close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/** Resolves once `condition` holds, polling on the event loop (no virtual time passes). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) {
    await new Promise((r) => setImmediate(r));
  }
  if (!condition()) throw new Error("condition never held");
}

type Outcome =
  | { status: "pending" }
  | { status: "ok"; body: unknown }
  | { status: "failed"; error: unknown };

function track(p: Promise<unknown> | undefined): { outcome: Outcome } {
  if (p === undefined) throw new Error("the channel refused the call");
  const t: { outcome: Outcome } = { outcome: { status: "pending" } };
  p.then(
    (a) => {
      t.outcome = { status: "ok", body: (a as { body: unknown }).body };
    },
    (error: unknown) => {
      t.outcome = { status: "failed", error };
    },
  );
  return t;
}

describe("RegionChannel timeouts", () => {
  let node: ScriptedNode | undefined;
  let channel: RegionChannel | undefined;
  afterEach(async () => {
    channel?.close();
    await node?.close();
  });

  it("times each call out at its own deadline, with one timer for all the calls in flight", async () => {
    node = await ScriptedNode.start();
    const clock = new VirtualClock();
    channel = new RegionChannel("eu", node.url, {}, clock);
    const get = (path: string, timeoutMs: number) =>
      track(channel!.send({ method: "GET", path }, timeoutMs));

    const first = get("/a", 5000);
    await until(() => node!.calls.length === 1);
    const many = Array.from({ length: 100 }, (_, i) => get(`/m${i}`, 5000));
    await until(() => node!.calls.length === 101);
    // One timer, however many calls are in flight (one per call would be 101).
    expect(clock.pendingTimers).toBe(1);

    await clock.advance(3000);
    const later = get("/later", 5000);
    const short = get("/short", 1000);
    await until(() => node!.calls.length === 103);
    node.answer("/m0");
    await until(() => many[0]!.outcome.status === "ok");
    expect(many[0]!.outcome).toEqual({ status: "ok", body: { target: "/m0" } });

    // t = 3999: nothing is due yet.
    await clock.advance(999);
    expect(short.outcome.status).toBe("pending");
    // t = 4000: the short call, sent at 3000 with 1 s, is due; the others are not.
    await clock.advance(1);
    expect(short.outcome.status).toBe("failed");
    expect((short.outcome as { error: unknown }).error).toBeInstanceOf(RequestTimeoutError);
    expect(first.outcome.status).toBe("pending");

    // t = 5000: the calls sent at 0 are due, the answered one stays answered.
    await clock.advance(1000);
    expect(first.outcome.status).toBe("failed");
    expect(many.filter((m) => m.outcome.status === "failed")).toHaveLength(99);
    expect(many[0]!.outcome.status).toBe("ok");
    expect(later.outcome.status).toBe("pending");

    // t = 8000: the call sent at 3000 is due too.
    await clock.advance(2999);
    expect(later.outcome.status).toBe("pending");
    await clock.advance(1);
    const error = (later.outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as RequestTimeoutError).timeoutMs).toBe(5000);
    expect(channel.inFlight).toBe(0);
  });

  it("still answers calls after others timed out, and an answer after the deadline is dropped", async () => {
    node = await ScriptedNode.start();
    const clock = new VirtualClock();
    channel = new RegionChannel("eu", node.url, {}, clock);
    const slow = track(channel.send({ method: "GET", path: "/slow" }, 1000));
    await until(() => node!.calls.length === 1);
    await clock.advance(1000);
    expect(slow.outcome.status).toBe("failed");
    // The late answer arrives: nobody waits for it any more.
    node.answer("/slow");
    const next = track(channel.send({ method: "GET", path: "/next" }, 1000));
    await until(() => node!.calls.length === 2);
    node.answer("/next");
    await until(() => next.outcome.status !== "pending");
    expect(next.outcome).toEqual({ status: "ok", body: { target: "/next" } });
    expect(slow.outcome.status).toBe("failed");
  });
});
