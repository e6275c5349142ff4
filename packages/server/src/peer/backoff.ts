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
 * 100 ms doubling up to 1 s.
 *
 * @remarks A peer back after an outage (a healed partition) is redialled within 1 s at worst,
 * which bounds how long convergence waits for the link; a dial of a peer that is down costs one
 * refused TCP connect a second.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 1000 };

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
