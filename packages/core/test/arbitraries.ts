/**
 * fast-check generators for core's data: timestamps, registers, sessions, version vectors, wire
 * messages (anything the codec must carry), and causally sound write histories of one session
 * (what the merge must converge on).
 */
import fc from "fast-check";
import * as Y from "yjs";
import {
  type Clock,
  type Delta,
  type Dot,
  type FieldRegister,
  type Hlc,
  isFieldName,
  isUserId,
  type Lifetime,
  type LifetimeRegister,
  normalizeLifetimes,
  type PeerMessage,
  type PeerMessageType,
  type SessionState,
  type Stamp,
  type TimeRegister,
  VersionVector,
  yjsEpochAfter,
} from "../src/index.ts";

/** A physical clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

const MAX_LOGICAL = 0xffff_ffff;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// ---------------------------------------------------------------------------------------------
// Wire-level values: the whole range the codec must carry.

/** Node and region ids, `[A-Za-z0-9_.-]{1,64}`. */
export const nodeIdArb = (): fc.Arbitrary<string> => fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);

/** Session ids, `[A-Za-z0-9_-]{16,256}`. */
export const sessionIdArb = (): fc.Arbitrary<string> =>
  fc.stringMatching(/^[A-Za-z0-9_-]{16,256}$/);

/** Field names: any well-formed Unicode string of 1 to 256 code units without NUL. */
export const fieldNameArb = (): fc.Arbitrary<string> =>
  fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter(isFieldName);

/** User ids: well-formed Unicode without control characters. */
export const userIdArb = (): fc.Arbitrary<string> =>
  fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter(isUserId);

const wallArb = () =>
  fc.oneof(
    fc.nat({ max: 10 }),
    fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
    fc.maxSafeNat(),
  );
const logicalArb = () => fc.oneof(fc.nat({ max: 10 }), fc.integer({ min: 0, max: MAX_LOGICAL }));
const safeNatArb = () => fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat());

/** Any issued timestamp. */
export const hlcArb = (): fc.Arbitrary<Hlc> =>
  fc.record({ wall: wallArb(), logical: logicalArb(), node: nodeIdArb() });

/** Timestamps drawn from a tiny domain, so that ties in every component are common. */
export const smallHlcArb = (): fc.Arbitrary<Hlc> =>
  fc.record({
    wall: fc.nat({ max: 3 }),
    logical: fc.nat({ max: 2 }),
    node: fc.constantFrom("a", "b", "b\u0000", "c"),
  });

/** Yjs epochs: the zero epoch, one derived from a value write (node + NUL), or a plain hlc. */
export const epochArb = (): fc.Arbitrary<Hlc> =>
  fc.oneof(
    fc.constant({ wall: 0, logical: 0, node: "" }),
    hlcArb().map((h) => ({ ...h, node: `${h.node}\u0000` })),
    hlcArb(),
  );

export const stampArb = (): fc.Arbitrary<Stamp> =>
  fc.record({ hlc: hlcArb(), seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) });

export const dotArb = (): fc.Arbitrary<Dot> =>
  fc.record({ origin: nodeIdArb(), seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) });

const timeArb = (): fc.Arbitrary<TimeRegister> =>
  fc.record({ at: safeNatArb(), stamp: stampArb() });

/**
 * A lifetime register in canonical form: up to four lifetimes that may overlap, touch, nest
 * (the normal form then drops the inner one) or leave gaps, over the whole uint range.
 */
export const lifetimesArb = (): fc.Arbitrary<LifetimeRegister> =>
  fc
    .array(
      fc
        .record({
          from: fc.oneof(
            fc.nat({ max: 20 }),
            fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 }),
          ),
          length: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.maxSafeNat()),
          stamp: stampArb(),
        })
        .map(
          ({ from, length, stamp }): Lifetime => ({
            from,
            until: Math.min(Number.MAX_SAFE_INTEGER, from + Math.max(1, length)),
            stamp,
          }),
        ),
      { minLength: 1, maxLength: 4 },
    )
    .map(normalizeLifetimes);

const bytesArb = (maxLength = 32) => fc.uint8Array({ maxLength });

/** A well-formed Yjs update (the codec refuses other bytes): empty, or one tab's edit. */
const yjsUpdateArb = (): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.constant(new Uint8Array([0, 0])),
    fc
      .tuple(fc.integer({ min: 1, max: 0x7fff_ffff }), fc.string({ minLength: 1, maxLength: 8 }))
      .map(([client, text]) => tabUpdate(client, text)),
  );

