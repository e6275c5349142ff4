import type { Clock, Rng, Scheduler } from "@meridian/core";
import { randomBytes } from "node:crypto";

/** Timers on the Node event loop. */
export const eventLoopScheduler: Scheduler = {
  after(ms, fn) {
    const t = ms <= 0 ? setImmediate(fn) : setTimeout(fn, ms);
    return {
      cancel: () =>
        ms <= 0 ? clearImmediate(t as NodeJS.Immediate) : clearTimeout(t as NodeJS.Timeout),
    };
  },
};

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** The operating system's CSPRNG. */
export const cryptoRng: Rng = { bytes: (n) => new Uint8Array(randomBytes(n)) };
