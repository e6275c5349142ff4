import type { Rng } from "@meridian/core";
import type { ClientEvents } from "./client-events.ts";
import { type ClientOptions, resolveClientOptions } from "./client-options.ts";
import { ChannelTransport } from "./region-channel.ts";
import { type ApiRequest, httpTransport } from "./region-request.ts";
import { RegionRouter, type RoutedAnswer } from "./region-router.ts";
import { type RegionStatus, RegionTable } from "./region-table.ts";
import type { RetryPolicy } from "./retry-policy.ts";
import {
  parseRevoked,
  parseSession,
  parseSessionList,
  parseSessionPage,
  parseTouch,
  type Session,
  type SessionPage,
  type TouchResult,
} from "./session-answer.ts";
import type {
  CreateInput,
  ListOptions,
  PatchInput,
  ReadOptions,
  ReplaceInput,
  TouchInput,
  WriteOptions,
} from "./session-inputs.ts";
import { SessionVersions } from "./session-versions.ts";

/**
 * The meridian SDK: session operations against a multi-region cluster, with failover.
 *
 * @remarks
 * - Routing: the local region first, then the others by measured latency; regions marked down
 *   after consecutive failures are tried last and probed back in the background.
 * - Retries: reads and writes are idempotent (writes are CRDT merges), so they are retried after
 *   network errors, timeouts and 502/503/504, with capped exponential backoff and full jitter.
 *   `create` makes its id on the client (128 random bits, base64url) and writes it with `PUT`,
 *   so it is idempotent too; only a create with `maxLifetime` (which `PUT` cannot carry) goes
 *   through `POST /v1/sessions` and is retried only when the connection was refused.
 * - Read-your-writes: the version token of each session's last write is remembered and sent as
 *   `after` on its reads, so a read served by another region after failover still sees it.
 */
export class MeridianClient {
  private readonly table: RegionTable;
  private readonly router: RegionRouter;
  private readonly versions: SessionVersions;
  private readonly rng: Rng;

  constructor(options: ClientOptions) {
    const o = resolveClientOptions(options);
    this.table = new RegionTable(o.regions, o.localRegion, o.failuresBeforeDown);
    this.versions = new SessionVersions(o.trackedSessions);
    this.rng = o.rng;
    this.router = new RegionRouter(this.table, {
      transport:
        o.transport === "channel"
          ? new ChannelTransport(o.clock, o.headers, httpTransport(o.fetch, o.clock, o.headers))
          : httpTransport(o.fetch, o.clock, o.headers),
      clock: o.clock,
      rng: o.rng,
      timeoutMs: o.timeoutMs,
      retries: o.retries,
      backoff: o.backoff,
      probeIntervalMs: o.probeIntervalMs,
    });
  }

  /** Creates a session; see the class remarks for how it stays safe to retry. */
  async create(input: CreateInput = {}, options: WriteOptions = {}): Promise<Session> {
    const { maxLifetime, ...rest } = input;
    if (maxLifetime != null) {
      const answer = await this.write(
        "unapplied-only",
        { method: "POST", path: withQuery("/v1/sessions", options), body: definedOnly(input) },
        undefined,
      );
      const session = parseSession(answer.body, answer.region);
      this.remember(session.id, answer, session.version);
      return session;
    }
    const id = Buffer.from(this.rng.bytes(16)).toString("base64url");
    return this.put(id, { ...rest, data: rest.data ?? {} }, options);
  }

  /**
   * Reads a session.
   *
   * @throws SessionNotFoundError (absent or expired), SessionDeletedError, VersionUnavailableError
   */
  async get(id: string, options: ReadOptions = {}): Promise<Session> {
    const answer = await this.router.run({
      policy: "idempotent",
      request: () => ({ method: "GET", path: this.readPath(id, options) }),
    });
    return parseSession(answer.body, answer.region);
  }

  /** The merged Yjs update of a Yjs field, or null when the session has no such field. */
  async getYjs(id: string, field: string, options: ReadOptions = {}): Promise<Uint8Array | null> {
    return (await this.get(id, options)).yjs[field] ?? null;
  }

  /** Creates the session `id`, or replaces all its fields. */
  async put(id: string, input: ReplaceInput, options: WriteOptions = {}): Promise<Session> {
    const body: Record<string, unknown> = { data: input.data };
    if (input.ttl !== undefined) body.ttl = input.ttl;
    if (input.idle !== undefined) body.idle = input.idle;
    if (input.userId !== undefined) body.userId = input.userId;
    return this.sessionWrite(id, { method: "PUT", path: sessionPath(id, "", options), body });
  }

  /**
   * Field-level merge: sets, unsets, and Yjs updates; creates the session when absent.
   *
   * @throws SessionDeletedError, SessionExpiredError
   */
  async patch(id: string, input: PatchInput, options: WriteOptions = {}): Promise<Session> {
    const body: Record<string, unknown> = {};
    if (input.set !== undefined) body.set = input.set;
    if (input.unset !== undefined) body.unset = input.unset;
    if (input.yjs !== undefined) body.yjs = input.yjs;
    if (input.ttl !== undefined) body.ttl = input.ttl;
    return this.sessionWrite(id, { method: "PATCH", path: sessionPath(id, "", options), body });
  }

