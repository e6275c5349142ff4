import { quantile } from "./stats.ts";

/** What a closed-loop run measured. */
export interface LoopResult {
  readonly concurrency: number;
  /** Operations completed in the measured window. */
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Latency percentiles of the measured operations, in ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The first error seen, for the report when something failed. */
  readonly firstError: string | undefined;
}

/**
 * Runs `op` from `concurrency` workers, each starting its next operation as soon as the last one
 * answered, for `warmupMs` unmeasured and then `measureMs` measured.
 *
 * @remarks `op` gets a sequence number unique across workers. Only operations that start and end
 * inside the measured window count, so neither the warm-up nor the drain skews the rate.
 */
export async function closedLoop(
  concurrency: number,
  warmupMs: number,
  measureMs: number,
  op: (n: number) => Promise<unknown>,
): Promise<LoopResult> {
  const start = performance.now();
  const from = start + warmupMs;
  const until = from + measureMs;
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  let firstError: string | undefined;
  const worker = async () => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= until) return;
      try {
        await op(next++);
      } catch (e) {
        if (t0 >= from) errors += 1;
        firstError ??= e instanceof Error ? e.message : String(e);
        continue;
      }
      const t1 = performance.now();
      if (t0 >= from && t1 <= until) latencies.push(t1 - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = measureMs / 1000;
  return {
    concurrency,
    ops: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    firstError,
  };
}

/** Runs `fn(0)` … `fn(count - 1)` with at most `concurrency` in flight; rejects on the first error. */
export async function forEachConcurrently(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
