import type { Clock } from "@meridian/core";

/** Virtual epoch the simulated wall clocks start from (2025-01-01T00:00:00Z). */
export const SIM_EPOCH_MS = 1_735_689_600_000;

/**
 * The physical clock of one simulated machine: virtual time plus a skew that faults change.
 *
 * @remarks Belongs to the machine, not to a node incarnation: a crash keeps the clock's skew.
 * `now` may go backwards after a negative jump, as NTP can make a real clock do; the hybrid
 * logical clock above it must cope.
 */
export class VirtualClock implements Clock {
  /** Offset from true virtual time, in ms. */
  skewMs: number;

  constructor(
    private readonly time: { readonly now: number },
    skewMs = 0,
  ) {
    this.skewMs = skewMs;
  }

  now(): number {
    return SIM_EPOCH_MS + Math.floor(this.time.now + this.skewMs);
  }

  /** Moves the clock by `ms` (negative: backwards). */
  jump(ms: number): void {
    this.skewMs += ms;
  }
}
