import type { History, OpRecord, WriteRecord } from "../history.ts";

/** Regions an operation at `consistency` reaches, the serving one included. */
export function regionsReached(consistency: OpRecord["consistency"], clusterSize: number): number {
  if (consistency === "local") return 1;
  if (consistency === "all") return clusterSize;
  return Math.floor(clusterSize / 2) + 1;
}

/**
 * Lookups over a history that several checkers share.
 *
 * @remarks Derived data only; the history is not changed.
 */
export class HistoryIndex {
  readonly ops = new Map<number, OpRecord>();
  readonly writesBySession = new Map<string, WriteRecord[]>();
  readonly writesByOp = new Map<number, WriteRecord[]>();
  /** Writes by dot (`seq.origin`, the version token form). */
  readonly writesByDot = new Map<string, WriteRecord>();
  /** Write of each unique field value, by value. */
  readonly writeOfValue = new Map<string, OpRecord>();

  constructor(readonly history: History) {
    for (const op of history.ops) {
      this.ops.set(op.index, op);
      for (const v of Object.values(op.set)) this.writeOfValue.set(v, op);
    }
    for (const w of history.writes) {
      const id = w.fragment.id;
      push(this.writesBySession, id, w);
      if (w.op !== undefined) push(this.writesByOp, w.op, w);
      this.writesByDot.set(`${w.stamp.seq}.${w.stamp.hlc.node}`, w);
    }
  }

  get clusterSize(): number {
    return this.history.regions.length;
  }

  /** Session id an operation addressed, or created (through its committed write). */
  sessionOf(op: OpRecord): string | undefined {
    return op.sessionId ?? this.writesByOp.get(op.index)?.[0]?.fragment.id;
  }

  /** Whether garbage collection purged `id` anywhere. */
  purged(id: string): boolean {
    return this.history.nodeEvents.some((e) => e.type === "purge" && e.sessionId === id);
  }

  /** Whether any disk was wiped in the time window `[from, to]`. */
  wipedBetween(from: number, to: number): boolean {
    return this.history.nodeEvents.some(
      (e) => e.type === "crash" && e.wiped && e.at >= from && e.at <= to,
    );
  }

  /**
   * Whether a committed write must survive to the end: its node's disk was never wiped, or it was
   * acknowledged by enough regions that the wipes that followed cannot have taken every copy.
   *
   * @remarks Otherwise the write "may or may not be applied": a local write on a disk wiped before
   * it replicated is gone, and no checker may count on it.
   */
  isDurable(w: WriteRecord): boolean {
    const wipes = this.history.nodeEvents.filter((e) => e.type === "crash" && e.wiped);
    // The disk outlives incarnations (a restart keeps the file): any later wipe of it counts.
    if (!wipes.some((e) => e.region === w.region && e.at >= w.committedAt)) return true;
    const op = w.op === undefined ? undefined : this.ops.get(w.op);
    if (op === undefined || op.status !== "ok" || op.completedAt === undefined) return false;
    const others = regionsReached(op.consistency, this.clusterSize) - 1;
    if (others === 0) return false;
    const wipedOthers = new Set(
      wipes.filter((e) => e.region !== w.region && e.at >= op.completedAt!).map((e) => e.region),
    );
    return wipedOthers.size < others;
  }

  /** The committed write of `op` to `sessionId`, if it made one. */
  writeOf(op: OpRecord, sessionId: string): WriteRecord | undefined {
    return this.writesByOp.get(op.index)?.find((w) => w.fragment.id === sessionId);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
