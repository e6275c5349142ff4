import { packValue, unpackValue } from "@meridian/core";
import type { FetchInit, FetchLike } from "../region-request.ts";
import { scanSessionIds } from "./fake-list.ts";
import { type FakeOp, type FakeSession, foldSession } from "./fake-sessions.ts";
import type { VirtualClock } from "./virtual-clock.ts";

/**
 * How a fake region treats the next requests.
 *
 * - `ok`: answers at once.
 * - `refuse`: the connection is refused; nothing reaches the region.
 * - `hang`: the request reaches the region, is applied, and no answer ever comes.
 * - `slow`: applied at once, answered `delayMs` later (virtual time).
 * - `reset`: applied, then the connection drops before the answer.
 * - `not-ready`: answers 503 `MERIDIAN_ERR_NOT_READY`, applying nothing.
 *
 * @remarks `hang`, `slow` and `reset` apply the write before failing to answer, as a real network does.
 */
export type RegionFault =
  | { readonly kind: "ok" }
  | { readonly kind: "refuse" }
  | { readonly kind: "hang" }
  | { readonly kind: "slow"; readonly delayMs: number }
  | { readonly kind: "reset" }
  | { readonly kind: "not-ready" };

/**
 * One request a fake region received (or refused).
 *
 * @remarks Refused requests are recorded too, with `fault: "refuse"`.
 */
export interface FakeRequest {
  readonly region: string;
  readonly method: string;
  readonly path: string;
  readonly at: number;
  readonly fault: RegionFault["kind"];
  /** The decoded request body, if any. */
  readonly body: unknown;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly version?: string;
}

const OK: RegionFault = { kind: "ok" };
const ID = /^[A-Za-z0-9_-]{16,256}$/;

/**
 * An in-memory meridian cluster behind a fake `fetch`, with scripted faults per region.
 *
 * @remarks Speaks the HTTP API v1 in msgpack (errors in JSON) closely enough for SDK and store
 * tests, listing (`GET /v1/sessions`) included. Replication is explicit: a write is seen only by
 * its region until {@link FakeCluster.replicate}; a read with `after` naming an unseen write
 * answers 503 `MERIDIAN_ERR_VERSION_UNAVAILABLE`. Time is the {@link VirtualClock}'s.
 */
export class FakeCluster {
  /** Every request, in arrival order. */
  readonly requests: FakeRequest[] = [];
  private readonly ops: FakeOp[] = [];
  private readonly seen = new Map<string, Set<number>>();
  private readonly faults = new Map<string, RegionFault>();
  private token: string | undefined;

  constructor(
    readonly regionNames: readonly string[],
    private readonly clock: VirtualClock,
  ) {
    for (const r of regionNames) this.seen.set(r, new Set());
  }

  /** Base URL of a fake region. */
  url(region: string): string {
    return `http://${region}.meridian.test`;
  }

  /** `{region: url}` for every region, as `createClient` takes it. */
  urls(): Record<string, string> {
    return Object.fromEntries(this.regionNames.map((r) => [r, this.url(r)]));
  }

  /** Sets how `region` treats requests from now on. */
  setFault(region: string, fault: RegionFault): void {
    this.faults.set(region, fault);
  }

  /** Requires `authorization: Bearer <token>` on `/v1` requests from now on (undefined: open). */
  requireToken(token: string | undefined): void {
    this.token = token;
  }

  /** Delivers every write `from` has seen to `to` (both directions when `to` is omitted: all). */
  replicate(from?: string, to?: string): void {
    for (const f of from === undefined ? this.regionNames : [from]) {
      for (const t of to === undefined ? this.regionNames : [to]) {
        for (const i of this.seenBy(f)) this.seenBy(t).add(i);
      }
    }
  }

  /** The session as `region` sees it now. */
  session(region: string, id: string): FakeSession | undefined {
    const seen = this.seenBy(region);
    return foldSession(
      id,
      this.ops.filter((o) => o.id === id && seen.has(o.index)),
    );
  }

  /** The fake `fetch`. */
  readonly fetch: FetchLike = (url, init) => this.handle(url, init);

  private seenBy(region: string): Set<number> {
    const s = this.seen.get(region);
    if (s === undefined) throw new RangeError(`no fake region ${region}`);
    return s;
  }

