import { packValue, planWrite, sessionBytes } from "@meridian/core";
import { parseVersion } from "@meridian/server";
import { waitFor } from "@meridian/server/testing";
import type { BenchNode } from "../lib/bench-node.ts";
import { forEachConcurrently } from "../lib/closed-loop.ts";
import { type ClusterView, clusterView, startCluster } from "../lib/cluster.ts";
import type { BenchContext, Workload } from "../lib/context.ts";
import type { Section } from "../lib/report.ts";
import { cpuSeconds } from "../lib/proc.ts";
import { sdkDriver } from "../lib/session-drivers.ts";
import { benchId, sessionFields } from "../lib/session-shape.ts";
import { bytes, dec, int, sleep } from "../lib/stats.ts";

const TARGET_SECONDS = 5;
const TARGET_BYTES_RATIO = 1.5;
/** How long the bench waits for convergence before it reports that it did not happen. */
const CONVERGE_TIMEOUT_MS = 300_000;
/** The node's default time to live (PUT without ttl), which the missing writes carry. */
const DEFAULT_TTL_MS = 86_400_000;

/** Writes `ids` to `node` as new sessions; returns the highest sequence number acknowledged. */
async function writeSessions(node: BenchNode, ids: readonly string[]): Promise<number> {
  const sdk = sdkDriver(node.url, { retries: 0 });
  let maxSeq = 0;
  try {
    await forEachConcurrently(ids.length, 256, async (i) => {
      const version = await sdk.put(ids[i]!, sessionFields(i));
      maxSeq = Math.max(maxSeq, parseVersion(version)?.seq ?? 0);
    });
  } finally {
    sdk.close();
  }
  return maxSeq;
}

/** The encoded size (wire form of the session state) of the writes of `ids`, each once. */
function encodedSize(ids: readonly string[], origin: string): number {
  const now = Date.now();
  let total = 0;
  for (const [i, id] of ids.entries()) {
    const data = new Map(Object.entries(sessionFields(i)).map(([k, v]) => [k, packValue(v)]));
    const state = planWrite(
      undefined,
      { op: "replace", data, ttlMs: DEFAULT_TTL_MS },
      { hlc: { wall: now, logical: 0, node: origin }, seq: i + 1 },
      now,
      id,
    );
    total += sessionBytes(state).length;
  }
  return total;
}

/**
 * Polls `cond` every 250 ms until it holds; throws after `timeoutMs`.
 *
 * @remarks Slower than `waitFor`: `/v1/cluster` sorts each peer's lag window, and polling it every
 * 10 ms for half a minute would take CPU from the very nodes being measured.
 */
async function pollUntil(cond: () => Promise<boolean>, what: string, timeoutMs: number) {
  if (!(await pollWithin(cond, timeoutMs))) throw new Error(`timed out waiting for ${what}`);
}

/** Like {@link pollUntil}, but resolves to false at the deadline instead of throwing. */
async function pollWithin(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) return false;
    await sleep(250);
  }
  return true;
}

/** Whether `view` holds every write of each origin up to its sequence number in `seqs`. */
function holds(view: ClusterView, seqs: ReadonlyMap<string, number>): boolean {
  for (const [origin, seq] of seqs) {
    if (origin === view.nodeId) continue;
    const peer = view.peers.find((p) => p.nodeId === origin);
    if (peer === undefined || peer.caughtUpTo < seq) return false;
  }
  return true;
}

/**
 * (d) Convergence after a partition: ap is cut off from eu and us; half the divergent sessions
 * are written at eu (and reach us), half at ap. After the heal, the time until every region holds
 * every write, and the bytes that crossed the links meanwhile against the encoded size of what
 * each region lacked.
 */
