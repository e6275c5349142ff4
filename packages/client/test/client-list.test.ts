import { afterEach, describe, expect, it } from "vitest";
import {
  InvalidRequestError,
  MalformedAnswerError,
  type MeridianClient,
  type Session,
} from "../src/index.ts";
import { parseSessionPage } from "../src/session-answer.ts";
import { fakeSetup } from "./fake-setup.ts";
import { testSeed } from "./seed.ts";

const id = (n: number) => `session-${String(n).padStart(13, "0")}`;

describe("client.list", () => {
  let client: MeridianClient | undefined;
  afterEach(() => client?.close());

  it("pages through the live sessions in id order, skipping deleted ones, until next is null", async () => {
    const s = fakeSetup(testSeed());
    client = s.client;
    const when = new Date("2025-03-04T05:06:07.089Z");
    for (const n of [4, 0, 3, 1, 2]) await s.run(s.client.put(id(n), { data: { n, when } }));
    await s.run(s.client.delete(id(3)));
    const seen: Session[] = [];
    const cursors: (string | null)[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await s.run(s.client.list({ limit: 2, ...(after ? { after } : {}) }));
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.sessions);
      cursors.push(page.next);
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen.map((x) => x.id)).toEqual([id(0), id(1), id(2), id(4)]);
    // Pages scan stored ids, the deleted one included: (0, 1), (2, 3), (4).
    expect(cursors).toEqual([id(1), id(3), null]);
    // Dates survive the listing as they survive a get.
    expect(seen[0]?.data.when).toEqual(when);
    expect(seen[0]?.data.when).toBeInstanceOf(Date);
    const lists = s.cluster.requests.filter((r) => r.method === "GET").map((r) => r.path);
    expect(lists).toEqual([
      "/v1/sessions?limit=2",
      `/v1/sessions?after=${id(1)}&limit=2`,
      `/v1/sessions?after=${id(3)}&limit=2`,
    ]);
  });

  it("sends no query at all by default, and answers an empty page for an empty region", async () => {
    const s = fakeSetup(testSeed());
    client = s.client;
    expect(await s.run(s.client.list())).toEqual({ sessions: [], next: null });
    expect(s.cluster.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /v1/sessions"]);
  });

  it("fails over like any read when the local region is unreachable, and lists what the other holds", async () => {
    const s = fakeSetup(testSeed());
    client = s.client;
    await s.run(s.client.put(id(7), { data: { n: 7 } }));
    s.cluster.replicate("eu", "us");
    s.cluster.setFault("eu", { kind: "refuse" });
    const failovers: string[] = [];
    s.client.on("failover", (e) => failovers.push(`${e.from}>${e.to}`));
    const page = await s.run(s.client.list());
    expect(page.sessions.map((x) => x.id)).toEqual([id(7)]);
    expect(failovers).toEqual(["eu>us"]);
  });

  it("refuses a bad cursor or limit without retrying", async () => {
    const s = fakeSetup(testSeed());
    client = s.client;
    await expect(s.run(s.client.list({ limit: 0 }))).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(s.run(s.client.list({ limit: 1001 }))).rejects.toMatchObject({
      code: "MERIDIAN_ERR_INVALID",
    });
    await expect(s.run(s.client.list({ after: "short" }))).rejects.toMatchObject({
      code: "MERIDIAN_ERR_BAD_ID",
    });
    expect(s.cluster.requests.map((r) => r.region)).toEqual(["eu", "eu", "eu"]);
  });

  it("refuses a page whose cursor is missing or not a string", () => {
    const session = { id: id(1), data: {}, expiresAt: null, userId: null, version: "1.eu" };
    expect(parseSessionPage({ sessions: [session], next: id(1) }, "eu").next).toBe(id(1));
    expect(() => parseSessionPage({ sessions: [session] }, "eu")).toThrow(MalformedAnswerError);
    expect(() => parseSessionPage({ sessions: [], next: 3 }, "eu")).toThrow(MalformedAnswerError);
    expect(() => parseSessionPage({ next: null }, "eu")).toThrow(MalformedAnswerError);
  });
});
