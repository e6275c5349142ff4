import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";

/** Options of the checkpoint worker; see {@link WalCheckpointer}. */
export interface CheckpointWorkerOptions {
  /** Time between two checkpoints of the worker, in ms (default 100). */
  readonly intervalMs?: number;
  /**
   * WAL pages past which the writer's thread copies the pages the worker has not yet copied
   * itself, so that the WAL starts over (default 4,096: 16 MiB of 4 KiB pages).
   */
  readonly walLimitPages?: number;
  /**
   * Called once if the worker fails; the store has then gone back to SQLite's own checkpoints
   * inside commits. Not called for a worker that the store stopped.
   */
  readonly onFailure?: (error: Error) => void;
}

/** Slots of the memory the writer's thread and the worker share (checkpoint-worker.mjs too). */
const SLOT = { turn: 0, state: 1, checkpoints: 2, relief: 3 } as const;
const STATE = { starting: 0, running: 1, closed: 2, failed: 3 } as const;
/** Longest wait for the worker's checkpoint in progress, or for it to close its connection. */
const WAIT_MS = 10_000;

/**
 * Checkpoints a WAL-mode database from a worker thread with its own connection, so that copying
 * WAL pages into the database file, and the two fsyncs around it, leave the writer's event loop.
 *
 * @remarks The writer turns SQLite's checkpoints at commit off (`wal_autocheckpoint = 0`); the
 * worker runs `wal_checkpoint(PASSIVE)` every `intervalMs`, which never blocks the writer and
 * never loses a committed transaction. Only a write that starts on a fully copied WAL starts it
 * over, and under a steady stream of commits a checkpoint from another thread often does not end
 * fully copied (a commit lands while it syncs): left alone the WAL can grow without bound.
 * So once it passes `walLimitPages` the worker asks the writer for relief and holds back; the
 * writer runs one PASSIVE checkpoint itself between two transactions: it copies only what arrived
 * since the worker's last one, nothing can commit meanwhile, and its next transaction starts the
 * WAL over.
 *
 * The two threads never checkpoint at once: they take turns through shared memory (SQLite would
 * answer the second one busy). If the worker fails, the writer goes back to SQLite's own
 * checkpoints at commit and reports the error through `onFailure`. The worker never keeps the
 * process alive.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly slots = new Int32Array(new SharedArrayBuffer(4 * 4));
  private readonly onFailure: ((error: Error) => void) | undefined;
  private stopped = false;
  private failed = false;
  private inline = 0;

  /**
   * Starts the worker on the database file at `path`, written by `db`. `script` is the worker's
   * body (tests substitute one that fails).
   */
  constructor(
    private readonly db: Database.Database,
    path: string,
    synchronous: "FULL" | "NORMAL",
    options: CheckpointWorkerOptions = {},
    script: URL = new URL("./checkpoint-worker.mjs", import.meta.url),
  ) {
    this.onFailure = options.onFailure;
    db.pragma("wal_autocheckpoint = 0");
    this.worker = new Worker(script, {
      workerData: {
        path,
        synchronous,
        intervalMs: options.intervalMs ?? 100,
        limitPages: options.walLimitPages ?? 4096,
        shared: this.slots.buffer,
      },
      // Plain JavaScript: no TypeScript loader, no profiler flags of the parent.
      execArgv: [],
    });
    this.worker.on("message", (m) => {
      if (m === "relief") this.checkpointInline();
    });
    this.worker.on("error", (e) => this.fail(e));
    this.worker.on("exit", (code) => {
      if (Atomics.load(this.slots, SLOT.state) !== STATE.closed) {
        this.fail(new Error(`WAL checkpoint worker exited (code ${code})`));
      }
    });
    // After the listeners: a "message" listener refs the worker again.
    this.worker.unref();
  }

  /** Whether checkpoints run in the worker (false once it failed or was stopped). */
  get running(): boolean {
    return !this.stopped && !this.failed;
  }

  /** Checkpoints the worker ran that found new pages in the WAL. */
  get workerCheckpoints(): number {
    return Atomics.load(this.slots, SLOT.checkpoints);
  }

  /** Checkpoints the writer's thread ran because the WAL passed its limit. */
  get inlineCheckpoints(): number {
    return this.inline;
  }

  /**
   * Runs `checkpoint` on the writer's thread once the worker's checkpoint in progress, if any,
   * is over; the worker skips its turns meanwhile.
   *
   * @remarks Blocks the thread for at most the rest of one worker checkpoint: for explicit,
   * rare checkpoints (backups, rotation, close), never for the write path.
   */
  exclusive<T>(checkpoint: () => T): T {
    // A worker that failed or was stopped takes no more turns, and one that died in the middle
    // of a checkpoint never gave its turn back: waiting would only block the thread.
    if (!this.running) return checkpoint();
    const deadline = Date.now() + WAIT_MS;
    while (Atomics.compareExchange(this.slots, SLOT.turn, 0, 1) !== 0) {
      const left = deadline - Date.now();
      // SQLite answers busy rather than wait; the caller sees that in its result.
      if (left <= 0) return checkpoint();
      Atomics.wait(this.slots, SLOT.turn, 1, left);
    }
    try {
      return checkpoint();
    } finally {
      this.releaseTurn();
    }
  }

  /**
   * Stops the worker: waits until it has closed its connection, so that the writer's own close
   * is the last one and folds the WAL into the database file. Idempotent.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.failed) {
      this.worker.postMessage("stop");
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const state = Atomics.load(this.slots, SLOT.state);
        const left = deadline - Date.now();
        if (state === STATE.closed || state === STATE.failed || left <= 0) break;
        Atomics.wait(this.slots, SLOT.state, state, left);
      }
    }
    if (Atomics.load(this.slots, SLOT.state) !== STATE.closed) void this.worker.terminate();
  }

  /**
   * The relief valve: one PASSIVE checkpoint on the writer's thread, unless the worker is in the
   * middle of one (it then asks again).
   */
  private checkpointInline(): void {
    if (!this.running || !this.db.open) return;
    if (Atomics.compareExchange(this.slots, SLOT.turn, 0, 1) !== 0) return;
    try {
      this.db.pragma("wal_checkpoint(PASSIVE)");
      this.inline += 1;
    } catch (e) {
      // Runs from an event, not a caller: an I/O error here must not take the process down.
      this.fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      Atomics.store(this.slots, SLOT.relief, 0);
      this.releaseTurn();
    }
  }

  private releaseTurn(): void {
    Atomics.store(this.slots, SLOT.turn, 0);
    Atomics.notify(this.slots, SLOT.turn);
  }

  private fail(error: Error): void {
    if (this.failed || this.stopped) return;
    this.failed = true;
    void this.worker.terminate();
    if (this.db.open) this.db.pragma("wal_autocheckpoint = 1000");
    this.onFailure?.(error);
  }
}
