import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type FieldRegister,
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

/** missingFragment as it was before it returned a wholly missing session as itself. */
function rebuiltFragment(s: SessionState, peer: VersionVector): SessionState | undefined {
  const lacks = (stamps: readonly Stamp[]) => stamps.some((st) => !peer.has(stampDot(st)));
  if (!sessionStamps(s).some((st) => !peer.has(stampDot(st)))) return undefined;
  const fields = new Map<string, FieldRegister>();
  for (const [name, reg] of s.fields) if (lacks(registerStamps(reg))) fields.set(name, reg);
  const out: { -readonly [K in keyof SessionState]: SessionState[K] } = { id: s.id, fields };
  const lifetimes = s.lifetimes?.filter((l) => lacks([l.stamp]));
  if (lifetimes !== undefined && lifetimes.length > 0) out.lifetimes = lifetimes;
  if (s.lastAccess && lacks([s.lastAccess.stamp])) out.lastAccess = s.lastAccess;
  if (s.deadline && lacks([s.deadline.stamp])) out.deadline = s.deadline;
  if (s.idleMs && lacks([s.idleMs.stamp])) out.idleMs = s.idleMs;
  if (s.userId && lacks([s.userId.stamp])) out.userId = s.userId;
  if (s.deleted && lacks([s.deleted])) out.deleted = s.deleted;
  return out;
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
