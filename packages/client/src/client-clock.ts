import type { Clock, Scheduler, Timer } from "@meridian/core";

/**
 * Time as the client sees it: the current time, timers, and timers that run in the background.
 *
 * @remarks Core's `Clock` and `Scheduler` plus `afterInBackground`, for the health prober, whose
 * timer must never keep a process alive on its own. Tests pass a virtual clock, which makes
 * timeouts, backoff and probing deterministic.
 */
export interface ClientClock extends Clock, Scheduler {
  /** Like `after`, but the timer alone never keeps the process running. */
  afterInBackground(ms: number, fn: () => void): Timer;
  /**
   * Milliseconds from an arbitrary origin, on a clock that never goes backwards nor jumps with
   * the wall clock: what call deadlines are measured on. Without it, `now()` serves.
   *
   * @remarks `now()` may step (NTP, a resumed VM): a deadline measured on it would fire a call's
   * timeout early, or hours late.
   */
  monotonic?(): number;
}

/**
 * The event loop's clock: `Date.now` and `setTimeout` (unref'd for background timers).
 *
 * @remarks Background timers are unref'd; request timers and backoff sleeps are not, so a pending operation keeps the process alive until it settles.
 */
export const systemClock: ClientClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  afterInBackground(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * Resolves after `ms` on `clock`.
 *
 * @remarks A plain promise: callers that must stop early check their own state afterwards.
 */
export function sleep(clock: ClientClock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.after(ms, resolve);
  });
}
