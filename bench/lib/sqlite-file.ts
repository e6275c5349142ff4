import { createRequire } from "node:module";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";

const Database = createRequire(
  join(import.meta.dirname, "../../packages/storage-sqlite/package.json"),
)("better-sqlite3") as typeof BetterSqlite3;

/** A read-only look into a node's SQLite file, safe while the node writes (WAL readers). */
export class SqliteFile {
  private readonly db: BetterSqlite3.Database;

  constructor(readonly path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
  }

  /**
   * Bytes one session takes in its rows: every register (ids, key, kind, origin, 8-byte seq,
   * payload), its Yjs stamp index rows and its sessions row.
   */
  sessionBytes(id: string): { bytes: number; registers: number } {
    const r = this.db
      .prepare<[string], { b: number | null; n: number }>(
        `SELECT sum(length(session_id) + length(key) + length(kind) + length(origin) + 8 + length(payload)) AS b,
                count(*) AS n
         FROM registers WHERE session_id = ?`,
      )
      .get(id)!;
    const y = this.db
      .prepare<[string], { b: number | null }>(
        "SELECT sum(length(origin) + 8 + length(session_id) + length(key)) AS b FROM register_stamps WHERE session_id = ?",
      )
      .get(id)!;
    const s = this.db
      .prepare<[string], { b: number | null }>(
        "SELECT length(id) + coalesce(length(user_id), 0) + 16 AS b FROM sessions WHERE id = ?",
      )
      .get(id);
    return { bytes: (r.b ?? 0) + (y.b ?? 0) + (s?.b ?? 0), registers: r.n };
  }

  /** Pages holding data (page count less free pages) and the page size. */
  pagesInUse(): { pages: number; pageSize: number } {
    const count = this.db.pragma("page_count", { simple: true }) as number;
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    const pageSize = this.db.pragma("page_size", { simple: true }) as number;
    return { pages: count - free, pageSize };
  }

  close(): void {
    this.db.close();
  }
}
