import type { History } from "../history.ts";

/** One broken invariant, named by the checker that found it. */
export interface Violation {
  readonly checker: string;
  readonly message: string;
}

/**
 * A checker: a pure function of a history (and the final states it holds).
 *
 * @remarks Never mutates the history; returns every violation it finds, none when it holds.
 */
export type Checker = (history: History) => Violation[];
