import { MeridianError } from "@meridian/core";
import { SessionNotFoundError } from "../src/index.ts";
import { propertyParams } from "@meridian/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RegionFault } from "../src/testing/index.ts";
import { fakeSetup } from "./fake-setup.ts";

const ID = "session-0000000000042";
const REGIONS = ["eu", "us", "ap"] as const;

type Step =
  | { readonly kind: "fault"; readonly region: string; readonly fault: RegionFault }
  | { readonly kind: "replicate"; readonly from: string; readonly to: string }
  | { readonly kind: "write"; readonly key: string; readonly value: number }
  | { readonly kind: "read" }
  | { readonly kind: "advance"; readonly ms: number };

const region = fc.constantFrom(...REGIONS);
const fault: fc.Arbitrary<RegionFault> = fc.oneof(
  fc.constant<RegionFault>({ kind: "ok" }),
  fc.constant<RegionFault>({ kind: "ok" }),
  fc.constant<RegionFault>({ kind: "refuse" }),
  fc.constant<RegionFault>({ kind: "hang" }),
  fc.constant<RegionFault>({ kind: "reset" }),
  fc.constant<RegionFault>({ kind: "not-ready" }),
  fc.integer({ min: 1, max: 1500 }).map<RegionFault>((delayMs) => ({ kind: "slow", delayMs })),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("fault" as const), region, fault }),
  fc.record({ kind: fc.constant("replicate" as const), from: region, to: region }),
  fc.record({
    kind: fc.constant("write" as const),
    key: fc.constantFrom("a", "b", "c"),
    value: fc.integer({ min: 0, max: 1_000_000 }),
  }),
  fc.constant<Step>({ kind: "read" }),
  fc.constant<Step>({ kind: "read" }),
  fc.constant<Step>({ kind: "read" }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 6000 }) }),
);

interface Outcome {
  readonly log: string[];
  readonly violations: string[];
}

/** Runs a script; records every request and every broken promise of the SDK. */
async function play(seed: number, steps: readonly Step[]): Promise<Outcome> {
  const s = fakeSetup(seed, { retries: 3, failuresBeforeDown: 2 });
  const violations: string[] = [];
  let lastAck: { key: string; value: number } | undefined;
  // Values of writes that failed after the last acknowledged one: they may have been applied.
  const maybe = new Map<string, Set<number>>();
  try {
    for (const st of steps) {
      if (st.kind === "fault") s.cluster.setFault(st.region, st.fault);
      else if (st.kind === "replicate") s.cluster.replicate(st.from, st.to);
      else if (st.kind === "advance") await s.clock.advance(st.ms);
      else if (st.kind === "write") {
        try {
          await s.run(s.client.patch(ID, { set: { [st.key]: st.value } }));
          lastAck = { key: st.key, value: st.value };
          maybe.clear();
        } catch (e) {
          if (!(e instanceof MeridianError)) violations.push(`untyped error ${String(e)}`);
          const set = maybe.get(st.key) ?? new Set<number>();
          set.add(st.value);
          maybe.set(st.key, set);
        }
      } else {
        try {
          const got = await s.run(s.client.get(ID));
          if (lastAck !== undefined) {
            const v = got.data[lastAck.key];
            const allowed = v === lastAck.value || maybe.get(lastAck.key)?.has(v as number);
            if (!allowed) {
              violations.push(`read ${lastAck.key}=${String(v)}, own write was ${lastAck.value}`);
            }
          }
        } catch (e) {
          if (!(e instanceof MeridianError)) violations.push(`untyped error ${String(e)}`);
          // Absent after an acknowledged write: the answering region missed that write.
          if (e instanceof SessionNotFoundError && lastAck !== undefined) {
            violations.push(
              `read found no session after own write ${lastAck.key}=${lastAck.value}`,
            );
          }
        }
      }
    }
  } finally {
    s.client.close();
  }
  return {
    log: s.cluster.requests.map((r) => `${r.at} ${r.region} ${r.method} ${r.path} ${r.fault}`),
    violations,
  };
}

describe("client under random fault schedules (seeded)", () => {
  it("never answers a read without the session's last acknowledged write, and replays exactly from its seed", async () => {
    const params = propertyParams("client read-your-writes under faults", 150);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 0x7fff_ffff }),
        fc.array(step, { maxLength: 40 }),
        async (seed, steps) => {
          const first = await play(seed, steps);
          expect(first.violations).toEqual([]);
          const second = await play(seed, steps);
          expect(second.log).toEqual(first.log);
        },
      ),
      params,
    );
  });
});
