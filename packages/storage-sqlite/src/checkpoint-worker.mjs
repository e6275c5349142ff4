// Body of the WAL checkpoint worker started by wal-checkpointer.ts. Plain JavaScript on purpose:
// a worker thread runs without the TypeScript loader (tsx, vitest) of the process that starts it.
// The slot layout and states must match SLOT and STATE in wal-checkpointer.ts.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const SLOT = { turn: 0, state: 1, checkpoints: 2, relief: 3 };
const STATE = { running: 1, closed: 2, failed: 3 };

const { path, synchronous, intervalMs, limitPages, shared } = workerData;
const slots = new Int32Array(shared);
let db;
let timer;
/** The WAL as the previous checkpoint left it: an unchanged WAL is not counted again. */
let last = { log: -1, checkpointed: -1 };
/** When the worker last asked the writer for relief (see tick). */
let askedAt = 0;
/**
 * How long the worker holds back for the writer's checkpoint before it checkpoints (and asks)
 * again: a writer busy for that long is better helped by the worker copying meanwhile.
 */
const RELIEF_WAIT_MS = 1000;
/** Checkpoints that follow one which left the WAL past its limit, before asking for relief. */
const FOLLOW_UPS = 2;

/** Marks the worker failed (waking a writer that waits on it), then lets the error surface. */
function fail(error) {
  clearInterval(timer);
  Atomics.store(slots, SLOT.state, STATE.failed);
  Atomics.notify(slots, SLOT.state);
  try {
    db?.close();
  } catch {
    // The error being reported is the one that matters.
  }
  throw error;
}

/** One PASSIVE checkpoint: never waits for the writer, never makes it wait. */
function passive() {
  const row = db.pragma("wal_checkpoint(PASSIVE)")[0];
  if (
    row.busy === 0 &&
    row.log >= 0 &&
    (row.log !== last.log || row.checkpointed !== last.checkpointed)
  ) {
    Atomics.add(slots, SLOT.checkpoints, 1);
  }
  last = row;
  return row;
}

/**
 * A checkpoint, unless the writer's thread is checkpointing (it holds the turn). When the WAL
 * has passed its limit without starting over, copies what came meanwhile once or twice more: the
 * writer's next transaction starts the WAL over if it finds it fully copied. If it still has not,
 * asks the writer for relief: the writer copies the few pages left itself, between two of its
 * transactions, so that its next one starts the WAL over. Until then the worker holds back.
 */
function tick() {
  const asked = Atomics.load(slots, SLOT.relief) === 1;
  if (asked && Date.now() - askedAt < RELIEF_WAIT_MS) return;
  if (Atomics.compareExchange(slots, SLOT.turn, 0, 1) !== 0) return;
  let row;
  try {
    row = passive();
    // `log` counts the pages written since the WAL last started over. (The row cannot tell
    // whether the checkpoint caught up: it compares with the WAL as it was when it began.)
    for (let i = 0; i < FOLLOW_UPS && row.busy === 0 && row.log > limitPages; i++) {
      const next = passive();
      const startedOver = next.log < row.log;
      row = next;
      if (startedOver) break;
    }
  } finally {
    Atomics.store(slots, SLOT.turn, 0);
    Atomics.notify(slots, SLOT.turn);
  }
  if (row.busy === 0 && row.log > limitPages) {
    Atomics.store(slots, SLOT.relief, 1);
    askedAt = Date.now();
    parentPort.postMessage("relief");
  }
}

function stop() {
  clearInterval(timer);
  db.close();
  Atomics.store(slots, SLOT.state, STATE.closed);
  Atomics.notify(slots, SLOT.state);
  parentPort.close();
}

try {
  db = new Database(path, { fileMustExist: true });
  db.pragma(`synchronous = ${synchronous}`);
  // The writer already put the file in WAL mode; checkpointing anything else would be a mistake.
  const mode = db.pragma("journal_mode", { simple: true });
  if (mode !== "wal") throw new Error(`checkpoint worker: ${path} is in ${mode} mode, not WAL`);
} catch (e) {
  fail(e);
}
Atomics.store(slots, SLOT.state, STATE.running);
Atomics.notify(slots, SLOT.state);
parentPort.on("message", (m) => {
  if (m !== "stop") return;
  try {
    stop();
  } catch (e) {
    fail(e);
  }
});
timer = setInterval(() => {
  try {
    tick();
  } catch (e) {
    fail(e);
  }
}, intervalMs);
