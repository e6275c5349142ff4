import { MeridianError } from "@meridian/client";

/**
 * A store operation the meridian API v1 cannot serve (`MERIDIAN_ERR_UNSUPPORTED`): `all`,
 * `length`, `clear` and `ids`.
 *
 * @remarks The HTTP API has no way to list every session (only a user's, which
 * {@link MeridianStore.sessionsOfUser} serves). express-session never calls these methods
 * itself; they exist for admin code, which gets this error rather than a wrong answer.
 */
export class UnsupportedStoreOperationError extends MeridianError {
  constructor(readonly operation: string) {
    super(
      "MERIDIAN_ERR_UNSUPPORTED",
      `${operation} needs a listing of every session, which the meridian HTTP API v1 does not offer; list a user's sessions with sessionsOfUser() instead`,
    );
  }
}
