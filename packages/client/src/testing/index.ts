/**
 * @meridian/client/testing: a virtual clock, a seeded `Rng` and an in-memory cluster behind a
 * fake `fetch` with scripted faults, for deterministic tests of the SDK and of what is built on
 * it.
 */
export { FakeCluster, type FakeRequest, type RegionFault } from "./fake-cluster.ts";
export type { FakeOp, FakeSession } from "./fake-sessions.ts";
export { seededRng } from "./seeded-rng.ts";
export { VirtualClock } from "./virtual-clock.ts";