  /** Extends a session's expiry (touch wins). @throws SessionNotFoundError */
  async touch(
    id: string,
    input: TouchInput = {},
    options: WriteOptions = {},
  ): Promise<TouchResult> {
    const body = input.ttl === undefined ? {} : { ttl: input.ttl };
    const answer = await this.write(
      "idempotent",
      { method: "POST", path: sessionPath(id, "/touch", options), body },
      id,
    );
    return parseTouch(answer.body, answer.version, answer.region);
  }

  /** Deletes a session (remove-wins: no later write anywhere brings it back). */
  async delete(id: string, options: WriteOptions = {}): Promise<void> {
    await this.write("idempotent", { method: "DELETE", path: sessionPath(id, "", options) }, id);
  }

  /** Live sessions of a user, from the answering region's index. */
  async listUser(userId: string): Promise<Session[]> {
    const answer = await this.router.run({
      policy: "idempotent",
      request: () => ({ method: "GET", path: userPath(userId, {}) }),
    });
    return parseSessionList(answer.body, answer.region);
  }

  /**
   * One page of the live sessions of the answering region, in id order; pass `next` back as
   * `after` until it is null.
   *
   * @remarks A read: retried and failed over like `get`. Each page comes from whichever region
   * answers it; ids order every region alike, so a walk continues where it stopped in any of
   * them, but a session not yet replicated to the region that answers a page is missed.
   * @throws InvalidRequestError for an `after` that is not a session id or a `limit` outside 1
   * to 1,000
   */
  async list(options: ListOptions = {}): Promise<SessionPage> {
    const params = {
      ...(options.after !== undefined ? { after: options.after } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    };
    const answer = await this.router.run({
      policy: "idempotent",
      request: () => ({ method: "GET", path: withQuery("/v1/sessions", params) }),
    });
    return parseSessionPage(answer.body, answer.region);
  }

  /**
   * Deletes every session of a user ("log out everywhere"); returns how many.
   *
   * @remarks Answered from one region's user index: a session created in another region that
   * has not replicated there yet is not included.
   */
  async revokeUser(userId: string, options: WriteOptions = {}): Promise<number> {
    const answer = await this.router.run({
      policy: "idempotent",
      request: () => ({ method: "DELETE", path: userPath(userId, options) }),
    });
    return parseRevoked(answer.body, answer.region);
  }

  /** The last version token this client got for session `id`. */
  versionOf(id: string): string | undefined {
    return this.versions.tokenOf(id);
  }

  /** Each region's health and measured latency. */
  regions(): RegionStatus[] {
    return this.table.status();
  }

  /** The order regions are tried in right now. */
  regionOrder(): string[] {
    return this.table.order();
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    return this.router.on(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): void {
    this.router.off(event, listener);
  }

  /** Stops background probing; later operations reject with ClientClosedError. */
  close(): void {
    this.router.close();
  }

  private readPath(id: string, options: ReadOptions): string {
    const after = options.after === undefined ? this.versions.tokenOf(id) : options.after;
    return sessionPath(id, "", {
      ...(options.consistency !== undefined ? { consistency: options.consistency } : {}),
      ...(after != null ? { after } : {}),
    });
  }

  private async sessionWrite(id: string, request: ApiRequest): Promise<Session> {
    // Remembered once, here, where the body's version can stand in for a missing header.
    const answer = await this.write("idempotent", request, undefined);
    const session = parseSession(answer.body, answer.region);
    this.remember(id, answer, session.version);
    return session;
  }

  private async write(
    policy: RetryPolicy,
    request: ApiRequest,
    id: string | undefined,
  ): Promise<RoutedAnswer> {
    const answer = await this.router.run({ policy, request });
    if (id !== undefined) this.remember(id, answer, undefined);
    return answer;
  }

  private remember(id: string, answer: RoutedAnswer, bodyVersion: string | undefined): void {
    const token = answer.version ?? bodyVersion;
    if (token !== undefined && token !== "") this.versions.remember(id, token);
  }
}

/**
 * Makes a client.
 *
 * @remarks Starts the background health prober (its timer never keeps the process alive);
 * `client.close()` stops it.
 * @throws RangeError for invalid options.
 */
export function createClient(options: ClientOptions): MeridianClient {
  return new MeridianClient(options);
}

/** Query parameters the API takes. */
interface QueryParams {
  readonly consistency?: string;
  readonly after?: string;
  readonly limit?: number;
}

function withQuery(path: string, params: QueryParams): string {
  // Most calls carry no parameter: no URLSearchParams to build.
  if (
    params.consistency === undefined &&
    params.after === undefined &&
    params.limit === undefined
  ) {
    return path;
  }
  const q = new URLSearchParams();
  if (params.consistency !== undefined) q.set("consistency", params.consistency);
  if (params.after !== undefined) q.set("after", params.after);
  if (params.limit !== undefined) q.set("limit", String(params.limit));
  const s = q.toString();
  return s === "" ? path : `${path}?${s}`;
}

function sessionPath(id: string, suffix: string, params: QueryParams): string {
  return withQuery(`/v1/sessions/${encodeURIComponent(id)}${suffix}`, params);
}

function userPath(userId: string, params: QueryParams): string {
  return withQuery(`/v1/users/${encodeURIComponent(userId)}/sessions`, params);
}

/** `o` without its undefined properties (the server refuses what it does not know). */
function definedOnly(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
