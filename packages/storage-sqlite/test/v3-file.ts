import {
  compareStamp,
  effectiveExpiry,
  type Hlc,
  packValue,
  type SessionState,
  type Stamp,
  type VersionVector,
} from "@meridian/core";
import Database from "better-sqlite3";
import { PLAIN_ROWS, type RowProtection } from "../src/row-protection.ts";
import { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3 } from "../src/schema.ts";

const stampT = (s: Stamp) => [s.hlc.wall, s.hlc.logical, s.hlc.node, s.seq];
const hlcT = (h: Hlc) => [h.wall, h.logical, h.node];

interface V3Row {
  key: string;
  kind: "value" | "yjs" | "meta";
  stamps: readonly Stamp[];
  payload: unknown;
  secret: boolean;
}

/** The register rows schema 3 code stored for `s` (its payload shapes, written down again). */
function v3Rows(s: SessionState): V3Row[] {
  const rows: V3Row[] = [];
  for (const [name, reg] of s.fields) {
    if (reg.kind === "value") {
      rows.push({
        key: name,
        kind: "value",
        stamps: [reg.stamp],
        payload: [stampT(reg.stamp), reg.value],
        secret: true,
      });
    } else {
      const payload = [hlcT(reg.epoch), reg.update, reg.stamps.map(stampT)];
      rows.push({ key: name, kind: "yjs", stamps: reg.stamps, payload, secret: true });
    }
  }
  const meta = (key: string, stamp: Stamp, payload: unknown, secret = false) =>
    rows.push({ key, kind: "meta", stamps: [stamp], payload, secret });
  if (s.lifetimes) {
    rows.push({
      key: "\u0000exp",
      kind: "meta",
      stamps: s.lifetimes.map((l) => l.stamp),
      payload: s.lifetimes.map((l) => [l.from, l.until, stampT(l.stamp)]),
      secret: false,
    });
  }
  if (s.lastAccess)
    meta("\u0000last", s.lastAccess.stamp, [s.lastAccess.at, stampT(s.lastAccess.stamp)]);
  if (s.deadline) meta("\u0000dl", s.deadline.stamp, [s.deadline.at, stampT(s.deadline.stamp)]);
  if (s.idleMs) meta("\u0000idle", s.idleMs.stamp, [s.idleMs.value, stampT(s.idleMs.stamp)]);
  if (s.userId) meta("\u0000user", s.userId.stamp, [s.userId.value, stampT(s.userId.stamp)], true);
  if (s.deleted) meta("\u0000del", s.deleted, stampT(s.deleted));
  return rows;
}

const newest = (stamps: readonly Stamp[]) =>
  stamps.reduce((a, b) => (compareStamp(b, a) > 0 ? b : a));

/**
 * Writes a database exactly as schema 3 code left it, holding `sessions`, the vector `vv` and the
 * clock `clock`; secret payloads go through `protection` (sealed per register with a keyring).
 */
export function writeV3File(
  path: string,
  sessions: readonly SessionState[],
  vv: VersionVector,
  clock: { wall: number; logical: number },
  protection: RowProtection = PLAIN_ROWS,
): void {
  const db = new Database(path);
  db.exec(SCHEMA_V1 + SCHEMA_V2 + SCHEMA_V3);
  db.pragma("user_version = 3");
  const reg = db.prepare(
    "INSERT INTO registers (session_id, key, kind, origin, seq, payload) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const stamp = db.prepare(
    "INSERT OR IGNORE INTO register_stamps (origin, seq, session_id, key) VALUES (?, ?, ?, ?)",
  );
  const origin = db.prepare("INSERT OR IGNORE INTO origins (origin) VALUES (?)");
  const session = db.prepare(
    "INSERT INTO sessions (id, user_id, expires_at, deleted) VALUES (?, ?, ?, ?)",
  );
  const insertAll = db.transaction(() => {
    for (const s of sessions) {
      for (const r of v3Rows(s)) {
        const bytes = packValue(r.payload);
        const top = newest(r.stamps);
        const payload = r.secret ? protection.seal(bytes, s.id, r.key) : bytes;
        reg.run(s.id, r.key, r.kind, top.hlc.node, top.seq, payload);
        if (r.kind === "yjs" || r.key === "\u0000exp") {
          for (const x of r.stamps) stamp.run(x.hlc.node, x.seq, s.id, r.key);
        }
        for (const x of r.stamps) origin.run(x.hlc.node);
      }
      const tag = protection.userTag(s.userId?.value ?? null);
      session.run(s.id, tag, effectiveExpiry(s), s.deleted === undefined ? 0 : 1);
    }
  });
  insertAll();
  const coverage = db.prepare("INSERT INTO version_vector (origin, base, ranges) VALUES (?, ?, ?)");
  for (const [o, c] of vv.entries()) coverage.run(o, c.base, JSON.stringify(c.ranges));
  db.prepare("INSERT INTO clock (id, wall, logical) VALUES (1, ?, ?)").run(
    clock.wall,
    clock.logical,
  );
  db.close();
}
