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
   * Bytes one session takes in its rows (schema 4): its sessions row (id, user tag, expiry,
   * body) and its `session_dots` rows (origin, 8-byte seq, id); `registers` counts the latter.
   */
  sessionBytes(id: string): { bytes: number; registers: number } {
    const d = this.db
      .prepare<[string], { b: number | null; n: number }>(
        `SELECT sum(length(origin) + 8 + length(session_id)) AS b, count(*) AS n
         FROM session_dots WHERE session_id = ?`,
      )
      .get(id)!;
    const s = this.db
      .prepare<[string], { b: number | null }>(
        "SELECT length(id) + coalesce(length(user_id), 0) + 16 + length(body) AS b FROM sessions WHERE id = ?",
      )
      .get(id);
    return { bytes: (d.b ?? 0) + (s?.b ?? 0), registers: d.n };
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
