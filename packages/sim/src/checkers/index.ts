import type { History } from "../history.ts";
import { checkClocks } from "./clocks.ts";
import { checkConvergence } from "./convergence.ts";
import { checkDeletes } from "./deletes.ts";
import { checkExpiry } from "./expiry.ts";
import { checkGarbageCollection } from "./garbage-collection.ts";
import { checkLostWrites } from "./lost-writes.ts";
import { checkLwwOracle } from "./lww-oracle.ts";
import { checkQuorumReads } from "./quorum-reads.ts";
import { checkVersionTokens } from "./version-tokens.ts";
import type { Checker, Violation } from "./violation.ts";

/** Node code threw, or a node closed a link for a protocol error: never fine. */
export const checkAnomalies: Checker = (history) =>
  history.anomalies.map((message) => ({ checker: "anomalies", message }));

/** Every checker, by name. */
export const CHECKERS: Readonly<Record<string, Checker>> = {
  anomalies: checkAnomalies,
  convergence: checkConvergence,
  "lww-oracle": checkLwwOracle,
  "lost-writes": checkLostWrites,
  deletes: checkDeletes,
  expiry: checkExpiry,
  "quorum-reads": checkQuorumReads,
  "version-tokens": checkVersionTokens,
  clocks: checkClocks,
  "garbage-collection": checkGarbageCollection,
};

/**
 * Runs every checker on a history.
 *
 * @remarks Pure: the same history always gives the same violations, in checker order.
 */
export function checkHistory(history: History): Violation[] {
  return Object.values(CHECKERS).flatMap((check) => check(history));
}

export type { Checker, Violation };
