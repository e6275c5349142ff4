import type { Dot } from "./dot.ts";

/**
 * What one node has seen of one origin: every sequence number up to `base`, plus the closed
 * ranges in `ranges`, each above `base + 1` and disjoint, in ascending order.
 */
export interface OriginCoverage {
  readonly base: number;
  readonly ranges: readonly (readonly [number, number])[];
}

/**
 * A version vector that tracks gaps per origin.
 *
 * @remarks Invariant: a node never claims it has an origin's writes up to N while one below N is
 * missing; writes received out of order are held as ranges above the contiguous `base`, and the
 * gaps between them are exactly what anti-entropy must fetch. Mutable; `clone` before sharing.
 */
export class VersionVector {
  private readonly origins = new Map<string, { base: number; ranges: [number, number][] }>();

  /** Builds a vector from its plain form, normalising overlapping or adjacent ranges. */
  static from(entries: Iterable<readonly [string, OriginCoverage]>): VersionVector {
    const vv = new VersionVector();
    for (const [origin, coverage] of entries) vv.addCoverage(origin, coverage);
    return vv;
  }

  /** Whether the write `dot` is covered. */
  has(dot: Dot): boolean {
    return this.hasSeq(dot.origin, dot.seq);
  }

  /** {@link VersionVector.has} of the dot `(origin, seq)`, without building it. */
  hasSeq(origin: string, seq: number): boolean {
    const entry = this.origins.get(origin);
    if (entry === undefined) return false;
    if (seq <= entry.base) return true;
    for (const [lo, hi] of entry.ranges) {
      if (seq < lo) return false;
      if (seq <= hi) return true;
    }
    return false;
  }

  /** Records one write. Returns false when it was already covered. */
  add(dot: Dot): boolean {
    if (this.has(dot)) return false;
    this.addRange(dot.origin, dot.seq, dot.seq);
    return true;
  }

  /** Records every write of `origin` with a sequence number in `[lo, hi]`. */
  addRange(origin: string, lo: number, hi: number): void {
    this.addRanges(origin, [[lo, hi]]);
  }

  private addCoverage(origin: string, coverage: OriginCoverage): void {
    this.addRanges(origin, [[1, coverage.base], ...coverage.ranges]);
  }

  /** Adds many ranges with one sort: a range at a time is quadratic on a gappy peer vector. */
  private addRanges(origin: string, added: readonly (readonly [number, number])[]): void {
    const valid = added.filter(([lo, hi]) => hi >= lo && hi >= 1);
    if (valid.length === 0) return;
    let entry = this.origins.get(origin);
    if (entry === undefined) {
      entry = { base: 0, ranges: [] };
      this.origins.set(origin, entry);
    }
    const ranges = entry.ranges;
    for (const [lo, hi] of valid) ranges.push([Math.max(lo, 1), hi]);
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    let base = entry.base;
    for (const [a, b] of ranges) {
      if (a <= base + 1) {
        base = Math.max(base, b);
        continue;
      }
      const last = merged[merged.length - 1];
      if (last !== undefined && a <= last[1] + 1) last[1] = Math.max(last[1], b);
      else merged.push([a, b]);
    }
    // A merged range may now touch the new base.
    while (merged.length > 0 && merged[0]![0] <= base + 1) {
      base = Math.max(base, merged.shift()![1]);
    }
    entry.base = base;
    entry.ranges = merged;
  }

  /** Adds everything `other` covers (join). */
  merge(other: VersionVector): void {
    for (const [origin, coverage] of other.entries()) this.addCoverage(origin, coverage);
  }

  /** The contiguous high-water mark of `origin` (0 when nothing is known). */
  base(origin: string): number {
    return this.origins.get(origin)?.base ?? 0;
  }

  /** The highest sequence number seen from `origin`, gaps or not. */
  max(origin: string): number {
    const entry = this.origins.get(origin);
    if (entry === undefined) return 0;
    const last = entry.ranges[entry.ranges.length - 1];
    return last === undefined ? entry.base : last[1];
  }

  /** Whether this vector covers every write `other` covers. */
  covers(other: VersionVector): boolean {
    for (const [origin, coverage] of other.entries()) {
      if (coverage.base > 0 && !this.coversRange(origin, 1, coverage.base)) return false;
      for (const [lo, hi] of coverage.ranges) if (!this.coversRange(origin, lo, hi)) return false;
    }
    return true;
  }

  /** Whether every write of `origin` in `[lo, hi]` is covered. */
  coversRange(origin: string, lo: number, hi: number): boolean {
    // Sequence numbers start at 1: a range holding none of them is covered, known origin or not.
    if (hi < Math.max(lo, 1)) return true;
    const entry = this.origins.get(origin);
    if (entry === undefined) return false;
    if (hi <= entry.base) return true;
    const from = Math.max(lo, entry.base + 1);
    for (const [a, b] of entry.ranges) if (a <= from && hi <= b) return true;
    return false;
  }

  /** Origins known to this vector. */
  originIds(): string[] {
    return [...this.origins.keys()];
  }

  /** The plain per-origin coverage, origins in ascending order (stable for digests and wire). */
  *entries(): IterableIterator<[string, OriginCoverage]> {
    const keys = [...this.origins.keys()].sort();
    for (const origin of keys) {
      const entry = this.origins.get(origin)!;
      yield [origin, { base: entry.base, ranges: entry.ranges.map(([a, b]) => [a, b] as const) }];
    }
  }

  /** A deep copy. */
  clone(): VersionVector {
    return VersionVector.from(this.entries());
  }

  /** Compact text form, e.g. `eu:12,us:7+9-11`, for logs and tests. */
  toString(): string {
    return [...this.entries()]
      .map(([o, c]) => `${o}:${c.base}${c.ranges.map(([a, b]) => `+${a}-${b}`).join("")}`)
      .join(",");
  }
}
