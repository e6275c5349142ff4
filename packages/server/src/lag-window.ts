/**
 * The last `capacity` replication lag samples of one peer, in ms, with percentiles.
 *
 * @remarks Bounded memory whatever the write rate: a ring buffer, oldest sample overwritten.
 * Quantiles sort a copy once per batch of new samples (a native numeric sort of a typed array):
 * `/v1/cluster` asks for two quantiles per peer, and operators poll it.
 */
export class LagWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private count = 0;
  /** The samples held, sorted; undefined once a sample was added or cleared since. */
  private sorted: Float64Array | undefined;

  constructor(capacity = 65_536) {
    this.samples = new Float64Array(capacity);
  }

  /** Records one sample. */
  add(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    if (this.count < this.samples.length) this.count += 1;
    this.sorted = undefined;
  }

  /** The `p` quantile (0..1) of the samples held, or null when there are none. */
  quantile(p: number): number | null {
    if (this.count === 0) return null;
    this.sorted ??= this.samples.slice(0, this.count).sort();
    return this.sorted[Math.min(this.count - 1, Math.floor(p * this.count))]!;
  }

  /** The most recent sample, or null. */
  last(): number | null {
    if (this.count === 0) return null;
    return this.samples[(this.next - 1 + this.samples.length) % this.samples.length]!;
  }

  /** Forgets every sample. */
  clear(): void {
    this.count = 0;
    this.next = 0;
    this.sorted = undefined;
  }
}
