import { afterEach, describe, expect, it } from "vitest";
import {
  type FailoverEvent,
  InvalidRequestError,
  type MeridianClient,
  RegionsUnavailableError,
  RegionUnreachableError,
  RequestTimeoutError,
  SessionDeletedError,
  SessionNotFoundError,
  UnauthorizedError,
  VersionUnavailableError,
} from "../src/index.ts";
import { fakeSetup } from "./fake-setup.ts";
import { testSeed } from "./seed.ts";

const ID = "session-0000000000001";

describe("client failover, backoff and tokens under injected faults", () => {
  let client: MeridianClient | undefined;
  afterEach(() => client?.close());

  it("fails over from a refusing local region, marks it down after N failures, probes it back", async () => {
    const s = fakeSetup(testSeed());
    client = s.client;
    const events: string[] = [];
    const failovers: FailoverEvent[] = [];
    s.client.on("failover", (e) => {
      failovers.push(e);
      events.push(`failover ${e.from}>${e.to}`);
    });
    s.client.on("region-down", (e) => events.push(`down ${e.region} after ${e.failures}`));
    s.client.on("region-up", (e) => events.push(`up ${e.region}`));

    s.cluster.setFault("eu", { kind: "refuse" });
    const created = await s.run(s.client.create({ data: { n: 1 }, ttl: 600 }));
    expect(s.cluster.requests.map((r) => r.region)).toEqual(["eu", "us"]);
    expect(failovers[0]?.cause).toBeInstanceOf(RegionUnreachableError);
    await s.run(s.client.patch(created.id, { set: { n: 2 } }));
    await s.run(s.client.patch(created.id, { set: { n: 3 } }));
    expect(events).toEqual([
      "failover eu>us",
      "failover eu>us",
      "down eu after 3",
      "failover eu>us",
    ]);
    // Down: tried last, so the next operation goes straight to us.
    const before = s.cluster.requests.length;
    expect((await s.run(s.client.get(created.id))).data).toEqual({ n: 3 });
    expect(s.cluster.requests.slice(before).map((r) => r.region)).toEqual(["us"]);

    s.cluster.setFault("eu", { kind: "ok" });
    s.cluster.replicate();
    await s.clock.advance(5000);
    expect(events.at(-1)).toBe("up eu");
    expect(s.client.regionOrder()[0]).toBe("eu");
    const again = s.cluster.requests.length;
    await s.run(s.client.get(created.id));
    expect(s.cluster.requests.slice(again).map((r) => r.region)).toEqual(["eu"]);
  });

  it("times out a hanging region per attempt, then moves on after a jittered backoff", async () => {
    const s = fakeSetup(testSeed(), { backoff: { baseMs: 50, capMs: 50 } });
    client = s.client;
    const causes: unknown[] = [];
    s.client.on("failover", (e) => causes.push(e.cause));
    s.cluster.setFault("eu", { kind: "hang" });
    await s.run(s.client.patch(ID, { set: { a: 1 } }));
    const [first, second] = s.cluster.requests;
    expect([first?.region, second?.region]).toEqual(["eu", "us"]);
    const gap = second!.at - first!.at;
    expect(gap).toBeGreaterThanOrEqual(1000);
    expect(gap).toBeLessThan(1050);
    expect(causes[0]).toBeInstanceOf(RequestTimeoutError);
  });

  it("ranks a slow region after a fast one by measured latency (probes included)", async () => {
    const s = fakeSetup(testSeed(), { failuresBeforeDown: 1 });
    client = s.client;
    s.cluster.setFault("eu", { kind: "refuse" });
    s.cluster.setFault("us", { kind: "slow", delayMs: 300 });
    await s.clock.advance(5000);
    await s.clock.advance(5000);
    expect(s.client.regionOrder()).toEqual(["ap", "us", "eu"]);
    const latency = Object.fromEntries(s.client.regions().map((r) => [r.name, r.latencyMs]));
    expect(latency.us).toBeGreaterThanOrEqual(300);
    expect(latency.ap).toBeLessThan(300);
    const before = s.cluster.requests.length;
    await s.run(s.client.patch(ID, { set: { a: 1 } }));
    expect(s.cluster.requests.slice(before).map((r) => r.region)).toEqual(["ap"]);
  });

  it("retries a create that carries maxLifetime (a POST) only when the connection was refused", async () => {
    const s = fakeSetup(testSeed());
    client = s.client;
    s.cluster.setFault("eu", { kind: "reset" });
    await expect(s.run(s.client.create({ maxLifetime: 60 }))).rejects.toBeInstanceOf(
      RegionUnreachableError,
    );
    s.cluster.setFault("eu", { kind: "hang" });
    await expect(s.run(s.client.create({ maxLifetime: 60 }))).rejects.toBeInstanceOf(
      RequestTimeoutError,
    );
    expect(s.cluster.requests.map((r) => `${r.method} ${r.region}`)).toEqual([
      "POST eu",
      "POST eu",
    ]);
    s.cluster.setFault("eu", { kind: "refuse" });
    const made = await s.run(s.client.create({ data: { x: 1 }, maxLifetime: 60 }));
    expect(s.cluster.requests.slice(2).map((r) => `${r.method} ${r.region}`)).toEqual([
      "POST eu",
      "POST us",
    ]);
    expect(s.cluster.session("us", made.id)?.data).toEqual({ x: 1 });
  });

  it("makes a plain create idempotent: a client-made id written with PUT, safe to retry", async () => {
    const s = fakeSetup(testSeed());
    client = s.client;
    s.cluster.setFault("eu", { kind: "reset" });
    const made = await s.run(s.client.create({ data: { cart: ["a"] }, ttl: 60 }));
    expect(made.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // The first PUT was applied in eu before the connection dropped; the retry in us wrote the
    // same id again: one session, not two.
    const puts = s.cluster.requests.filter((r) => r.method === "PUT");
    expect(puts.map((r) => r.region)).toEqual(["eu", "us"]);
    expect(new Set(puts.map((r) => r.path)).size).toBe(1);
    s.cluster.replicate();
    for (const region of ["eu", "us", "ap"]) {
      expect(s.cluster.session(region, made.id)?.data).toEqual({ cart: ["a"] });
    }
  });

  it("never retries what a region refused as absent, deleted or invalid", async () => {
    const s = fakeSetup(testSeed());
    client = s.client;
    await expect(s.run(s.client.get(ID))).rejects.toBeInstanceOf(SessionNotFoundError);
    await expect(s.run(s.client.get("short"))).rejects.toBeInstanceOf(InvalidRequestError);
    await s.run(s.client.patch(ID, { set: { a: 1 } }));
    await s.run(s.client.delete(ID));
    const deleted = s.run(s.client.patch(ID, { set: { a: 2 } }));
    await expect(deleted).rejects.toBeInstanceOf(SessionDeletedError);
    await expect(deleted).rejects.toMatchObject({
      code: "MERIDIAN_ERR_SESSION_DELETED",
      status: 410,
      region: "eu",
    });
    expect(s.cluster.requests.map((r) => r.method)).toEqual([
      "GET",
      "GET",
      "PATCH",
      "DELETE",
      "PATCH",
    ]);
  });

  it("gives up with RegionsUnavailableError listing every attempt when no region answers", async () => {
    const s = fakeSetup(testSeed(), { retries: 4 });
    client = s.client;
    for (const r of ["eu", "us", "ap"]) s.cluster.setFault(r, { kind: "refuse" });
    const failed = s.run(s.client.get(ID));
    await expect(failed).rejects.toBeInstanceOf(RegionsUnavailableError);
    const error = (await failed.catch((e: unknown) => e)) as RegionsUnavailableError;
    expect(error.attempts.map((a) => a.region)).toEqual(["eu", "us", "ap", "eu", "us"]);
    expect(error.code).toBe("MERIDIAN_ERR_REGIONS_UNAVAILABLE");
  });

  it("carries the session's last version token, so a read after failover sees its own write", async () => {
    const s = fakeSetup(testSeed(), { retries: 2 });
    client = s.client;
    await s.run(s.client.patch(ID, { set: { step: 1 } }));
    await s.run(s.client.patch(ID, { set: { step: 2 } }));
    const token = s.client.versionOf(ID);
    expect(token).toBeDefined();
    s.cluster.setFault("eu", { kind: "refuse" });
    // No other region has the write yet: refuse to answer rather than answer stale.
    await expect(s.run(s.client.get(ID))).rejects.toBeInstanceOf(VersionUnavailableError);
    const reads = s.cluster.requests.filter((r) => r.method === "GET");
    for (const r of reads) expect(r.path).toContain(`after=${encodeURIComponent(token!)}`);
    // Without the token, us would have answered with what it has: nothing.
    await expect(s.run(s.client.get(ID, { after: null }))).rejects.toBeInstanceOf(
      SessionNotFoundError,
    );
    s.cluster.replicate("eu", "us");
    expect((await s.run(s.client.get(ID))).data).toEqual({ step: 2 });
    // A write in the new region moves the token there.
    await s.run(s.client.patch(ID, { set: { step: 3 } }));
    expect(s.client.versionOf(ID)).not.toBe(token);
    expect((await s.run(s.client.get(ID))).data).toEqual({ step: 3 });
  });

  it("sends the bearer token, and never retries an answer that asks for one", async () => {
    const seed = testSeed();
    const without = fakeSetup(seed);
    client = without.client;
    without.cluster.requireToken("s3cret");
    await expect(without.run(without.client.get(ID))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(without.cluster.requests.filter((r) => r.path !== "/healthz")).toHaveLength(1);
    without.client.close();
    const s = fakeSetup(seed, { authToken: "s3cret" });
    client = s.client;
    s.cluster.requireToken("s3cret");
    await s.run(s.client.patch(ID, { set: { a: 1 } }));
    expect((await s.run(s.client.get(ID))).data).toEqual({ a: 1 });
  });

  it("stops probing on close and refuses new operations", async () => {
    const s = fakeSetup(testSeed());
    client = s.client;
    expect(s.clock.pendingTimers).toBe(1);
    s.client.close();
    expect(s.clock.pendingTimers).toBe(0);
    await expect(s.run(s.client.get(ID))).rejects.toMatchObject({
      code: "MERIDIAN_ERR_CLIENT_CLOSED",
    });
  });
});
