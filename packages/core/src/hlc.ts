import { ClockSkewError } from "./errors.ts";
import type { Clock } from "./ports.ts";

/**
 * A hybrid logical clock timestamp: physical milliseconds, a logical counter, and the node id
 * that issued it.
 *
 * @remarks Ordered by (wall, logical, node). The node id breaks ties, so two distinct writes
 * never compare equal, which is what makes last-writer-wins deterministic everywhere.
 */
export interface Hlc {
  readonly wall: number;
  readonly logical: number;
  readonly node: string;
}

/** The smallest timestamp; sorts before every issued one. */
export const HLC_ZERO: Hlc = Object.freeze({ wall: 0, logical: 0, node: "" });

/** Largest logical counter before the clock forces the wall component forward. */
const MAX_LOGICAL = 0xffff_ffff;

/** Total order on timestamps: negative, zero or positive like `Array.prototype.sort` wants. */
export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  if (a.node === b.node) return 0;
  return a.node < b.node ? -1 : 1;
}

/** The greater of two timestamps. */
export function maxHlc(a: Hlc, b: Hlc): Hlc {
  return compareHlc(a, b) >= 0 ? a : b;
}

/** Options of a {@link HybridClock}. */
export interface HybridClockOptions {
  /** Remote timestamps further ahead than this are refused (default 5000 ms). */
  readonly maxClockSkewMs?: number;
  /** The highest timestamp issued before a restart; the clock never issues anything below it. */
  readonly highWater?: { readonly wall: number; readonly logical: number };
}

/**
 * A hybrid logical clock for one node.
 *
 * @remarks Invariant: every timestamp it returns is strictly greater than every timestamp it
 * returned or received before, including those before a restart when `highWater` is passed.
 * A remote timestamp more than `maxClockSkewMs` ahead of physical time is never folded in:
 * {@link HybridClock.receive} throws {@link ClockSkewError} and leaves the clock unchanged.
 */
export class HybridClock {
  readonly node: string;
  readonly maxClockSkewMs: number;
  private wall: number;
  private logical: number;

  constructor(
    node: string,
    private readonly clock: Clock,
    options: HybridClockOptions = {},
  ) {
    this.node = node;
    this.maxClockSkewMs = options.maxClockSkewMs ?? 5000;
    this.wall = options.highWater?.wall ?? 0;
    this.logical = options.highWater?.logical ?? 0;
  }

  /** Issues a timestamp for a local event (a write, or a message send). */
  now(): Hlc {
    const physical = this.clock.now();
    if (physical > this.wall) {
      this.wall = physical;
      this.logical = 0;
    } else {
      this.bumpLogical();
    }
    return { wall: this.wall, logical: this.logical, node: this.node };
  }

  /**
   * Checks a remote timestamp against the skew limit without changing the clock.
   * @throws ClockSkewError when `remote` is too far ahead of local physical time.
   */
  check(remote: Hlc): void {
    const physical = this.clock.now();
    if (remote.wall - physical > this.maxClockSkewMs) {
      throw new ClockSkewError(remote.wall, physical, this.maxClockSkewMs);
    }
  }

  /**
   * Folds a remote timestamp into the clock (the HLC receive rule) and returns the new local time.
   * @throws ClockSkewError when `remote` is too far ahead; the clock is then unchanged.
   */
  receive(remote: Hlc): Hlc {
    this.check(remote);
    const physical = this.clock.now();
    const wall = Math.max(this.wall, remote.wall, physical);
    if (wall === this.wall && wall === remote.wall) {
      this.logical = Math.max(this.logical, remote.logical);
      this.wall = wall;
      this.bumpLogical();
    } else if (wall === this.wall) {
      this.bumpLogical();
    } else if (wall === remote.wall) {
      this.wall = wall;
      this.logical = remote.logical;
      this.bumpLogical();
    } else {
      this.wall = wall;
      this.logical = 0;
    }
    return { wall: this.wall, logical: this.logical, node: this.node };
  }

  /** The highest timestamp issued or received so far, to persist as the restart high-water mark. */
  highWater(): { wall: number; logical: number } {
    return { wall: this.wall, logical: this.logical };
  }

  private bumpLogical(): void {
    if (this.logical >= MAX_LOGICAL) {
      this.wall += 1;
      this.logical = 0;
    } else {
      this.logical += 1;
    }
  }
}
