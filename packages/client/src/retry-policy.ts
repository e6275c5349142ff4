import type { MeridianError } from "@meridian/core";
import {
  MeridianRequestError,
  QuorumUnavailableError,
  RegionUnreachableError,
  RequestTimeoutError,
  VersionUnavailableError,
} from "./errors.ts";

/**
 * Which failures an operation may be retried after.
 *
 * - `idempotent`: the request may run twice with the same outcome (every read, and every write:
 *   writes are CRDT merges keyed by session id). Retried after connection failures, timeouts and
 *   502/503/504 answers.
 * - `unapplied-only`: the request must not run twice (`POST /v1/sessions` makes a new id each
 *   time). Retried only when it certainly never reached a server: connection refused, or a region
 *   answering 503 `MERIDIAN_ERR_NOT_READY` (refused before anything is written).
 *
 * @remarks Chosen per request by the client; the router never retries beyond it.
 */
export type RetryPolicy = "idempotent" | "unapplied-only";

const RETRYABLE_STATUS = new Set([502, 503, 504]);

/**
 * Whether an attempt that failed with `error` may be tried again (in this or another region).
 *
 * @remarks The single place the SDK's retry rule lives; see {@link RetryPolicy}.
 */
export function isRetryable(error: MeridianError, policy: RetryPolicy): boolean {
  if (error instanceof RegionUnreachableError) return error.refused || policy === "idempotent";
  if (error instanceof MeridianRequestError && error.code === "MERIDIAN_ERR_NOT_READY") return true;
  if (policy === "unapplied-only") return false;
  if (error instanceof RequestTimeoutError) return true;
  return error instanceof MeridianRequestError && RETRYABLE_STATUS.has(error.status);
}

/**
 * Whether `error` says the region itself is unhealthy, and so counts toward marking it down.
 *
 * @remarks A region that answers 503 for a quorum or an `after` token is alive and well (its
 * peers are the problem); only unreachable, slow, starting/draining or gateway-failing regions
 * count.
 */
export function isRegionFault(error: MeridianError): boolean {
  if (error instanceof RegionUnreachableError || error instanceof RequestTimeoutError) return true;
  if (error instanceof QuorumUnavailableError || error instanceof VersionUnavailableError) {
    return false;
  }
  return error instanceof MeridianRequestError && RETRYABLE_STATUS.has(error.status);
}
