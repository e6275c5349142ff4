/**
 * How many regions an operation must reach before it answers.
 *
 * @remarks `quorum` and `all` writes answer 503 (QuorumUnavailableError) when too few regions acknowledge; the write stays applied.
 */
export type Consistency = "local" | "quorum" | "all";

/**
 * Options of a write.
 *
 * @remarks Sent as the `consistency` query parameter.
 */
export interface WriteOptions {
  /** Default `local`. */
  readonly consistency?: Consistency;
}

/**
 * Options of a read.
 *
 * @remarks An explicit `after` replaces the remembered token for this read only.
 */
export interface ReadOptions {
  /** Default `local`. */
  readonly consistency?: Consistency;
  /**
   * Answer only from state that includes this write (a version token). Defaults to the last
   * token this client got for the session, which is what gives read-your-writes across
   * failover; pass `null` to read without one.
   */
  readonly after?: string | null;
}

/**
 * What `create` writes. Durations are seconds; `null` means none.
 *
 * @remarks Without `maxLifetime` the create is an idempotent `PUT` to a client-made id; with it, a `POST`.
 */
export interface CreateInput {
  readonly data?: Readonly<Record<string, unknown>>;
  /** Time to live; the node's default when absent. */
  readonly ttl?: number | null;
  /** Idle timeout: the session expires once unused this long. */
  readonly idle?: number | null;
  /** Absolute lifetime, fixed at creation (OWASP absolute timeout). */
  readonly maxLifetime?: number | null;
  /** Indexes the session under this user ("log out everywhere"). */
  readonly userId?: string | null;
}

/**
 * What `put` writes: every field replaced by `data`. Durations are seconds.
 *
 * @remarks Fields absent from `data` are removed (Redis SET semantics); Yjs fields too.
 */
export interface ReplaceInput {
  readonly data: Readonly<Record<string, unknown>>;
  /** Time to live; the node's default when absent (as Redis SET resets the expiry). */
  readonly ttl?: number | null;
  /** Idle timeout; absent keeps the current one. */
  readonly idle?: number | null;
  /** Absent keeps the current user; `null` clears it. */
  readonly userId?: string | null;
}

/**
 * What `patch` writes: a field-level merge. A field may appear in only one part.
 *
 * @remarks Fields not named are left as they are, so concurrent patches of different fields all survive.
 */
export interface PatchInput {
  readonly set?: Readonly<Record<string, unknown>>;
  readonly unset?: readonly string[];
  /** Yjs updates, merged into each field's document with Yjs's own rules. */
  readonly yjs?: Readonly<Record<string, Uint8Array>>;
  /** New time to live in seconds; absent keeps the current expiry. */
  readonly ttl?: number | null;
}

/**
 * What `touch` writes.
 *
 * @remarks Expiry only ever moves forward (touch wins), whatever `ttl` says.
 */
export interface TouchInput {
  /** New time to live in seconds; absent renews for the last one given; null records an access. */
  readonly ttl?: number | null;
}

/**
 * Options of `list`: one page of the sessions the answering region holds, in id order.
 *
 * @remarks Both go to the server as they are; it refuses (InvalidRequestError) an `after` that
 * is not a session id and a `limit` outside 1 to 1,000.
 */
export interface ListOptions {
  /** List sessions after this id: the `next` of the previous page. Absent: from the first. */
  readonly after?: string;
  /** Stored ids the page scans, 1 to 1,000 (default 100); a page may hold fewer sessions. */
  readonly limit?: number;
}