export const registerArb = (): fc.Arbitrary<FieldRegister> =>
  fc.oneof(
    fc.record({
      kind: fc.constant("value" as const),
      stamp: stampArb(),
      value: fc.option(bytesArb(), { nil: null }),
    }),
    fc.record({
      kind: fc.constant("yjs" as const),
      epoch: epochArb(),
      update: yjsUpdateArb(),
      stamps: fc.array(stampArb(), { minLength: 1, maxLength: 3 }),
    }),
  );

/** Any well-typed session state or fragment; optional registers are absent, never undefined. */
export const sessionArb = (): fc.Arbitrary<SessionState> =>
  fc
    .record({
      id: sessionIdArb(),
      fields: fc.uniqueArray(fc.tuple(fieldNameArb(), registerArb()), {
        maxLength: 4,
        selector: ([name]) => name,
      }),
      lifetimes: fc.option(lifetimesArb(), { nil: undefined }),
      lastAccess: fc.option(timeArb(), { nil: undefined }),
      deadline: fc.option(timeArb(), { nil: undefined }),
      idleMs: fc.option(
        fc.record({ value: fc.option(safeNatArb(), { nil: null }), stamp: stampArb() }),
        { nil: undefined },
      ),
      userId: fc.option(
        fc.record({ value: fc.option(userIdArb(), { nil: null }), stamp: stampArb() }),
        { nil: undefined },
      ),
      deleted: fc.option(stampArb(), { nil: undefined }),
    })
    .map(({ id, fields, lifetimes, lastAccess, deadline, idleMs, userId, deleted }) => {
      // Optional registers are absent rather than undefined, as the decoder produces them.
      const out: Mutable<SessionState> = { id, fields: new Map(fields) };
      if (lifetimes) out.lifetimes = lifetimes;
      if (lastAccess) out.lastAccess = lastAccess;
      if (deadline) out.deadline = deadline;
      if (idleMs) out.idleMs = idleMs;
      if (userId) out.userId = userId;
      if (deleted) out.deleted = deleted;
      return out;
    });

/** Any version vector, built from arbitrary (possibly overlapping) coverage. */
export const versionVectorArb = (): fc.Arbitrary<VersionVector> =>
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom("eu", "us"), nodeIdArb()),
        fc.oneof(fc.nat({ max: 20 }), safeNatArb()),
        fc.array(
          fc
            .tuple(fc.integer({ min: 1, max: 60 }), fc.nat({ max: 10 }))
            .map(([lo, len]) => [lo, lo + len] as const),
          { maxLength: 4 },
        ),
      ),
      { maxLength: 4 },
    )
    .map((entries) =>
      VersionVector.from(entries.map(([origin, base, ranges]) => [origin, { base, ranges }])),
    );

const deltaArb = (): fc.Arbitrary<Delta> => fc.record({ dot: dotArb(), session: sessionArb() });

const roundArb = () => safeNatArb();

/** One generator per message type; a type missing here fails to compile. */
export const messageArbs: {
  readonly [T in PeerMessageType]: fc.Arbitrary<PeerMessage & { type: T }>;
} = {
  hello: fc.record({
    type: fc.constant("hello" as const),
    protocol: fc.oneof(fc.constant(1), safeNatArb()),
    nodeId: nodeIdArb(),
    region: nodeIdArb(),
    nonce: fc.uint8Array({ minLength: 16, maxLength: 32 }),
  }),
  auth: fc.record({ type: fc.constant("auth" as const), proof: fc.uint8Array({ maxLength: 64 }) }),
  welcome: fc.record({ type: fc.constant("welcome" as const), vv: versionVectorArb() }),
  deltas: fc.record({
    type: fc.constant("deltas" as const),
    deltas: fc.array(deltaArb(), { maxLength: 3 }),
    sent: hlcArb(),
  }),
  ack: fc.record({ type: fc.constant("ack" as const), dots: fc.array(dotArb(), { maxLength: 5 }) }),
  "sync-request": fc.record({
    type: fc.constant("sync-request" as const),
    round: roundArb(),
    vv: versionVectorArb(),
  }),
  "sync-chunk": fc.record({
    type: fc.constant("sync-chunk" as const),
    round: roundArb(),
    index: roundArb(),
    sessions: fc.array(sessionArb(), { maxLength: 3 }),
  }),
  "sync-purged": fc.record({
    type: fc.constant("sync-purged" as const),
    round: roundArb(),
    index: roundArb(),
    purged: fc.array(fc.record({ id: sessionIdArb(), dot: fc.option(dotArb(), { nil: null }) }), {
      maxLength: 4,
    }),
  }),
  "sync-done": fc.record({
    type: fc.constant("sync-done" as const),
    round: roundArb(),
    chunks: roundArb(),
    vv: versionVectorArb(),
  }),
  "read-request": fc.record({
    type: fc.constant("read-request" as const),
    req: roundArb(),
    id: sessionIdArb(),
  }),
  "read-reply": fc.record({
    type: fc.constant("read-reply" as const),
    req: roundArb(),
    session: fc.option(sessionArb(), { nil: null }),
    vv: versionVectorArb(),
  }),
  repair: fc.record({
    type: fc.constant("repair" as const),
    sessions: fc.array(sessionArb(), { maxLength: 3 }),
  }),
  ping: fc.record({ type: fc.constant("ping" as const), req: roundArb(), sent: hlcArb() }),
  pong: fc.record({ type: fc.constant("pong" as const), req: roundArb(), sent: hlcArb() }),
};

