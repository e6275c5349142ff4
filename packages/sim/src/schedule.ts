/** How many regions an operation must reach (mirrors the server's `Consistency`). */
export type SimConsistency = "local" | "quorum" | "all";

/**
 * One client operation of a workload. `key` picks a session from the pool the run keeps: a few
 * fixed client-supplied ids, then every id a `create` returned, in order (`key` modulo its size).
 * Field names come from a small alphabet; the value of each field a write sets is unique to that
 * operation, so a read tells which write it saw.
 */
export type OpSpec =
  | {
      readonly type: "create";
      readonly consistency: SimConsistency;
      readonly set: readonly string[];
      readonly ttlS: number | null;
      readonly idleS?: number;
      readonly maxLifetimeS?: number;
      readonly user?: number;
    }
  | {
      readonly type: "put";
      readonly key: number;
      readonly consistency: SimConsistency;
      readonly set: readonly string[];
      readonly ttlS: number | null;
      readonly user?: number;
    }
  | {
      readonly type: "patch";
      readonly key: number;
      readonly consistency: SimConsistency;
      readonly set: readonly string[];
      readonly unset: readonly string[];
      readonly ttlS?: number;
    }
  | {
      readonly type: "touch";
      readonly key: number;
      readonly consistency: SimConsistency;
      readonly ttlS?: number;
    }
  | { readonly type: "delete"; readonly key: number; readonly consistency: SimConsistency }
  | {
      readonly type: "get";
      readonly key: number;
      readonly consistency: SimConsistency;
      /** Read with the version token of the last write this client saw to the session. */
      readonly after: boolean;
    }
  | { readonly type: "revoke"; readonly user: number; readonly consistency: SimConsistency };

/** Shapes of network partition. */
export type PartitionShape = "halves" | "isolate" | "one-way" | "ring" | "bridge";

/** One fault. Regions are indexes into the schedule's regions (modulo their count). */
export type FaultSpec =
  | {
      readonly type: "partition";
      readonly shape: PartitionShape;
      /** Which region (or pair) the shape centres on. */
      readonly target: number;
      readonly durationMs: number;
    }
  | {
      /** Message-level chaos on every link: loss, duplication, reordering. */
      readonly type: "chaos";
      readonly loss: number;
      readonly duplicate: number;
      readonly reorder: number;
      readonly durationMs: number;
    }
  | { readonly type: "skew"; readonly region: number; readonly ms: number }
  | { readonly type: "jump"; readonly region: number; readonly ms: number }
  | { readonly type: "pause"; readonly region: number; readonly durationMs: number }
  | {
      readonly type: "crash";
      readonly region: number;
      readonly downMs: number;
      /** Restart on an empty disk (a new incarnation) instead of keeping the database file. */
      readonly wipe: boolean;
    };

/** A step of a schedule, at a virtual time in ms from the start. */
export type Step =
  | { readonly kind: "op"; readonly at: number; readonly region: number; readonly op: OpSpec }
  | { readonly kind: "fault"; readonly at: number; readonly fault: FaultSpec };

/**
 * Everything one simulated run does, as plain data: the simulation is a pure function of it.
 *
 * @remarks `seed` drives everything the schedule leaves to chance inside the run (message
 * delays, which messages a chaos period drops, node ids, session ids), so the same schedule
 * always gives the same trace.
 */
export interface Schedule {
  readonly seed: number;
  readonly regions: readonly string[];
  /** Store of every node; `sqlite` makes crashes keep the database file unless wiped. */
  readonly storage: "memory" | "sqlite";
  readonly steps: readonly Step[];
}
