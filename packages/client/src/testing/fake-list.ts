const ID = /^[A-Za-z0-9_-]{16,256}$/;
const LIMIT = /^[0-9]{1,4}$/;

/** The ids one page of `GET /v1/sessions` scans, or why the query is refused. */
export type FakeScan =
  | { readonly ok: true; readonly ids: readonly string[]; readonly next: string | null }
  | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * Scans one page of `stored` ids (any order) for the query of `GET /v1/sessions`, by the rules
 * of the real route: `after` a session id, `limit` 1 to 1,000 (default 100), `next` the last id
 * scanned when the page scanned `limit` of them.
 *
 * @remarks Only the cursor: which scanned sessions are live is the cluster's to say.
 */
export function scanSessionIds(stored: Iterable<string>, query: URLSearchParams): FakeScan {
  const afters = query.getAll("after");
  const limits = query.getAll("limit");
  const after = afters[0];
  if (afters.length > 1 || (after !== undefined && !ID.test(after))) {
    return { ok: false, code: "MERIDIAN_ERR_BAD_ID", message: "after must be a session id" };
  }
  const raw = limits[0];
  const limit = raw === undefined ? 100 : Number(raw);
  if (limits.length > 1 || (raw !== undefined && !LIMIT.test(raw)) || limit < 1 || limit > 1000) {
    return { ok: false, code: "MERIDIAN_ERR_INVALID", message: "limit must be from 1 to 1000" };
  }
  const ids = [...new Set(stored)]
    .sort()
    .filter((id) => after === undefined || id > after)
    .slice(0, limit);
  return { ok: true, ids, next: ids.length === limit ? (ids.at(-1) ?? null) : null };
}
