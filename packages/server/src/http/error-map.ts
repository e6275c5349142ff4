import { MeridianError } from "@meridian/core";

/**
 * HTTP status of every error code meridian raises: the one table the HTTP edge answers from.
 *
 * @remarks Codes are part of the public contract (see core `MeridianError`). A code missing here
 * answers 500, so a new error class must be added here in the same change.
 */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = {
  MERIDIAN_ERR_DECODE: 400,
  MERIDIAN_ERR_INVALID: 400,
  MERIDIAN_ERR_BAD_ID: 400,
  MERIDIAN_ERR_PROTOCOL: 400,
  MERIDIAN_ERR_ABORTED: 400,
  MERIDIAN_ERR_AUTH: 401,
  MERIDIAN_ERR_NOT_FOUND: 404,
  MERIDIAN_ERR_NO_ROUTE: 404,
  MERIDIAN_ERR_METHOD_NOT_ALLOWED: 405,
  MERIDIAN_ERR_SESSION_DELETED: 410,
  MERIDIAN_ERR_SESSION_EXPIRED: 410,
  MERIDIAN_ERR_LIMIT: 413,
  MERIDIAN_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  MERIDIAN_ERR_CLOCK_SKEW: 503,
  MERIDIAN_ERR_QUORUM_UNAVAILABLE: 503,
  MERIDIAN_ERR_VERSION_UNAVAILABLE: 503,
  MERIDIAN_ERR_NOT_READY: 503,
  // Encryption at rest: the node's keyring cannot open a stored value. The operator's to fix
  // (add the key back), never the client's; the answer says only "internal error".
  MERIDIAN_ERR_KEYRING: 500,
  MERIDIAN_ERR_STORAGE_UNKNOWN_KEY: 500,
  MERIDIAN_ERR_STORAGE_DECRYPT: 500,
  MERIDIAN_ERR_STORAGE_PLAINTEXT: 500,
};

/**
 * WebSocket close codes meridian uses on peer links.
 *
 * @remarks 1000-1015 are the RFC 6455 codes; 4000-4999 are meridian's own, chosen so that the
 * last three digits echo the matching HTTP status (4400 bad message, 4401 not authenticated,
 * 4408 handshake timeout, 4409 duplicate link, 4426 other protocol version, 4508 loop back to
 * itself). Never renumber: peers of other versions read them.
 */
export const WS_CLOSE = {
  /** Orderly close. */
  normal: 1000,
  /** The node is draining or shutting down. */
  goingAway: 1001,
  /** A message over the size limit. */
  tooBig: 1009,
  /** An unexpected failure on this side. */
  internal: 1011,
  /** A newer link to the same peer replaced this one. */
  replaced: 4000,
  /** A message that does not decode or breaks the data model's rules. */
  badMessage: 4400,
  /** The peer failed the cluster-secret handshake. */
  unauthorized: 4401,
  /** The handshake did not finish in time. */
  handshakeTimeout: 4408,
  /** A second link to a peer that already has one (two URLs naming one node). */
  duplicate: 4409,
  /** The peer speaks another protocol version. */
  protocol: 4426,
  /** The connection leads back to this very node. */
  selfConnection: 4508,
} as const;

/** One of the {@link WS_CLOSE} codes. */
export type WsCloseCode = (typeof WS_CLOSE)[keyof typeof WS_CLOSE];

/**
 * WebSocket close code of every error code that ends a peer link.
 *
 * @remarks Decode and validation errors close with 4400, authentication with 4401, protocol
 * mismatch with 4426; a code missing here closes with {@link WS_CLOSE.internal}.
 */
export const WS_CLOSE_BY_CODE: Readonly<Record<string, WsCloseCode>> = {
  MERIDIAN_ERR_DECODE: WS_CLOSE.badMessage,
  MERIDIAN_ERR_INVALID: WS_CLOSE.badMessage,
  MERIDIAN_ERR_BAD_ID: WS_CLOSE.badMessage,
  MERIDIAN_ERR_AUTH: WS_CLOSE.unauthorized,
  MERIDIAN_ERR_PROTOCOL: WS_CLOSE.protocol,
  MERIDIAN_ERR_LIMIT: WS_CLOSE.tooBig,
  MERIDIAN_ERR_NOT_READY: WS_CLOSE.goingAway,
};

/** Code answered for anything that is not a {@link MeridianError}. */
export const INTERNAL_ERROR_CODE = "MERIDIAN_ERR_INTERNAL";

/**
 * The stable code of an error: its own for a {@link MeridianError}, else
 * {@link INTERNAL_ERROR_CODE}.
 *
 * @remarks Only `MeridianError`s are trusted to carry a code; a stray `code` property on some
 * other error (Node's `ECONNRESET`, say) is never passed through.
 */
export function errorCodeOf(error: unknown): string {
  return error instanceof MeridianError ? error.code : INTERNAL_ERROR_CODE;
}

/**
 * The HTTP status an error answers with.
 *
 * @remarks 500 for anything not in {@link HTTP_STATUS_BY_CODE}: an unexpected error is a bug,
 * never the client's fault.
 */
export function httpStatusOf(error: unknown): number {
  return HTTP_STATUS_BY_CODE[errorCodeOf(error)] ?? 500;
}

/**
 * The WebSocket close code a peer link ends with because of `error`.
 *
 * @remarks {@link WS_CLOSE.internal} (1011) for anything not in {@link WS_CLOSE_BY_CODE}.
 */
export function wsCloseCodeOf(error: unknown): WsCloseCode {
  return WS_CLOSE_BY_CODE[errorCodeOf(error)] ?? WS_CLOSE.internal;
}
