import { cpuSeconds } from "./proc.ts";
import type { SessionDriver } from "./session-drivers.ts";
import { benchId, sessionFields } from "./session-shape.ts";
import { sleep } from "./stats.ts";

/** Most writes in flight before the generator waits (it never queues without bound). */
const MAX_IN_FLIGHT = 512;

/** What the clients saw of one paced run. */
export interface PacedOutcome {
  /** Writes offered (and settled). */
  readonly total: number;
  /** From the first write offered until the last one settled. */
  readonly seconds: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  /** Client-observed latency of each acknowledged write, ms. */
  readonly latencies: readonly number[];
}

/**
 * Offers `rate` writes/s for `seconds`, round-robin over `clients`: PUTs of new sessions
 * `benchId(tag, 0..)`, at most {@link MAX_IN_FLIGHT} in flight; resolves once every write settled.
 */
export async function offerPacedWrites(
  clients: readonly SessionDriver[],
  rate: number,
  seconds: number,
  tag: string,
): Promise<PacedOutcome> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let sent = 0;
  let done = 0;
  let failed = 0;
  let firstError: string | undefined;
  const started = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due && sent - done < MAX_IN_FLIGHT) {
      const n = sent++;
      const t0 = performance.now();
      clients[n % clients.length]!.put(benchId(tag, n), sessionFields(n)).then(
        () => {
          latencies.push(performance.now() - t0);
          done += 1;
        },
        (e: unknown) => {
          failed += 1;
          firstError ??= String(e);
          done += 1;
        },
      );
    }
    await sleep(1);
  }
  while (done < total) await sleep(5);
  return { total, seconds: (performance.now() - started) / 1000, failed, firstError, latencies };
}

/** CPU seconds the processes of `nodes` have used so far, together. */
export function nodesCpu(nodes: readonly { readonly pid: number }[]): number {
  return nodes.reduce((sum, n) => sum + cpuSeconds(n.pid), 0);
}
