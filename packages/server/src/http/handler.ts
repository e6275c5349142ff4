import type { IncomingMessage, ServerResponse } from "node:http";
import { MeridianError } from "@meridian/core";
import type { NodeConfig } from "../config.ts";
import { NotReadyError } from "../errors.ts";
import { type Logger, logId } from "../log.ts";
import type { NodeMetrics } from "../metrics.ts";
import type { Replica } from "../replica.ts";
import type { Replicator } from "../replicator.ts";
import type { SessionService } from "../session-service.ts";
import { checkBearer, needsToken } from "./bearer-auth.ts";
import { decodeBody, readBody } from "./body.ts";
import { errorCodeOf, httpStatusOf } from "./error-map.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import { requestFormat } from "./media-type.ts";
import { type Reply, sendError, sendReply } from "./respond.ts";
import { ROUTE_ACTIONS } from "./route-actions.ts";
import { matchRoute, type RouteName } from "./router.ts";

/** What the HTTP edge needs from the node. */
export interface HttpDeps {
  readonly service: SessionService;
  readonly replicator: Replicator;
  readonly replica: Replica;
  readonly config: NodeConfig;
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
  readonly isReady: () => boolean;
}

/**
 * The operation label of a request in metrics and logs: its route name, or what went wrong
 * before a route was found.
 */
export type RequestOp = RouteName | "no_route" | "method_not_allowed" | "unauthorized";

/**
 * The request handler of the HTTP API v1 (DESIGN.md, "HTTP API (v1)").
 *
 * @remarks Never throws and never rejects: every failure, expected or not, becomes a JSON
 * `{error: {code, message}}` answer with the status from `error-map.ts`, and an unexpected one
 * is logged (session ids scrubbed). With `config.tokens`, `/v1` and `/metrics` need a bearer
 * token, checked before routing (401, op `unauthorized`). While `isReady()` is false every `/v1`
 * route answers 503. Every request is counted in `metrics` under its route name, never its path.
 */
export function createHttpHandler(
  deps: HttpDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    req.on("error", (err) => deps.logger.debug({ err: err.message }, "request stream failed"));
    res.on("error", (err) => deps.logger.debug({ err: err.message }, "response stream failed"));
    serve(deps, req, res).catch((err: unknown) => {
      // Only reached when even the error answer could not be written.
      deps.logger.error(
        { err: err instanceof Error ? err.message : String(err) },
        "could not answer a request",
      );
      res.destroy();
    });
  };
}

/**
 * One API call, whatever carried it (an HTTP request, or a frame of the client channel).
 *
 * @remarks `authorize` throws when the caller may not use a path that needs a token; `body`
 * reads and decodes the request body (undefined when empty).
 */
export interface ApiCall {
  readonly method: string;
  /** Path and query, as in an HTTP request line. */
  readonly target: string;
  readonly authorize: () => void;
  readonly body: () => Promise<unknown>;
}

/** What serving a call came to: the route's reply, or the error to answer with. */
export type CallOutcome =
  | { readonly op: RequestOp; readonly reply: Reply; readonly error?: undefined }
  | { readonly op: RequestOp; readonly error: unknown; readonly reply?: undefined };

/**
 * Routes one call and runs its action: everything of serving a request but the bytes.
 *
 * @remarks Never throws. Checks the token (when tokens are configured and the path needs one),
 * readiness, and the input, in that order, before the action writes anything. Counts the call in
 * `metrics` under its route name and logs unexpected failures with session ids scrubbed, so the
 * HTTP edge and the client channel count and log alike.
 */
export async function serveCall(deps: HttpDeps, call: ApiCall): Promise<CallOutcome> {
  const started = performance.now();
  let op: RequestOp = "no_route";
  let status = 500;
  let params: Readonly<Record<string, string>> = {};
  try {
    const q = call.target.indexOf("?");
    const path = q < 0 ? call.target : call.target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : call.target.slice(q + 1));
    const tokens = deps.config.tokens ?? [];
    if (tokens.length > 0 && needsToken(path)) {
      op = "unauthorized";
      call.authorize();
      op = "no_route";
    }
    const match = matchRoute(call.method, path);
    op = match.route.name;
    params = match.params;
    if (match.route.api && !deps.isReady()) throw new NotReadyError();
    const reply = await ROUTE_ACTIONS[op]({ deps, query, params, body: call.body });
    status = reply.status;
    return { op, reply };
  } catch (error) {
    if (error instanceof MethodNotAllowedError) op = "method_not_allowed";
    status = httpStatusOf(error);
    logFailure(deps.logger, error, op, status, params.id);
    return { op, error };
  } finally {
    deps.metrics.observeRequest(op, status, (performance.now() - started) / 1000);
  }
}

async function serve(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const outcome = await serveCall(deps, {
    method: req.method ?? "",
    target: req.url ?? "/",
    authorize: () => checkBearer(req, deps.config.tokens ?? []),
    body: async () => {
      const format = requestFormat(req);
      return decodeBody(await readBody(req, deps.config.maxBodyBytes), format);
    },
  });
  if (outcome.reply !== undefined) sendReply(req, res, outcome.reply);
  else if (res.headersSent) res.destroy();
  else sendError(req, res, outcome.error);
}

function logFailure(
  logger: Logger,
  error: unknown,
  op: RequestOp,
  status: number,
  id: string | undefined,
): void {
  const session = id === undefined ? undefined : logId(id);
  if (status < 500) {
    logger.debug({ op, status, code: errorCodeOf(error), session }, "request refused");
    return;
  }
  if (error instanceof MeridianError && status !== 500) {
    logger.warn({ op, status, code: error.code, session }, scrub(error.message, id));
    return;
  }
  const err =
    error instanceof Error
      ? { type: error.name, message: scrub(error.message, id), stack: scrub(error.stack ?? "", id) }
      : { type: typeof error, message: "non-error thrown" };
  logger.error({ op, status, session, err }, "request failed");
}

/** Replaces the request's session id in a log text by its keyed hash (logs never hold raw ids). */
function scrub(text: string, id: string | undefined): string {
  return id === undefined || id === "" ? text : text.split(id).join(`<${logId(id)}>`);
}