/** Any peer message, every type equally likely. */
export const peerMessageArb = (): fc.Arbitrary<PeerMessage> =>
  fc.oneof(...Object.values(messageArbs));

// ---------------------------------------------------------------------------------------------
// Write histories of one session: the deltas a set of concurrent writes in several regions make.

/** The session every history writes to. */
export const HISTORY_SESSION = "history-session-0001";

const HISTORY_NODES = ["ap", "eu", "us"] as const;
const HISTORY_FIELDS = ["a", "b", "c"] as const;

type FieldOp =
  | { readonly kind: "value"; readonly value: Uint8Array | null }
  | { readonly kind: "yjs"; readonly epochFrom: number; readonly text: string };

interface WriteScript {
  readonly fields: readonly (readonly [string, FieldOp])[];
  /** `[from, length]` of the lifetime the write gives. */
  readonly lifetime: readonly [number, number] | undefined;
  readonly lastAccess: number | undefined;
  readonly deadline: number | undefined;
  readonly idleMs: number | null | undefined;
  readonly userId: string | null | undefined;
  readonly deleted: boolean;
}

/** Options of {@link historyArb}. */
export interface HistoryOptions {
  /** Whether writes may delete the session (default true). */
  readonly deletes?: boolean;
  /** Whether fields may hold Yjs documents (default true). */
  readonly yjs?: boolean;
  /** Makes one write, chosen at random, a delete. */
  readonly forceDelete?: boolean;
  readonly maxWrites?: number;
}

const fieldOpArb = (yjs: boolean): fc.Arbitrary<FieldOp> => {
  const value = fc.record({
    kind: fc.constant("value" as const),
    value: fc.option(fc.uint8Array({ minLength: 1, maxLength: 4 }), { nil: null, freq: 4 }),
  });
  if (!yjs) return value;
  return fc.oneof(
    value,
    fc.record({
      kind: fc.constant("yjs" as const),
      // 0: the zero epoch, so that concurrent first edits often share an epoch and merge.
      epochFrom: fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }) },
      ),
      text: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 4 }),
    }),
  );
};

const writeScriptArb = (opts: HistoryOptions): fc.Arbitrary<WriteScript> =>
  fc.record({
    fields: fc.uniqueArray(
      fc.tuple(fc.constantFrom(...HISTORY_FIELDS), fieldOpArb(opts.yjs ?? true)),
      {
        maxLength: 3,
        selector: ([name]) => name,
      },
    ),
    lifetime: fc.option(fc.tuple(fc.nat({ max: 100 }), fc.integer({ min: 1, max: 30 })), {
      nil: undefined,
    }),
    lastAccess: fc.option(fc.nat({ max: 100 }), { nil: undefined }),
    deadline: fc.option(fc.nat({ max: 100 }), { nil: undefined, freq: 2 }),
    idleMs: fc.option(fc.option(fc.nat({ max: 50 }), { nil: null }), { nil: undefined }),
    userId: fc.option(fc.option(fc.constantFrom("u1", "u2"), { nil: null }), { nil: undefined }),
    deleted: (opts.deletes ?? true) ? fc.nat({ max: 9 }).map((n) => n === 0) : fc.constant(false),
  });

/**
 * A Yjs update from a fresh "tab" (its own client id) that inserts `text` into the shared text
 * `draft` and records itself in the shared map `log`.
 */