  private async handle(url: string, init: FetchInit): Promise<Response> {
    const u = new URL(url);
    const region = u.hostname.split(".")[0] ?? "";
    const fault = this.faults.get(region) ?? OK;
    this.requests.push({
      region,
      method: init.method,
      path: u.pathname + u.search,
      at: this.clock.now(),
      fault: fault.kind,
      body: init.body === undefined ? undefined : unpackValue(init.body),
    });
    if (fault.kind === "refuse") throw connectionError("ECONNREFUSED");
    if (fault.kind === "not-ready") {
      return errorResponse(503, "MERIDIAN_ERR_NOT_READY", "node is not ready");
    }
    if (
      this.token !== undefined &&
      u.pathname.startsWith("/v1/") &&
      init.headers.authorization !== `Bearer ${this.token}`
    ) {
      return errorResponse(401, "MERIDIAN_ERR_AUTH", "a valid bearer token is required");
    }
    const answer = this.serve(region, init.method, u, init.body);
    if (fault.kind === "reset") throw connectionError("ECONNRESET");
    if (fault.kind === "hang") return never(init.signal);
    if (fault.kind === "slow") await delay(this.clock, fault.delayMs, init.signal);
    return toResponse(answer);
  }

  private serve(region: string, method: string, u: URL, raw: Uint8Array | undefined): Answer {
    const body = (raw === undefined ? {} : unpackValue(raw)) as Record<string, unknown>;
    const parts = u.pathname
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
    const [v1, kind, key, extra] = parts;
    if (u.pathname === "/healthz") return { status: 200, body: { status: "ok" } };
    if (v1 !== "v1") return { status: 404, body: apiError("MERIDIAN_ERR_NO_ROUTE", "no route") };
    if (kind === "users" && key !== undefined) return this.serveUser(region, method, key);
    if (kind !== "sessions") return { status: 404, body: apiError("MERIDIAN_ERR_NO_ROUTE", "no") };
    if (key === undefined && method === "GET") return this.list(region, u.searchParams);
    if (key === undefined && method === "POST") {
      return this.write(region, randomId(this.ops.length), "replace", body, 201);
    }
    if (key === undefined || !ID.test(key)) {
      return { status: 400, body: apiError("MERIDIAN_ERR_BAD_ID", "bad id") };
    }
    if (extra === "touch") return this.write(region, key, "touch", body, 200);
    if (method === "GET") return this.read(region, key, u.searchParams.get("after"));
    if (method === "PUT") return this.write(region, key, "replace", body, 200);
    if (method === "PATCH") return this.write(region, key, "patch", body, 200);
    if (method === "DELETE") return this.write(region, key, "delete", body, 204);
    return { status: 405, body: apiError("MERIDIAN_ERR_METHOD_NOT_ALLOWED", "no") };
  }

  private read(region: string, id: string, after: string | null): Answer {
    if (after !== null && !this.seenBy(region).has(Number(after.split(".")[0]))) {
      return {
        status: 503,
        body: apiError("MERIDIAN_ERR_VERSION_UNAVAILABLE", "version not yet here"),
      };
    }
    const s = this.session(region, id);
    const status = this.status(s);
    if (status === "deleted")
      return { status: 410, body: apiError("MERIDIAN_ERR_SESSION_DELETED", "deleted") };
    if (status !== "live" || s === undefined) {
      return { status: 404, body: apiError("MERIDIAN_ERR_NOT_FOUND", "not found") };
    }
    return { status: 200, body: sessionBody(s, `${s.newest}.${this.ops[s.newest]?.region}`) };
  }

  private list(region: string, query: URLSearchParams): Answer {
    const seen = this.seenBy(region);
    const stored = this.ops.filter((o) => seen.has(o.index)).map((o) => o.id);
    const scan = scanSessionIds(stored, query);
    if (!scan.ok) return { status: 400, body: apiError(scan.code, scan.message) };
    const sessions = scan.ids
      .map((id) => this.session(region, id))
      .filter((s): s is FakeSession => this.status(s) === "live")
      .map((s) => sessionBody(s, `${s.newest}.${this.ops[s.newest]?.region}`));
    return { status: 200, body: { sessions, next: scan.next } };
  }

