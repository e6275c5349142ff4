/**
 * The boundaries through which core meets the world. Production passes real implementations;
 * the simulator passes virtual ones, which is what lets the same node code run under simulation.
 */

/** Physical time source in milliseconds since the Unix epoch. */
export interface Clock {
  /** @remarks May go backwards or jump (NTP, skew injected by the simulator); the HLC copes. */
  now(): number;
}

/** Randomness source. Ids need a CSPRNG in production; the simulator passes a seeded one. */
export interface Rng {
  /** Fills and returns `n` random bytes. */
  bytes(n: number): Uint8Array;
}