export function tabUpdate(clientId: number, text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  doc.getText("draft").insert(0, text);
  doc.getMap("log").set(`tab-${clientId}`, text);
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

/**
 * A set of concurrent writes to one session, each a delta (a {@link SessionState} fragment whose
 * registers all carry the write's stamp), in the order they were made.
 *
 * @remarks Stamps are unique (distinct hlc, one sequence number per origin in hlc order), like
 * real writes. Yjs writes use the zero epoch or one derived from an earlier write, with updates
 * from distinct Yjs clients so that any two of the same epoch can merge.
 */
export function historyArb(opts: HistoryOptions = {}): fc.Arbitrary<SessionState[]> {
  const maxWrites = opts.maxWrites ?? 8;
  return fc
    .uniqueArray(
      fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 2 }), fc.constantFrom(...HISTORY_NODES)),
      { minLength: 1, maxLength: maxWrites, selector: (t) => t.join("|") },
    )
    .chain((hlcs) =>
      fc.tuple(
        fc.constant(hlcs),
        fc.array(writeScriptArb(opts), { minLength: hlcs.length, maxLength: hlcs.length }),
        fc.nat({ max: hlcs.length - 1 }),
      ),
    )
    .map(([hlcs, scripts, deleter]) => {
      const ordered = hlcs
        .map(([wall, logical, node]) => ({ wall, logical, node }))
        .sort((x, y) => x.wall - y.wall || x.logical - y.logical || (x.node < y.node ? -1 : 1));
      const nextSeq = new Map<string, number>();
      const stamps = ordered.map((hlc): Stamp => {
        const seq = (nextSeq.get(hlc.node) ?? 0) + 1;
        nextSeq.set(hlc.node, seq);
        return { hlc, seq };
      });
      return stamps.map((stamp, i) => {
        const script = scripts[i]!;
        const forced = opts.forceDelete === true && i === deleter;
        return buildDelta(stamp, forced ? { ...script, deleted: true } : script, i, stamps);
      });
    });
}

function buildDelta(
  stamp: Stamp,
  script: WriteScript,
  index: number,
  all: readonly Stamp[],
): SessionState {
  const fields = new Map<string, FieldRegister>();
  for (const [name, op] of script.fields) {
    if (op.kind === "value") {
      fields.set(name, { kind: "value", stamp, value: op.value });
    } else {
      // epochFrom 0: the zero epoch; k: derived from the value write of an earlier stamp.
      const from = op.epochFrom === 0 ? undefined : all[(op.epochFrom - 1) % Math.max(1, index)];
      const epoch =
        from === undefined || index === 0
          ? yjsEpochAfter(undefined)
          : yjsEpochAfter({ kind: "value", stamp: from, value: null });
      const update = tabUpdate(
        1000 + index * 8 + (HISTORY_FIELDS as readonly string[]).indexOf(name),
        op.text,
      );
      fields.set(name, { kind: "yjs", epoch, update, stamps: [stamp] });
    }
  }
  const out: Mutable<SessionState> = { id: HISTORY_SESSION, fields };
  const at = (ms: number): TimeRegister => ({ at: ms, stamp });
  if (script.lifetime !== undefined) {
    const [from, length] = script.lifetime;
    out.lifetimes = [{ from, until: from + length, stamp }];
  }
  if (script.lastAccess !== undefined) out.lastAccess = at(script.lastAccess);
  if (script.deadline !== undefined) out.deadline = at(script.deadline);
  if (script.idleMs !== undefined) out.idleMs = { value: script.idleMs, stamp };
  if (script.userId !== undefined) out.userId = { value: script.userId, stamp };
  if (script.deleted) out.deleted = stamp;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Yjs: several browser tabs editing one document at once.

type TabStep =
  | { readonly kind: "push"; readonly tab: number }
  | { readonly kind: "type"; readonly tab: number; readonly at: number; readonly text: string }
  | { readonly kind: "erase"; readonly tab: number; readonly at: number; readonly length: number }
  | { readonly kind: "sync"; readonly from: number; readonly to: number }
  | { readonly kind: "send"; readonly tab: number }
  | { readonly kind: "resync"; readonly tab: number }
  | { readonly kind: "note"; readonly tab: number; readonly pick: number; readonly text: string }
  | { readonly kind: "drop"; readonly tab: number; readonly pick: number };

const SYNC = Symbol("sync");

/** What a run of tabs produced: the updates they sent, and the edits those must carry. */
export interface TabsRun {
  /** Incremental updates as the tabs sent them (each becomes one write). */
  readonly updates: readonly Uint8Array[];
  /** Every item pushed to the shared array `list`; nothing ever removes one. */
  readonly pushed: readonly string[];
  /** The document every tab reaches once all of them have synced. */
  readonly final: {
    readonly list: string[];
    readonly draft: string;
    readonly marks: Record<string, unknown>;
    readonly notes: Record<string, unknown>;
  };
}

const tabStepArb = (tabs: number): fc.Arbitrary<TabStep> => {
  const tab = fc.nat({ max: tabs - 1 });
  return fc.oneof(
    fc.record({ kind: fc.constant("push" as const), tab }),
    fc.record({
      kind: fc.constant("type" as const),
      tab,
      at: fc.nat({ max: 20 }),
      text: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 3 }),
    }),
    fc.record({
      kind: fc.constant("erase" as const),
      tab,
      at: fc.nat({ max: 20 }),
      length: fc.integer({ min: 1, max: 3 }),
    }),
    fc.record({ kind: fc.constant("sync" as const), from: tab, to: tab }),
    fc.record({ kind: fc.constant("send" as const), tab }),
    fc.record({ kind: fc.constant("resync" as const), tab }),
    fc.record({
      kind: fc.constant("note" as const),
      tab,
      pick: fc.nat({ max: 3 }),
      text: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 3 }),
    }),
    fc.record({ kind: fc.constant("drop" as const), tab, pick: fc.nat({ max: 3 }) }),
  );
};

