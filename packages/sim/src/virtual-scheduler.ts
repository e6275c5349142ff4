import type { Scheduler, Timer } from "@meridian/core";

/**
 * Whose event an event is: one incarnation of a simulated node. A dead owner's events are dropped
 * (a crash loses everything in memory); a paused owner's events wait until it resumes.
 */
export interface EventOwner {
  readonly label: string;
  alive: boolean;
  /** Virtual time before which this owner runs nothing. */
  pausedUntil: number;
}

interface QueuedEvent {
  at: number;
  seq: number;
  readonly owner: EventOwner | undefined;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Something went wrong inside an event: node code threw where it must not. */
export interface EventFault {
  readonly at: number;
  readonly owner: string;
  readonly error: unknown;
}

/** Lets every pending promise continuation run: a macrotask turn runs only once microtasks drain. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The event queue of a simulation, in virtual milliseconds: implements core's `Scheduler` for the
 * node code, and runs events in (time, insertion order).
 *
 * @remarks Deterministic: events at the same virtual time run in the order they were scheduled,
 * and after each event every promise continuation it released runs before the next event (the
 * queue waits for a `setImmediate` turn, which Node runs only once the microtask queue is empty;
 * it is never used as a clock). Nothing reads real time.
 */
export class VirtualScheduler implements Scheduler {
  private heap: QueuedEvent[] = [];
  private nextSeq = 0;
  private current = 0;
  /** Errors thrown by events, in order; the run records them and checkers fail on any. */
  readonly faults: EventFault[] = [];
  /** Events run so far. */
  executed = 0;

  /** Current virtual time in ms since the start of the simulation. */
  get now(): number {
    return this.current;
  }

  after(ms: number, fn: () => void): Timer {
    return this.at(this.current + Math.max(0, ms), fn, undefined);
  }

  /** A `Scheduler` whose timers belong to `owner`: dropped once it dies, held while it pauses. */
  forOwner(owner: EventOwner): Scheduler {
    return { after: (ms, fn) => this.at(this.current + Math.max(0, ms), fn, owner) };
  }

  /** Schedules `fn` at virtual time `at` (never before now). */
  at(at: number, fn: () => void, owner: EventOwner | undefined): Timer {
    const ev: QueuedEvent = {
      at: Math.max(at, this.current),
      seq: this.nextSeq++,
      owner,
      fn,
      cancelled: false,
    };
    this.push(ev);
    return {
      cancel: () => {
        ev.cancelled = true;
      },
    };
  }

  /** Whether any live event is queued at or before `t`. */
  hasEventsUntil(t: number): boolean {
    const top = this.heap[0];
    return top !== undefined && top.at <= t;
  }

  /** Runs every event due at or before `t`, in order, then sets the time to `t`. */
  async runUntil(t: number): Promise<void> {
    await drainMicrotasks();
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > t) break;
      this.pop();
      if (top.cancelled) continue;
      this.current = top.at;
      const owner = top.owner;
      if (owner !== undefined) {
        if (!owner.alive) continue;
        if (owner.pausedUntil > top.at) {
          // Held, not lost: re-queued behind what is already due then, keeping relative order.
          top.at = owner.pausedUntil;
          top.seq = this.nextSeq++;
          this.push(top);
          continue;
        }
      }
      this.executed += 1;
      try {
        top.fn();
      } catch (error) {
        this.faults.push({ at: top.at, owner: owner?.label ?? "sim", error });
      }
      await drainMicrotasks();
    }
    this.current = Math.max(this.current, t);
  }

  private push(ev: QueuedEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
