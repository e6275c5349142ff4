import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionStamps } from "@meridian/core";
import type {
  ClockSample,
  FinalNodeState,
  History,
  NodeEvent,
  OpRecord,
  OpStatus,
  WriteRecord,
} from "./history.ts";
import { FaultInjector } from "./fault-injector.ts";
import type { OpSpec, Schedule, Step } from "./schedule.ts";
import { SimNetwork } from "./sim-network.ts";
import { SimNode, type SimNodeConfig } from "./sim-node.ts";
import { SimRandom } from "./sim-random.ts";
import { Trace } from "./trace.ts";
import { VirtualScheduler } from "./virtual-scheduler.ts";
import { callService, errorCode, newOpRecord, SessionPool } from "./workload.ts";

/** Knobs of a simulated run; the defaults are what CI and campaigns use. */
export interface SimulationOptions {
  /** The nodes' `maxClockSkewMs` (default 5,000, as in production). */
  readonly maxClockSkewMs?: number;
  /** Anti-entropy period (default 1,000 ms). */
  readonly syncIntervalMs?: number;
  /** Longest quiet period after the final heal while waiting for convergence (default 60 s). */
  readonly maxQuietMs?: number;
  /** When given, every trace line is appended to it (for the determinism test and debugging). */
  readonly traceLines?: string[];
  /**
   * Garbage collection (the janitor's expiry sweeps and tombstone purges): `on` (default) or
   * `off`, for every schedule, those that wipe disks included.
   */
  readonly gc?: "on" | "off";
}

/** What one run produced. */
export interface SimulationResult {
  readonly history: History;
  /** Hash of the full event trace: equal for two runs of one schedule. */
  readonly traceHash: string;
  readonly traceTail: readonly string[];
  /** Scheduler events run. */
  readonly events: number;
  /** Virtual time at the end, in ms. */
  readonly virtualMs: number;
  readonly messages: number;
}

const DEFAULT_TTL_MS = 600_000;

/**
 * Runs one schedule against real node code (`Replica`, `Replicator`, `SessionService` over
 * `MemoryStore` or `SqliteStore`) in virtual time, and returns the history and final states.
 *
 * @remarks Deterministic: a pure function of the schedule (SQLite files live in a fresh temporary
 * folder that is removed afterwards). After the last step it heals every fault (partitions,
 * chaos, pauses, skews; crashed nodes restart) and lets the cluster run quietly until every
 * replica has the same digest, or `maxQuietMs` passes; the checkers judge the result.
 */
export async function runSimulation(
  schedule: Schedule,
  options: SimulationOptions = {},
): Promise<SimulationResult> {
  const run = new SimulationRun(schedule, options);
  try {
    return await run.execute();
  } finally {
    run.dispose();
  }
}

class SimulationRun {
  private readonly scheduler = new VirtualScheduler();
  private readonly trace: Trace;
  private readonly nodes: SimNode[];
  private readonly network: SimNetwork;
  private readonly faults: FaultInjector;
  private readonly pool = new SessionPool();
  private readonly ops: OpRecord[] = [];
  private readonly writes: WriteRecord[] = [];
  private readonly nodeEvents: NodeEvent[] = [];
  private readonly clocks: ClockSample[] = [];
  private readonly sampledDots = new Set<string>();
  private readonly anomalies: string[] = [];
  private readonly pending = new Map<string, Set<OpRecord>>();
  private readonly dir: string | undefined;
  private readonly maxClockSkewMs: number;
  private maxObservedSkewMs = 0;

