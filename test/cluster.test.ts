import { afterEach, describe, expect, it } from "vitest";
import { call, TestCluster, waitFor } from "./cluster-kit.ts";

const ID = (n: number) => `session-id-${String(n).padStart(8, "0")}`;

describe("three-region cluster over real HTTP and WebSockets", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("converges after writes in every region", async () => {
    cluster = await TestCluster.start(["eu", "us", "ap"]);
    const c = cluster;
    const ids: string[] = [];
    for (const region of c.regions) {
      for (let i = 0; i < 20; i++) {
        const r = await call("POST", `${c.url(region)}/v1/sessions`, {
          data: { region, i },
          ttl: 600,
        });
        expect(r.status).toBe(201);
        ids.push(r.body.id!);
      }
    }
    await c.converge();
    for (const region of c.regions) {
      for (const id of ids) {
        const r = await call("GET", `${c.url(region)}/v1/sessions/${id}`);
        expect(r.status).toBe(200);
      }
    }
    expect(c.nodes.every((n) => n.replica.store.sessionCount() === 60)).toBe(true);
  });

  it("gives concurrent writes to one field the same winner everywhere, and keeps both fields when they differ", async () => {
    cluster = await TestCluster.start(["eu", "us", "ap"]);
    const c = cluster;
    const id = ID(1);
    expect(
      (await call("PUT", `${c.url("eu")}/v1/sessions/${id}`, { data: { base: 1 } })).status,
    ).toBe(201);
    await c.converge();
    c.cut("eu", "us");
    c.cut("eu", "ap");
    await waitFor(() => c.node("eu").replicator.connectedPeers() === 0, "eu to be cut off");
    // Same field, concurrently, on both sides of the partition; and one different field each.
    await call("PATCH", `${c.url("eu")}/v1/sessions/${id}`, { set: { color: "red", eu: true } });
    await call("PATCH", `${c.url("us")}/v1/sessions/${id}`, { set: { color: "blue", us: true } });
    c.healAll();
    await c.converge();
    const reads = await Promise.all(
      c.regions.map((r) => call("GET", `${c.url(r)}/v1/sessions/${id}`)),
    );
    const colors = new Set(reads.map((r) => r.body.data?.color));
    expect(colors.size).toBe(1);
    for (const r of reads) expect(r.body.data).toMatchObject({ base: 1, eu: true, us: true });
    // Pushed writes show in the metrics (eu pushed its first PUT to both peers).
    const counter = (text: string, name: string) =>
      [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, "gm"))].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    const metrics = await (await fetch(`${c.url("eu")}/metrics`)).text();
    expect(counter(metrics, "meridian_deltas_sent_total")).toBe(2);
  });

  it("lets a delete beat a concurrent write in another region, and refuses later writes with 410", async () => {
    cluster = await TestCluster.start(["eu", "us", "ap"]);
    const c = cluster;
    const id = ID(2);
    await call("PUT", `${c.url("eu")}/v1/sessions/${id}`, { data: { a: 1 } });
    await c.converge();
    c.isolate("us");
    await waitFor(() => c.node("us").replicator.connectedPeers() === 0, "us to be cut off");
    expect((await call("DELETE", `${c.url("eu")}/v1/sessions/${id}`)).status).toBe(204);
    // us has not heard of the delete and writes after it in wall-clock time.
    expect(
      (await call("PATCH", `${c.url("us")}/v1/sessions/${id}`, { set: { late: 1 } })).status,
    ).toBe(200);
    c.healAll();
    await c.converge();
    for (const region of c.regions) {
      expect((await call("GET", `${c.url(region)}/v1/sessions/${id}`)).status).toBe(410);
      const w = await call("PATCH", `${c.url(region)}/v1/sessions/${id}`, { set: { again: 1 } });
      expect(w.status).toBe(410);
    }
  });

  it("answers a quorum read at a region that missed a quorum-acknowledged write", async () => {
    cluster = await TestCluster.start(["eu", "us", "ap"], { syncIntervalMs: 600_000 });
    const c = cluster;
    c.cut("eu", "ap");
    await waitFor(() => c.node("ap").replicator.connectedPeers() === 1, "ap to lose eu");
    const id = ID(3);
    const w = await call("PUT", `${c.url("eu")}/v1/sessions/${id}?consistency=quorum`, {
      data: { q: 1 },
    });
    expect(w.status).toBe(201);
    // ap never got it (its link to eu is cut, and anti-entropy is far away)...
    expect((await call("GET", `${c.url("ap")}/v1/sessions/${id}`)).status).toBe(404);
    // ...but a quorum read there merges us's copy, and repairs ap.
    const q = await call("GET", `${c.url("ap")}/v1/sessions/${id}?consistency=quorum`);
    expect(q.status).toBe(200);
    expect(q.body.data).toEqual({ q: 1 });
    expect((await call("GET", `${c.url("ap")}/v1/sessions/${id}`)).status).toBe(200);
  });

  it("answers 503 to quorum operations without a majority while local ones keep working", async () => {
    cluster = await TestCluster.start(["eu", "us", "ap"], { quorumTimeoutMs: 300 });
    const c = cluster;
    c.isolate("ap");
    await waitFor(() => c.node("ap").replicator.connectedPeers() === 0, "ap to be cut off");
    const id = ID(4);
    const qw = await call("PUT", `${c.url("ap")}/v1/sessions/${id}?consistency=quorum`, {
      data: { x: 1 },
    });
    expect(qw.status).toBe(503);
    expect(qw.body.error?.code).toBe("MERIDIAN_ERR_QUORUM_UNAVAILABLE");
    // The write stays applied locally and converges after the heal.
    expect((await call("GET", `${c.url("ap")}/v1/sessions/${id}`)).status).toBe(200);
    expect((await call("GET", `${c.url("ap")}/v1/sessions/${id}?consistency=quorum`)).status).toBe(
      503,
    );
    expect(
      (await call("PATCH", `${c.url("ap")}/v1/sessions/${id}`, { set: { y: 2 } })).status,
    ).toBe(200);
    c.healAll();
    await c.converge();
    await waitFor(() => c.nodes.every((n) => n.replicator.connectedPeers() === 2), "reconnect");
    const r = await call("GET", `${c.url("eu")}/v1/sessions/${id}?consistency=all`);
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ x: 1, y: 2 });
  });

  it("serves a read with after=<token> at another region only with the write behind the token", async () => {
    cluster = await TestCluster.start(["eu", "us", "ap"], { syncIntervalMs: 600_000 });
    const c = cluster;
    c.cut("eu", "us");
    await waitFor(() => c.node("us").replicator.connectedPeers() === 1, "us to lose eu");
    const id = ID(5);
    const w = await call("PUT", `${c.url("eu")}/v1/sessions/${id}`, { data: { v: "new" } });
    const token = w.body.version!;
    expect(token).toMatch(/^\d+\./);
    const r = await call(
      "GET",
      `${c.url("us")}/v1/sessions/${id}?after=${encodeURIComponent(token)}`,
    );
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ v: "new" });
    const bad = await call("GET", `${c.url("us")}/v1/sessions/${id}?after=not-a-token`);
    expect(bad.status).toBe(400);
  });
});
