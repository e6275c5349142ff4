import type { SessionState, Stamp } from "@meridian/core";

/** How an operation ended, as the client saw it (Jepsen's ok / fail / info). */
export type OpStatus = "ok" | "fail" | "unknown";

/** The answer of a successful read or write, values decoded to strings. */
export interface OpAnswer {
  readonly id: string;
  readonly data: Readonly<Record<string, string>>;
  readonly expiresAt: number | null;
  readonly userId: string | null;
  readonly version: string;
}

/**
 * One client operation, from invocation to completion.
 *
 * @remarks Times are true (simulator or test-runner) time in ms, comparable across nodes;
 * `nodeNow` is the serving node's own clock when it answered, which may be skewed. A `fail` is
 * an answer saying the operation did not happen, except `MERIDIAN_ERR_QUORUM_UNAVAILABLE` on a
 * write, which DESIGN.md says stays applied. `unknown` means no answer came (a crash, a lost
 * connection): the operation may or may not have taken effect.
 */
export interface OpRecord {
  readonly index: number;
  readonly type: "create" | "put" | "patch" | "touch" | "delete" | "get" | "revoke";
  readonly region: string;
  /** Incarnation label of the serving node (`eu#2`), when the operation reached one. */
  incarnation: string | undefined;
  /** Target session (undefined for create until it answers, and for revoke). */
  sessionId: string | undefined;
  readonly consistency: "local" | "quorum" | "all";
  /** Version token the read carried (`after`). */
  readonly after: string | undefined;
  /** Values this write sets, by field (unique per operation), and fields it unsets. */
  readonly set: Readonly<Record<string, string>>;
  readonly unset: readonly string[];
  readonly user: string | undefined;
  readonly invokedAt: number;
  completedAt: number | undefined;
  status: OpStatus | "pending";
  /** Stable error code of a failure. */
  code: string | undefined;
  answer: OpAnswer | undefined;
  /** Serving node's clock at the answer. */
  nodeNow: number | undefined;
}

/**
 * One local write a node committed to its store: its dot, stamp and the fragment it made.
 *
 * @remarks Recorded at commit, so a write that was planned but lost in a crash before its commit
 * is not here. `op` links it to the client operation that caused it; writes nobody asked for
 * directly (the access write of an idle-timed read, expiry sweeps) have none.
 */
export interface WriteRecord {
  readonly op: number | undefined;
  readonly region: string;
  readonly incarnation: string;
  readonly stamp: Stamp;
  readonly fragment: SessionState;
  readonly committedAt: number;
}

/** A node went down (`wiped`: its disk is gone too) or came back. */
export interface NodeEvent {
  readonly type: "crash" | "restart" | "purge";
  readonly region: string;
  readonly incarnation: string;
  readonly at: number;
  readonly wiped: boolean;
  /** For `purge`: the session garbage-collected. */
  readonly sessionId?: string;
}

/** A node's timestamp issuance, for the clock checker: every write stamp in commit order. */
export interface ClockSample {
  readonly nodeId: string;
  readonly incarnation: string;
  readonly wall: number;
  readonly logical: number;
  readonly at: number;
}

/** One node's state at the end of a run. */
export interface FinalNodeState {
  readonly region: string;
  readonly nodeId: string;
  readonly digest: string;
  readonly sessions: readonly SessionState[];
  /** The node's clock at the end. */
  readonly now: number;
}

/**
 * Everything the checkers look at: the history of a run and the final states.
 *
 * @remarks Plain data, built by a driver (the simulator or the process tier) and never mutated
 * by a checker.
 */
export interface History {
  readonly regions: readonly string[];
  readonly maxClockSkewMs: number;
  readonly ops: readonly OpRecord[];
  readonly writes: readonly WriteRecord[];
  readonly nodeEvents: readonly NodeEvent[];
  readonly clocks: readonly ClockSample[];
  /** Errors node code threw where it must not, and protocol-error link closes. */
  readonly anomalies: readonly string[];
  /** Whether write stamps and fragments were observed (the simulator) or not (processes). */
  readonly observedWrites: boolean;
  /** Largest difference between two nodes' clocks at any time of the run, in ms. */
  readonly maxObservedSkewMs: number;
  readonly final: readonly FinalNodeState[];
}
