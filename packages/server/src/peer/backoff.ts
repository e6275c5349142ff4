import type { Rng } from "@meridian/core";

/**
 * Reconnect delays: capped exponential growth with full jitter.
 *
 * @remarks `0 < baseMs <= capMs`; no delay ever exceeds `capMs`.
 */
export interface BackoffPolicy {
  /** Ceiling of the first delay, in ms. */
  readonly baseMs: number;
  /** Largest ceiling any delay may have, in ms. */
  readonly capMs: number;
}

/**
 * 50 ms doubling up to 250 ms.
 *
 * @remarks A peer back after an outage (a healed partition) is redialled within 250 ms at worst,
 * which bounds how long convergence waits for the link (with a 1 s cap, the last of bench (d)'s
 * four links came back 0.5 to 2.4 s after the heal); a peer that stays down costs four refused
 * TCP connects a second, and one attempt is in flight at a time whatever the cap.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 50, capMs: 250 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry).
 *
 * @remarks Full jitter: uniform in `[0, min(capMs, baseMs * 2^attempt))`, so nodes that lost a
 * peer at the same moment do not reconnect in lockstep. Randomness comes from `rng`, so a seeded
 * run replays.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, rng: Rng): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(uniform(rng) * ceiling);
}

/** A uniform number in [0, 1) from 32 random bits. */
function uniform(rng: Rng): number {
  const b = rng.bytes(4);
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0) / 2 ** 32;
}
