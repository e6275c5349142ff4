import type { SessionData } from "express-session";
import { afterEach, describe, expect, it } from "vitest";
import { MeridianStore } from "../src/index.ts";
import { cursorBefore, pastPrefix } from "../src/session-listing.ts";
import { cookieIn, type StoreSetup, storeSetup } from "./store-setup.ts";

const ID = /^[A-Za-z0-9_-]{16,256}$/;

function sess(fields: Record<string, unknown>): SessionData {
  return fields as unknown as SessionData;
}

/** The `after` of every listing request, in order (undefined: from the first id). */
function listCursors(s: StoreSetup): (string | undefined)[] {
  return s.cluster.requests
    .filter((r) => r.method === "GET" && r.path.startsWith("/v1/sessions?"))
    .map((r) => new URL(r.path, "http://x").searchParams.get("after") ?? undefined);
}

describe("where a prefix's listing starts and stops", () => {
  for (const prefix of ["app-", "a", "A", "0", "_", "z", "app_", "x--", "a".repeat(20)]) {
    it(`starts just below every id with prefix "${prefix}"`, () => {
      const cursor = cursorBefore(prefix);
      expect(cursor).toMatch(ID);
      // The smallest id with the prefix: "-" is the smallest id character.
      const first = prefix.padEnd(16, "-").padEnd(prefix.length + 1, "-");
      expect(cursor! < first).toBe(true);
      expect(cursor!.startsWith(prefix)).toBe(false);
    });
  }

  it("starts from the first id when nothing sorts below the prefix", () => {
    expect(cursorBefore("")).toBeUndefined();
    expect(cursorBefore("---")).toBeUndefined();
    expect(cursorBefore("b".repeat(300))).toBeUndefined();
  });

  it("stops only past the prefix's run of ids", () => {
    expect(pastPrefix("app_aaaaaaaaaaaaaaa", "app-")).toBe(true);
    expect(pastPrefix("zzzzzzzzzzzzzzzzzzz", "app-")).toBe(true);
    expect(pastPrefix("app-zzzzzzzzzzzzzzz", "app-")).toBe(false);
    expect(pastPrefix("aaaaaaaaaaaaaaaaaaa", "app-")).toBe(false);
    expect(pastPrefix("zzzzzzzzzzzzzzzzzzz", "")).toBe(false);
  });
});

describe("MeridianStore all, length, ids and clear on a fake cluster", () => {
  let s: StoreSetup | undefined;
  afterEach(() => s?.close());

  /** The store under test (prefix `app-`, two ids a page) and sessions around its prefix. */
  async function populated(): Promise<{ s: StoreSetup; mine: string[]; others: string[] }> {
    s = storeSetup(21, { prefix: "app-", scanCount: 2 });
    const cookie = cookieIn(s.clock.now(), 600_000);
    // "----------------" makes the smallest id the prefix can have.
    const mine = ["----------------", "sid-bbbbbbbbbbbbbbbbbbbb", "sid-cccccccccccccccccccc"];
    for (const [i, sid] of mine.entries()) {
      await s.run(s.store.set(sid, sess({ cookie, n: i, at: new Date(1_000 * i) })));
    }
    const gone = "sid-dddddddddddddddddddd";
    await s.run(s.store.set(gone, sess({ cookie, n: 9 })));
    await s.run(s.store.destroy(gone));
    const short = "sid-eeeeeeeeeeeeeeeeeeee";
    await s.run(s.store.set(short, sess({ cookie: cookieIn(s.clock.now(), 5_000) })));
    // Other code's sessions: before the prefix, between its cursor and it, and after it.
    const others = [
      "aaaaaaaaaaaaaaaaaaaa",
      "apozzzzzzzzzzzzzzzzz",
      "app_ffffffffffffffff",
      "zz".repeat(10),
    ];
    for (const id of others) await s.run(s.client.put(id, { data: { other: true }, ttl: 600 }));
    await s.clock.advance(10_000);
    return { s, mine, others };
  }

  it("lists only the live sessions with its prefix, without the prefix, and stops past it", async () => {
    const { s, mine } = await populated();
    expect(await s.run(s.store.ids())).toEqual(mine);
    expect(await s.run(s.store.length())).toBe(3);
    const all = (await s.run(s.store.all())) as unknown as Record<string, unknown>[];
    expect(all.map((x) => x.id)).toEqual(mine);
    expect(all.map((x) => x.n)).toEqual([0, 1, 2]);
    expect(all[2]?.at).toEqual(new Date(2_000));
    expect(all[0]?.cookie).toMatchObject({ originalMaxAge: 600_000 });
    // Each walk starts just below the prefix and ends once a page scanned past it.
    const cursors = listCursors(s);
    expect(cursors.filter((c) => c === cursorBefore("app-"))).toHaveLength(3);
    expect(cursors.every((c) => c === cursorBefore("app-") || c?.startsWith("app-"))).toBe(true);
  });

  it("sees every session of the cluster with the default empty prefix", async () => {
    const { s, mine, others } = await populated();
    const everything = new MeridianStore({ client: s.client });
    const expected = [...others, ...mine.map((sid) => `app-${sid}`)].sort();
    expect(await s.run(everything.ids())).toEqual(expected);
    expect(await s.run(everything.length())).toBe(expected.length);
  });

  it("clears its own sessions only, remove-wins, and answers callbacks", async () => {
    const { s, mine, others } = await populated();
    const cleared = await s.run(
      new Promise<unknown>((resolve) => {
        void s.store.clear((err) => resolve(err));
      }),
    );
    expect(cleared).toBeNull();
    for (const sid of mine) expect(s.cluster.session("eu", `app-${sid}`)?.deleted).toBe(true);
    for (const id of others) expect(s.cluster.session("eu", id)?.deleted).toBe(false);
    expect(await s.run(s.store.length())).toBe(0);
    expect(await s.run(s.store.get(mine[1]!))).toBeNull();
    const listed = await s.run(
      new Promise<unknown>((resolve) => {
        void s.store.all((err, list) => resolve({ err, list }));
      }),
    );
    expect(listed).toEqual({ err: null, list: [] });
    // A save of a cleared session still in flight is dropped: it stays deleted.
    await s.run(s.store.set(mine[0]!, sess({ cookie: cookieIn(s.clock.now(), 60_000) })));
    expect(s.cluster.session("eu", `app-${mine[0]}`)?.deleted).toBe(true);
  });

  it("refuses a scanCount outside 1 to 1000", () => {
    s = storeSetup(22);
    for (const scanCount of [0, 1001, 2.5, Number.NaN]) {
      expect(() => new MeridianStore({ client: s!.client, scanCount })).toThrow(RangeError);
    }
    expect(() => new MeridianStore({ client: s!.client, scanCount: 1000 })).not.toThrow();
  });
});
