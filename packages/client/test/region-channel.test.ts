import type { AddressInfo } from "node:net";
import { type ChannelCall, decodeChannelCalls, encodeChannelAnswers } from "@meridian/core";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { RegionUnreachableError, RequestTimeoutError } from "../src/errors.ts";
import { RegionChannel } from "../src/region-channel.ts";
import { seededRng, VirtualClock } from "../src/testing/index.ts";
import { testSeed } from "./seed.ts";

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

  /** Drops the connection, as a node that crashed would. */
  drop(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/**
 * Resolves once `condition` holds, polling on the event loop (no virtual time passes).
 *
 * @remarks Gives up after 10 s of real time, not after a count of turns: the model test waits on
 * hundreds of loopback round trips, which a loaded machine makes slow.
 */
async function until(condition: () => boolean): Promise<void> {
  const giveUpAt = performance.now() + 10_000;
  while (!condition()) {
    if (performance.now() > giveUpAt) throw new Error("condition never held");
    await new Promise((r) => setImmediate(r));
  }
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

/** A call of the model: what the channel must have done with it by now. */
interface ModelCall {
  readonly target: string;
  readonly deadline: number;
  readonly timeoutMs: number;
  /**
   * Answered by the node, or failed by a dropped connection, before its deadline; refused: it
   * never left, sent while the dropped connection was closing.
   */
  end: "answered" | "dropped" | "refused" | undefined;
  readonly tracked: { outcome: Outcome };
}

describe("RegionChannel timeouts against a model", () => {
  let node: ScriptedNode | undefined;
  let channel: RegionChannel | undefined;
  afterEach(async () => {
    channel?.close();
    await node?.close();
  });

  it("fails every call exactly at its own deadline, whatever order calls of any timeout are sent, answered and dropped in", async () => {
    const seed = testSeed();
    const rng = seededRng(seed);
    const int = (n: number) => {
      const b = rng.bytes(4);
      return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) % n;
    };
    node = await ScriptedNode.start();
    const clock = new VirtualClock();
    channel = new RegionChannel("eu", node.url, {}, clock);
    const ch = channel;
    const calls: ModelCall[] = [];
    const timeouts = [1, 2, 10, 100, 250, 999, 1000, 1001, 3000];
    let n = 0;
    const sent = () => node!.calls.length;
    /** Sends a call and waits until the node has it. */
    const send = async (timeoutMs: number): Promise<ModelCall> => {
      const target = `/c${n++}`;
      const before = sent();
      const call: ModelCall = {
        target,
        deadline: clock.monotonic() + timeoutMs,
        timeoutMs,
        end: undefined,
        tracked: track(ch.send({ method: "GET", path: target }, timeoutMs)),
      };
      calls.push(call);
      await until(() => sent() > before || call.tracked.outcome.status !== "pending");
      return call;
    };
    /**
     * Sends a call that the node answers at once. A call sent while the dropped connection is
     * still closing fails as refused (it never left): then again on a new connection.
     */
    const answered = async (timeoutMs: number): Promise<void> => {
      for (;;) {
        const c = await send(timeoutMs);
        if (c.tracked.outcome.status === "failed") {
          c.end = "refused";
          continue;
        }
        node!.answer(c.target);
        c.end = "answered";
        await until(() => c.tracked.outcome.status === "ok");
        return;
      }
    };
    const open = () => calls.filter((c) => c.end === undefined && c.deadline > clock.monotonic());

    for (let step = 0; step < 150; step++) {
      const op = int(20);
      if (op < 7) {
        // The handshake is timed in real time, by ws: a call of 1 ms does not open the channel.
        if (!ch.isOpen) await answered(60_000);
        for (let k = 1 + int(4); k > 0; k--) await send(timeouts[int(timeouts.length)]!);
        // An answer after the sends: a frame has come back since each was sent, so no timeout
        // starts the silent-link probe (which would drop the link and every call with it).
        await answered(60_000);
      } else if (op < 11) {
        const candidates = open();
        if (candidates.length > 0) {
          const c = candidates[int(candidates.length)]!;
          node.answer(c.target);
          c.end = "answered";
          await until(() => c.tracked.outcome.status === "ok");
        }
      } else if (op < 18) {
        // Advance to just before or exactly onto some call's deadline, or by a random amount.
        const candidates = open();
        const now = clock.monotonic();
        let to = now + int(1500);
        if (candidates.length > 0 && int(3) > 0) {
          to = candidates[int(candidates.length)]!.deadline - int(2);
        }
        await clock.advance(Math.max(0, to - now));
      } else if (op === 18) {
        // A late answer, to a call that timed out already: dropped.
        const late = calls.filter((c) => c.end === undefined && c.deadline <= clock.monotonic());
        if (late.length > 0) node.answer(late[int(late.length)]!.target);
      } else {
        const inFlight = open();
        node.drop();
        for (const c of inFlight) c.end = "dropped";
        await until(
          () => !ch.isOpen && inFlight.every((c) => c.tracked.outcome.status === "failed"),
        );
      }
      await until(() => true);

      const now = clock.monotonic();
      for (const c of calls) {
        const o = c.tracked.outcome;
        const where = `seed ${seed}, step ${step}, ${c.target} (timeout ${c.timeoutMs}, deadline ${c.deadline}, now ${now})`;
        if (c.end === "answered") {
          expect(o, where).toEqual({ status: "ok", body: { target: c.target } });
        } else if (c.end === "refused") {
          const e = (o as { error: unknown }).error;
          expect(e, where).toBeInstanceOf(RegionUnreachableError);
          expect((e as RegionUnreachableError).refused, where).toBe(true);
        } else if (c.end === "dropped") {
          expect(o.status, where).toBe("failed");
          const e = (o as { error: unknown }).error;
          expect(e, where).toBeInstanceOf(RegionUnreachableError);
          expect((e as RegionUnreachableError).refused, where).toBe(false);
        } else if (c.deadline <= now) {
          expect(o.status, where).toBe("failed");
          const e = (o as { error: unknown }).error;
          expect(e, where).toBeInstanceOf(RequestTimeoutError);
          expect((e as RequestTimeoutError).timeoutMs, where).toBe(c.timeoutMs);
        } else {
          expect(o, `${where}: ${String((o as { error?: unknown }).error)}`).toEqual({
            status: "pending",
          });
        }
      }
      expect(ch.inFlight, `seed ${seed}, step ${step}`).toBe(open().length);
      // One timer at most; and one while any call waits, or its deadline would never come.
      if (open().length > 0) expect(clock.pendingTimers, `seed ${seed}, step ${step}`).toBe(1);
      else expect(clock.pendingTimers, `seed ${seed}, step ${step}`).toBeLessThanOrEqual(1);
    }
  });

  it("measures deadlines on the monotonic clock: a step of the wall clock neither delays nor hastens a timeout", async () => {
    node = await ScriptedNode.start();
    const clock = new VirtualClock();
    channel = new RegionChannel("eu", node.url, {}, clock);
    const back = track(channel.send({ method: "GET", path: "/back" }, 1000));
    await until(() => node!.calls.length === 1);
    // The wall clock steps an hour back: the call still times out after its 1 s.
    clock.stepWallClock(-3_600_000);
    await clock.advance(1000);
    expect(back.outcome.status).toBe("failed");
    expect((back.outcome as { error: unknown }).error).toBeInstanceOf(RequestTimeoutError);

    node.answer("/back");
    const ahead = track(channel.send({ method: "GET", path: "/ahead" }, 1000));
    await until(() => node!.calls.length === 2);
    // An hour forward: not a timeout yet.
    clock.stepWallClock(7_200_000);
    await clock.advance(999);
    expect(ahead.outcome.status).toBe("pending");
    await clock.advance(1);
    expect(ahead.outcome.status).toBe("failed");
  });

  it("leaves no timer armed once closed, with calls in flight or after they were answered", async () => {
    node = await ScriptedNode.start();
    const clock = new VirtualClock();
    channel = new RegionChannel("eu", node.url, {}, clock);
    const answered = track(channel.send({ method: "GET", path: "/a" }, 5000));
    await until(() => node!.calls.length === 1);
    node.answer("/a");
    await until(() => answered.outcome.status === "ok");
    const waiting = track(channel.send({ method: "GET", path: "/w" }, 5000));
    await until(() => node!.calls.length === 2);
    expect(clock.pendingTimers).toBe(1);
    channel.close();
    await until(() => waiting.outcome.status === "failed");
    expect((waiting.outcome as { error: unknown }).error).toBeInstanceOf(RegionUnreachableError);
    expect(clock.pendingTimers).toBe(0);
  });
});
