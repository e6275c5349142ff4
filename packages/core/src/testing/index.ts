/**
 * @meridian/core/testing: the storage conformance suite every `Store` runs, and the fast-check
 * arbitraries and fixtures it is built from, for reuse by other packages' tests.
 */
export * from "./arbitraries.ts";
export { readAllPages } from "./conformance-extract.ts";
export * from "./fixtures.ts";
export { setRegisterMergeOverride } from "../merge-override.ts";
export * from "./seed.ts";
export {
  type ConformanceContext,
  type StoreConformanceOptions,
  storeConformance,
} from "./store-conformance.ts";
