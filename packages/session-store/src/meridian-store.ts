import {
  type MeridianClient,
  type ReadOptions,
  type Session,
  SessionDeletedError,
  SessionExpiredError,
  SessionNotFoundError,
  type WriteOptions,
} from "@meridian/client";
import type { Request } from "express";
import session, { type SessionData } from "express-session";
import { diffFields, type FieldSnapshot, hashFields } from "./field-snapshot.ts";
import {
  decodeFields,
  encodeFields,
  type FieldSerializer,
  type SessionRecord,
} from "./session-fields.ts";
import { prefixedSessions } from "./session-listing.ts";
import { type NodeCallback, settle } from "./settle.ts";
import { SnapshotRegistry } from "./snapshot-registry.ts";
import { checkStoreOptions, type MeridianStoreOptions } from "./store-options.ts";

/** Where a loaded session carries its snapshot: a symbol, so no framework copies or hashes it. */
const SNAPSHOT = Symbol("meridian.snapshot");

const SESSION_ID = /^[A-Za-z0-9_-]{16,256}$/;
const DEFAULT_TTL_SECONDS = 86_400;

function carried(record: object): FieldSnapshot | undefined {
  return (record as { [SNAPSHOT]?: FieldSnapshot })[SNAPSHOT];
}

function carry(record: object, snapshot: FieldSnapshot): void {
  Object.defineProperty(record, SNAPSHOT, {
    value: snapshot,
    enumerable: false,
    configurable: true,
    writable: true,
  });
}

function asRecord(s: SessionData): SessionRecord {
  return s as unknown as SessionRecord;
}

/** Whether `e` says the session is gone for good (deleted, revoked or expired). */
function isGone(e: unknown): boolean {
  return e instanceof SessionDeletedError || e instanceof SessionExpiredError;
}

/**
 * A session store for express-session and @fastify/session on top of the meridian SDK.
 *
 * @remarks
 * - `set` sends only the fields this request changed since its `get` (a `PATCH` with `set` and
 *   `unset`), so two concurrent requests that change different fields both keep their changes.
 *   A session saved without a load (new, regenerated), or whose user changes, is written whole
 *   with `PUT`.
 * - The time to live comes from `cookie.expires` (else `ttl`); an expiry in the past destroys.
 * - `all`, `length`, `ids` and `clear` page through `GET /v1/sessions` and see only this store's
 *   sessions (ids with its prefix), as the answering region holds them.
 * - Every method takes an optional callback and returns a promise.
 * - A save to a session deleted meanwhile (revoked, logged out everywhere) is dropped:
 *   remove-wins, the session stays deleted.
 */
export class MeridianStore extends session.Store {
  private readonly client: MeridianClient;
  private readonly prefix: string;
  private readonly ttl: number | ((session: SessionRecord) => number);
  private readonly disableTouch: boolean;
  private readonly touchAfterMs: number;
  private readonly serializer: FieldSerializer | undefined;
  private readonly userIdOf: ((session: SessionRecord) => string | null | undefined) | undefined;
  private readonly writeOptions: WriteOptions;
  private readonly readOptions: ReadOptions;
  private readonly pending: SnapshotRegistry;
  private readonly scanCount: number;
  private readonly now: () => number;

  constructor(options: MeridianStoreOptions) {
    super();
    checkStoreOptions(options);
    this.client = options.client;
    this.prefix = options.prefix ?? "";
    this.ttl = options.ttl ?? DEFAULT_TTL_SECONDS;
    this.disableTouch = options.disableTouch ?? false;
    this.touchAfterMs = (options.touchAfter ?? 0) * 1000;
    this.serializer = options.serializer;
    this.userIdOf = options.userId;
    this.writeOptions = { consistency: options.writeConsistency ?? "local" };
    this.readOptions = { consistency: options.readConsistency ?? "local" };
    this.pending = new SnapshotRegistry(options.pendingSnapshots ?? 10_000);
    this.scanCount = options.scanCount ?? 100;
    this.now = options.now ?? Date.now;
  }

  /** Loads a session; null when absent, expired or deleted. */
  override get(
    sid: string,
    callback?: NodeCallback<SessionData | null>,
  ): Promise<SessionData | null | undefined> {
    return settle(this.read(sid), callback);
  }

