import { type ProcessScenario, runProcessScenario } from "@meridian/sim";
import { expect } from "vitest";

/** Runs a process-tier scenario, prints its seed, and expects every checker to pass. */
export async function expectScenarioPasses(
  name: string,
  scenario: Omit<ProcessScenario, "seed">,
): Promise<void> {
  const seed = Number(process.env.SEED ?? 11);
  console.log(`${name}: workload seed ${seed} (SEED=<seed> to change)`);
  const { history, violations, stderr } = await runProcessScenario({ ...scenario, seed });
  for (const v of violations) console.log(`[${v.checker}] ${v.message}`);
  if (violations.length > 0) {
    for (const op of history.ops) {
      console.log(`op${op.index} ${op.type} ${op.region} ${op.status} ${op.code ?? ""}`);
    }
    for (const [region, text] of Object.entries(stderr)) console.log(`${region} stderr:\n${text}`);
  }
  const ok = history.ops.filter((o) => o.status === "ok").length;
  console.log(`${name}: ${history.ops.length} operations, ${ok} ok`);
  expect(ok).toBeGreaterThan(0);
  expect(violations).toEqual([]);
}
