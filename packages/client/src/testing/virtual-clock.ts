import type { Timer } from "@meridian/core";
import type { ClientClock } from "../client-clock.ts";

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets real I/O callbacks (a `Response` body being read) run before virtual time moves. */
async function settleIo(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * A virtual clock: time moves only when a test says so, timers fire in (time, creation) order.
 *
 * @remarks Makes timeouts, backoff and health probes deterministic: the same seed and script
 * give the same timeline. {@link VirtualClock.run} drives an operation to its end, jumping
 * time to each next timer whenever the operation waits on one.
 */
export class VirtualClock implements ClientClock {
  private time: number;
  /** How far the wall clock (`now`) stands from the timers' time (`monotonic`). */
  private wallOffset = 0;
  private seq = 0;
  private readonly timers: Pending[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time + this.wallOffset;
  }

  monotonic(): number {
    return this.time;
  }

  /** Steps the wall clock (`now`) by `ms`, either way, as NTP may; timers keep their times. */
  stepWallClock(ms: number): void {
    this.wallOffset += ms;
  }

  after(ms: number, fn: () => void): Timer {
    return this.schedule(ms, fn);
  }

  afterInBackground(ms: number, fn: () => void): Timer {
    return this.schedule(ms, fn);
  }

  /** Timers not yet fired nor cancelled (background ones included). */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await settleIo();
      const next = this.nextDue();
      if (next === undefined || next.at > until) break;
      this.fire(next);
    }
    this.time = until;
    await settleIo();
  }

  /**
   * Awaits `operation`, moving time to the next timer each time it is stuck waiting.
   *
   * @throws Error when the operation waits and no timer is left (it would hang forever), or
   * after `maxSteps` timer firings.
   */
  async run<T>(operation: Promise<T>, maxSteps = 100_000): Promise<T> {
    let settled = false;
    operation.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    for (let step = 0; step < maxSteps; step++) {
      await settleIo();
      if (settled) return operation;
      const next = this.nextDue();
      if (next === undefined) throw new Error("operation is stuck: it waits and no timer is set");
      this.fire(next);
    }
    throw new Error(`operation did not settle within ${maxSteps} timer firings`);
  }

  private schedule(ms: number, fn: () => void): Timer {
    const t: Pending = {
      at: this.time + Math.max(0, ms),
      seq: this.seq++,
      fn,
      cancelled: false,
    };
    this.timers.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }

  private nextDue(): Pending | undefined {
    let best: Pending | undefined;
    for (const t of this.timers) {
      if (t.cancelled) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  private fire(t: Pending): void {
    t.cancelled = true;
    const i = this.timers.indexOf(t);
    if (i >= 0) this.timers.splice(i, 1);
    this.time = Math.max(this.time, t.at);
    t.fn();
  }
}
