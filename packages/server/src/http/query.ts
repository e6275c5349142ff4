import { isSessionId, ValidationError } from "@meridian/core";
import type { Consistency } from "../session-service.ts";

const LEVELS: readonly Consistency[] = ["local", "quorum", "all"];

/** The single value of a query parameter; undefined when absent. @throws ValidationError if repeated */
function single(query: URLSearchParams, name: string): string | undefined {
  const all = query.getAll(name);
  if (all.length > 1)
    throw new ValidationError(`query parameter ${name} is given ${all.length} times`);
  return all[0];
}

/**
 * The `consistency` query parameter: `local` (the default), `quorum` or `all`.
 *
 * @remarks Reads and writes alike take it. Anything else is refused rather than silently read as
 * `local`, so a typo never weakens a client's guarantee.
 * @throws ValidationError (400)
 */
export function consistencyOf(query: URLSearchParams): Consistency {
  const v = single(query, "consistency");
  if (v === undefined) return "local";
  const level = LEVELS.find((l) => l === v);
  if (level === undefined) throw new ValidationError("consistency must be local, quorum or all");
  return level;
}

/**
 * The `after` query parameter of a read: a version token, passed on to the service (which
 * checks its shape).
 *
 * @throws ValidationError (400) when repeated or empty.
 */
export function afterOf(query: URLSearchParams): string | undefined {
  const v = single(query, "after");
  if (v === "") throw new ValidationError("after must be a version token");
  return v;
}

/** Sessions a page of `GET /v1/sessions` scans when the query names no `limit`. */
export const DEFAULT_LIST_LIMIT = 100;

/** Most sessions a page of `GET /v1/sessions` may scan. */
export const MAX_LIST_LIMIT = 1000;

/** The cursor and size of one page of `GET /v1/sessions`. */
export interface ListPage {
  /** List ids strictly after this session id; undefined starts at the first. */
  readonly after: string | undefined;
  /** Stored ids to scan, 1 to {@link MAX_LIST_LIMIT}. */
  readonly limit: number;
}

/**
 * The `after` and `limit` query parameters of `GET /v1/sessions`.
 *
 * @remarks Here `after` is a session id (the `next` of the previous page), not a version token.
 * `limit` is plain decimal digits, 1 to {@link MAX_LIST_LIMIT} (default
 * {@link DEFAULT_LIST_LIMIT}): `1e2`, `+5` or `10.0` are refused, not guessed at.
 * @throws ValidationError (400): `MERIDIAN_ERR_BAD_ID` for a bad `after`, `MERIDIAN_ERR_INVALID`
 * for a bad `limit` or a repeated parameter.
 */
export function listPageOf(query: URLSearchParams): ListPage {
  const after = single(query, "after");
  if (after !== undefined && !isSessionId(after)) {
    throw new ValidationError(
      "after must be a session id ([A-Za-z0-9_-]{16,256})",
      "MERIDIAN_ERR_BAD_ID",
    );
  }
  const raw = single(query, "limit");
  const limit = raw === undefined ? DEFAULT_LIST_LIMIT : Number(raw);
  if (raw !== undefined && (!/^[0-9]{1,4}$/.test(raw) || limit < 1 || limit > MAX_LIST_LIMIT)) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  return { after, limit };
}
