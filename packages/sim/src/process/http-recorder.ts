import type { OpAnswer, OpRecord } from "../history.ts";
import type { OpSpec } from "../schedule.ts";
import { newOpRecord, SessionPool } from "../workload.ts";

/** How the cluster tells a recorder which node incarnation serves a region now. */
export interface ProcessTarget {
  url(region: string): string;
  incarnation(region: string): string;
}

interface WireSession {
  id: string;
  data: Record<string, unknown>;
  expiresAt: string | null;
  userId: string | null;
  version: string;
}

/**
 * Drives real nodes over HTTP and records every operation as a history entry, with real time
 * (the machine clock every node on it shares).
 *
 * @remarks A refused connection is a failure (nothing reached a node); a reset or a time-out is
 * `unknown` (the node may have applied it). The operation specs and session pool are the
 * simulator's, so both tiers write the same unique values and the same checkers read them.
 */
export class HttpRecorder {
  readonly ops: OpRecord[] = [];
  private readonly pool = new SessionPool();

  constructor(
    private readonly target: ProcessTarget,
    private readonly timeoutMs = 5_000,
  ) {}

  /** Runs one operation against `region` and records it; resolves when it has an outcome. */
  async run(region: string, spec: OpSpec): Promise<OpRecord> {
    const index = this.ops.length;
    const { sessionId, after } = this.pool.target(spec);
    const record = newOpRecord(index, spec, region, sessionId, after, Date.now());
    record.incarnation = this.target.incarnation(region);
    this.ops.push(record);
    const { method, path, body } = request(spec, record);
    const query = new URLSearchParams({ consistency: spec.consistency });
    if (after !== undefined) query.set("after", after);
    let res: Response;
    try {
      res = await fetch(`${this.target.url(region)}${path}?${query}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const refused = causeCode(e) === "ECONNREFUSED";
      return this.finish(
        record,
        refused ? "fail" : "unknown",
        refused ? "UNAVAILABLE" : "NO_ANSWER",
      );
    }
    let payload: unknown;
    try {
      payload = res.status === 204 ? undefined : await res.json();
    } catch {
      return this.finish(record, "unknown", "NO_ANSWER");
    }
    if (!res.ok) {
      const code = (payload as { error?: { code?: string } } | undefined)?.error?.code;
      return this.finish(record, "fail", code ?? `HTTP_${res.status}`);
    }
    // A touch answers only `{expiresAt}`, a revoke `{revoked}`: no session to record.
    if (spec.type !== "touch" && spec.type !== "revoke" && payload !== undefined) {
      const s = payload as WireSession;
      const answer: OpAnswer = {
        id: s.id,
        data: Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, String(v)])),
        expiresAt: s.expiresAt === null ? null : Date.parse(s.expiresAt),
        userId: s.userId,
        version: s.version,
      };
      record.answer = answer;
      if (spec.type === "create") {
        record.sessionId = s.id;
        this.pool.created(s.id);
      }
      if (spec.type !== "get" && s.version !== "") this.pool.saw(s.id, s.version);
    }
    return this.finish(record, "ok", undefined);
  }

  private finish(record: OpRecord, status: OpRecord["status"], code: string | undefined): OpRecord {
    record.status = status;
    record.code = code;
    record.completedAt = Date.now();
    record.nodeNow = record.completedAt;
    return record;
  }
}

function request(spec: OpSpec, record: OpRecord): { method: string; path: string; body?: unknown } {
  const one = `/v1/sessions/${record.sessionId}`;
  const ttl = (s: number | null | undefined) => (s == null ? {} : { ttl: s });
  switch (spec.type) {
    case "create":
      return {
        method: "POST",
        path: "/v1/sessions",
        body: {
          data: record.set,
          ...ttl(spec.ttlS),
          ...(spec.idleS !== undefined ? { idle: spec.idleS } : {}),
          ...(record.user !== undefined ? { userId: record.user } : {}),
        },
      };
    case "put":
      return {
        method: "PUT",
        path: one,
        body: {
          data: record.set,
          ...ttl(spec.ttlS),
          ...(record.user !== undefined ? { userId: record.user } : {}),
        },
      };
    case "patch":
      return {
        method: "PATCH",
        path: one,
        body: { set: record.set, unset: spec.unset, ...ttl(spec.ttlS) },
      };
    case "touch":
      return { method: "POST", path: `${one}/touch`, body: ttl(spec.ttlS) };
    case "delete":
      return { method: "DELETE", path: one };
    case "get":
      return { method: "GET", path: one };
    case "revoke":
      return { method: "DELETE", path: `/v1/users/${record.user}/sessions` };
  }
}

function causeCode(e: unknown): string | undefined {
  const cause = (e as { cause?: { code?: string } }).cause;
  return cause?.code;
}
