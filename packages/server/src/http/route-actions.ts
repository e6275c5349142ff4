import { isSessionId, isUserId, ValidationError } from "@meridian/core";
import { NotReadyError } from "../errors.ts";
import type { HttpDeps } from "./handler.ts";
import type { InputLimits } from "./input-rules.ts";
import { parseCreate, parsePatch, parseReplace, parseTouch } from "./parse-input.ts";
import { afterOf, consistencyOf, listPageOf } from "./query.ts";
import type { Reply } from "./respond.ts";
import type { RouteName } from "./router.ts";
import { sessionBody, touchBody } from "./session-json.ts";

/** What a route action gets to work with. */
export interface RouteContext {
  readonly deps: HttpDeps;
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
  /** Reads and decodes the request body (undefined when empty); see `body.ts`. */
  readonly body: () => Promise<unknown>;
}

/** Serves one route. */
export type RouteAction = (ctx: RouteContext) => Promise<Reply> | Reply;

/**
 * The session id in the path.
 *
 * @remarks Checked before the body is read or anything is written.
 * @throws ValidationError with code `MERIDIAN_ERR_BAD_ID` (400).
 */
export function sessionIdParam(ctx: RouteContext): string {
  const id = ctx.params.id ?? "";
  if (!isSessionId(id)) {
    throw new ValidationError("session id must match [A-Za-z0-9_-]{16,256}", "MERIDIAN_ERR_BAD_ID");
  }
  return id;
}

function userIdParam(ctx: RouteContext): string {
  const userId = ctx.params.userId ?? "";
  if (!isUserId(userId)) {
    throw new ValidationError(
      "user id must be 1 to 256 characters without control characters",
      "MERIDIAN_ERR_BAD_ID",
    );
  }
  return userId;
}

function limitsOf(deps: HttpDeps): InputLimits {
  return { maxValueBytes: deps.config.maxValueBytes, defaultTtlMs: deps.config.defaultTtlMs };
}

/**
 * The action of every route.
 *
 * @remarks Each action validates its whole input (path, query, body) before it calls the
 * service, so bad input never writes anything. A `Record` over {@link RouteName}, so a route
 * without an action does not compile.
 */
export const ROUTE_ACTIONS: Readonly<Record<RouteName, RouteAction>> = {
  async create_session(ctx) {
    const c = consistencyOf(ctx.query);
    const write = parseCreate(await ctx.body(), limitsOf(ctx.deps));
    const answer = await ctx.deps.service.create(write, c);
    return { status: 201, body: sessionBody(answer), version: answer.version };
  },

  list_sessions(ctx) {
    const { after, limit } = listPageOf(ctx.query);
    const page = ctx.deps.service.list(after, limit);
    return { status: 200, body: { sessions: page.sessions.map(sessionBody), next: page.next } };
  },

  async get_session(ctx) {
    const id = sessionIdParam(ctx);
    const consistency = consistencyOf(ctx.query);
    const after = afterOf(ctx.query);
    const answer = await ctx.deps.service.get(id, {
      consistency,
      ...(after !== undefined ? { after } : {}),
    });
    return { status: 200, body: sessionBody(answer), version: answer.version };
  },

  async put_session(ctx) {
    const id = sessionIdParam(ctx);
    const c = consistencyOf(ctx.query);
    const write = parseReplace(await ctx.body(), limitsOf(ctx.deps));
    const { answer, created } = await ctx.deps.service.put(id, write, c);
    return { status: created ? 201 : 200, body: sessionBody(answer), version: answer.version };
  },

  async patch_session(ctx) {
    const id = sessionIdParam(ctx);
    const c = consistencyOf(ctx.query);
    const write = parsePatch(await ctx.body(), limitsOf(ctx.deps));
    const answer = await ctx.deps.service.patch(id, write, c);
    return { status: 200, body: sessionBody(answer), version: answer.version };
  },

  async touch_session(ctx) {
    const id = sessionIdParam(ctx);
    const c = consistencyOf(ctx.query);
    const { ttlMs } = parseTouch(await ctx.body());
    const answer = await ctx.deps.service.touch(id, ttlMs, c);
    return { status: 200, body: touchBody(answer), version: answer.version };
  },

  async delete_session(ctx) {
    const id = sessionIdParam(ctx);
    const c = consistencyOf(ctx.query);
    await ctx.deps.service.delete(id, c);
    return { status: 204 };
  },

  list_user_sessions(ctx) {
    const userId = userIdParam(ctx);
    return { status: 200, body: { sessions: ctx.deps.service.listUser(userId).map(sessionBody) } };
  },

  async revoke_user_sessions(ctx) {
    const userId = userIdParam(ctx);
    const c = consistencyOf(ctx.query);
    return { status: 200, body: { revoked: await ctx.deps.service.revokeUser(userId, c) } };
  },

  cluster(ctx) {
    const { replica, replicator } = ctx.deps;
    // PeerStatus is the documented per-peer shape: nodeId, region, connected, lag (ms).
    return {
      status: 200,
      body: {
        nodeId: replica.nodeId,
        region: replica.region,
        // This node's own write sequence: a peer has caught up with it when its caughtUpTo
        // for this node reaches it.
        seq: replica.store.versionVector().base(replica.nodeId),
        sessionCount: replica.store.sessionCount(),
        peers: replicator.status(),
      },
    };
  },

  healthz() {
    return { status: 200, body: { status: "ok" } };
  },

  readyz(ctx) {
    if (!ctx.deps.isReady()) throw new NotReadyError();
    return { status: 200, body: { status: "ready" } };
  },

  async metrics(ctx) {
    const text = await ctx.deps.metrics.render();
    return { status: 200, text, contentType: ctx.deps.metrics.contentType };
  },
};
