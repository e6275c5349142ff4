import type { MeridianError } from "@meridian/core";

/**
 * An operation moved from one region to another after a failed attempt.
 *
 * @remarks Emitted once per move, before the attempt in `to` starts.
 */
export interface FailoverEvent {
  readonly from: string;
  readonly to: string;
  /** Why the attempt in `from` failed. */
  readonly cause: MeridianError;
}

/**
 * A region was marked down after consecutive failures.
 *
 * @remarks Emitted once per transition; `failures` is at least the `failuresBeforeDown` option.
 */
export interface RegionDownEvent {
  readonly region: string;
  /** Consecutive failures that marked it down. */
  readonly failures: number;
  /** The last of them. */
  readonly cause: MeridianError;
}

/**
 * A region marked down answered again (a health probe or a last-resort request).
 *
 * @remarks Emitted once per transition back up; the region regains its place in the routing order.
 */
export interface RegionUpEvent {
  readonly region: string;
}

/**
 * Every event a {@link MeridianClient} emits, with its listener's signature.
 *
 * @remarks The one events interface of the client (STYLE.md: typed events only). Listeners run
 * synchronously inside the operation or probe that caused the event.
 */
export interface ClientEvents {
  failover: (event: FailoverEvent) => void;
  "region-down": (event: RegionDownEvent) => void;
  "region-up": (event: RegionUpEvent) => void;
}
