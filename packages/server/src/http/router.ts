import { ValidationError } from "@meridian/core";
import { MethodNotAllowedError, NoRouteError } from "./http-errors.ts";

/**
 * Name of a route of the HTTP API.
 *
 * @remarks Names, never paths, label metrics and logs: a path may hold a session id, and label
 * values must stay a small closed set.
 */
export type RouteName =
  | "create_session"
  | "list_sessions"
  | "get_session"
  | "put_session"
  | "patch_session"
  | "touch_session"
  | "delete_session"
  | "list_user_sessions"
  | "revoke_user_sessions"
  | "cluster"
  | "healthz"
  | "readyz"
  | "metrics";

/** One route: a method and a path pattern whose `:name` segments are parameters. */
export interface Route {
  readonly name: RouteName;
  readonly method: string;
  readonly pattern: readonly string[];
  /** Part of the v1 API, and so refused with 503 while the node is not ready. */
  readonly api: boolean;
}

const route = (name: RouteName, method: string, path: string): Route => ({
  name,
  method,
  pattern: path.slice(1).split("/"),
  api: path.startsWith("/v1/"),
});

/**
 * Every route of the HTTP API (DESIGN.md, "HTTP API (v1)").
 *
 * @remarks Patterns never overlap, so the order carries no meaning.
 */
export const ROUTES: readonly Route[] = [
  route("create_session", "POST", "/v1/sessions"),
  route("list_sessions", "GET", "/v1/sessions"),
  route("get_session", "GET", "/v1/sessions/:id"),
  route("put_session", "PUT", "/v1/sessions/:id"),
  route("patch_session", "PATCH", "/v1/sessions/:id"),
  route("delete_session", "DELETE", "/v1/sessions/:id"),
  route("touch_session", "POST", "/v1/sessions/:id/touch"),
  route("list_user_sessions", "GET", "/v1/users/:userId/sessions"),
  route("revoke_user_sessions", "DELETE", "/v1/users/:userId/sessions"),
  route("cluster", "GET", "/v1/cluster"),
  route("healthz", "GET", "/healthz"),
  route("readyz", "GET", "/readyz"),
  route("metrics", "GET", "/metrics"),
];

/** A matched route and its decoded path parameters. */
export interface RouteMatch {
  readonly route: Route;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Finds the route of a request.
 *
 * @remarks `path` is the raw path, before the query; it is matched segment by segment without
 * any normalization (no `..` resolution, no slash merging), and only parameters are
 * percent-decoded.
 * @throws NoRouteError when no pattern matches the path; MethodNotAllowedError when patterns
 * match but none for `method`; ValidationError when a parameter is not valid percent-encoding.
 */
export function matchRoute(method: string, path: string): RouteMatch {
  if (!path.startsWith("/")) throw new NoRouteError();
  const segments = path.slice(1).split("/");
  const allow: string[] = [];
  for (const r of ROUTES) {
    const raw = matchPattern(r.pattern, segments);
    if (raw === undefined) continue;
    if (r.method !== method) {
      allow.push(r.method);
      continue;
    }
    return { route: r, params: decodeParams(raw) };
  }
  if (allow.length > 0) throw new MethodNotAllowedError(allow);
  throw new NoRouteError();
}

function matchPattern(
  pattern: readonly string[],
  segments: readonly string[],
): Map<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params = new Map<string, string>();
  for (const [i, p] of pattern.entries()) {
    const s = segments[i]!;
    if (p.startsWith(":")) {
      if (s === "") return undefined;
      params.set(p.slice(1), s);
    } else if (p !== s) return undefined;
  }
  return params;
}

function decodeParams(raw: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of raw) {
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      throw new ValidationError(
        `path parameter ${name} is not valid percent-encoding`,
        "MERIDIAN_ERR_BAD_ID",
      );
    }
  }
  return out;
}
