import { createClient, type MeridianClient, SessionDeletedError } from "@meridian/client";
import { MeridianStore, type MeridianStoreOptions } from "@meridian/session-store";
import type { Store } from "express-session";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster, waitFor } from "./cluster-kit.ts";
import { CookieJar, browse, Gates } from "./web-kit.ts";
import { WholeObjectStore } from "./whole-object-store.ts";

/** A running app serving the flows' routes (see express-app.ts). */
export interface FlowApp {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts an app of one framework on `store`. */
export type StartApp = (store: Store, gates: Gates) => Promise<FlowApp>;

/**
 * The session-store flows every framework adapter must pass, against a real three-region
 * cluster driven by real HTTP requests with cookies: login with regenerate, overlapping requests
 * in two regions (and the lost update of a whole-object store), log out everywhere, listing and
 * clearing one app's sessions, and the local region dying mid-session.
 */
export function describeSessionFlows(framework: string, startApp: StartApp): void {
  describe(`${framework} with MeridianStore on a three-region cluster`, () => {
    let cluster: TestCluster | undefined;
    const clients: MeridianClient[] = [];
    const apps: FlowApp[] = [];
    afterEach(async () => {
      for (const a of apps.splice(0)) await a.close();
      for (const c of clients.splice(0)) c.close();
      await cluster?.close();
      cluster = undefined;
    });

    async function start(): Promise<TestCluster> {
      cluster = await TestCluster.start(["eu", "us", "ap"]);
      return cluster;
    }

    function clientIn(c: TestCluster, localRegion: string): MeridianClient {
      const client = createClient({
        regions: Object.fromEntries(c.regions.map((r) => [r, c.url(r)])),
        localRegion,
        probeIntervalMs: 200,
        backoff: { baseMs: 10, capMs: 100 },
      });
      clients.push(client);
      return client;
    }

    function meridianStore(
      client: MeridianClient,
      options: Omit<MeridianStoreOptions, "client"> = {},
    ): MeridianStore {
      return new MeridianStore({
        client,
        userId: (s) => (typeof s.userId === "string" ? s.userId : undefined),
        ...options,
      });
    }

    async function app(store: Store, gates = new Gates()): Promise<FlowApp> {
      const a = await startApp(store, gates);
      apps.push(a);
      return a;
    }

    it("logs in with regenerate: a new id indexed under the user, the old one destroyed", async () => {
      const c = await start();
      const probe = clientIn(c, "eu");
      const web = await app(meridianStore(clientIn(c, "eu")));
      const jar = new CookieJar();
      const anonymous = await browse(jar, web.url, "POST", "/set?key=cart&value=book");
      expect(jar.header()).toBeDefined();
      const before = String(anonymous.body.sessionID);
      const login = await browse(jar, web.url, "POST", "/login?user=alice");
      const after = String(login.body.sessionID);
      expect(after).not.toBe(before);
      const me = await browse(jar, web.url, "GET", "/me");
      expect(me.body.sessionID).toBe(after);
      expect(me.body.fields).toMatchObject({ userId: "alice" });
      expect(me.body.loginAtIsDate).toBe(true);
      const stored = await probe.get(after);
      expect(stored.userId).toBe("alice");
      expect(stored.data.loginAt).toBeInstanceOf(Date);
      await expect(probe.get(before)).rejects.toBeInstanceOf(SessionDeletedError);
    });

    for (const kind of ["MeridianStore", "a whole-object store"] as const) {
      const keepsBoth = kind === "MeridianStore";
      it(`${keepsBoth ? "keeps" : "loses one of"} two overlapping changes to different fields made in two regions, with ${kind}`, async () => {
        const c = await start();
        const storeFor = (region: string): Store =>
          keepsBoth
            ? meridianStore(clientIn(c, region))
            : new WholeObjectStore(clientIn(c, region));
        const gates = new Gates();
        const eu = await app(storeFor("eu"), gates);
        const us = await app(storeFor("us"), gates);
        const probeUs = clientIn(c, "us");
        const jar = new CookieJar();
        const sid = String((await browse(jar, eu.url, "POST", "/login?user=bob")).body.sessionID);
        await c.converge();
        // Both requests load the session before either changes it.
        const a = browse(jar, eu.url, "POST", "/set?key=a&value=1&gate=A");
        const b = browse(jar.clone(), us.url, "POST", "/set?key=b&value=2&gate=B");
        await Promise.all([gates.reached("A"), gates.reached("B")]);
        gates.release("A");
        expect((await a).status).toBe(200);
        // The eu request's save reaches us before the us request saves: the classic race.
        await waitFor(async () => (await probeUs.get(sid)).data.a === "1", "us to see a=1");
        gates.release("B");
        expect((await b).status).toBe(200);
        await c.converge();
        for (const region of c.regions) {
          const data = (await clientIn(c, region).get(sid)).data;
          expect(data.b).toBe("2");
          expect(data.userId).toBe("bob");
          if (keepsBoth) expect(data.a).toBe("1");
          else expect(data.a).toBeUndefined();
        }
      });
    }

    it("logs a user out everywhere through the user index", async () => {
      const c = await start();
      const probe = clientIn(c, "eu");
      const eu = await app(meridianStore(clientIn(c, "eu")));
      const us = await app(meridianStore(clientIn(c, "us")));
      const laptop = new CookieJar();
      const phone = new CookieJar();
      const other = new CookieJar();
      const one = String(
        (await browse(laptop, eu.url, "POST", "/login?user=carol")).body.sessionID,
      );
      const two = String((await browse(phone, us.url, "POST", "/login?user=carol")).body.sessionID);
      await browse(other, eu.url, "POST", "/login?user=dave");
      await waitFor(
        async () => (await probe.listUser("carol")).length === 2,
        "eu's index to list both of carol's sessions",
      );
      const out = await browse(laptop, eu.url, "POST", "/logout-everywhere");
      expect(out.body.revoked).toBe(2);
      expect((await browse(laptop, eu.url, "GET", "/me")).body.fields).not.toHaveProperty("userId");
      await waitFor(async () => {
        const me = await browse(phone, us.url, "GET", "/me");
        return !Object.hasOwn(me.body.fields as object, "userId");
      }, "the phone's session in us to be revoked too");
      await expect(probe.get(one)).rejects.toBeInstanceOf(SessionDeletedError);
      await expect(probe.get(two)).rejects.toBeInstanceOf(SessionDeletedError);
      expect((await browse(other, eu.url, "GET", "/me")).body.fields).toMatchObject({
        userId: "dave",
      });
    });

    it("lists, counts and clears one app's sessions (its prefix only) from any region", async () => {
      const c = await start();
      const shopStore = meridianStore(clientIn(c, "eu"), { prefix: "shop-", scanCount: 2 });
      const blogStore = meridianStore(clientIn(c, "eu"), { prefix: "blog-" });
      const shop = await app(shopStore);
      const blog = await app(blogStore);
      const browsers = ["alice", "bob", "carol"].map(() => new CookieJar());
      const sids: string[] = [];
      for (const [i, user] of ["alice", "bob", "carol"].entries()) {
        const login = await browse(browsers[i]!, shop.url, "POST", `/login?user=${user}`);
        sids.push(String(login.body.sessionID));
      }
      const reader = new CookieJar();
      const blogSid = String(
        (await browse(reader, blog.url, "POST", "/login?user=dave")).body.sessionID,
      );
      await shopStore.destroy(sids[2]!);
      const live = [sids[0]!, sids[1]!].sort();

      expect(await shopStore.ids()).toEqual(live);
      const counted = await new Promise<unknown>((resolve) => {
        void shopStore.length((err, n) => resolve({ err, n }));
      });
      expect(counted).toEqual({ err: null, n: 2 });
      const all = ((await shopStore.all()) ?? []) as unknown as Record<string, unknown>[];
      expect(all.map((s) => [s.id, s.userId])).toEqual(
        live.map((sid) => [sid, sid === sids[0] ? "alice" : "bob"]),
      );
      expect(all.every((s) => s.loginAt instanceof Date)).toBe(true);
      expect(await blogStore.ids()).toEqual([blogSid]);

      // Another region lists the same once replicated, and clearing there wins everywhere.
      await c.converge();
      const usShop = meridianStore(clientIn(c, "us"), { prefix: "shop-" });
      expect(await usShop.ids()).toEqual(live);
      await usShop.clear();
      expect(await usShop.length()).toBe(0);
      await waitFor(async () => (await shopStore.length()) === 0, "eu to see the shop cleared");
      const me = await browse(browsers[0]!, shop.url, "GET", "/me");
      expect(me.body.fields).not.toHaveProperty("userId");
      expect(await blogStore.ids()).toEqual([blogSid]);
      expect((await browse(reader, blog.url, "GET", "/me")).body.fields).toMatchObject({
        userId: "dave",
      });
    });

    it("keeps serving the same session when the local region dies mid-session", async () => {
      const c = await start();
      const client = clientIn(c, "eu");
      const events: string[] = [];
      client.on("region-down", (e) => events.push(`down ${e.region}`));
      client.on("failover", (e) => events.push(`failover ${e.from}>${e.to}`));
      // Quorum writes: an acknowledged write is in two regions, so it outlives eu.
      const web = await app(meridianStore(client, { writeConsistency: "quorum" }));
      const jar = new CookieJar();
      await browse(jar, web.url, "POST", "/login?user=erin");
      for (let n = 1; n <= 12; n++) {
        if (n === 5) await c.node("eu").close();
        const r = await browse(jar, web.url, "POST", "/incr");
        expect(r.status).toBe(200);
        // Each request read the previous one's write: nothing lost, nothing stale.
        expect(r.body.n).toBe(n);
      }
      const me = await browse(jar, web.url, "GET", "/me");
      expect(me.body.fields).toMatchObject({ userId: "erin", n: 12 });
      // Which region takes over depends on measured latency: either other one will do.
      expect(events.filter((e) => e.startsWith("failover eu>")).length).toBeGreaterThan(0);
      expect(events).toContain("down eu");
    });
  });
}
