/**
 * @meridian/sim: the deterministic simulation harness. Runs the real node code of several
 * regions in one process under a seeded event queue in virtual time, with a simulated network
 * (delays, partitions, loss, duplication, reordering), clock skew and jumps, pauses and crashes;
 * records a history of client operations; and judges it with checkers kept apart from the driver.
 * A process tier runs the same checkers on real node processes behind fault-injecting proxies.
 */
export {
  checkSchedule,
  describeFailure,
  replayCommands,
  runSeed,
  type ScheduleOutcome,
  shrinkSeed,
} from "./campaign.ts";
export {
  CHECKERS,
  checkAnomalies,
  type Checker,
  checkHistory,
  type Violation,
} from "./checkers/index.ts";
export { checkClocks } from "./checkers/clocks.ts";
export { checkConvergence } from "./checkers/convergence.ts";
export { checkDeletes } from "./checkers/deletes.ts";
export { checkExpiry } from "./checkers/expiry.ts";
export { checkGarbageCollection } from "./checkers/garbage-collection.ts";
export { checkLostWrites } from "./checkers/lost-writes.ts";
export { checkLwwOracle } from "./checkers/lww-oracle.ts";
export { checkQuorumReads } from "./checkers/quorum-reads.ts";
export { checkVersionTokens } from "./checkers/version-tokens.ts";
export type {
  ClockSample,
  FinalNodeState,
  History,
  NodeEvent,
  OpAnswer,
  OpRecord,
  OpStatus,
  WriteRecord,
} from "./history.ts";
export { blockedPaths } from "./partition-shapes.ts";
export type {
  FaultSpec,
  OpSpec,
  PartitionShape,
  Schedule,
  SimConsistency,
  Step,
} from "./schedule.ts";
export { type ScheduleShape, scheduleArbitrary, scheduleForSeed } from "./schedule-arbitrary.ts";
export { HttpRecorder, type ProcessTarget } from "./process/http-recorder.ts";
export { ProcessCluster } from "./process/process-cluster.ts";
export {
  type ProcessOutcome,
  type ProcessScenario,
  runProcessScenario,
} from "./process/process-scenario.ts";
export { SimRandom } from "./sim-random.ts";
export { runSimulation, type SimulationOptions, type SimulationResult } from "./simulation.ts";
export { SIM_EPOCH_MS, VirtualClock } from "./virtual-clock.ts";
export { type EventOwner, VirtualScheduler } from "./virtual-scheduler.ts";
