import type { BenchNode } from "./bench-node.ts";

/** Cumulative bucket counts of one histogram series: upper bound (s) → count. */
export type Buckets = Map<number, number>;

const METRIC = "meridian_replication_lag_seconds_bucket";

/**
 * Reads a node's replication lag histogram (`meridian_replication_lag_seconds`, one observation
 * per remote write) from `/metrics`, by peer node id.
 */
export async function lagBuckets(node: BenchNode): Promise<Map<string, Buckets>> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const out = new Map<string, Buckets>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${METRIC}{`)) continue;
    const peer = /peer="([^"]+)"/.exec(line)?.[1];
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (peer === undefined || le === undefined) continue;
    const count = Number(line.slice(line.lastIndexOf(" ") + 1));
    let b = out.get(peer);
    if (b === undefined) {
      b = new Map();
      out.set(peer, b);
    }
    b.set(le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), count);
  }
  return out;
}

/** `after - before`, bucket by bucket: the observations made between two readings. */
export function bucketDelta(after: Buckets, before: Buckets | undefined): Buckets {
  const out: Buckets = new Map();
  for (const [le, n] of after) out.set(le, n - (before?.get(le) ?? 0));
  return out;
}

/** Sums several histograms bucket by bucket. */
export function bucketSum(list: readonly Buckets[]): Buckets {
  const out: Buckets = new Map();
  for (const b of list) for (const [le, n] of b) out.set(le, (out.get(le) ?? 0) + n);
  return out;
}

/** Observations in a histogram. */
export function bucketTotal(b: Buckets): number {
  return b.get(Number.POSITIVE_INFINITY) ?? 0;
}

/**
 * The `q` quantile in ms, interpolated linearly inside its bucket (Prometheus'
 * `histogram_quantile`); NaN without observations.
 */
export function bucketQuantile(b: Buckets, q: number): number {
  const total = bucketTotal(b);
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, n] of [...b].sort((x, y) => x[0] - y[0])) {
    if (n >= rank) {
      if (!Number.isFinite(le)) return lower * 1000;
      const inBucket = n - below;
      const share = inBucket === 0 ? 0 : (rank - below) / inBucket;
      return (lower + (le - lower) * share) * 1000;
    }
    lower = le;
    below = n;
  }
  return Number.NaN;
}

/** Share of observations at or under `seconds` (a bucket bound). */
export function shareAtMost(b: Buckets, seconds: number): number {
  const total = bucketTotal(b);
  return total === 0 ? Number.NaN : (b.get(seconds) ?? Number.NaN) / total;
}

/**
 * The node's event-loop delay p99 and max (ms) since its previous `/metrics` scrape
 * (`meridian_event_loop_lag_seconds`, reset by every scrape).
 */
export async function loopDelay(node: BenchNode): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const stat = (name: string) => {
    const m = new RegExp(
      `^meridian_event_loop_lag_seconds\\{[^}]*stat="${name}"[^}]*\\} (\\S+)$`,
      "m",
    ).exec(text);
    return m === null ? Number.NaN : Number(m[1]) * 1000;
  };
  return { p99: stat("p99"), max: stat("max") };
}
