import { checkHistory, type Violation } from "../checkers/index.ts";
import type { History } from "../history.ts";
import type { OpSpec } from "../schedule.ts";
import { scheduleForSeed } from "../schedule-arbitrary.ts";
import { HttpRecorder } from "./http-recorder.ts";
import { ProcessCluster } from "./process-cluster.ts";

/** One process-tier scenario: a workload from a seed, and a fault played while it runs. */
export interface ProcessScenario {
  readonly seed: number;
  /** Operations each region's client sends, one after the other. */
  readonly opsPerRegion: number;
  /** Pause between a client's operations, in ms (pacing, so the fault lands mid-workload). */
  readonly pacingMs?: number;
  /** Plays the fault; resolves once it is over (the harness heals everything after). */
  readonly fault: (cluster: ProcessCluster) => Promise<void>;
}

/** What a scenario produced. */
export interface ProcessOutcome {
  readonly history: History;
  readonly violations: Violation[];
  /** The last stderr lines of each node, by region (for failure reports). */
  readonly stderr: Readonly<Record<string, string>>;
}

const REGIONS = ["eu", "us", "ap"] as const;

/**
 * Runs a scenario on three real node processes and judges the recorded history with the same
 * checkers as the simulator.
 *
 * @remarks The workload is the operation mix of the simulator's schedule for `seed` (faults and
 * times left out); timing is real, so a seed fixes the operations, not the interleaving. After
 * the fault the cluster is healed and given until every node serves the same sessions, then the
 * final states are read from the nodes' SQLite files.
 */
export async function runProcessScenario(s: ProcessScenario): Promise<ProcessOutcome> {
  const cluster = await ProcessCluster.start(REGIONS);
  try {
    const recorder = new HttpRecorder(cluster);
    const perRegion = new Map<string, OpSpec[]>(REGIONS.map((r) => [r, []]));
    const schedule = scheduleForSeed(s.seed, {
      minOps: 3 * s.opsPerRegion,
      maxOps: 3 * s.opsPerRegion,
    });
    for (const step of schedule.steps) {
      if (step.kind !== "op") continue;
      const region = REGIONS[step.region % REGIONS.length]!;
      const list = perRegion.get(region)!;
      // Idle-timed sessions make every read a write (lastAccess), so no quiet moment would come.
      const spec = step.op.type === "create" ? { ...step.op, idleS: undefined } : step.op;
      if (list.length < s.opsPerRegion) list.push(spec);
    }
    const pacing = s.pacingMs ?? 40;
    const clients = REGIONS.map(async (region) => {
      for (const spec of perRegion.get(region)!) {
        await recorder.run(region, spec);
        await new Promise((r) => setTimeout(r, pacing));
      }
    });
    const fault = (async () => {
      await new Promise((r) => setTimeout(r, pacing * 3));
      await s.fault(cluster);
    })();
    await Promise.all([...clients, fault]);
    cluster.healAll();
    await settle(cluster, recorder);
    const final = await cluster.finalStates();
    const history: History = {
      regions: REGIONS,
      maxClockSkewMs: 5_000,
      ops: recorder.ops,
      writes: [],
      nodeEvents: cluster.events,
      clocks: [],
      anomalies: [],
      observedWrites: false,
      maxObservedSkewMs: 0,
      final,
    };
    return { history, violations: checkHistory(history), stderr: cluster.stderrTails() };
  } finally {
    await cluster.close();
  }
}

/** Waits until every node answers the same for every session the workload touched. */
async function settle(cluster: ProcessCluster, recorder: HttpRecorder): Promise<void> {
  const ids = [...new Set(recorder.ops.map((o) => o.sessionId).filter((x) => x !== undefined))];
  const deadline = Date.now() + 30_000;
  let previous = "";
  for (;;) {
    const views = await Promise.all(
      REGIONS.map(async (region) => {
        const parts: string[] = [];
        for (const id of ids) {
          try {
            const res = await fetch(`${cluster.url(region)}/v1/sessions/${id}`);
            const body = res.status === 200 ? JSON.stringify(await res.json()) : "";
            parts.push(`${res.status}${body}`);
          } catch {
            parts.push("down");
          }
        }
        return parts.join("|");
      }),
    );
    const agreed = new Set(views).size === 1 && !views[0]!.includes("down");
    // Twice the same answer in a row: nothing was still arriving.
    if (agreed && views[0] === previous) return;
    previous = agreed ? views[0]! : "";
    if (Date.now() > deadline) return; // the convergence checker reports what is left
    await new Promise((r) => setTimeout(r, 200));
  }
}
