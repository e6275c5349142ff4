import type Database from "better-sqlite3";
import { KeyringError } from "./errors.ts";
import { isSealed, type RowProtection, sealedKeyId } from "./row-protection.ts";
import {
  isCurrentFormat,
  parseBody,
  secretValueCount,
  sessionBody,
  sessionFromBody,
} from "./session-body.ts";
import type { Statements } from "./statements.ts";

/** What one page of {@link reencryptPage} did. */
export interface ReencryptPage {
  /** Sessions looked at. */
  readonly sessions: number;
  /**
   * Secret values (field values, Yjs documents, userIds) sealed again under the current key (or
   * for the first time), counted one by one although each session's are sealed together.
   */
  readonly payloads: number;
  /** `user_id` index entries rewritten under the current key's tag. */
  readonly userTags: number;
  /** Pass as `after` for the next page; `null` when this was the last. */
  readonly next: string | null;
}

/**
 * Seals the secret part of each of up to `limit` sessions after `after` (in id order) under the
 * current key, and rewrites their `user_id` tags under it.
 *
 * @remarks Must run inside one transaction of the caller, so a page is rewritten all or nothing
 * and no write of the node slips in between reading a payload and sealing it again. A payload
 * that does not open (unknown key, wrong key, altered) throws its typed error and so rolls the
 * page back: nothing is ever sealed from bytes that did not authenticate. Plain payloads are
 * sealed only with `adoptPlaintext` (turning encryption on for an existing database).
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
  for (const { id, user_id, body } of page) {
    const parsed = parseBody(id, body);
    const session = sessionFromBody(parsed, protection, adoptPlaintext);
    // A format 1 body under the current key is sealed again too, to bind its whole readable part.
    if (!protection.isCurrent(parsed.secret) || !isCurrentFormat(parsed)) {
      q.resealBody.run(sessionBody(session, protection), id);
      payloads += secretValueCount(parsed);
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
 * How many secret values (field values, Yjs documents, userIds) are stored under each key id;
 * plain ones count under `null`. A session's values are sealed together, so they count under
 * the key of their session's secret part; a sealed part holding no value (a session of metadata
 * only) lists its key with nothing added, since reading that session still needs it.
 *
 * @remarks Reads every body's secret header (a scan, no decryption): for operators, to confirm
 * after `reencrypt` that no value is left under a key about to be removed.
 */
export function sealedKeyUsage(q: Statements): Map<string | null, number> {
  const out = new Map<string | null, number>();
  for (const { id: sessionId, body } of q.secretParts.iterate()) {
    const parsed = parseBody(sessionId, body);
    const n = secretValueCount(parsed);
    // A sealed part holding no value still needs its key to read: list the key, with 0.
    if (n === 0 && !isSealed(parsed.secret)) continue;
    const id = isSealed(parsed.secret) ? sealedKeyId(parsed.secret) : null;
    out.set(id, (out.get(id) ?? 0) + n);
  }
  return out;
}

/** Options of a reencrypt run. */
export interface ReencryptOptions {
  /** Sessions per transaction (default 256): the bound on how long one step holds the lock. */
  readonly batchSize?: number;
  /**
   * Also seal secret payloads found in the clear (a database from before encryption was turned
   * on), then rebuild the file (VACUUM). Off by default: in an encrypted store a plain payload
   * is refused, not trusted.
   */
  readonly adoptPlaintext?: boolean;
}

/** What a reencrypt run did, summed over its pages. */
export type ReencryptReport = Omit<ReencryptPage, "next">;

/**
 * Runs {@link reencryptPage} over every session, one immediate transaction per page.
 *
 * @remarks Safe while a node writes to the same file from another process: each page reads and
 * rewrites its sessions inside one transaction, and the node waits on the lock (busy timeout).
 * A value that does not open stops the run with its typed error, its page rolled back, earlier
 * pages kept (running again resumes the work). With `adoptPlaintext` the file is rebuilt
 * afterwards (VACUUM): plain values written before encryption was on may linger in free pages,
 * which rewriting their rows does not clear. @throws KeyringError without a keyring.
 */
export function reencryptAll(
  db: Database.Database,
  q: Statements,
  protection: RowProtection,
  options: ReencryptOptions,
): ReencryptReport {
  if (!protection.encrypted) throw new KeyringError("reencrypt needs a keyring");
  const batch = options.batchSize ?? 256;
  if (!(batch >= 1)) throw new RangeError(`reencrypt: batchSize must be at least 1, got ${batch}`);
  const adopt = options.adoptPlaintext === true;
  const step = db.transaction((after: string) => reencryptPage(q, protection, after, batch, adopt));
  const total = { sessions: 0, payloads: 0, userTags: 0 };
  let after: string | null = "";
  while (after !== null) {
    const page: ReencryptPage = step.immediate(after);
    total.sessions += page.sessions;
    total.payloads += page.payloads;
    total.userTags += page.userTags;
    after = page.next;
  }
  if (adopt) db.exec("VACUUM");
  return total;
}
