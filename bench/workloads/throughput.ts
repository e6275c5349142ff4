import { closedLoop, type LoopResult } from "../lib/closed-loop.ts";
import type { BenchContext } from "../lib/context.ts";
import { type SummaryRow, table } from "../lib/report.ts";
import { dec, int, ratio } from "../lib/stats.ts";

/** Concurrency levels of the throughput workloads. */
export const CONCURRENCY = [1, 16, 64] as const;

/** One contender of a throughput comparison. */
export interface Contender {
  readonly name: string;
  /** One operation; `n` is unique per run. */
  readonly op: (n: number) => Promise<unknown>;
}

/** Results by contender name, then concurrency. */
export type ThroughputResults = Map<string, Map<number, LoopResult>>;

/**
 * Runs every contender at every concurrency level, interleaved (all contenders at 1, then all
 * at 16…), so that a slow drift of the machine hits them alike.
 */
export async function compareThroughput(
  ctx: BenchContext,
  contenders: readonly Contender[],
): Promise<ThroughputResults> {
  const out: ThroughputResults = new Map(contenders.map((c) => [c.name, new Map()]));
  for (const concurrency of CONCURRENCY) {
    for (const c of contenders) {
      const r = await closedLoop(concurrency, ctx.sizes.warmupMs, ctx.sizes.measureMs, c.op);
      out.get(c.name)!.set(concurrency, r);
      ctx.log(
        `  ${c.name.padEnd(44)} c=${String(concurrency).padStart(2)}: ${int(r.perSecond).padStart(7)}/s  p50 ${dec(r.p50Ms, 2)} ms  p99 ${dec(r.p99Ms, 2)} ms${r.errors > 0 ? `  ${r.errors} errors (${r.firstError})` : ""}`,
      );
    }
  }
  return out;
}

/** The detail table: one row per contender and concurrency. */
export function throughputTable(results: ThroughputResults, unit: string): string[] {
  const rows: string[][] = [];
  for (const concurrency of CONCURRENCY) {
    for (const [name, byConcurrency] of results) {
      const r = byConcurrency.get(concurrency)!;
      rows.push([
        name,
        String(concurrency),
        int(r.perSecond),
        dec(r.p50Ms, 2),
        dec(r.p99Ms, 2),
        String(r.errors),
      ]);
    }
  }
  return table(["client → server", "concurrency", `${unit}/s`, "p50 ms", "p99 ms", "errors"], rows);
}

/** Summary rows: `subject` against `peer` at each concurrency, target "at least the peer". */
export function throughputSummary(
  results: ThroughputResults,
  subject: string,
  peer: string,
  figure: string,
  target: boolean,
): SummaryRow[] {
  return CONCURRENCY.map((concurrency) => {
    const a = results.get(subject)!.get(concurrency)!;
    const b = results.get(peer)!.get(concurrency)!;
    return {
      figure: `${figure}, concurrency ${concurrency}`,
      value: `${int(a.perSecond)}/s`,
      peer: `${peer}: ${int(b.perSecond)}/s`,
      ratio: ratio(a.perSecond, b.perSecond),
      target: target ? `≥ 1.00× ${peer.split(",")[0]}` : "–",
      meets: target ? a.perSecond >= b.perSecond && a.errors === 0 : undefined,
    };
  });
}
