import type { Rng } from "@meridian/core";

/**
 * Capped exponential backoff settings, in milliseconds.
 *
 * @remarks Delays are drawn with full jitter in [0, min(capMs, baseMs * 2^retry)).
 */
export interface BackoffOptions {
  /** Upper bound of the first retry's delay (default 50). */
  readonly baseMs?: number;
  /** Largest delay ever waited (default 2,000). */
  readonly capMs?: number;
}

/**
 * {@link BackoffOptions} with defaults applied.
 *
 * @remarks Every field set, so the delay function has no defaults to guess.
 */
export type Backoff = Required<BackoffOptions>;

/**
 * Default backoff: 50 ms doubling up to 2 s.
 *
 * @remarks Short enough that the first failover costs at most 50 ms, capped so a long outage is retried every 2 s at most.
 */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 50, capMs: 2000 };

/**
 * A uniform number in [0, 1) drawn from `rng` (32 random bits).
 *
 * @remarks Seeded `Rng`s make every draw, and so every delay, replayable.
 */
export function uniform(rng: Rng): number {
  const b = rng.bytes(4);
  return (((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!) / 2 ** 32;
}

/**
 * Delay before retry number `retry` (0 for the first retry): "full jitter", a uniform draw in
 * [0, min(cap, base * 2^retry)).
 *
 * @remarks Full jitter spreads retrying clients over the whole window, so a region that comes
 * back is not hit by every client at once; the cap bounds the wait however many retries.
 */
export function backoffDelay(retry: number, backoff: Backoff, rng: Rng): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.min(retry, 30));
  return Math.floor(uniform(rng) * ceiling);
}