export const partition: Workload = {
  id: "d",
  title: "Convergence after a partition, divergent sessions on both sides",
  async run(ctx: BenchContext): Promise<Section> {
    const cluster = await startCluster(ctx, { proxies: true });
    try {
      const [eu, us, ap] = cluster.nodes as [BenchNode, BenchNode, BenchNode];
      const half = Math.floor(ctx.sizes.divergent / 2);
      const euIds = Array.from({ length: half }, (_, i) => benchId("part-eu", i));
      const apIds = Array.from({ length: ctx.sizes.divergent - half }, (_, i) =>
        benchId("part-ap", i),
      );
      const [euView, apView] = await Promise.all([clusterView(eu), clusterView(ap)]);

      for (const [key, proxy] of cluster.proxies) if (key.includes("ap")) proxy.cut();
      await waitFor(
        async () => (await clusterView(ap)).peers.every((p) => !p.connected),
        "ap to be cut off",
      );
      const t0 = performance.now();
      const [euSeq, apSeq] = await Promise.all([
        writeSessions(eu, euIds),
        writeSessions(ap, apIds),
      ]);
      const writeSeconds = (performance.now() - t0) / 1000;
      await pollUntil(
        async () => holds(await clusterView(us), new Map([[euView.nodeId, euSeq]])),
        "us to hold eu's writes",
        120_000,
      );
      ctx.log(`  ${int(ctx.sizes.divergent)} divergent sessions written in ${dec(writeSeconds)} s`);

      const seqs = new Map([
        [euView.nodeId, euSeq],
        [apView.nodeId, apSeq],
      ]);
      // ap lacks eu's writes; eu and us lack ap's.
      const missing = encodedSize(euIds, euView.nodeId) + 2 * encodedSize(apIds, apView.nodeId);
      const total = () => [...cluster.proxies.values()].reduce((a, p) => a + p.bytes, 0);
      const before = total();
      const cpuBefore = cluster.nodes.map((n) => cpuSeconds(n.pid));
      const healed = performance.now();
      for (const proxy of cluster.proxies.values()) proxy.heal();
      let reconnectSeconds = Number.NaN;
      let views: ClusterView[] = [];
      const converged = await pollWithin(async () => {
        views = await Promise.all(cluster.nodes.map(clusterView));
        if (
          Number.isNaN(reconnectSeconds) &&
          views.every((v) => v.peers.every((p) => p.connected))
        ) {
          reconnectSeconds = (performance.now() - healed) / 1000;
        }
        return views.every((v) => holds(v, seqs));
      }, CONVERGE_TIMEOUT_MS);
      const seconds = (performance.now() - healed) / 1000;
      const sent = total() - before;
      const cpu = cluster.nodes.map((n, i) => cpuSeconds(n.pid) - cpuBefore[i]!);
      const cpuText = cluster.nodes
        .map((n, i) => `${n.options.region} ${dec(cpu[i]!, 1)} s`)
        .join(", ");
      if (converged) {
        const spot = [euIds[0]!, euIds[half - 1]!, apIds[0]!, apIds[apIds.length - 1]!];
        for (const node of cluster.nodes) {
          for (const id of spot) {
            const res = await fetch(`${node.url}/v1/sessions/${id}`);
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`${id} reads ${res.status} at ${node.url}`);
          }
        }
      }
      const held = views.map((v) => `${v.region} ${int(v.sessionCount ?? Number.NaN)}`).join(", ");
      ctx.log(
        converged
          ? `  converged in ${dec(seconds, 2)} s (links back after ${dec(reconnectSeconds, 2)} s); ${bytes(sent)} sent for ${bytes(missing)} missing (${dec(sent / missing, 2)}×); nodes' CPU ${cpuText}`
          : `  NOT converged after ${dec(seconds, 0)} s (sessions held: ${held}); ${bytes(sent)} sent for ${bytes(missing)} missing`,
      );
      return {
        id: "d",
        title: partition.title,
        summary: [
          {
            figure: `convergence after heal, ${int(ctx.sizes.divergent)} divergent sessions`,
            value: converged ? `${dec(seconds, 2)} s` : `not converged after ${dec(seconds, 0)} s`,
            peer: "–",
            ratio: "–",
            target: `< ${TARGET_SECONDS} s`,
            meets: converged && seconds < TARGET_SECONDS,
          },
          {
            figure: converged
              ? "bytes sent after heal"
              : "bytes sent after heal, until the bench gave up",
            value: bytes(sent),
            peer: `encoded missing changes: ${bytes(missing)}`,
            ratio: `${dec(sent / missing, 2)}×`,
            target: `≤ ${TARGET_BYTES_RATIO}×`,
            meets: converged && sent / missing <= TARGET_BYTES_RATIO,
          },
        ],
        body: [
          "Three node processes; every directed link goes through its own TCP proxy in the bench process.",
          `The proxies of ap's four links are cut, then ${int(half)} new sessions are written at eu (they reach us)`,
          `and ${int(apIds.length)} at ap, through the SDK, 256 in flight each (${dec(writeSeconds)} s). Then every link is healed.`,
          "Converged means every region's version vector holds every write of the others (read from",
          "`/v1/cluster`, `caughtUpTo` against the sequence numbers of the acknowledged writes); a few",
          "sessions from both sides are then read in every region. The bench polls `/v1/cluster` every 250 ms.",
          "",
          `- links back up ${dec(reconnectSeconds, 2)} s after the heal (reconnect backoff, up to 250 ms with jitter);`,
          converged
            ? `  every region held every write ${dec(seconds, 2)} s after the heal`
            : `  **not every region held every write ${dec(seconds, 0)} s after the heal** (sessions held: ${held})`,
          `- CPU time of the nodes (user + system, /proc) from the heal until the bench saw convergence: ${cpuText}`,
          `- bytes through the proxies after the heal, both directions, all links (frames, acks, sync requests): ${int(sent)}`,
          `- encoded size of the missing changes: ${int(missing)} bytes (each missing write as its session`,
          "  state in wire form, `sessionBytes`, counted once per region that lacked it: eu's writes once for ap,",
          "  ap's twice for eu and us)",
        ],
      };
    } finally {
      await cluster.close();
    }
  },
};
