import { createRequire } from "node:module";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";

/** What the figures were measured on. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly os: string;
  readonly sqlite: string;
  /** 1-minute load average when the run started; other work on the machine skews every figure. */
  readonly loadAtStart: number;
}

/** Describes this machine. */
export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown CPU",
    cores: list.length,
    memoryBytes: totalmem(),
    node: process.version,
    os: `${platform()} ${release()}`,
    sqlite: sqliteVersion(),
    loadAtStart: loadavg()[0] ?? 0,
  };
}

/** The SQLite library version, through the storage package's own better-sqlite3. */
function sqliteVersion(): string {
  const pkg = join(import.meta.dirname, "../../packages/storage-sqlite/package.json");
  const Database = createRequire(pkg)("better-sqlite3") as typeof import("better-sqlite3");
  const db = new Database(":memory:");
  const { v } = db.prepare("SELECT sqlite_version() AS v").get() as { v: string };
  db.close();
  return v;
}
