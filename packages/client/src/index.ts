/**
 * @meridian/client: the meridian SDK. Region selection by locality and measured latency,
 * failover with health probes, retries with capped exponential backoff and full jitter,
 * read-your-writes tokens, typed errors and events.
 */
export { MeridianError, packValue, unpackValue } from "@meridian/core";
export type { BackoffOptions } from "./backoff.ts";
export { type ClientClock, systemClock } from "./client-clock.ts";
export type {
  ClientEvents,
  FailoverEvent,
  RegionDownEvent,
  RegionUpEvent,
} from "./client-events.ts";
export { type ClientOptions, cryptoRng } from "./client-options.ts";
export {
  ClientClosedError,
  type FailedAttempt,
  InvalidRequestError,
  MalformedAnswerError,
  MeridianRequestError,
  PayloadTooLargeError,
  QuorumUnavailableError,
  RegionsUnavailableError,
  RegionUnreachableError,
  RequestTimeoutError,
  ServerError,
  SessionDeletedError,
  SessionExpiredError,
  SessionNotFoundError,
  UnauthorizedError,
  VersionUnavailableError,
} from "./errors.ts";
export { createClient, MeridianClient } from "./meridian-client.ts";
export type { FetchInit, FetchLike } from "./region-request.ts";
export type { RegionStatus } from "./region-table.ts";
export type { RetryPolicy } from "./retry-policy.ts";
export type { Session, SessionPage, TouchResult } from "./session-answer.ts";
export type {
  Consistency,
  CreateInput,
  ListOptions,
  PatchInput,
  ReadOptions,
  ReplaceInput,
  TouchInput,
  WriteOptions,
} from "./session-inputs.ts";
