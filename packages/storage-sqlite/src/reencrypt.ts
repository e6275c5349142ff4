import { isSecretRow, META_KEYS, sessionFromRows } from "./register-rows.ts";
import { isSealed, type RowProtection, sealedKeyId } from "./row-protection.ts";
import type { Statements } from "./statements.ts";

/** What one page of {@link reencryptPage} did. */
export interface ReencryptPage {
  /** Sessions looked at. */
  readonly sessions: number;
  /** Register payloads sealed again under the current key (or sealed for the first time). */
  readonly payloads: number;
  /** `user_id` index entries rewritten under the current key's tag. */
  readonly userTags: number;
  /** Pass as `after` for the next page; `null` when this was the last. */
  readonly next: string | null;
}

/**
 * Seals every secret payload of up to `limit` sessions after `after` (in id order) under the
 * current key, and rewrites their `user_id` tags under it.
 *
 * @remarks Must run inside one transaction of the caller, so a page is rewritten all or nothing
 * and no write of the node slips in between reading a payload and sealing it again. Payloads are
 * opened first (with their own key) and only then sealed again, so a payload that does not open
 * stops the run with its typed error instead of being overwritten. Plain payloads are sealed
 * only with `adoptPlaintext` (turning encryption on for an existing database).
 */
export function reencryptPage(
  q: Statements,
  protection: RowProtection,
  after: string,
  limit: number,
  adoptPlaintext: boolean,
): ReencryptPage {
  const page = q.sessionPage.all(after, limit);
  let payloads = 0;
  let userTags = 0;
  for (const { id, user_id } of page) {
    const rows = q.registersOf.all(id);
    // Opening the whole session checks every payload before any is rewritten.
    const session = sessionFromRows(id, rows, protection, adoptPlaintext);
    for (const r of rows) {
      if (!isSecretRow(r.kind, r.key) || protection.isCurrent(r.payload)) continue;
      const plain = protection.open(r.payload, id, r.key, adoptPlaintext);
      q.updatePayload.run(protection.seal(plain, id, r.key), id, r.key);
      payloads += 1;
    }
    const tag = protection.userTag(session.userId?.value ?? null);
    if (tag !== user_id) {
      q.updateUserTag.run(tag, id);
      userTags += 1;
    }
  }
  const last = page[page.length - 1];
  const next = last !== undefined && page.length === limit ? last.id : null;
  return { sessions: page.length, payloads, userTags, next };
}

/**
 * How many secret payloads are stored under each key id; plain ones count under `null`.
 *
 * @remarks Reads every secret payload's header (a scan): for operators, to confirm after
 * `reencrypt` that no value is left under a key about to be removed.
 */
export function sealedKeyUsage(q: Statements): Map<string | null, number> {
  const out = new Map<string | null, number>();
  for (const { payload } of q.secretPayloads.iterate(META_KEYS.userId)) {
    const id = isSealed(payload) ? sealedKeyId(payload) : null;
    out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}