  constructor(
    private readonly schedule: Schedule,
    private readonly options: SimulationOptions,
  ) {
    this.trace = new Trace(() => this.scheduler.now, 200, options.traceLines);
    this.maxClockSkewMs = options.maxClockSkewMs ?? 5_000;
    this.dir =
      schedule.storage === "sqlite" ? mkdtempSync(join(tmpdir(), "meridian-sim-")) : undefined;
    const config: SimNodeConfig = {
      seed: schedule.seed,
      storage: schedule.storage,
      dir: this.dir ?? "",
      clusterSize: schedule.regions.length,
      maxClockSkewMs: this.maxClockSkewMs,
      syncIntervalMs: options.syncIntervalMs ?? 1_000,
      quorumTimeoutMs: 1_000,
      afterWaitMs: 300,
      defaultTtlMs: DEFAULT_TTL_MS,
      janitorIntervalMs: 2_000,
      gc: (options.gc ?? "on") === "on",
    };
    this.nodes = schedule.regions.map(
      (region) =>
        new SimNode(region, this.scheduler, config, {
          purged: (node, id, learned) => {
            const life = node.current;
            if (life === undefined) return;
            this.nodeEvents.push({
              ...this.nodeEvent("purge", node.region, life.label, false),
              sessionId: id,
            });
            this.trace.add(`purge ${life.label} ${id}${learned ? " learned" : ""}`);
          },
          fault: (node, error) => this.noteAnomaly(`${node.region} janitor: ${describe(error)}`),
          committed: (node, op, delta) => {
            const stamp = sessionStamps(delta.session)[0];
            const life = node.current;
            if (stamp === undefined || life === undefined) return;
            this.writes.push({
              op,
              region: node.region,
              incarnation: life.label,
              stamp,
              fragment: delta.session,
              committedAt: this.scheduler.now,
            });
            // Every timestamp that leaves a node or reaches its disk is a write stamp: the
            // clock checker's samples, in issue order. A delete that joined another one in the
            // same group commit shares its write: one sample.
            const dot = `${delta.dot.seq}.${delta.dot.origin}`;
            if (this.sampledDots.has(dot)) return;
            this.sampledDots.add(dot);
            this.clocks.push({
              nodeId: stamp.hlc.node,
              incarnation: life.label,
              wall: stamp.hlc.wall,
              logical: stamp.hlc.logical,
              at: this.scheduler.now,
            });
            this.trace.add(`commit ${life.label} ${delta.dot.seq} op${op ?? "-"}`);
          },
        }),
    );
    this.network = new SimNetwork(
      this.scheduler,
      SimRandom.derive(schedule.seed, "network"),
      schedule.regions,
      (region) => this.node(region).current,
      { detectMs: [500, 3_000], resetMs: [1, 50], reconnectMs: [100, 2_000] },
      (line) => this.trace.add(line),
      (text) => this.noteAnomaly(text),
    );
    this.faults = new FaultInjector(
      this.scheduler,
      this.network,
      this.nodes,
      schedule.regions,
      schedule.storage,
      {
        crashed: (node, label, wiped) => {
          this.nodeEvents.push(this.nodeEvent("crash", node.region, label, wiped));
          for (const op of this.pending.get(label) ?? []) this.complete(op, "unknown", "CRASHED");
        },
        restarted: (node, label, nodeId) => {
          this.nodeEvents.push(this.nodeEvent("restart", node.region, label, false));
          this.trace.add(`restart ${label} ${nodeId}`);
        },
        skewChanged: () => this.noteSkew(),
        trace: (line) => this.trace.add(line),
      },
    );
  }

  async execute(): Promise<SimulationResult> {
    for (const node of this.nodes) {
      const life = node.start();
      this.nodeEvents.push(this.nodeEvent("restart", node.region, life.label, false));
    }
    this.network.reconcile();
    const steps = [...this.schedule.steps.entries()].sort(([i, a], [j, b]) => a.at - b.at || i - j);
    let end = 0;
    for (const [index, step] of steps) {
      this.scheduler.at(step.at, () => this.runStep(index, step), undefined);
      end = Math.max(end, step.at + stepLength(step));
    }
    await this.scheduler.runUntil(end);
    this.faults.healEverything();
    const quietUntil = this.scheduler.now + (this.options.maxQuietMs ?? 60_000);
    let settledChecks = 0;
    while (this.scheduler.now < quietUntil) {
      await this.scheduler.runUntil(this.scheduler.now + 1_000);
      if (this.converged() && this.pendingCount() === 0) settledChecks += 1;
      else settledChecks = 0;
      // Converged for three seconds in a row: nothing is in flight that could change it.
      if (settledChecks >= 3) break;
    }
    for (const f of this.scheduler.faults) {
      this.noteAnomaly(`${f.owner} threw at ${f.at}: ${describe(f.error)}`);
    }
    const final: FinalNodeState[] = this.nodes.map((node) => {
      const life = node.current!;
      return {
        region: node.region,
        nodeId: life.nodeId,
        digest: life.store.digest(),
        sessions: [...life.store.allSessions()],
        now: node.clock.now(),
      };
    });
    for (const set of this.pending.values()) {
      for (const op of set) this.complete(op, "unknown", "NO_ANSWER_AT_END");
    }
    return {
      history: {
        regions: this.schedule.regions,
        maxClockSkewMs: this.maxClockSkewMs,
        ops: this.ops,
        writes: this.writes,
        nodeEvents: this.nodeEvents,
        clocks: this.clocks,
        anomalies: this.anomalies,
        observedWrites: true,
        maxObservedSkewMs: this.maxObservedSkewMs,
        final,
      },
      traceHash: this.trace.digest(),
      traceTail: this.trace.lastLines(),
      events: this.scheduler.executed,
      virtualMs: this.scheduler.now,
      messages: this.network.messages,
    };
  }

