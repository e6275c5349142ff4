/**
 * One write as the fake cluster logs it.
 *
 * @remarks `index` orders ops globally; later ops win.
 */
export interface FakeOp {
  readonly index: number;
  readonly region: string;
  readonly id: string;
  readonly at: number;
  readonly kind: "replace" | "patch" | "touch" | "delete";
  readonly set?: Readonly<Record<string, unknown>>;
  readonly unset?: readonly string[];
  readonly ttlMs?: number | null;
  readonly userId?: string | null;
}

/**
 * A session as one fake region sees it.
 *
 * @remarks A fold of the ops one region has seen; never stored.
 */
export interface FakeSession {
  readonly id: string;
  readonly data: Record<string, unknown>;
  readonly expiresAt: number | null;
  readonly userId: string | null;
  readonly deleted: boolean;
  /** Index of the newest op folded in. */
  readonly newest: number;
}

/**
 * Folds a session's ops, oldest first, into the state a region that has seen them holds.
 *
 * @remarks A simplified model of the real CRDT, enough for SDK and store tests: later ops win
 * field by field, expiry only moves forward, a delete wins over everything (remove-wins).
 */
export function foldSession(id: string, ops: readonly FakeOp[]): FakeSession | undefined {
  let s: { -readonly [K in keyof FakeSession]: FakeSession[K] } | undefined;
  for (const op of ops) {
    s ??= { id, data: {}, expiresAt: null, userId: null, deleted: false, newest: op.index };
    s.newest = op.index;
    if (op.kind === "delete") s.deleted = true;
    if (op.kind === "replace") s.data = {};
    for (const [k, v] of Object.entries(op.set ?? {})) s.data[k] = v;
    for (const k of op.unset ?? []) delete s.data[k];
    if (op.userId !== undefined) s.userId = op.userId;
    if (op.ttlMs != null) s.expiresAt = Math.max(s.expiresAt ?? 0, op.at + op.ttlMs);
  }
  return s;
}
