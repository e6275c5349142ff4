import { rmSync } from "node:fs";
import { join } from "node:path";
import { type Delta, MemoryStore, type PurgedId, type Store } from "@meridian/core";
import { Janitor, Replicator, SessionService } from "@meridian/server";
import { openSqliteStore } from "@meridian/storage-sqlite";
import { ObservedReplica } from "./observed-replica.ts";
import { SimRandom } from "./sim-random.ts";
import type { NetworkPeer } from "./sim-network.ts";
import { VirtualClock } from "./virtual-clock.ts";
import type { EventOwner, VirtualScheduler } from "./virtual-scheduler.ts";

/** Tuning every simulated node shares. */
export interface SimNodeConfig {
  readonly seed: number;
  readonly storage: "memory" | "sqlite";
  /** Folder for SQLite files (one per region and disk generation). */
  readonly dir: string;
  readonly clusterSize: number;
  readonly maxClockSkewMs: number;
  readonly syncIntervalMs: number;
  readonly quorumTimeoutMs: number;
  readonly afterWaitMs: number;
  readonly defaultTtlMs: number;
  /** Period of expiry sweeps and garbage collection, also their grace periods. */
  readonly janitorIntervalMs: number;
  /** Whether nodes run the janitor (expiry sweeps and tombstone garbage collection). */
  readonly gc: boolean;
}

/** What a node reports to the run. */
export interface SimNodeObserver {
  committed(node: SimNode, op: number | undefined, delta: Delta): void;
  /**
   * Garbage collection dropped a session from this node's store: its own janitor purged it, or
   * (`learned`) anti-entropy brought a purge this node did not know.
   */
  purged(node: SimNode, id: string, learned: boolean): void;
  /** The janitor reported a failed pass. */
  fault(node: SimNode, error: unknown): void;
}

/** One life of a node: from a start to the crash that ends it. */
export interface Incarnation extends NetworkPeer {
  readonly number: number;
  readonly store: Store;
  readonly replica: ObservedReplica;
  readonly service: SessionService;
  readonly janitor: Janitor;
}

/**
 * One region's machine: a clock that survives crashes, a disk (a SQLite file, or nothing for the
 * in-memory store), and the current incarnation of the real node code on top.
 *
 * @remarks A crash runs no node code at all: the incarnation's events die with it (pending timers,
 * the group commit not yet run, queued pushes, waiters), so what was not committed is lost and
 * callers waiting on it never hear back. A restart builds a new `Replica`, `Replicator` and
 * `SessionService` on the same disk, or on a fresh one when wiped (a new node id).
 */
export class SimNode {
  readonly clock: VirtualClock;
  private life: Incarnation | undefined;
  private lives = 0;
  private disk = 0;

  constructor(
    readonly region: string,
    private readonly scheduler: VirtualScheduler,
    private readonly config: SimNodeConfig,
    private readonly observer: SimNodeObserver,
  ) {
    this.clock = new VirtualClock(scheduler);
  }

  /** The running incarnation, if the node is up. */
  get current(): Incarnation | undefined {
    return this.life;
  }

  /** Number of incarnations so far. */
  get incarnations(): number {
    return this.lives;
  }

  /** Starts a new incarnation on the current disk. */
  start(): Incarnation {
    if (this.life !== undefined) throw new Error(`${this.region} is already running`);
    this.lives += 1;
    const label = `${this.region}#${this.lives}`;
    const owner: EventOwner = { label, alive: true, pausedUntil: 0 };
    const scheduler = this.scheduler.forOwner(owner);
    const store = observePurges(this.openDisk(), (id, learned) =>
      this.observer.purged(this, id, learned),
    );
    const rng = SimRandom.derive(this.config.seed, `node:${label}`);
    const replica = new ObservedReplica(
      {
        store,
        clock: this.clock,
        rng,
        scheduler,
        region: this.region,
        maxClockSkewMs: this.config.maxClockSkewMs,
        // A simulated crash is a process crash: the machine never reboots, no commit is lost.
        bootId: "sim",
      },
      {
        committed: (op, delta) => this.observer.committed(this, op, delta),
      },
    );
    // Small batches, pages and queues, so that batching, paging and overflow paths all run.
    const replicator = new Replicator(replica, scheduler, {
      syncIntervalMs: this.config.syncIntervalMs,
      batchSize: 3,
      syncPageSize: 2,
      maxQueue: 16,
    });
    const service = new SessionService(replica, replicator, rng, {
      defaultTtlMs: this.config.defaultTtlMs,
      clusterSize: this.config.clusterSize,
      quorumTimeoutMs: this.config.quorumTimeoutMs,
      afterWaitMs: this.config.afterWaitMs,
    });
    // Expiry sweeps and tombstone collection run on short timers, so that GC happens in runs.
    const janitor = new Janitor(replica, replicator, scheduler, {
      intervalMs: this.config.janitorIntervalMs,
      expiryGraceMs: this.config.janitorIntervalMs,
      tombstoneMinAgeMs: this.config.janitorIntervalMs,
      clusterSize: this.config.clusterSize,
    });
    janitor.on("fault", (e) => this.observer.fault(this, e));
    if (this.config.gc) janitor.start();
    const life: Incarnation = {
      label,
      number: this.lives,
      nodeId: replica.nodeId,
      owner,
      store,
      replica,
      replicator,
      service,
      janitor,
    };
    this.life = life;
    return life;
  }

  /** Kills the incarnation; with `wipe`, its disk too. Returns the label of the dead one. */
  crash(wipe: boolean): string | undefined {
    const life = this.life;
    if (life === undefined) return undefined;
    life.owner.alive = false;
    this.life = undefined;
    // Closing a SQLite handle writes nothing that a crash would not have: every commit is done.
    life.store.close();
    if (wipe || this.config.storage === "memory") this.wipeDisk();
    return life.label;
  }

  /** Holds every event of the node until `until` (virtual ms). */
  pause(until: number): void {
    if (this.life !== undefined) this.life.owner.pausedUntil = until;
  }

  /** Releases the node's storage at the end of a run. */
  dispose(): void {
    if (this.life !== undefined) {
      this.life.owner.alive = false;
      this.life.store.close();
      this.life = undefined;
    }
  }

  private openDisk(): Store {
    if (this.config.storage === "memory") return new MemoryStore();
    return openSqliteStore(this.diskPath(), { synchronous: "NORMAL" });
  }

  private diskPath(): string {
    return join(this.config.dir, `${this.region}-${this.disk}.db`);
  }

  private wipeDisk(): void {
    if (this.config.storage === "sqlite") {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(this.diskPath() + suffix, { force: true });
    }
    this.disk += 1;
  }
}

/**
 * The store with every purge reported: how the history learns what garbage collection removed.
 * `purgeSession` is the node's own janitor; `applyPurged` reports only the ids it newly learns.
 * Every other call goes straight to the store.
 */
function observePurges(store: Store, purged: (id: string, learned: boolean) => void): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "purgeSession") {
        return (id: string) => {
          target.purgeSession(id);
          purged(id, false);
        };
      }
      if (prop === "applyPurged") {
        return (list: readonly PurgedId[]) => {
          const fresh = [...new Set(list.map((p) => p.id))].filter((id) => !target.wasPurged(id));
          target.applyPurged(list);
          for (const id of fresh) purged(id, true);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