  /** Saves a session: only its changed fields when it was loaded. */
  override set(sid: string, sess: SessionData, callback?: NodeCallback<void>): Promise<void> {
    return settle(this.write(sid, asRecord(sess)), callback).then(() => undefined);
  }

  /** Deletes a session for good (remove-wins in every region). */
  override destroy(sid: string, callback?: NodeCallback<void>): Promise<void> {
    return settle(this.remove(sid), callback).then(() => undefined);
  }

  /** Extends a session's expiry, unless `disableTouch`, or within `touchAfter` of the last. */
  override touch(sid: string, sess: SessionData, callback?: NodeCallback<void>): Promise<void> {
    return settle(this.renew(sid, asRecord(sess)), callback).then(() => undefined);
  }

  /**
   * Every live session of this store, as an array (express-session's contract), each with its
   * `id` (without the prefix) as connect-redis gives them.
   *
   * @remarks Listed by the answering region, `scanCount` ids per request: a session written in
   * another region and not replicated yet is missed. For admin code; no framework calls it.
   */
  override all(callback?: NodeCallback<SessionData[]>): Promise<SessionData[] | undefined> {
    const listed = this.collect((s) => {
      const record = this.recordOf(s);
      record.id = this.sidOf(s.id);
      return record as unknown as SessionData;
    });
    return settle(listed, callback);
  }

  /** How many live sessions this store has (see {@link MeridianStore.all} for which). */
  override length(callback?: NodeCallback<number>): Promise<number | undefined> {
    const count = this.collect((s) => s.id).then((ids) => ids.length);
    return settle(count, callback);
  }

  /**
   * Deletes every live session of this store (ids with its prefix; all of the cluster's when
   * the prefix is empty), a page at a time; remove-wins, as {@link MeridianStore.destroy}.
   */
  override clear(callback?: NodeCallback<void>): Promise<void> {
    return settle(this.removeAll(), callback).then(() => undefined);
  }

  /** Ids (without the prefix) of every live session of this store, in id order. */
  ids(callback?: NodeCallback<string[]>): Promise<string[] | undefined> {
    return settle(
      this.collect((s) => this.sidOf(s.id)),
      callback,
    );
  }

  /**
   * Deletes every session of `userId` ("log out everywhere"); resolves to how many.
   *
   * @remarks Needs the `userId` option. Answered from one region's user index: sessions made in
   * another region and not replicated yet are missed.
   */
  revokeUser(userId: string, callback?: NodeCallback<number>): Promise<number | undefined> {
    return settle(this.client.revokeUser(userId, this.writeOptions), callback);
  }

  /** Ids of the live sessions of `userId` made by this store (its prefix). */
  sessionsOfUser(userId: string, callback?: NodeCallback<string[]>): Promise<string[] | undefined> {
    const work = this.client
      .listUser(userId)
      .then((list) =>
        list.filter((s) => s.id.startsWith(this.prefix)).map((s) => this.sidOf(s.id)),
      );
    return settle(work, callback);
  }

  /**
   * express-session's hook that turns loaded data into `req.session`: the snapshot moves along,
   * so the `set` of this very request diffs against what this very request loaded.
   */
  override createSession(req: Request, sess: SessionData): session.Session & SessionData {
    const snapshot = carried(sess);
    const created = super.createSession(req, sess);
    if (snapshot !== undefined) {
      carry(created, snapshot);
      this.pending.remove(req.sessionID, snapshot);
    }
    return created;
  }

  private key(sid: string): string {
    return `${this.prefix}${sid}`;
  }

  /** The express-session id of a stored session id that has this store's prefix. */
  private sidOf(id: string): string {
    return id.slice(this.prefix.length);
  }

  /** A stored session as the frameworks take it. */
  private recordOf(loaded: Session): SessionRecord {
    const record = decodeFields(loaded.data, this.serializer);
    // A session written by other code through the SDK has no cookie; the frameworks need one.
    record.cookie ??= { originalMaxAge: null, path: "/", httpOnly: true };
    return record;
  }

