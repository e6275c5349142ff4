/**
 * Every error meridian raises on purpose is a {@link MeridianError} with a stable `code`.
 *
 * @remarks Codes are part of the public contract: the server maps them to HTTP statuses and
 * WebSocket close codes in one table, and the SDK re-raises them typed. Never rename a code.
 */
export class MeridianError extends Error {
  /** Stable, machine-readable code in `MERIDIAN_ERR_*` style. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A remote timestamp was further ahead of local physical time than `maxClockSkew` allows. */
export class ClockSkewError extends MeridianError {
  constructor(
    readonly remoteWall: number,
    readonly localWall: number,
    readonly maxSkewMs: number,
  ) {
    super(
      "MERIDIAN_ERR_CLOCK_SKEW",
      `remote timestamp is ${remoteWall - localWall} ms ahead of local time (limit ${maxSkewMs} ms)`,
    );
  }
}

/** Bytes that are not a well-formed wire message: truncated, malformed, oversized or unknown. */
export class DecodeError extends MeridianError {
  constructor(message: string) {
    super("MERIDIAN_ERR_DECODE", message);
  }
}

/** Input that breaks a rule of the data model (bad id, field name, size limit, value type). */
export class ValidationError extends MeridianError {
  constructor(message: string, code = "MERIDIAN_ERR_INVALID") {
    super(code, message);
  }
}

/** A write addressed a session that has been deleted or revoked (remove-wins: refused forever). */
export class SessionDeletedError extends MeridianError {
  constructor(readonly sessionId: string) {
    super("MERIDIAN_ERR_SESSION_DELETED", "session has been deleted");
  }
}

/** A write addressed a session that has expired; expired sessions never come back. */
export class SessionExpiredError extends MeridianError {
  constructor(readonly sessionId: string) {
    super("MERIDIAN_ERR_SESSION_EXPIRED", "session has expired");
  }
}

/** A write that needs an existing session (touch) found none. */
export class SessionNotFoundError extends MeridianError {
  constructor(readonly sessionId: string) {
    super("MERIDIAN_ERR_NOT_FOUND", "session not found");
  }
}
