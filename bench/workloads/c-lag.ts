import { startCluster } from "../lib/cluster.ts";
import { nodesCpu, offerPacedWrites, type PacedOutcome } from "../lib/paced-writes.ts";
import { clusterView } from "../lib/cluster.ts";
import type { BenchContext, Workload } from "../lib/context.ts";
import { type Section, table } from "../lib/report.ts";
import { sdkDriver } from "../lib/session-drivers.ts";
import { dec, int, quantile, sleep } from "../lib/stats.ts";
import {
  type Buckets,
  bucketDelta,
  bucketQuantile,
  bucketSum,
  bucketTotal,
  lagBuckets,
  loopDelay,
  shareAtMost,
} from "../lib/lag-histogram.ts";

/** The target's write rate, spread evenly over the three regions. */
const RATE = 5000;
/** A lower rate, to show the lag of a cluster that is not saturated. */
const LOW_RATE = 1000;
const TARGET_P99_MS = 10;

/** What one paced run measured. */
interface LagRun extends PacedOutcome {
  readonly rate: number;
  readonly links: readonly { link: string; p50: number; p99: number; writes: number }[];
  /** Every link's lag observations of the measured phase together. */
  readonly all: Buckets;
  /** Worst node's event-loop delay p99 and max over the measured phase, ms. */
  readonly loop: { p99: number; max: number };
  /** CPU time of the three nodes together over the measured phase, per write offered, µs. */
  readonly cpuPerWriteUs: number;
  /** CPU time of the bench process (the SDK clients generating the load) per write offered, µs. */
  readonly loadCpuPerWriteUs: number;
}

/**
 * Offers `rate` writes/s to a fresh three-region cluster, after a warm-up (JIT, connections)
 * at 500 writes/s or less; lag comes from the nodes' per-write histograms over the measured phase.
 */
async function pacedRun(ctx: BenchContext, rate: number): Promise<LagRun> {
  const cluster = await startCluster(ctx, { proxies: false });
  const clients = cluster.nodes.map((n) => sdkDriver(n.url, { retries: 0 }));
  try {
    await offerPacedWrites(
      clients,
      Math.min(rate, LOW_RATE) / 2,
      ctx.sizes.lagSeconds / 2,
      `warm${rate}`,
    );
    await sleep(1000);
    const before = await Promise.all(cluster.nodes.map(lagBuckets));
    const views = await Promise.all(cluster.nodes.map(clusterView));
    const cpuBefore = nodesCpu(cluster.nodes);
    const loadBefore = process.cpuUsage();
    const outcome = await offerPacedWrites(clients, rate, ctx.sizes.lagSeconds, `lag${rate}`);
    const load = process.cpuUsage(loadBefore);
    await sleep(1000);
    const cpuPerWriteUs = ((nodesCpu(cluster.nodes) - cpuBefore) / outcome.total) * 1e6;
    const loadCpuPerWriteUs = (load.user + load.system) / outcome.total;
    // Read before the lag scrape: every scrape resets the event-loop window.
    const loops = await Promise.all(cluster.nodes.map(loopDelay));
    const after = await Promise.all(cluster.nodes.map(lagBuckets));
    const regionOf = new Map(views.map((v) => [v.nodeId, v.region]));
    const links: LagRun["links"][number][] = [];
    const deltas: Buckets[] = [];
    for (const [i, v] of views.entries()) {
      for (const [peer, b] of after[i]!) {
        const d = bucketDelta(b, before[i]!.get(peer));
        deltas.push(d);
        links.push({
          link: `${regionOf.get(peer) ?? peer} → ${v.region}`,
          p50: bucketQuantile(d, 0.5),
          p99: bucketQuantile(d, 0.99),
          writes: bucketTotal(d),
        });
      }
    }
    const loop = {
      p99: Math.max(...loops.map((l) => l.p99)),
      max: Math.max(...loops.map((l) => l.max)),
    };
    return {
      rate,
      ...outcome,
      links,
      all: bucketSum(deltas),
      loop,
      cpuPerWriteUs,
      loadCpuPerWriteUs,
    };
  } finally {
    for (const c of clients) c.close();
    await cluster.close();
  }
}

const p99 = (r: LagRun) => bucketQuantile(r.all, 0.99);
const p50 = (r: LagRun) => bucketQuantile(r.all, 0.5);

