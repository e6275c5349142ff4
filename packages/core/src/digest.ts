import { Packr } from "msgpackr";
import { sessionToWire } from "./codec.ts";
import type { SessionState } from "./session.ts";

const canonical = new Packr({ useRecords: false, moreTypes: false });

/**
 * A 64-bit hash of bytes (two interleaved 32-bit multiplicative hashes), as 16 hex characters.
 *
 * @remarks Not cryptographic: it tells replicas apart in tests and the simulator, nothing more.
 */
export function hashBytes(data: Uint8Array, seed = 0): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < data.length; i++) {
    const ch = data[i]!;
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, "0") + (h1 >>> 0).toString(16).padStart(8, "0");
}

/** Canonical bytes of a session: equal states give equal bytes, field order aside. */
export function sessionBytes(s: SessionState): Uint8Array {
  return canonical.pack(sessionToWire(s));
}

/**
 * Digest of a set of sessions, independent of the order they are given in.
 *
 * @remarks Two replicas have converged exactly when their digests are equal.
 */
export function digestSessions(sessions: Iterable<SessionState>): string {
  const parts: [string, string][] = [];
  for (const s of sessions) parts.push([s.id, hashBytes(sessionBytes(s))]);
  parts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const joined = new TextEncoder().encode(parts.map(([id, h]) => `${id}=${h}`).join(";"));
  return hashBytes(joined);
}
