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
import { sendError, sendReply } from "./respond.ts";
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

async function serve(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  let op: RequestOp = "no_route";
  let status = 500;
  let params: Readonly<Record<string, string>> = {};
  try {
    const target = req.url ?? "/";
    const q = target.indexOf("?");
    const path = q < 0 ? target : target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : target.slice(q + 1));
    const tokens = deps.config.tokens ?? [];
    if (tokens.length > 0 && needsToken(path)) {
      op = "unauthorized";
      checkBearer(req, tokens);
      op = "no_route";
    }
    const match = matchRoute(req.method ?? "", path);
    op = match.route.name;
    params = match.params;
    if (match.route.api && !deps.isReady()) throw new NotReadyError();
    const body = async () => {
      const format = requestFormat(req);
      return decodeBody(await readBody(req, deps.config.maxBodyBytes), format);
    };
    const reply = await ROUTE_ACTIONS[op]({ deps, req, query, params, body });
    status = reply.status;
    sendReply(req, res, reply);
  } catch (error) {
    if (error instanceof MethodNotAllowedError) op = "method_not_allowed";
    status = httpStatusOf(error);
    logFailure(deps.logger, error, op, status, params.id);
    if (res.headersSent) res.destroy();
    else sendError(req, res, error);
  } finally {
    deps.metrics.observeRequest(op, status, (performance.now() - started) / 1000);
  }
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