  private write(
    region: string,
    id: string,
    kind: FakeOp["kind"],
    body: Record<string, unknown>,
    okStatus: number,
  ): Answer {
    const before = this.session(region, id);
    const status = this.status(before);
    if (status === "deleted" && kind !== "delete") {
      return { status: 410, body: apiError("MERIDIAN_ERR_SESSION_DELETED", "deleted") };
    }
    if (kind === "touch" && status !== "live") {
      return { status: 404, body: apiError("MERIDIAN_ERR_NOT_FOUND", "not found") };
    }
    const ttl = body.ttl;
    const ttlMs = typeof ttl === "number" ? ttl * 1000 : ttl === null ? null : undefined;
    const data = (kind === "replace" ? body.data : body.set) as Record<string, unknown> | undefined;
    const op: FakeOp = {
      index: this.ops.length,
      region,
      id,
      at: this.clock.now(),
      kind,
      ...(data !== undefined ? { set: data } : {}),
      ...(Array.isArray(body.unset) ? { unset: body.unset as string[] } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : status !== "live" ? { ttlMs: 86_400_000 } : {}),
      ...(typeof body.userId === "string" || body.userId === null
        ? { userId: body.userId as string | null }
        : {}),
    };
    this.ops.push(op);
    this.seenBy(region).add(op.index);
    const version = `${op.index}.${region}`;
    if (kind === "delete") return { status: 204, version };
    const after = this.session(region, id)!;
    if (kind === "touch") {
      return { status: 200, body: { expiresAt: iso(after.expiresAt) }, version };
    }
    const created = kind === "replace" && status !== "live";
    return { status: created ? 201 : okStatus, body: sessionBody(after, version), version };
  }

  private serveUser(region: string, method: string, userId: string): Answer {
    const ids = [...new Set(this.ops.map((o) => o.id))].filter((id) => {
      const s = this.session(region, id);
      return s?.userId === userId && this.status(s) === "live";
    });
    if (method === "GET") {
      const sessions = ids.map((id) => this.session(region, id)!);
      return { status: 200, body: { sessions: sessions.map((s) => sessionBody(s, "")) } };
    }
    for (const id of ids) this.write(region, id, "delete", {}, 204);
    return { status: 200, body: { revoked: ids.length } };
  }

  private status(s: FakeSession | undefined): "absent" | "live" | "expired" | "deleted" {
    if (s === undefined) return "absent";
    if (s.deleted) return "deleted";
    if (s.expiresAt !== null && s.expiresAt <= this.clock.now()) return "expired";
    return "live";
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function sessionBody(s: FakeSession, version: string): Record<string, unknown> {
  return {
    id: s.id,
    data: s.data,
    expiresAt: iso(s.expiresAt),
    userId: s.userId,
    version,
  };
}

function apiError(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

function randomId(n: number): string {
  return `fake-session-${String(n).padStart(8, "0")}`;
}

function toResponse(a: Answer): Response {
  const headers: Record<string, string> = {};
  if (a.version !== undefined) headers["meridian-version"] = a.version;
  if (a.status >= 400) {
    headers["content-type"] = "application/json";
    return new Response(JSON.stringify(a.body), { status: a.status, headers });
  }
  if (a.body === undefined) return new Response(null, { status: a.status, headers });
  headers["content-type"] = "application/msgpack";
  return new Response(packValue(a.body), { status: a.status, headers });
}

function errorResponse(status: number, code: string, message: string): Response {
  return toResponse({ status, body: apiError(code, message) });
}

function connectionError(code: string): TypeError {
  return new TypeError("fetch failed", {
    cause: Object.assign(new Error(`connect ${code}`), { code }),
  });
}

function abortError(): Error {
  return Object.assign(new Error("This operation was aborted"), { name: "AbortError" });
}

function never(signal: AbortSignal): Promise<Response> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(abortError());
    signal.addEventListener("abort", () => reject(abortError()), { once: true });
  });
}

function delay(clock: VirtualClock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = clock.after(ms, resolve);
    signal.addEventListener(
      "abort",
      () => {
        t.cancel();
        reject(abortError());
      },
      { once: true },
    );
  });
}