  /** Each live session of this store, through `map`, a page at a time. */
  private async collect<T>(map: (s: Session) => T): Promise<T[]> {
    const out: T[] = [];
    for await (const page of prefixedSessions(this.client, this.prefix, this.scanCount)) {
      out.push(...page.map(map));
    }
    return out;
  }

  private async removeAll(): Promise<void> {
    for await (const page of prefixedSessions(this.client, this.prefix, this.scanCount)) {
      await Promise.all(page.map((s) => this.remove(this.sidOf(s.id))));
    }
  }

  private async read(sid: string): Promise<SessionData | null> {
    const id = this.key(sid);
    if (!SESSION_ID.test(id)) return null;
    let loaded: Session;
    try {
      loaded = await this.client.get(id, this.readOptions);
    } catch (e) {
      if (e instanceof SessionNotFoundError || isGone(e)) return null;
      throw e;
    }
    const record = this.recordOf(loaded);
    const snapshot: FieldSnapshot = {
      hashes: hashFields(new Map(Object.entries(loaded.data))),
      userId: loaded.userId,
      expiresAt: loaded.expiresAt,
    };
    carry(record, snapshot);
    this.pending.add(sid, snapshot);
    return record as unknown as SessionData;
  }

  private async write(sid: string, record: SessionRecord): Promise<void> {
    const ttl = this.ttlOf(record);
    if (ttl <= 0) {
      await this.remove(sid);
      return;
    }
    const fields = encodeFields(record, this.serializer);
    const hashes = hashFields(fields);
    const snapshot = carried(record) ?? this.pending.take(sid, hashes);
    const userId = this.userIdOf === undefined ? undefined : (this.userIdOf(record) ?? null);
    const id = this.key(sid);
    let answer: Session;
    try {
      if (snapshot === undefined || (userId !== undefined && userId !== snapshot.userId)) {
        answer = await this.client.put(
          id,
          { data: Object.fromEntries(fields), ttl, ...(userId !== undefined ? { userId } : {}) },
          this.writeOptions,
        );
      } else {
        const { set, unset } = diffFields(snapshot, fields, hashes);
        answer = await this.client.patch(
          id,
          {
            ...(Object.keys(set).length > 0 ? { set } : {}),
            ...(unset.length > 0 ? { unset } : {}),
            ttl,
          },
          this.writeOptions,
        );
      }
    } catch (e) {
      if (isGone(e)) return;
      throw e;
    }
    carry(record, { hashes, userId: answer.userId, expiresAt: answer.expiresAt });
  }

  private async remove(sid: string): Promise<void> {
    this.pending.forget(sid);
    const id = this.key(sid);
    if (!SESSION_ID.test(id)) return;
    await this.client.delete(id, this.writeOptions);
  }

  private async renew(sid: string, record: SessionRecord): Promise<void> {
    if (this.disableTouch) return;
    const ttl = this.ttlOf(record);
    if (ttl <= 0) {
      await this.remove(sid);
      return;
    }
    const snapshot = carried(record);
    if (this.touchAfterMs > 0 && snapshot?.expiresAt != null) {
      // The last write or touch set expiry to (then + ttl): it happened this long ago.
      const sinceLast = ttl * 1000 - (snapshot.expiresAt.getTime() - this.now());
      if (sinceLast < this.touchAfterMs) return;
    }
    try {
      const touched = await this.client.touch(this.key(sid), { ttl }, this.writeOptions);
      if (snapshot !== undefined) carry(record, { ...snapshot, expiresAt: touched.expiresAt });
    } catch (e) {
      if (e instanceof SessionNotFoundError || isGone(e)) return;
      throw e;
    }
  }

  /** Seconds to live: `ttl` when a function, else from `cookie.expires`, else `ttl`. */
  private ttlOf(record: SessionRecord): number {
    if (typeof this.ttl === "function") return this.ttl(record);
    const cookie = record.cookie;
    if (typeof cookie === "object" && cookie !== null) {
      const expires: unknown = (cookie as { expires?: unknown }).expires;
      if (expires instanceof Date || typeof expires === "string" || typeof expires === "number") {
        const ms = new Date(expires).getTime() - this.now();
        if (!Number.isNaN(ms)) return Math.ceil(ms / 1000);
      }
    }
    return this.ttl;
  }
}
