import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Delta, packValue, unpackValue } from "@meridian/core";
import {
  fieldValue,
  testDelta,
  testSessionId,
  testStamp,
  yjsItems,
  yjsUpdate,
} from "@meridian/core/testing";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { type Keyring, openSqliteStore, parseKeyring, type SqliteStore } from "../src/index.ts";
import { SealedRows } from "../src/sealed-rows.ts";
import { secretPart } from "../src/session-body.ts";
import { keyring, newKey, plaintextFound } from "./keyring-kit.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-sqlite-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `keys-${++files}.db`);

const k1 = newKey();
const k2 = newKey();
const ringK1 = keyring({ k1 }, "k1");
const ringBoth = keyring({ k1, k2 }, "k2");
const ringK2 = keyring({ k2 }, "k2");

const ids = [testSessionId("enc1"), testSessionId("enc2"), testSessionId("enc3")] as const;
const SECRETS = ["card-4111-1111-1111-1111", "diary-entry-plaintext", "yjs-draft-plaintext"];
const USERS = ["alice.plaintext@example.com", "bob.plaintext@example.com"];

/** Writes whose values, Yjs text and userIds are all distinctive strings. */
function secretWrites(seq0: number): Delta[] {
  return [
    testDelta(ids[0], testStamp("eu", seq0 + 1), {
      set: { card: SECRETS[0], note: { text: SECRETS[1] } },
      userId: USERS[0],
      expiresAt: 2_000_000_000_000,
    }),
    testDelta(ids[1], testStamp("eu", seq0 + 2), {
      yjs: {
        draft: { epoch: { wall: 0, logical: 0, node: "" }, update: yjsUpdate(7, SECRETS[2]!) },
      },
      userId: USERS[1],
    }),
    testDelta(ids[2], testStamp("eu", seq0 + 3), { set: { n: 1 }, userId: USERS[0] }),
  ];
}

/** Checks that every written value reads back and the user index finds its sessions. */
function expectReadable(store: SqliteStore): void {
  expect(fieldValue(store.getSession(ids[0]), "card")).toBe(SECRETS[0]);
  expect(fieldValue(store.getSession(ids[0]), "note")).toEqual({ text: SECRETS[1] });
  const draft = store.getSession(ids[1])?.fields.get("draft");
  expect(draft?.kind === "yjs" ? yjsItems(draft.update) : draft).toEqual([SECRETS[2]]);
  expect(store.sessionsOfUser(USERS[0]!)).toEqual([ids[0], ids[2]]);
  expect(store.sessionsOfUser(USERS[1]!)).toEqual([ids[1]]);
  expect(store.getSession(ids[0])?.userId?.value).toBe(USERS[0]);
}

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

function rawUserIds(path: string): (string | null)[] {
  const raw = new Database(path, { readonly: true });
  try {
    const rows = raw.prepare("SELECT user_id FROM sessions ORDER BY id").all() as {
      user_id: string | null;
    }[];
    return rows.map((r) => r.user_id);
  } finally {
    raw.close();
  }
}