function describeRun(r: LagRun): string[] {
  return [
    `**${int(r.rate)} writes/s offered**: achieved ${int(r.total / r.seconds)}/s (${int(r.total)} writes in ${dec(r.seconds)} s), ${r.failed} failed${r.firstError !== undefined ? ` (first: ${r.firstError})` : ""};`,
    `client-observed write latency p50 ${dec(quantile(r.latencies, 0.5), 2)} ms, p99 ${dec(quantile(r.latencies, 0.99), 2)} ms.`,
    "",
    ...table(
      ["link (origin → applied at)", "writes", "lag p50 ms", "lag p99 ms"],
      [
        ...r.links.map((l) => [l.link, int(l.writes), dec(l.p50), dec(l.p99)]),
        ["all links", int(bucketTotal(r.all)), dec(p50(r)), dec(p99(r))],
      ],
    ),
    "",
    `Writes applied within 10 ms: ${dec(100 * shareAtMost(r.all, 0.01), 2)}%. Event-loop delay of the`,
    `busiest node over the phase (monitorEventLoopDelay): p99 ${dec(r.loop.p99)} ms, max ${dec(r.loop.max)} ms.`,
    `CPU time of the three nodes (user + system, /proc) over the phase: ${int(r.cpuPerWriteUs)} µs per write;`,
    `of the bench process generating the load through the SDK (same cores): ${int(r.loadCpuPerWriteUs)} µs per write.`,
    "",
  ];
}

/**
 * (c) Replication lag, three regions on loopback at 5,000 writes/s: p50 and p99 as the nodes
 * measure it, from the origin's clock at the write to durably applied at the receiver. A second run at 1,000 writes/s shows the lag below saturation.
 */
export const replicationLag: Workload = {
  id: "c",
  title: "Replication lag, three regions at 5,000 writes/s",
  async run(ctx: BenchContext): Promise<Section> {
    const runs: LagRun[] = [];
    for (const rate of [RATE, LOW_RATE]) {
      const r = await pacedRun(ctx, rate);
      runs.push(r);
      ctx.log(
        `  ${int(rate)}/s offered: ${int(r.total / r.seconds)}/s achieved, ${r.failed} failed; lag p50 ${dec(p50(r))} ms, worst p99 ${dec(p99(r))} ms; event-loop delay p99 ${dec(r.loop.p99)} ms, max ${dec(r.loop.max)} ms; nodes' CPU ${int(r.cpuPerWriteUs)} µs/write, load generator's ${int(r.loadCpuPerWriteUs)} µs/write`,
      );
    }
    const [high, low] = runs as [LagRun, LagRun];
    const achieved = high.total / high.seconds;
    const paced = achieved >= RATE * 0.95;
    return {
      id: "c",
      title: replicationLag.title,
      summary: [
        {
          figure: `replication lag p50, ${int(RATE)}/s offered`,
          value: `${dec(p50(high))} ms`,
          peer: "–",
          ratio: "–",
          target: "–",
          meets: undefined,
        },
        {
          figure: `replication lag p99, ${int(RATE)}/s offered, ${int(achieved)}/s achieved`,
          value: `${dec(p99(high))} ms`,
          peer: "–",
          ratio: "–",
          target: `< ${TARGET_P99_MS} ms at ${int(RATE)}/s`,
          meets: p99(high) < TARGET_P99_MS && paced && high.failed === 0,
        },
        {
          figure: `replication lag p50 / p99, ${int(LOW_RATE)}/s offered`,
          value: `${dec(p50(low))} / ${dec(p99(low))} ms`,
          peer: "–",
          ratio: "–",
          target: "–",
          meets: undefined,
        },
      ],
      body: [
        "Three node processes on loopback, each peering directly with the other two (no proxy), a fresh",
        `cluster per rate. After a warm-up (${ctx.sizes.lagSeconds / 2} s at 500 writes/s), the bench offers`,
        `the rate for ${ctx.sizes.lagSeconds} s, round-robin over the regions (SDK PUTs of new sessions over each region's`,
        "client channel, at most 512 in flight). Lag is what the nodes measure: from the hybrid-clock wall time",
        "the origin stamped a write with to its durable apply at the receiver (same machine, same clock),",
        "one observation per write in `meridian_replication_lag_seconds` (each write of a pushed batch its",
        "own lag, not the batch's oldest). The bench reads the histograms",
        "before and after the measured phase and interpolates quantiles inside buckets, as",
        "`histogram_quantile` does (bucket bounds: 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250 ms…).",
        "",
        ...runs.flatMap(describeRun),
      ],
    };
  },
};
