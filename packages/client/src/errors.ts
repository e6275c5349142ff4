import { MeridianError } from "@meridian/core";

/**
 * An error a region answered with: the server's stable `code`, the HTTP status and the region.
 *
 * @remarks The base of every error that came back as `{error: {code, message}}`; `code` is the
 * server's code, unchanged (DESIGN.md: codes are part of the public contract).
 */
export class MeridianRequestError extends MeridianError {
  constructor(
    code: string,
    message: string,
    /** HTTP status of the answer. */
    readonly status: number,
    /** Region that answered. */
    readonly region: string,
  ) {
    super(code, message);
  }
}

/**
 * The session is absent or expired (404, `MERIDIAN_ERR_NOT_FOUND`).
 *
 * @remarks What `get` and `touch` answer for an id nobody wrote, or one whose expiry passed.
 */
export class SessionNotFoundError extends MeridianRequestError {}

/**
 * The session was deleted or revoked (410, `MERIDIAN_ERR_SESSION_DELETED`).
 *
 * @remarks Remove-wins: every later write to the id is refused the same way, in every region.
 */
export class SessionDeletedError extends MeridianRequestError {}

/**
 * A write addressed an expired session (410, `MERIDIAN_ERR_SESSION_EXPIRED`).
 *
 * @remarks Expired sessions never come back; write to a new id.
 */
export class SessionExpiredError extends MeridianRequestError {}

/**
 * Too few regions acknowledged a `quorum` or `all` operation in time (503,
 * `MERIDIAN_ERR_QUORUM_UNAVAILABLE`).
 *
 * @remarks A write that answers this stays applied and still converges; the client retries it
 * (writes are idempotent merges) before giving up with this error.
 */
export class QuorumUnavailableError extends MeridianRequestError {}

/**
 * No reachable region holds the write named by `after` yet (503,
 * `MERIDIAN_ERR_VERSION_UNAVAILABLE`).
 *
 * @remarks Raised rather than answering with state that misses the caller's own write.
 */
export class VersionUnavailableError extends MeridianRequestError {}

/**
 * The request was refused as malformed (400: `MERIDIAN_ERR_INVALID`, `_DECODE`, `_BAD_ID`, ...;
 * also 404 `MERIDIAN_ERR_NO_ROUTE`, 405, 415).
 *
 * @remarks Never retried: the same request fails the same way everywhere.
 */
export class InvalidRequestError extends MeridianRequestError {}

/**
 * The region wants a valid bearer token (401, `MERIDIAN_ERR_AUTH`).
 *
 * @remarks Never retried: give the client the right `authToken`.
 */
export class UnauthorizedError extends MeridianRequestError {}

/**
 * A body, value or session over the server's size limits (413, `MERIDIAN_ERR_LIMIT`).
 *
 * @remarks Never retried.
 */
export class PayloadTooLargeError extends MeridianRequestError {}

/**
 * Any other answer with an error status: 5xx faults, a region that is starting or draining
 * (`MERIDIAN_ERR_NOT_READY`), clock skew.
 *
 * @remarks Retried when the status is 502, 503 or 504.
 */
export class ServerError extends MeridianRequestError {}

/**
 * No answer from a region within `timeoutMs` (`MERIDIAN_ERR_TIMEOUT`).
 *
 * @remarks The request was aborted; a write may or may not have been applied there.
 */
export class RequestTimeoutError extends MeridianError {
  constructor(
    readonly region: string,
    readonly timeoutMs: number,
  ) {
    super("MERIDIAN_ERR_TIMEOUT", `region ${region} did not answer within ${timeoutMs} ms`);
  }
}

/**
 * The connection to a region failed (`MERIDIAN_ERR_UNREACHABLE`): refused, reset, DNS.
 *
 * @remarks `refused` is true only when the connection was never established, so the request
 * cannot have reached the server: the one failure after which even a non-idempotent request is
 * retried.
 */
export class RegionUnreachableError extends MeridianError {
  constructor(
    readonly region: string,
    readonly refused: boolean,
    readonly reason: string,
  ) {
    super("MERIDIAN_ERR_UNREACHABLE", `region ${region} is unreachable: ${reason}`);
  }
}