/** Read a tab document (or a replica of it) in the shape of {@link TabsRun.final}. */
export function readTabDoc(doc: Y.Doc): TabsRun["final"] {
  return {
    list: doc.getArray<string>("list").toArray(),
    draft: doc.getText("draft").toString(),
    marks: doc.getMap("marks").toJSON(),
    notes: doc.getMap("notes").toJSON(),
  };
}

/**
 * Two to four tabs edit one Yjs document: push to a list, type and erase in a text, set map keys,
 * write and drop nested texts, sometimes sync with each other (so later edits depend on earlier ones), and send their
 * changes as incremental updates, as a browser client does.
 */
export const tabsRunArb = (): fc.Arbitrary<TabsRun> =>
  fc
    .integer({ min: 2, max: 4 })
    .chain((tabs) =>
      fc.tuple(fc.constant(tabs), fc.array(tabStepArb(tabs), { minLength: 1, maxLength: 24 })),
    )
    .map(([tabs, steps]) => {
      const docs = Array.from({ length: tabs }, (_, i) => {
        const doc = new Y.Doc();
        doc.clientID = 101 + i;
        return doc;
      });
      // A tab sends its own changes since its last send, merged (a debounced client), or on
      // "resync" its whole state, other tabs' edits included (a client reconnecting).
      const local: Uint8Array[][] = docs.map(() => []);
      docs.forEach((doc, i) => {
        doc.on("update", (update: Uint8Array, origin: unknown) => {
          if (origin !== SYNC) local[i]!.push(update);
        });
      });
      const updates: Uint8Array[] = [];
      const pushed: string[] = [];
      const send = (i: number) => {
        if (local[i]!.length === 0) return;
        updates.push(Y.mergeUpdates(local[i]!));
        local[i] = [];
      };
      steps.forEach((step, n) => {
        switch (step.kind) {
          case "push": {
            const item = `t${step.tab}-${n}`;
            docs[step.tab]!.getArray<string>("list").push([item]);
            docs[step.tab]!.getMap("marks").set(item, n);
            pushed.push(item);
            break;
          }
          case "type": {
            const text = docs[step.tab]!.getText("draft");
            text.insert(Math.min(step.at, text.length), step.text);
            break;
          }
          case "erase": {
            const text = docs[step.tab]!.getText("draft");
            const at = Math.min(step.at, text.length);
            text.delete(at, Math.min(step.length, text.length - at));
            break;
          }
          case "sync":
            Y.applyUpdate(docs[step.to]!, Y.encodeStateAsUpdate(docs[step.from]!), SYNC);
            break;
          case "note": {
            // Nested types: dropping a note later turns its content into GC structs.
            const notes = docs[step.tab]!.getMap<Y.Text>("notes");
            const key = `n${step.pick}`;
            const note = notes.get(key);
            if (note === undefined) notes.set(key, new Y.Text(step.text));
            else note.insert(0, step.text);
            break;
          }
          case "drop":
            docs[step.tab]!.getMap("notes").delete(`n${step.pick}`);
            break;
          case "resync":
            send(step.tab);
            updates.push(Y.encodeStateAsUpdate(docs[step.tab]!));
            break;
          case "send":
            send(step.tab);
            break;
        }
      });
      for (let i = 0; i < docs.length; i++) send(i);
      const all = new Y.Doc();
      for (const u of updates) Y.applyUpdate(all, u);
      const final = readTabDoc(all);
      for (const doc of [...docs, all]) doc.destroy();
      return { updates, pushed, final };
    });
