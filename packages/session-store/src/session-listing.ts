import type { MeridianClient, Session } from "@meridian/client";

/** The characters of a session id, in code-unit order (the order ids are listed in). */
const ID_CHARS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const MIN_ID = 16;
const MAX_ID = 256;

/**
 * A session id that sorts before every id starting with `prefix`, and as close below the first
 * of them as a short string can get: where a listing of the prefix's sessions starts.
 *
 * @remarks The last character of `prefix` above `-` (the smallest id character) is lowered by
 * one and the rest filled with `z` (the largest), so between the cursor and the prefix's first
 * id lie only ids that extend the cursor itself. Undefined when no such id exists (empty
 * prefix, only `-`, or too long): the listing then starts at the first id.
 */
export function cursorBefore(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const at = ID_CHARS.indexOf(prefix.charAt(i));
    if (at <= 0) continue;
    const cursor = prefix.slice(0, i) + ID_CHARS.charAt(at - 1);
    return cursor.length > MAX_ID ? undefined : cursor.padEnd(MIN_ID, "z");
  }
  return undefined;
}

/**
 * Whether `id` sorts after every id starting with `prefix`: the ids starting with a prefix are
 * one run in id order, and a listing past it can stop.
 */
export function pastPrefix(id: string, prefix: string): boolean {
  return id > prefix && !id.startsWith(prefix);
}

/**
 * The live sessions of the answering regions whose id starts with `prefix`, a page at a time
 * (`pageSize` ids scanned per request), in id order.
 *
 * @remarks Starts at {@link cursorBefore} and stops once a page scanned past the prefix's run of
 * ids, so a prefixed store pages only through its own part of a shared cluster. Each page is
 * answered by one region (see `MeridianClient.list`).
 */
export async function* prefixedSessions(
  client: MeridianClient,
  prefix: string,
  pageSize: number,
): AsyncGenerator<Session[]> {
  let after = cursorBefore(prefix);
  for (;;) {
    const page = await client.list({ limit: pageSize, ...(after !== undefined ? { after } : {}) });
    yield page.sessions.filter((s) => s.id.startsWith(prefix));
    if (page.next === null || pastPrefix(page.next, prefix)) return;
    after = page.next;
  }
}
