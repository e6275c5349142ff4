import Database from "better-sqlite3";
import type { SqliteStore } from "../src/index.ts";
import { sessionNewestDots } from "../src/session-dots.ts";

/** The `session_dots` rows as stored, and as the stored sessions say they should be. */
export function dotRows(store: SqliteStore): { stored: string[]; expected: string[] } {
  const raw = new Database(store.path, { readonly: true });
  try {
    const rows = raw.prepare("SELECT origin, seq, session_id FROM session_dots").all() as {
      origin: string;
      seq: number;
      session_id: string;
    }[];
    const stored = rows.map((r) => `${r.session_id} ${r.origin} ${r.seq}`).sort();
    const expected: string[] = [];
    for (const s of store.allSessions()) {
      for (const [origin, seq] of sessionNewestDots(s)) expected.push(`${s.id} ${origin} ${seq}`);
    }
    return { stored, expected: expected.sort() };
  } finally {
    raw.close();
  }
}
