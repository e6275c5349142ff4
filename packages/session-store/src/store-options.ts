import type { Consistency, MeridianClient } from "@meridian/client";
import type { FieldSerializer, SessionRecord } from "./session-fields.ts";

/**
 * Options of {@link MeridianStore}, modelled on connect-redis's.
 *
 * @remarks Only `client` is required; option names follow connect-redis where they mean the same.
 */
export interface MeridianStoreOptions {
  /** The SDK client the store talks through. */
  readonly client: MeridianClient;
  /**
   * Prepended to every session id, to keep several apps apart in one cluster (default "").
   * Only `[A-Za-z0-9_-]`: the result must still be a valid meridian session id.
   */
  readonly prefix?: string;
  /**
   * Time to live in seconds when the cookie has no expiry (default 86,400: one day), or a
   * function of the session that always decides.
   */
  readonly ttl?: number | ((session: SessionRecord) => number);
  /** Never extend the expiry on `touch` (default false). */
  readonly disableTouch?: boolean;
  /**
   * Seconds during which `touch` is skipped after the last write or touch (default 0: every
   * touch is sent). Coalesces the expiry renewals of busy sessions into one write per interval.
   */
  readonly touchAfter?: number;
  /** Per-field string serializer (default none: values travel as msgpack, Dates included). */
  readonly serializer?: FieldSerializer;
  /**
   * The user a session belongs to (e.g. `s => s.passport?.user`), indexed for "log out
   * everywhere" ({@link MeridianStore.revokeUser}). Default: sessions are not indexed.
   */
  readonly userId?: (session: SessionRecord) => string | null | undefined;
  /** Consistency of writes (default `local`). `quorum` keeps them through a region's loss. */
  readonly writeConsistency?: Consistency;
  /** Consistency of reads (default `local`; read-your-writes holds either way). */
  readonly readConsistency?: Consistency;
  /**
   * Loaded-but-unsaved sessions remembered for frameworks whose session objects cannot carry
   * their snapshot (default 10,000). Past that, the oldest save writes the whole session.
   */
  readonly pendingSnapshots?: number;
  /**
   * Session ids scanned per listing request of `all`, `length`, `ids` and `clear` (default 100,
   * 1 to 1,000), as connect-redis's `scanCount` sizes its SCAN calls.
   */
  readonly scanCount?: number;
  /** Time source (default `Date.now`); tests inject one. */
  readonly now?: () => number;
}

const PREFIX = /^[A-Za-z0-9_-]*$/;

/**
 * Checks options that would only fail later, at the first request. @throws RangeError
 *
 * @remarks Runs in the constructor, so a misconfigured store fails at startup.
 */
export function checkStoreOptions(o: MeridianStoreOptions): void {
  if (o.prefix !== undefined && !PREFIX.test(o.prefix)) {
    throw new RangeError("prefix may only hold A-Z, a-z, 0-9, _ and -");
  }
  if (typeof o.ttl === "number" && !(o.ttl > 0)) throw new RangeError("ttl must be positive");
  const scan = o.scanCount;
  if (scan !== undefined && !(Number.isInteger(scan) && scan >= 1 && scan <= 1000)) {
    throw new RangeError("scanCount must be an integer from 1 to 1000");
  }
  if (o.touchAfter !== undefined && !(o.touchAfter >= 0)) {
    throw new RangeError("touchAfter must be a number of seconds >= 0");
  }
}
