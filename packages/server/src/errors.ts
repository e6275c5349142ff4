import { MeridianError } from "@meridian/core";

/** A quorum or `all` operation could not reach enough regions in time. The write, if any, stays. */
export class QuorumUnavailableError extends MeridianError {
  constructor(
    readonly needed: number,
    readonly reached: number,
  ) {
    super(
      "MERIDIAN_ERR_QUORUM_UNAVAILABLE",
      `reached ${reached} of the ${needed} regions the consistency level needs`,
    );
  }
}

/** A read with `after=<token>` could not find state that includes the token's write. */
export class VersionUnavailableError extends MeridianError {
  constructor(token: string) {
    super("MERIDIAN_ERR_VERSION_UNAVAILABLE", `no reachable region holds version ${token} yet`);
  }
}

/** Input over a configured size limit (body, field value, field count). */
export class LimitError extends MeridianError {
  constructor(message: string) {
    super("MERIDIAN_ERR_LIMIT", message);
  }
}

/** The node is starting or draining and takes no requests. */
export class NotReadyError extends MeridianError {
  constructor() {
    super("MERIDIAN_ERR_NOT_READY", "node is not ready");
  }
}

/**
 * A request to a protected route without a bearer token the node accepts (missing, malformed or
 * wrong: the answer never says which).
 *
 * @remarks Code `MERIDIAN_ERR_AUTH`, answered 401 with `www-authenticate: Bearer`.
 */
export class UnauthorizedError extends MeridianError {
  constructor() {
    super("MERIDIAN_ERR_AUTH", "a valid bearer token is required");
  }
}
