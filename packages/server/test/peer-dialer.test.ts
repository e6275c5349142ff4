import type { Rng, Scheduler } from "@meridian/core";
import { describe, expect, it } from "vitest";
import type { ConnectionEnd } from "../src/peer/connection.ts";
import { type DialOutcome, Dialer, peerSocketUrl } from "../src/peer/dialer.ts";

/** Timers that fire only when the test says so. */
class ManualScheduler implements Scheduler {
  readonly pending: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  after(ms: number, fn: () => void) {
    const t = { ms, fn, cancelled: false };
    this.pending.push(t);
    return { cancel: () => (t.cancelled = true) };
  }
  /** Fires the oldest live timer; returns its delay. */
  fire(): number {
    const t = this.pending.shift();
    if (t === undefined) throw new Error("no timer pending");
    if (!t.cancelled) t.fn();
    return t.ms;
  }
  live(): number {
    return this.pending.filter((t) => !t.cancelled).length;
  }
}

/** The largest jitter: every delay lands just under its ceiling. */
const maxRng: Rng = { bytes: (n) => new Uint8Array(n).fill(0xff) };
const lost: ConnectionEnd = { code: 1006, reason: "", byUs: false, authenticated: false };

function setup() {
  const scheduler = new ManualScheduler();
  const attempts: { outcome: DialOutcome; closed: number[] }[] = [];
  const dialer = new Dialer({
    url: "ws://127.0.0.1:1/v1/peer",
    scheduler,
    rng: maxRng,
    backoff: { baseMs: 100, capMs: 5000 },
    connect: (_url, outcome) => {
      const attempt = { outcome, closed: [] as number[] };
      attempts.push(attempt);
      return { close: (code) => attempt.closed.push(code) };
    },
  });
  const last = () => attempts[attempts.length - 1]!;
  return { scheduler, attempts, dialer, last };
}

describe("dialer", () => {
  it("backs off exponentially up to the cap, and starts over after a handshake", () => {
    const { scheduler, attempts, dialer, last } = setup();
    dialer.start();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      last().outcome.ended(lost);
      delays.push(scheduler.fire());
    }
    expect(delays).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999, 4999]);
    expect(attempts).toHaveLength(10);
    last().outcome.opened();
    last().outcome.ended({ ...lost, authenticated: true });
    expect(scheduler.fire()).toBe(99);
  });

  it("does not dial again a URL that leads to itself", () => {
    const { scheduler, dialer, last } = setup();
    dialer.start();
    last().outcome.ended({
      code: 4508,
      reason: "connected to itself",
      byUs: true,
      authenticated: false,
    });
    expect(scheduler.live()).toBe(0);
  });

  it("stops: cancels the pending retry, closes the attempt in flight with 1001, dials no more", () => {
    const { scheduler, attempts, dialer, last } = setup();
    dialer.start();
    last().outcome.ended(lost);
    dialer.stop();
    expect(scheduler.live()).toBe(0);

    const second = setup();
    second.dialer.start();
    second.dialer.stop();
    expect(second.last().closed).toEqual([1001]);
    second.last().outcome.ended({ ...lost, code: 1001, byUs: true });
    expect(second.scheduler.live()).toBe(0);
    expect(attempts).toHaveLength(1);
  });
});

describe("peer socket URL", () => {
  it("maps a base URL to its WebSocket endpoint", () => {
    expect(peerSocketUrl("http://127.0.0.1:7002")).toBe("ws://127.0.0.1:7002/v1/peer");
    expect(peerSocketUrl("https://eu.example.com/meridian/")).toBe(
      "wss://eu.example.com/meridian/v1/peer",
    );
  });

  it("refuses what is not an http URL", () => {
    expect(() => peerSocketUrl("ftp://example.com")).toThrow(/not http/);
    expect(() => peerSocketUrl("eu:7002")).toThrow();
    expect(() => peerSocketUrl("nonsense")).toThrow(/not a URL/);
  });
});
