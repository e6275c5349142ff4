import type { SessionData } from "express-session";
import { afterEach, describe, expect, it } from "vitest";
import { UnauthorizedError } from "@meridian/client";
import { cookieIn, SID, type StoreSetup, storeSetup } from "./store-setup.ts";

/** A session object as a test builds it; the store sees any object. */
function sess(fields: Record<string, unknown>): SessionData {
  return fields as unknown as SessionData;
}

function record(s: SessionData | null | undefined): Record<string, unknown> {
  if (s == null) throw new Error("no session");
  return s as unknown as Record<string, unknown>;
}

describe("MeridianStore on a fake cluster", () => {
  let s: StoreSetup | undefined;
  afterEach(() => s?.close());

  it("writes a new session whole, then sends only the fields a request changed", async () => {
    s = storeSetup(1);
    const t = s.clock.now();
    await s.run(s.store.set(SID, sess({ cookie: cookieIn(t, 60_000), cart: [1], theme: "dark" })));
    const loaded = record(await s.run(s.store.get(SID)));
    loaded.cart = [1, 2];
    delete loaded.theme;
    await s.run(s.store.set(SID, sess(loaded)));
    const patch = s.cluster.requests.at(-1);
    expect(s.calls()).toEqual([
      `PUT /v1/sessions/${SID}?consistency=local`,
      // The read carries the token of the write before it (read-your-writes).
      `GET /v1/sessions/${SID}?consistency=local&after=0.eu`,
      `PATCH /v1/sessions/${SID}?consistency=local`,
    ]);
    expect(patch?.body).toEqual({ set: { cart: [1, 2] }, unset: ["theme"], ttl: 60 });
    expect(s.cluster.session("eu", SID)?.data).toMatchObject({ cart: [1, 2] });
    expect(s.cluster.session("eu", SID)?.data).not.toHaveProperty("theme");
  });

  it("keeps both changes of two overlapping requests that change different fields", async () => {
    s = storeSetup(2);
    const cookie = cookieIn(s.clock.now(), 60_000);
    await s.run(s.store.set(SID, sess({ cookie, a: 0, b: 0 })));
    const first = record(await s.run(s.store.get(SID)));
    const second = record(await s.run(s.store.get(SID)));
    first.a = 1;
    second.b = 2;
    await s.run(s.store.set(SID, sess(first)));
    await s.run(s.store.set(SID, sess(second)));
    expect(s.cluster.session("eu", SID)?.data).toMatchObject({ a: 1, b: 2 });
  });

  it("matches each save to the load it came from when sessions are copied (as @fastify/session does)", async () => {
    s = storeSetup(3);
    const cookie = cookieIn(s.clock.now(), 60_000);
    await s.run(s.store.set(SID, sess({ cookie, a: 0, b: 0 })));
    // Copies drop the snapshot the loaded objects carry, like @fastify/session's Session does.
    const copy = (x: SessionData | null | undefined) => ({ ...record(x) });
    const reqA = copy(await s.run(s.store.get(SID)));
    const reqB = copy(await s.run(s.store.get(SID)));
    reqA.a = 1;
    await s.run(s.store.set(SID, sess(reqA)));
    // A third request loads after A saved; B saves after that and must not send a = 0 back.
    const reqC = copy(await s.run(s.store.get(SID)));
    reqB.b = 2;
    await s.run(s.store.set(SID, sess(reqB)));
    expect(s.cluster.requests.at(-1)?.body).toMatchObject({ set: { b: 2 } });
    expect(s.cluster.session("eu", SID)?.data).toMatchObject({ a: 1, b: 2 });
    reqC.c = 3;
    await s.run(s.store.set(SID, sess(reqC)));
    expect(s.cluster.session("eu", SID)?.data).toMatchObject({ a: 1, b: 2, c: 3 });
  });

  it("round-trips Dates and binary values", async () => {
    s = storeSetup(4);
    const at = new Date("2024-05-06T07:08:09.010Z");
    const bytes = new Uint8Array([1, 2, 3]);
    await s.run(s.store.set(SID, sess({ cookie: cookieIn(s.clock.now(), 60_000), at, bytes })));
    const got = record(await s.run(s.store.get(SID)));
    expect(got.at).toBeInstanceOf(Date);
    expect((got.at as Date).getTime()).toBe(at.getTime());
    expect(new Uint8Array(got.bytes as Uint8Array)).toEqual(bytes);
    expect((got.cookie as { expires: unknown }).expires).toBeInstanceOf(Date);
  });

  it("takes the TTL from cookie.expires, else ttl, and destroys a session whose expiry passed", async () => {
    s = storeSetup(5, { ttl: 120 });
    const now = s.clock.now();
    await s.run(s.store.set(SID, sess({ cookie: cookieIn(now, 30_500), n: 1 })));
    expect(s.cluster.requests.at(-1)?.body).toMatchObject({ ttl: 31 });
    await s.run(s.store.set(`${SID}-2`, sess({ cookie: { originalMaxAge: null }, n: 1 })));
    expect(s.cluster.requests.at(-1)?.body).toMatchObject({ ttl: 120 });
    await s.run(s.store.set(SID, sess({ cookie: cookieIn(now, -1000), n: 2 })));
    expect(s.calls().at(-1)).toBe(`DELETE /v1/sessions/${SID}?consistency=local`);
    expect(s.cluster.session("eu", SID)?.deleted).toBe(true);
    expect(await s.run(s.store.get(SID))).toBeNull();
  });

  it("lets a ttl function decide over the cookie", async () => {
    s = storeSetup(6, { ttl: (session) => (session.admin === true ? 300 : 3600) });
    await s.run(s.store.set(SID, sess({ cookie: cookieIn(s.clock.now(), 10_000), admin: true })));
    expect(s.cluster.requests.at(-1)?.body).toMatchObject({ ttl: 300 });
  });

  it("coalesces touches within touchAfter and skips them all with disableTouch", async () => {
    s = storeSetup(7, { touchAfter: 60 });
    await s.run(s.store.set(SID, sess({ cookie: cookieIn(s.clock.now(), 600_000), n: 1 })));
    const loaded = await s.run(s.store.get(SID));
    await s.run(s.store.touch(SID, loaded!));
    expect(s.calls().filter((c) => c.includes("/touch"))).toEqual([]);
    await s.clock.advance(61_000);
    const later = record(await s.run(s.store.get(SID)));
    later.cookie = cookieIn(s.clock.now(), 600_000);
    await s.run(s.store.touch(SID, sess(later)));
    expect(s.calls().filter((c) => c.includes("/touch"))).toHaveLength(1);
    // Right after that touch, the next one is coalesced again.
    await s.run(s.store.touch(SID, sess(later)));
    expect(s.calls().filter((c) => c.includes("/touch"))).toHaveLength(1);
    s.close();

    s = storeSetup(8, { disableTouch: true });
    await s.run(s.store.set(SID, sess({ cookie: cookieIn(s.clock.now(), 600_000) })));
    await s.run(s.store.touch(SID, (await s.run(s.store.get(SID)))!));
    expect(s.calls().filter((c) => c.includes("/touch"))).toEqual([]);
  });

  it("stores each field through a serializer when given one", async () => {
    s = storeSetup(9, {
      serializer: {
        stringify: (v) => `json:${JSON.stringify(v)}`,
        parse: (t) => JSON.parse(t.slice(5)),
      },
    });
    await s.run(s.store.set(SID, sess({ cookie: { originalMaxAge: null }, cart: ["x"] })));
    expect(s.cluster.session("eu", SID)?.data.cart).toBe('json:["x"]');
    expect(record(await s.run(s.store.get(SID))).cart).toEqual(["x"]);
  });

  it("indexes the session's user, rewrites it whole when the user changes, and revokes a user", async () => {
    s = storeSetup(10, {
      userId: (session) => (session.passport as { user?: string } | undefined)?.user,
    });
    const cookie = cookieIn(s.clock.now(), 60_000);
    await s.run(s.store.set(SID, sess({ cookie, cart: [] })));
    expect(s.cluster.requests.at(-1)?.body).toMatchObject({ userId: null });
    const loaded = record(await s.run(s.store.get(SID)));
    loaded.passport = { user: "alice" };
    await s.run(s.store.set(SID, sess(loaded)));
    expect(s.calls().at(-1)).toMatch(/^PUT /);
    expect(s.cluster.session("eu", SID)?.userId).toBe("alice");
    expect(await s.run(s.store.sessionsOfUser("alice"))).toEqual([SID]);
    expect(await s.run(s.store.revokeUser("alice"))).toBe(1);
    expect(await s.run(s.store.get(SID))).toBeNull();
    // A save still in flight when the user was logged out everywhere is dropped: remove-wins.
    await s.run(s.store.set(SID, sess({ ...loaded, late: true })));
    expect(s.cluster.session("eu", SID)?.deleted).toBe(true);
  });

  it("answers callbacks and promises alike, and never rejects the promise when a callback is given", async () => {
    s = storeSetup(11);
    await s.run(s.store.set(SID, sess({ cookie: { originalMaxAge: null }, n: 1 })));
    const viaCallback = await s.run(
      new Promise<unknown>((resolve) => {
        void s!.store.get(SID, (err, value) => resolve({ err, n: record(value).n }));
      }),
    );
    expect(viaCallback).toEqual({ err: null, n: 1 });
    const counted = await s.run(
      new Promise<unknown>((resolve) => {
        void s!.store.length((err, n) => resolve({ err, n }));
      }),
    );
    expect(counted).toEqual({ err: null, n: 1 });
    // A 401 is never retried: the call fails at once, through the callback only.
    s.cluster.requireToken("secret");
    let settled: unknown = "pending";
    const failure = await s.run(
      new Promise<unknown>((resolve) => {
        const p = s!.store.length((err) => resolve(err));
        void p.then((v) => {
          settled = v;
        });
      }),
    );
    expect(failure).toBeInstanceOf(UnauthorizedError);
    expect(settled).toBeUndefined();
    await expect(s.run(s.store.all())).rejects.toBeInstanceOf(UnauthorizedError);
    s.cluster.requireToken(undefined);
    expect(await s.run(s.store.get("not a valid id"))).toBeNull();
    await s.run(s.store.destroy(SID));
    expect(await s.run(s.store.get(SID))).toBeNull();
    await expect(s.run(s.store.destroy(SID))).resolves.toBeUndefined();
  });
});