  dispose(): void {
    for (const node of this.nodes) node.dispose();
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }

  private node(region: string): SimNode {
    return this.nodes[this.schedule.regions.indexOf(region)]!;
  }

  private runStep(index: number, step: Step): void {
    if (step.kind === "op") this.invoke(index, this.faults.nodeAt(step.region), step.op);
    else this.faults.inject(step.fault);
  }

  private invoke(index: number, node: SimNode, spec: OpSpec): void {
    const { sessionId, after } = this.pool.target(spec);
    const record = newOpRecord(index, spec, node.region, sessionId, after, this.scheduler.now);
    this.ops.push(record);
    this.trace.add(`invoke op${index} ${spec.type} ${node.region} ${sessionId ?? "-"}`);
    const life = node.current;
    if (life === undefined) {
      // Connection refused: the request never reached a node.
      this.complete(record, "fail", "UNAVAILABLE");
      return;
    }
    record.incarnation = life.label;
    let set = this.pending.get(life.label);
    if (set === undefined) {
      set = new Set();
      this.pending.set(life.label, set);
    }
    set.add(record);
    this.scheduler.at(
      this.scheduler.now,
      () => {
        life.replica.currentOp = index;
        let answer: ReturnType<typeof callService>;
        try {
          answer = callService(life.service, spec, record, DEFAULT_TTL_MS);
        } finally {
          life.replica.currentOp = undefined;
        }
        answer.then(
          (a) => {
            record.answer = a;
            record.nodeNow = node.clock.now();
            if (a !== undefined) {
              if (spec.type === "create") {
                record.sessionId = a.id;
                this.pool.created(a.id);
              }
              if (spec.type !== "get" && a.version !== "") this.pool.saw(a.id, a.version);
            }
            this.complete(record, "ok", undefined);
          },
          (e: unknown) => {
            record.nodeNow = node.clock.now();
            const code = errorCode(e);
            if (code.startsWith("UNEXPECTED")) this.noteAnomaly(`op${index}: ${code}`);
            this.complete(record, "fail", code);
          },
        );
      },
      life.owner,
    );
  }

  private complete(record: OpRecord, status: OpStatus, code: string | undefined): void {
    if (record.status !== "pending") return;
    record.status = status;
    record.code = code;
    record.completedAt = this.scheduler.now;
    if (record.incarnation !== undefined) this.pending.get(record.incarnation)?.delete(record);
    this.trace.add(
      `complete op${record.index} ${status} ${code ?? ""} ${record.answer?.version ?? ""}`,
    );
  }

  private converged(): boolean {
    const digests = new Set<string>();
    for (const node of this.nodes) {
      const life = node.current;
      if (life === undefined) return false;
      digests.add(life.store.digest());
    }
    return digests.size === 1;
  }

  private pendingCount(): number {
    let n = 0;
    for (const set of this.pending.values()) n += set.size;
    return n;
  }

  private noteSkew(): void {
    const skews = this.nodes.map((n) => n.clock.skewMs);
    this.maxObservedSkewMs = Math.max(
      this.maxObservedSkewMs,
      Math.max(...skews) - Math.min(...skews),
    );
  }

  private noteAnomaly(text: string): void {
    this.anomalies.push(text);
    this.trace.add(`anomaly ${text}`);
  }

  private nodeEvent(
    type: NodeEvent["type"],
    region: string,
    incarnation: string,
    wiped: boolean,
  ): NodeEvent {
    return { type, region, incarnation, at: this.scheduler.now, wiped };
  }
}

/** How long a step's effects last after it starts (a partition's duration, a crash's downtime). */
function stepLength(step: Step): number {
  if (step.kind === "op") return 0;
  const f = step.fault;
  switch (f.type) {
    case "partition":
    case "chaos":
    case "pause":
      return f.durationMs;
    case "crash":
      return f.downMs;
    default:
      return 0;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}