/**
 * One failed attempt of an operation.
 *
 * @remarks Listed in attempt order by {@link RegionsUnavailableError}.
 */
export interface FailedAttempt {
  readonly region: string;
  readonly error: MeridianError;
}

/**
 * Every attempt of an operation failed without any region answering
 * (`MERIDIAN_ERR_REGIONS_UNAVAILABLE`).
 *
 * @remarks Raised when retries run out and no attempt got an answer from a server; `attempts`
 * lists each try in order. When some region did answer, its error is raised instead.
 */
export class RegionsUnavailableError extends MeridianError {
  constructor(readonly attempts: readonly FailedAttempt[]) {
    super(
      "MERIDIAN_ERR_REGIONS_UNAVAILABLE",
      `no region answered after ${attempts.length} attempt(s): ${attempts
        .map((a) => `${a.region}: ${a.error.code}`)
        .join(", ")}`,
    );
  }
}

/**
 * An answer that does not have the documented shape (`MERIDIAN_ERR_MALFORMED_ANSWER`).
 *
 * @remarks Parsing happens at the edge, so nothing untyped reaches the caller; never retried.
 */
export class MalformedAnswerError extends MeridianError {
  constructor(
    readonly region: string,
    detail: string,
  ) {
    super("MERIDIAN_ERR_MALFORMED_ANSWER", `region ${region} answered malformed: ${detail}`);
  }
}

/**
 * The client was closed (`MERIDIAN_ERR_CLIENT_CLOSED`); no new operation starts.
 *
 * @remarks Raised before any request is sent, and between retries of an operation in flight.
 */
export class ClientClosedError extends MeridianError {
  constructor() {
    super("MERIDIAN_ERR_CLIENT_CLOSED", "the client is closed");
  }
}

/** Constructor of a {@link MeridianRequestError} subclass. */
type RequestErrorClass = new (
  code: string,
  message: string,
  status: number,
  region: string,
) => MeridianRequestError;

/**
 * The class raised for each server code: the one table the SDK maps answers from.
 *
 * @remarks A code missing here (a newer server's) raises by status: 400-range
 * {@link InvalidRequestError}, everything else {@link ServerError}.
 */
const CLASS_BY_CODE: Readonly<Record<string, RequestErrorClass>> = {
  MERIDIAN_ERR_NOT_FOUND: SessionNotFoundError,
  MERIDIAN_ERR_SESSION_DELETED: SessionDeletedError,
  MERIDIAN_ERR_SESSION_EXPIRED: SessionExpiredError,
  MERIDIAN_ERR_QUORUM_UNAVAILABLE: QuorumUnavailableError,
  MERIDIAN_ERR_VERSION_UNAVAILABLE: VersionUnavailableError,
  MERIDIAN_ERR_LIMIT: PayloadTooLargeError,
  MERIDIAN_ERR_AUTH: UnauthorizedError,
  MERIDIAN_ERR_INVALID: InvalidRequestError,
  MERIDIAN_ERR_DECODE: InvalidRequestError,
  MERIDIAN_ERR_BAD_ID: InvalidRequestError,
  MERIDIAN_ERR_PROTOCOL: InvalidRequestError,
  MERIDIAN_ERR_NO_ROUTE: InvalidRequestError,
  MERIDIAN_ERR_METHOD_NOT_ALLOWED: InvalidRequestError,
  MERIDIAN_ERR_UNSUPPORTED_MEDIA_TYPE: InvalidRequestError,
};

/**
 * The typed error for an error answer.
 *
 * @remarks `code` and `message` come from the answer's `{error: {code, message}}` body when it
 * has one; otherwise `MERIDIAN_ERR_HTTP_<status>`.
 */
export function errorFromAnswer(
  status: number,
  region: string,
  body: { readonly code: string; readonly message: string } | undefined,
): MeridianRequestError {
  const code = body?.code ?? `MERIDIAN_ERR_HTTP_${status}`;
  const message = body?.message ?? `HTTP ${status}`;
  const cls =
    CLASS_BY_CODE[code] ?? (status >= 400 && status < 500 ? InvalidRequestError : ServerError);
  return new cls(code, message, status, region);
}