describe("SqliteStore encryption at rest", () => {
  it("leaves no value or userId in the clear in the file or the WAL, where a plain store does", () => {
    const needles = [...SECRETS, ...USERS];
    const plain = openSqliteStore(freshPath());
    plain.applyDeltas(secretWrites(0));
    // The scan can see plaintext: a store without a keyring shows every needle.
    expect(plaintextFound(plain.path, needles)).toEqual(needles);
    plain.close();

    const sealed = openSqliteStore(freshPath(), { keyring: ringK1 });
    sealed.applyDeltas(secretWrites(0));
    expect(plaintextFound(sealed.path, needles)).toEqual([]);
    expectReadable(sealed);
    expect(rawUserIds(sealed.path).every((u) => u !== null && !USERS.includes(u))).toBe(true);
    sealed.close(); // checkpoints the WAL into the file
    expect(plaintextFound(sealed.path, needles)).toEqual([]);
    const again = openSqliteStore(sealed.path, { keyring: ringK1 });
    expectReadable(again);
    again.close();
  });

  it("rotates: new writes use the new key, old ones still read, reencrypt moves every value", () => {
    const path = freshPath();
    let store = openSqliteStore(path, { keyring: ringK1 });
    store.applyDeltas(secretWrites(0));
    store.close();

    store = openSqliteStore(path, { keyring: ringBoth });
    expectReadable(store);
    store.applyDeltas([testDelta(ids[0], testStamp("eu", 10), { set: { extra: "new-key" } })]);
    // A session's values are sealed together: the new write moved all of session 1's (card,
    // note, extra, userId) to k2; draft, n and two userIds stay under k1.
    const usage = store.keyUsage();
    expect(usage.get("k2")).toBe(4);
    expect(usage.get("k1")).toBe(4);
    expect(usage.get(null)).toBeUndefined();
    const tagsBefore = rawUserIds(path);

    const report = store.reencrypt({ batchSize: 2 });
    expect(report).toEqual({ sessions: 3, payloads: 4, userTags: 3 });
    expect([...store.keyUsage()]).toEqual([["k2", 8]]);
    const tagsAfter = rawUserIds(path);
    expect(tagsAfter.every((t, i) => t !== tagsBefore[i])).toBe(true);
    // Nothing left to do: a second run rewrites nothing.
    expect(store.reencrypt()).toEqual({ sessions: 3, payloads: 0, userTags: 0 });
    store.close();

    store = openSqliteStore(path, { keyring: ringK2 });
    expectReadable(store);
    expect(fieldValue(store.getSession(ids[0]), "extra")).toBe("new-key");
    store.close();
  });

  it("refuses with a typed error, never garbage, when the key is unknown, wrong or missing", () => {
    const path = freshPath();
    openSqliteStore(path, { keyring: ringK1 }).applyDeltas(secretWrites(0));

    const withoutK1 = openSqliteStore(path, { keyring: ringK2 });
    expect(codeOf(() => withoutK1.getSession(ids[0]))).toBe("MERIDIAN_ERR_STORAGE_UNKNOWN_KEY");
    expect(codeOf(() => withoutK1.reencrypt())).toBe("MERIDIAN_ERR_STORAGE_UNKNOWN_KEY");
    withoutK1.close();

    const noKeyring = openSqliteStore(path);
    expect(codeOf(() => noKeyring.getSession(ids[1]))).toBe("MERIDIAN_ERR_STORAGE_UNKNOWN_KEY");
    expect(codeOf(() => [...noKeyring.allSessions()])).toBe("MERIDIAN_ERR_STORAGE_UNKNOWN_KEY");
    noKeyring.close();

    const impostor = openSqliteStore(path, { keyring: keyring({ k1: newKey() }, "k1") });
    expect(codeOf(() => impostor.getSession(ids[0]))).toBe("MERIDIAN_ERR_STORAGE_DECRYPT");
    impostor.close();

    // The right keyring still reads everything: the failures above changed nothing.
    const right = openSqliteStore(path, { keyring: ringK1 });
    expectReadable(right);
    right.close();
  });

  it("binds each secret part to its session and field names: a moved or renamed one does not read", () => {
    const path = freshPath();
    // No session cache: the rows are tampered with behind the store's back.
    const store = openSqliteStore(path, { keyring: ringK1, cachedSessions: 0 });
    store.applyDeltas(secretWrites(0));
    const raw = new Database(path);
    const bodyOf = (id: string) =>
      (raw.prepare("SELECT body FROM sessions WHERE id = ?").get(id) as { body: Uint8Array }).body;
    const setBody = (id: string, body: Uint8Array) =>
      raw.prepare("UPDATE sessions SET body = ? WHERE id = ?").run(body, id);
    try {
      // Session 1's sealed part inside session 3's body, then session 1's body as session 3's.
      const own = unpackValue(bodyOf(ids[2])) as unknown[];
      const other = unpackValue(bodyOf(ids[0])) as unknown[];
      setBody(ids[2], packValue([...own.slice(0, 8), other[8]]));
      expect(codeOf(() => store.getSession(ids[2]))).toBe("MERIDIAN_ERR_STORAGE_DECRYPT");
      setBody(ids[2], bodyOf(ids[0]));
      expect(codeOf(() => store.getSession(ids[2]))).toBe("MERIDIAN_ERR_STORAGE_DECRYPT");
      // Session 1's fields swapped: "note" would read the card number.
      const fields = other[7] as [string, unknown][];
      const swapped = fields.map((f, i) => [fields[1 - i]![0], f[1]]);
      setBody(ids[0], packValue([...other.slice(0, 7), swapped, other[8]]));
      expect(codeOf(() => store.getSession(ids[0]))).toBe("MERIDIAN_ERR_STORAGE_DECRYPT");
    } finally {
      raw.close();
      store.close();
    }
  });

  it("binds each secret part to its readable registers: an altered stamp or kind does not read", () => {
    const path = freshPath();
    const store = openSqliteStore(path, { keyring: ringK1, cachedSessions: 0 });
    store.applyDeltas(secretWrites(0));
    const raw = new Database(path);
    const bodyOf = (id: string) =>
      unpackValue(
        (raw.prepare("SELECT body FROM sessions WHERE id = ?").get(id) as { body: Uint8Array })
          .body,
      ) as unknown[];
    const setBody = (id: string, body: unknown[]) =>
      raw.prepare("UPDATE sessions SET body = ? WHERE id = ?").run(packValue(body), id);
    try {
      const own = bodyOf(ids[0]);
      const fields = own[7] as [string, [number, number, string, number]][];
      // The card's stamp moved far ahead, so a replayed or stale value would win every merge.
      const later = fields.map(([name, st]) => [name, [st[0] + 1e9, st[1], st[2], st[3]]]);
      setBody(ids[0], [...own.slice(0, 7), later, own[8]]);
      expect(codeOf(() => store.getSession(ids[0]))).toBe("MERIDIAN_ERR_STORAGE_DECRYPT");
      // The card turned into a Yjs field: its value bytes would be read as a Yjs document.
      const asYjs = fields.map(([name, st]) => [name, [0, 0, ""], [st]]);
      setBody(ids[0], [...own.slice(0, 7), asYjs, own[8]]);
      expect(codeOf(() => store.getSession(ids[0]))).toBe("MERIDIAN_ERR_STORAGE_DECRYPT");
      // The userId's stamp dropped: the session would lose its userId.
      setBody(ids[0], [...own.slice(0, 5), null, ...own.slice(6)]);
      expect(codeOf(() => store.getSession(ids[0]))).toBe("MERIDIAN_ERR_STORAGE_DECRYPT");
      setBody(ids[0], own);
      expectReadable(store);
      // A format 1 body (bound to the field names only) still reads; reencrypt moves it to 2.
      const session = store.getSession(ids[0])!;
      const names = fields.map(([name]) => `\u0000${name}`).join("");
      const v1 = new SealedRows(ringK1).seal(secretPart(session), ids[0], `\u0000body${names}`);
      setBody(ids[0], [1, ...own.slice(1, 8), v1]);
      expectReadable(store);
      expect(store.reencrypt()).toMatchObject({ sessions: 3, payloads: 3 });
      expect(bodyOf(ids[0])[0]).toBe(2);
      expectReadable(store);
    } finally {
      raw.close();
      store.close();
    }
  });

  it("refuses plain values in an encrypted store until reencrypt adopts them, then scrubs them", () => {
    const path = freshPath();
    const plain = openSqliteStore(path);
    plain.applyDeltas(secretWrites(0));
    // Enough rows of varied sizes to span pages, then overwrites, so that old plain bytes also
    // sit in free space inside pages (where rewriting the rows alone would leave them).
    const bulk = Array.from({ length: 60 }, (_, i) => ({
      id: testSessionId(`bulk${i}`),
      value: `bulk-secret-${i}-${"z".repeat(i * 3)}`,
      user: `bulk-user-${i}@example.com`,
    }));
    plain.applyDeltas(
      bulk.map((b, i) =>
        testDelta(b.id, testStamp("us", i + 1), { set: { v: b.value }, userId: b.user }),
      ),
    );
    plain.applyDeltas([
      testDelta(ids[0], testStamp("eu", 20), { set: { card: "x" } }),
      ...bulk.map((b, i) => testDelta(b.id, testStamp("us", 100 + i), { set: { v: i } })),
    ]);
    plain.close();
    const needles = [...SECRETS, ...USERS, ...bulk.flatMap((b) => [b.value, b.user])];
    expect(plaintextFound(path, needles).length).toBeGreaterThan(SECRETS.length);

    const store = openSqliteStore(path, { keyring: ringK1 });
    expect(codeOf(() => store.getSession(ids[0]))).toBe("MERIDIAN_ERR_STORAGE_PLAINTEXT");
    expect(codeOf(() => store.reencrypt())).toBe("MERIDIAN_ERR_STORAGE_PLAINTEXT");
    expect(store.reencrypt({ adoptPlaintext: true, batchSize: 16 })).toMatchObject({
      sessions: 63,
      userTags: 63,
    });
    expect([...store.keyUsage()]).toEqual([["k1", 7 + 2 * 60]]);
    expect(fieldValue(store.getSession(ids[0]), "card")).toBe("x");
    expect(store.sessionsOfUser(USERS[0]!)).toEqual([ids[0], ids[2]]);
    expect(store.sessionsOfUser(bulk[7]!.user)).toEqual([bulk[7]!.id]);
    expect(plaintextFound(path, needles)).toEqual([]);
    store.close();
  });

  it("parses keyring files and refuses bad ones without quoting key material", () => {
    const b64 = k1.toString("base64");
    const ring: Keyring = parseKeyring(JSON.stringify({ current: "k1", keys: { k1: b64 } }));
    expect(Buffer.from(ring.keys.k1!).equals(k1)).toBe(true);
    const bad = [
      "not json",
      JSON.stringify({ current: "k2", keys: { k1: b64 } }),
      JSON.stringify({ current: "k1", keys: { k1: b64.slice(4) } }),
      JSON.stringify({ current: "bad id", keys: { "bad id": b64 } }),
      JSON.stringify({ keys: { k1: b64 } }),
    ];
    for (const text of bad) {
      let message = "";
      expect(() => {
        try {
          parseKeyring(text);
        } catch (e) {
          message = (e as Error).message;
          throw e;
        }
      }).toThrow(expect.objectContaining({ code: "MERIDIAN_ERR_KEYRING" }));
      expect(message).not.toContain(b64.slice(0, 12));
    }
    expect(() =>
      openSqliteStore(freshPath(), { keyring: keyring({ k1: k1.subarray(1) }, "k1") }),
    ).toThrow(expect.objectContaining({ code: "MERIDIAN_ERR_KEYRING" }));
  });
});

describe("key usage of sessions without secret values", () => {
  it("lists the key of every sealed part, even one holding no value, so removing a listed-free key never strands a session", () => {
    const path = freshPath();
    let store = openSqliteStore(path, { keyring: ringK1 });
    // Only metadata (an expiry), no field and no userId: its secret part is sealed all the same.
    const bare = testSessionId("enc-bare");
    store.applyDeltas([testDelta(bare, testStamp("eu", 1), { expiresAt: 2_000_000_000_000 })]);
    store.close();

    store = openSqliteStore(path, { keyring: ringBoth });
    // k1 still seals that session's part: it must be listed, or an operator removes it.
    expect(store.keyUsage().has("k1")).toBe(true);
    store.reencrypt();
    expect([...store.keyUsage().keys()]).toEqual(["k2"]);
    store.close();

    store = openSqliteStore(path, { keyring: ringK2 });
    expect(store.getSession(bare)?.lifetimes?.length).toBe(1);
    store.close();
  });
});
