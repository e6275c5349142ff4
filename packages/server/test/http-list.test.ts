import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../src/index.ts";
import { call, ShiftedClock, sid, startTestNode, storeSnapshot } from "./http-kit.ts";

let node: RunningNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

async function fresh(clock = new ShiftedClock()): Promise<{ url: string; clock: ShiftedClock }> {
  // No janitor pass during a test: the stored ids (tombstones included) stay as written.
  node = await startTestNode({ defaultTtlMs: 3_600_000, janitorIntervalMs: 3_600_000 }, clock);
  return { url: node.url, clock };
}

/** Walks every page with `limit`, checking each page's shape; returns the ids in answer order. */
async function walk(url: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 1; pages <= 1000; pages++) {
    const q: string = after === null ? `limit=${limit}` : `limit=${limit}&after=${after}`;
    const page = await call("GET", `${url}/v1/sessions?${q}`);
    expect(page.status).toBe(200);
    expect(Object.keys(page.body ?? {}).sort()).toEqual(["next", "sessions"]);
    const sessions = page.body?.sessions ?? [];
    expect(sessions.length).toBeLessThanOrEqual(limit);
    ids.push(...sessions.map((s) => String(s.id)));
    const next = page.body?.next;
    if (next === null) return { ids, pages };
    expect(typeof next).toBe("string");
    after = String(next);
  }
  throw new Error("GET /v1/sessions paging does not terminate");
}

describe("GET /v1/sessions", () => {
  it("pages through every live session exactly once, in id order, skipping deleted and expired ones", async () => {
    const { url, clock } = await fresh();
    const live: string[] = [];
    for (let i = 0; i < 23; i++) {
      const id = sid(`list-${String(i).padStart(2, "0")}`);
      const ttl = i % 5 === 1 ? 10 : 600;
      expect((await call("PUT", `${url}/v1/sessions/${id}`, { data: { i }, ttl })).status).toBe(
        201,
      );
      if (i % 4 === 3) {
        expect((await call("DELETE", `${url}/v1/sessions/${id}`)).status).toBe(204);
      } else if (ttl === 600) {
        live.push(id);
      }
    }
    clock.offsetMs = 20_000;
    expect(node?.replica.store.sessionCount()).toBe(23);
    for (const limit of [1, 4, 7, 23, 100]) {
      const { ids, pages } = await walk(url, limit);
      expect(ids).toEqual([...live].sort());
      // Every page but the last scanned `limit` stored ids (23 of them, tombstones included).
      expect(pages).toBe(Math.floor(23 / limit) + 1);
    }
  });

  it("answers each session as GET /v1/sessions/:id does, and reading a page records no access", async () => {
    const { url, clock } = await fresh();
    const created = await call("POST", `${url}/v1/sessions`, {
      data: { cart: ["book"], n: 1.5 },
      ttl: 600,
      idle: 60,
      userId: "ada",
    });
    expect(created.status).toBe(201);
    const page = await call("GET", `${url}/v1/sessions`);
    expect(page.status).toBe(200);
    expect(page.body?.next).toBeNull();
    expect(page.body?.sessions).toEqual([created.body]);
    // Listing is not a use of the session: its idle timeout still runs out.
    clock.offsetMs = 40_000;
    await call("GET", `${url}/v1/sessions`);
    clock.offsetMs = 61_000;
    expect((await call("GET", `${url}/v1/sessions/${created.body?.id}`)).status).toBe(404);
    expect((await call("GET", `${url}/v1/sessions`)).body).toEqual({ sessions: [], next: null });
  });

  it("answers an empty page for an empty node and after the last id, and sets next on a full scan", async () => {
    const { url } = await fresh();
    expect((await call("GET", `${url}/v1/sessions`)).body).toEqual({ sessions: [], next: null });
    const a = sid("page-a");
    const b = sid("page-b");
    for (const id of [a, b]) await call("PUT", `${url}/v1/sessions/${id}`, { data: {} });
    const full = await call("GET", `${url}/v1/sessions?limit=2`);
    expect(full.body?.sessions?.map((s) => s.id)).toEqual([a, b]);
    expect(full.body?.next).toBe(b);
    const after = await call("GET", `${url}/v1/sessions?limit=2&after=${b}`);
    expect(after.body).toEqual({ sessions: [], next: null });
    const between = await call("GET", `${url}/v1/sessions?after=${sid("page-a0")}`);
    expect(between.body?.sessions?.map((s) => s.id)).toEqual([b]);
    expect((await call("GET", `${url}/v1/sessions?limit=1000`)).status).toBe(200);
    expect((await call("GET", `${url}/metrics`)).text).toMatch(
      /meridian_http_requests_total\{[^}]*op="list_sessions"[^}]*\} 5/,
    );
  });

  const refused: [string, string, string][] = [
    ["after shorter than an id", "after=short", "MERIDIAN_ERR_BAD_ID"],
    ["after with a character ids never hold", `after=${sid("x")}.`, "MERIDIAN_ERR_BAD_ID"],
    ["empty after", "after=", "MERIDIAN_ERR_BAD_ID"],
    ["repeated after", `after=${sid("x")}&after=${sid("y")}`, "MERIDIAN_ERR_INVALID"],
    ["limit 0", "limit=0", "MERIDIAN_ERR_INVALID"],
    ["limit over 1000", "limit=1001", "MERIDIAN_ERR_INVALID"],
    ["negative limit", "limit=-1", "MERIDIAN_ERR_INVALID"],
    ["limit in exponent form", "limit=1e2", "MERIDIAN_ERR_INVALID"],
    ["fractional limit", "limit=2.5", "MERIDIAN_ERR_INVALID"],
    ["signed limit", "limit=+5", "MERIDIAN_ERR_INVALID"],
    ["empty limit", "limit=", "MERIDIAN_ERR_INVALID"],
    ["word limit", "limit=ten", "MERIDIAN_ERR_INVALID"],
    ["repeated limit", "limit=1&limit=2", "MERIDIAN_ERR_INVALID"],
  ];
  describe("refuses bad input with 400, changing nothing", () => {
    let keep: RunningNode;
    beforeAll(async () => {
      keep = await startTestNode();
      await call("PUT", `${keep.url}/v1/sessions/${sid("keep")}`, { data: { a: 1 } });
    });
    afterAll(() => keep.close());

    for (const [name, query, code] of refused) {
      it(`${name}: ${code}`, async () => {
        const before = storeSnapshot(keep);
        const answer = await call("GET", `${keep.url}/v1/sessions?${query}`);
        expect(answer.status).toBe(400);
        expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
        expect(answer.body?.error?.code).toBe(code);
        expect(storeSnapshot(keep)).toEqual(before);
      });
    }
  });

  it("still creates with POST, and names both methods when another is used on the collection", async () => {
    const { url } = await fresh();
    expect((await call("POST", `${url}/v1/sessions`, { data: {} })).status).toBe(201);
    const put = await call("PUT", `${url}/v1/sessions`, { data: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")?.split(/,\s*/).sort()).toEqual(["GET", "POST"]);
  });
});
