import type { FieldRegister } from "./register.ts";

/**
 * Test-only: a replacement for the register merge rule, so that the simulator can show its
 * checkers catch a broken merge (for instance, arrival order instead of hlc order).
 *
 * @remarks Never set in production; `undefined` (the default) means the real rule. Exported only
 * through `@meridian/core/testing`, not from the package's main entry point.
 */
export let registerMergeOverride:
  | ((held: FieldRegister, incoming: FieldRegister) => FieldRegister)
  | undefined;

/** Sets or clears (`undefined`) the test-only register merge override. */
export function setRegisterMergeOverride(
  rule: ((held: FieldRegister, incoming: FieldRegister) => FieldRegister) | undefined,
): void {
  registerMergeOverride = rule;
}
