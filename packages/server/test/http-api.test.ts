import type { PeerLink } from "@meridian/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../src/index.ts";
import { call, ShiftedClock, sid, startTestNode, storeSnapshot } from "./http-kit.ts";

const clock = new ShiftedClock();
let node: RunningNode;
let url: string;

beforeAll(async () => {
  node = await startTestNode({ defaultTtlMs: 3_600_000 }, clock);
  url = node.url;
});
afterAll(async () => {
  await node.close();
});

const isoIn = (iso: string | null | undefined, fromMs: number, toMs: number) => {
  expect(typeof iso).toBe("string");
  const t = Date.parse(iso as string);
  expect(t).toBeGreaterThanOrEqual(fromMs);
  expect(t).toBeLessThanOrEqual(toMs);
};

describe("HTTP API v1: happy paths", () => {
  it("creates a session with a server-made id and reads it back", async () => {
    const before = clock.now();
    const c = await call("POST", `${url}/v1/sessions`, {
      data: { cart: [1, 2], user: { name: "Ada" }, flag: null, n: 1.5, s: "é😀" },
      ttl: 60,
      userId: "user-1",
    });
    const after = clock.now();
    expect(c.status).toBe(201);
    const body = c.body!;
    expect(Object.keys(body).sort()).toEqual(["data", "expiresAt", "id", "userId", "version"]);
    expect(body.id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(body.data).toEqual({
      cart: [1, 2],
      user: { name: "Ada" },
      flag: null,
      n: 1.5,
      s: "é😀",
    });
    expect(body.userId).toBe("user-1");
    isoIn(body.expiresAt, before + 60_000, after + 60_000);
    expect(c.headers.get("meridian-version")).toBe(body.version);
    expect(c.headers.get("content-type")).toMatch(/^application\/json/);

    const g = await call("GET", `${url}/v1/sessions/${body.id}`);
    expect(g.status).toBe(200);
    expect(g.body).toEqual(body);
  });

  it("gives a session without ttl the node's default, and caps expiry at maxLifetime", async () => {
    const before = clock.now();
    const d = await call("POST", `${url}/v1/sessions`, { data: { a: 1 } });
    isoIn(d.body?.expiresAt, before + 3_600_000, clock.now() + 3_600_000);
    const capped = await call("POST", `${url}/v1/sessions`, { ttl: 600, maxLifetime: 10 });
    expect(capped.status).toBe(201);
    isoIn(capped.body?.expiresAt, before + 10_000, clock.now() + 10_000);
    const empty = await call("POST", `${url}/v1/sessions`);
    expect(empty.status).toBe(201);
    expect(empty.body?.data).toEqual({});
  });

  it("PUT creates with 201, then replaces every field with 200", async () => {
    const id = sid("put");
    const a = await call("PUT", `${url}/v1/sessions/${id}`, {
      data: { a: 1, b: 2 },
      userId: "u-put",
    });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ id, data: { a: 1, b: 2 }, userId: "u-put" });
    const b = await call("PUT", `${url}/v1/sessions/${id}`, { data: { c: 3 } });
    expect(b.status).toBe(200);
    expect(b.body?.data).toEqual({ c: 3 });
    expect(b.body?.userId).toBe("u-put");
    expect(b.body?.version).not.toBe(a.body?.version);
    expect((await call("GET", `${url}/v1/sessions/${id}`)).body?.data).toEqual({ c: 3 });
  });

  it("PATCH merges fields, creates an absent session, and answers 200 either way", async () => {
    const id = sid("patch");
    const created = await call("PATCH", `${url}/v1/sessions/${id}`, { set: { a: 1, b: 2 } });
    expect(created.status).toBe(200);
    expect(created.body?.data).toEqual({ a: 1, b: 2 });
    const merged = await call("PATCH", `${url}/v1/sessions/${id}`, {
      set: { c: [3] },
      unset: ["a"],
    });
    expect(merged.status).toBe(200);
    expect(merged.body?.data).toEqual({ b: 2, c: [3] });
    const g = await call("GET", `${url}/v1/sessions/${id}`);
    expect(g.body?.data).toEqual({ b: 2, c: [3] });
  });

  it("touch answers {expiresAt} and moves expiry forward", async () => {
    const id = sid("touch");
    await call("PUT", `${url}/v1/sessions/${id}`, { data: { a: 1 }, ttl: 10 });
    const before = clock.now();
    const t = await call("POST", `${url}/v1/sessions/${id}/touch`, { ttl: 120 });
    expect(t.status).toBe(200);
    expect(Object.keys(t.body!)).toEqual(["expiresAt"]);
    isoIn(t.body?.expiresAt, before + 120_000, clock.now() + 120_000);
    expect(t.headers.get("meridian-version")).toMatch(/^\d+\./);
    const bare = await call("POST", `${url}/v1/sessions/${id}/touch`);
    expect(bare.status).toBe(200);
    expect(Date.parse(bare.body?.expiresAt as string)).toBeGreaterThanOrEqual(
      Date.parse(t.body?.expiresAt as string),
    );
  });

  it("DELETE answers 204 with no body, after which the session reads 410", async () => {
    const id = sid("delete");
    await call("PUT", `${url}/v1/sessions/${id}`, { data: { a: 1 } });
    const d = await call("DELETE", `${url}/v1/sessions/${id}`);
    expect(d.status).toBe(204);
    expect(d.text).toBe("");
    expect((await call("GET", `${url}/v1/sessions/${id}`)).status).toBe(410);
    expect((await call("DELETE", `${url}/v1/sessions/${id}`)).status).toBe(204);
  });

  it("lists a user's sessions and revokes them all", async () => {
    const user = "user with spaces/and slash";
    const path = `${url}/v1/users/${encodeURIComponent(user)}/sessions`;
    const ids = [sid("user-a"), sid("user-b")];
    for (const id of ids)
      await call("PUT", `${url}/v1/sessions/${id}`, { data: { id }, userId: user });
    const list = await call("GET", path);
    expect(list.status).toBe(200);
    expect(list.body?.sessions?.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(list.body?.sessions?.[0]).toMatchObject({ userId: user });
    const revoke = await call("DELETE", path);
    expect(revoke.status).toBe(200);
    expect(revoke.body).toEqual({ revoked: 2 });
    for (const id of ids) expect((await call("GET", `${url}/v1/sessions/${id}`)).status).toBe(410);
    expect((await call("GET", path)).body).toEqual({ sessions: [] });
    expect((await call("DELETE", path)).body).toEqual({ revoked: 0 });
  });

  it("takes ?consistency= on reads and writes, and after=<token> on reads", async () => {
    const id = sid("consistency");
    const w = await call("PUT", `${url}/v1/sessions/${id}?consistency=quorum`, { data: { q: 1 } });
    expect(w.status).toBe(201);
    const token = w.body?.version as string;
    for (const level of ["local", "quorum", "all"]) {
      const r = await call(
        "GET",
        `${url}/v1/sessions/${id}?consistency=${level}&after=${encodeURIComponent(token)}`,
      );
      expect(r.status).toBe(200);
      expect(r.body?.data).toEqual({ q: 1 });
    }
    expect(
      (await call("PATCH", `${url}/v1/sessions/${id}?consistency=all`, { set: { r: 2 } })).status,
    ).toBe(200);
    expect((await call("DELETE", `${url}/v1/sessions/${id}?consistency=all`)).status).toBe(204);
  });

  it("reads an expired session as 404 and refuses writes to it with 410", async () => {
    const id = sid("expire");
    await call("PUT", `${url}/v1/sessions/${id}`, { data: { a: 1 }, ttl: 1 });
    clock.offsetMs += 2_000;
    try {
      const snap = storeSnapshot(node);
      const g = await call("GET", `${url}/v1/sessions/${id}`);
      expect(g.status).toBe(404);
      expect(g.body?.error?.code).toBe("MERIDIAN_ERR_NOT_FOUND");
      for (const [method, path, body] of [
        ["PUT", "", { data: { b: 2 } }],
        ["PATCH", "", { set: { b: 2 } }],
        ["POST", "/touch", {}],
      ] as const) {
        const w = await call(method, `${url}/v1/sessions/${id}${path}`, body);
        expect(w.status).toBe(410);
        expect(w.body?.error?.code).toBe("MERIDIAN_ERR_SESSION_EXPIRED");
      }
      expect(storeSnapshot(node)).toEqual(snap);
    } finally {
      clock.offsetMs -= 2_000;
    }
  });

  it("expires an idle session unless it is read in time", async () => {
    const c = await call("POST", `${url}/v1/sessions`, { data: { a: 1 }, ttl: 3600, idle: 10 });
    const path = `${url}/v1/sessions/${c.body?.id}`;
    const start = clock.offsetMs;
    try {
      clock.offsetMs = start + 8_000;
      expect((await call("GET", path)).status).toBe(200);
      clock.offsetMs = start + 16_000;
      expect((await call("GET", path)).status).toBe(200);
      clock.offsetMs = start + 27_000;
      expect((await call("GET", path)).status).toBe(404);
    } finally {
      clock.offsetMs = start;
    }
  });

  it("describes the cluster, liveness and readiness", async () => {
    const c = await call("GET", `${url}/v1/cluster`);
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ nodeId: node.nodeId, region: "eu", peers: [] });
    expect(c.body?.sessionCount).toBe(node.replica.store.sessionCount());
    expect(c.body?.seq).toBe(node.replica.store.versionVector().base(node.nodeId));
    const h = await call("GET", `${url}/healthz`);
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ status: "ok" });
    const r = await call("GET", `${url}/readyz`);
    expect(r.status).toBe(200);
  });

  it("lists each peer in /v1/cluster with its connection and lag", async () => {
    const n = await startTestNode({ region: "ap" });
    try {
      const link: PeerLink = { peerId: "us-peer", region: "us", send: () => true, close: () => {} };
      n.replicator.attach(link);
      const up = await call("GET", `${n.url}/v1/cluster`);
      expect(up.body).toMatchObject({
        nodeId: n.nodeId,
        region: "ap",
        peers: [{ nodeId: "us-peer", region: "us", connected: true, lagMs: null }],
      });
      n.replicator.detach(link);
      const down = await call("GET", `${n.url}/v1/cluster`);
      expect(down.body?.peers).toMatchObject([{ nodeId: "us-peer", connected: false }]);
    } finally {
      await n.close();
    }
  });

  it("stores a field named __proto__ as an ordinary field", async () => {
    const id = sid("proto");
    const p = await call(
      "PUT",
      `${url}/v1/sessions/${id}`,
      '{"data":{"__proto__":{"admin":true},"x":1}}',
    );
    expect(p.status).toBe(201);
    const g = await call("GET", `${url}/v1/sessions/${id}`);
    expect(Object.keys(g.body?.data ?? {}).sort()).toEqual(["__proto__", "x"]);
    const data = (JSON.parse(g.text) as { data: object }).data;
    expect(Object.getOwnPropertyDescriptor(data, "__proto__")?.value).toEqual({ admin: true });
  });
});
