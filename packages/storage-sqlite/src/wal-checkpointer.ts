import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** Options of {@link startWalCheckpointer}. */
export interface WalCheckpointerOptions {
  /** Time between two checkpoints, in ms (default 200). */
  readonly intervalMs?: number;
  /** Called once if the worker fails; the caller then checkpoints inline again. */
  readonly onFailure?: (message: string) => void;
}

/** A running checkpoint worker; see {@link startWalCheckpointer}. */
export interface WalCheckpointer {
  /** Stops the worker; resolves once its connection is closed. Idempotent. */
  stop(): Promise<void>;
}

// Plain CommonJS run by the worker: it cannot go through the TypeScript loader.
const WORKER_SCRIPT = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 1000");
db.pragma("synchronous = NORMAL");
const checkpoint = () => db.pragma("wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  try {
    checkpoint();
  } catch (e) {
    clearInterval(timer);
    throw e;
  }
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints a WAL-mode database from a worker thread, so that the copy of WAL pages into the
 * database file and its fsyncs never block the event loop of the process that writes.
 *
 * @remarks The writing connection must not checkpoint on its own
 * (`SqliteStoreOptions.autoCheckpoint: false`); this worker opens its own connection to the
 * file and runs `wal_checkpoint(PASSIVE)` every `intervalMs`, which never blocks writers or
 * readers. A crash of the worker is reported once through `onFailure` (the caller turns inline
 * checkpoints back on); it never takes the process down.
 */
export function startWalCheckpointer(
  path: string,
  options: WalCheckpointerOptions = {},
): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SCRIPT, {
    eval: true,
    workerData: { path, driver, intervalMs: options.intervalMs ?? 200 },
  });
  worker.unref();
  let stopping = false;
  let failed = false;
  const fail = (message: string) => {
    if (failed || stopping) return;
    failed = true;
    options.onFailure?.(message);
  };
  worker.on("error", (e) => fail(e.message));
  const exited = new Promise<void>((resolve) => {
    worker.once("exit", (code) => {
      if (code !== 0) fail(`checkpoint worker exited with code ${code}`);
      resolve();
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        worker.postMessage("stop");
        await exited;
      })();
      return stopped;
    },
  };
}
