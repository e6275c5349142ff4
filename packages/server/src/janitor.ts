import { type Scheduler, type Timer, TypedEmitter } from "@meridian/core";
import type { Replica } from "./replica.ts";
import type { Replicator } from "./replicator.ts";

/** Tuning of expiry sweeps and tombstone collection. */
export interface JanitorOptions {
  /** Period of both passes, in ms (default 10 s). */
  readonly intervalMs?: number;
  /** A session is tombstoned once expired for this long, in ms (default 60 s). */
  readonly expiryGraceMs?: number;
  /** A tombstone is collected no sooner than this after the delete, in ms (default 60 s). */
  readonly tombstoneMinAgeMs?: number;
  /** Sessions handled per batch; batches are spread over ticks (default 500). */
  readonly batchSize?: number;
  /** Regions in the cluster, this one included. */
  readonly clusterSize: number;
}

/** Events of the janitor, for metrics and tests. */
export interface JanitorEvents {
  /** Sessions found expired and tombstoned by this node. */
  expired: (count: number) => void;
  /** Tombstones purged from this node's store. */
  collected: (count: number) => void;
  /** A pass failed; it is retried at the next interval. */
  fault: (error: unknown) => void;
}

/**
 * Expiry sweeps and safe garbage collection of tombstones.
 *
 * @remarks Expired sessions already read as absent; the sweep turns those expired for longer than
 * a grace period into tombstones (a replicated remove-wins delete) so that they can be
 * collected. A tombstone is purged only when it is safe: every other region has reported a
 * version vector that holds the delete, and this node holds everything those vectors hold, so no
 * write to the session made anywhere before the delete can still arrive. Purged ids are
 * remembered by the store, which ignores anything that still arrives for them. Work is done in
 * bounded batches, one per tick, so the event loop keeps serving requests.
 */
export class Janitor extends TypedEmitter<JanitorEvents> {
  private timer: Timer | undefined;
  private running = false;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly expiryGraceMs: number;
  private readonly tombstoneMinAgeMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly replica: Replica,
    private readonly replicator: Replicator,
    private readonly scheduler: Scheduler,
    private readonly options: JanitorOptions,
  ) {
    super();
    this.intervalMs = options.intervalMs ?? 10_000;
    this.expiryGraceMs = options.expiryGraceMs ?? 60_000;
    this.tombstoneMinAgeMs = options.tombstoneMinAgeMs ?? 60_000;
    this.batchSize = options.batchSize ?? 500;
  }

  /** Starts the periodic passes. */
  start(): void {
    this.schedule();
  }

  /** Stops after the batch in progress. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** Runs one sweep and one collection now; resolves with what they did. */
  async runOnce(): Promise<{ expired: number; collected: number }> {
    if (this.running) return { expired: 0, collected: 0 };
    this.running = true;
    try {
      const expired = await this.sweep();
      const collected = await this.collect();
      return { expired, collected };
    } finally {
      this.running = false;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.scheduler.after(this.intervalMs, () => {
      this.runOnce().then(
        () => this.schedule(),
        (e: unknown) => {
          this.emit("fault", e);
          this.schedule();
        },
      );
    });
  }

  private async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      if (this.stopped) return total;
      const due = this.replica.store.expiredBefore(
        this.replica.now() - this.expiryGraceMs,
        this.batchSize,
      );
      if (due.length === 0) return total;
      const written = await Promise.allSettled(
        due.map((id) => this.replica.write(id, { op: "delete" })),
      );
      let n = 0;
      for (const w of written) {
        if (w.status === "fulfilled") {
          this.replicator.push(w.value.delta);
          n += 1;
        }
      }
      total += n;
      if (n > 0) this.emit("expired", n);
      if (due.length < this.batchSize || n === 0) return total;
      await this.yieldTick();
    }
  }

  private async collect(): Promise<number> {
    const vectors = [...this.replicator.peerVectors().values()];
    // Every other region must have reported, and we must hold all they hold.
    if (vectors.length < this.options.clusterSize - 1) return 0;
    const local = this.replica.store.versionVector();
    if (!vectors.every((v) => local.covers(v.vv))) return 0;
    const now = this.replica.now();
    let total = 0;
    let after: string | undefined;
    for (;;) {
      if (this.stopped) return total;
      const ids = this.replica.store.tombstones(this.batchSize, after);
      if (ids.length === 0) return total;
      let n = 0;
      for (const id of ids) {
        const deleted = this.replica.get(id)?.deleted;
        if (deleted === undefined || now - deleted.hlc.wall < this.tombstoneMinAgeMs) continue;
        const dot = { origin: deleted.hlc.node, seq: deleted.seq };
        if (!vectors.every((v) => v.vv.has(dot))) continue;
        this.replica.store.purgeSession(id);
        n += 1;
      }
      total += n;
      if (n > 0) this.emit("collected", n);
      after = ids[ids.length - 1];
      if (ids.length < this.batchSize) return total;
      await this.yieldTick();
    }
  }

  private yieldTick(): Promise<void> {
    return new Promise((resolve) => this.scheduler.after(0, resolve));
  }
}
