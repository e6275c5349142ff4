import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MemoryStore,
  missingFragment,
  registerStamps,
  type SessionState,
  type Stamp,
  sessionStamps,
  stampDot,
  VersionVector,
} from "../src/index.ts";
import {
  canonical,
  deltasArb,
  propertyParams,
  testDelta,
  testSessionId,
  testStamp,
  versionVectorArb,
} from "../src/testing/index.ts";

/**
 * The fragment rebuilt register by register, written independently of missingFragment as the
 * test's oracle: every register (each lifetime on its own) with a stamp the peer has not seen.
 */
function rebuiltFragment(s: SessionState, peer: VersionVector): SessionState | undefined {
  const seen = (st: Stamp) => peer.has(stampDot(st));
  if (sessionStamps(s).every(seen)) return undefined;
  const out: Record<string, unknown> = {
    id: s.id,
    fields: new Map([...s.fields].filter(([, reg]) => !registerStamps(reg).every(seen))),
  };
  const lifetimes = (s.lifetimes ?? []).filter((l) => !seen(l.stamp));
  if (lifetimes.length > 0) out.lifetimes = lifetimes;
  for (const key of ["lastAccess", "deadline", "idleMs", "userId"] as const) {
    const reg = s[key];
    if (reg !== undefined && !seen(reg.stamp)) out[key] = reg;
  }
  if (s.deleted !== undefined && !seen(s.deleted)) out.deleted = s.deleted;
  return out as unknown as SessionState;
}

describe("missingFragment", () => {
  it("gives the same fragment as rebuilding it register by register, wholly missing or not", () => {
    const peerArb = fc.oneof(fc.constant(new VersionVector()), versionVectorArb());
    fc.assert(
      fc.property(
        deltasArb(),
        fc.array(peerArb, { minLength: 1, maxLength: 4 }),
        (deltas, peers) => {
          const store = new MemoryStore();
          store.applyDeltas(deltas);
          // Merged states, and the single-write fragments deltas carry.
          const states = [...store.allSessions(), ...deltas.map((d) => d.session)];
          for (const peer of peers) {
            for (const s of states) {
              expect(canonical(missingFragment(s, peer))).toEqual(
                canonical(rebuiltFragment(s, peer)),
              );
            }
          }
        },
      ),
      propertyParams("missingFragment against the rebuilt fragment", 300),
    );
  });

  it("leaves out an empty lifetime register, as the rebuilt fragment does", () => {
    const { session } = testDelta(testSessionId("noLifetimes"), testStamp("eu", 1), {
      set: { a: 1 },
    });
    const s: SessionState = { ...session, lifetimes: [] };
    const fragment = missingFragment(s, new VersionVector());
    expect(fragment).not.toBe(s);
    expect(fragment?.lifetimes).toBeUndefined();
    expect(canonical(fragment)).toEqual(canonical(rebuiltFragment(s, new VersionVector())));
  });
});
