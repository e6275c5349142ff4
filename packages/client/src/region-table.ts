/**
 * What the client knows about one region.
 *
 * @remarks A copy: later outcomes do not change a status already returned.
 */
export interface RegionStatus {
  readonly name: string;
  readonly url: string;
  /** False once marked down, until a probe or a request succeeds there again. */
  readonly up: boolean;
  /** Consecutive failures (reset by any success). */
  readonly failures: number;
  /** Moving average of answer times (ms); undefined until a first answer. */
  readonly latencyMs: number | undefined;
}

/** Weight of the newest sample in the latency moving average. */
const EWMA_ALPHA = 0.3;

interface MutableRegion {
  readonly name: string;
  readonly url: string;
  readonly index: number;
  up: boolean;
  failures: number;
  latencyMs: number | undefined;
}

/**
 * The regions a client talks to, their health and measured latency, and the order to try them.
 *
 * @remarks Pure bookkeeping (no I/O, no timers): callers report outcomes and get back the
 * transitions (`"down"`, `"up"`) to announce. A region goes down after `failuresBeforeDown`
 * consecutive failures and comes back up on its first success.
 */
export class RegionTable {
  private readonly regions: MutableRegion[];
  /** The same regions by name: looked up on every request. */
  private readonly byName: Map<string, MutableRegion>;
  private readonly local: MutableRegion;

  constructor(
    urls: Readonly<Record<string, string>>,
    readonly localRegion: string,
    private readonly failuresBeforeDown: number,
  ) {
    this.regions = Object.entries(urls).map(([name, url], index) => ({
      name,
      url: url.replace(/\/+$/, ""),
      index,
      up: true,
      failures: 0,
      latencyMs: undefined,
    }));
    this.byName = new Map(this.regions.map((r) => [r.name, r]));
    const local = this.byName.get(localRegion);
    if (local === undefined) {
      throw new RangeError(`localRegion "${localRegion}" is not one of the regions`);
    }
    this.local = local;
  }

  /** Base URL of `region`. */
  url(region: string): string {
    return this.get(region).url;
  }

  /**
   * Regions in the order to try them: the local region if up, then the other up regions by
   * measured latency (unmeasured last, in declaration order), then the down regions (last resort,
   * local first).
   */
  order(): string[] {
    // Runs before every request: compares in place rather than building sort keys.
    const latency = (r: MutableRegion) => (r.up ? (r.latencyMs ?? Number.POSITIVE_INFINITY) : 0);
    return [...this.regions]
      .sort(
        (a, b) =>
          Number(!a.up) - Number(!b.up) ||
          Number(a.name !== this.localRegion) - Number(b.name !== this.localRegion) ||
          compareNumbers(latency(a), latency(b)) ||
          a.index - b.index,
      )
      .map((r) => r.name);
  }

  /**
   * The region to try first: `order()[0]`, without sorting when the local region is up (the
   * common case: it then comes first whatever the latencies).
   */
  first(): string {
    if (this.local.up) return this.local.name;
    return this.order()[0]!;
  }

  /** Records an answer from `region` that took `latencyMs`; `"up"` if it was down. */
  recordSuccess(region: string, latencyMs: number): "up" | undefined {
    const r = this.get(region);
    r.latencyMs =
      r.latencyMs === undefined
        ? latencyMs
        : EWMA_ALPHA * latencyMs + (1 - EWMA_ALPHA) * r.latencyMs;
    r.failures = 0;
    if (r.up) return undefined;
    r.up = true;
    return "up";
  }

  /** Records a failure of `region`; `"down"` when this one marks it down. */
  recordFailure(region: string): "down" | undefined {
    const r = this.get(region);
    r.failures += 1;
    if (!r.up || r.failures < this.failuresBeforeDown) return undefined;
    r.up = false;
    return "down";
  }

  /** Consecutive failures of `region`. */
  failures(region: string): number {
    return this.get(region).failures;
  }

  /** A snapshot of every region's state, in declaration order. */
  status(): RegionStatus[] {
    return this.regions.map(({ name, url, up, failures, latencyMs }) => ({
      name,
      url,
      up,
      failures,
      latencyMs,
    }));
  }

  private get(region: string): MutableRegion {
    const r = this.byName.get(region);
    if (r === undefined) throw new RangeError(`unknown region "${region}"`);
    return r;
  }
}

/** Ascending order of two numbers, infinities included (their difference would be NaN). */
function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
