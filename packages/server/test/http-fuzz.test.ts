import { packValue, unpackValue } from "@meridian/core";
import { propertyParams } from "@meridian/core/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../src/index.ts";
import { sid, startTestNode, storeSnapshot } from "./http-kit.ts";

/**
 * Randomized requests that are each wrong in at least one way (route, method, id, query, content
 * type, size or body), sent to a real node: every one must get a 4xx JSON error, never a 5xx or
 * a hang, and the store must not change.
 */

let node: RunningNode;
const LIVE = sid("fuzz-live");
const DELETED = sid("fuzz-deleted");

beforeAll(async () => {
  node = await startTestNode({ maxBodyBytes: 64 * 1024, maxValueBytes: 1024 });
  const put = (id: string) =>
    fetch(`${node.url}/v1/sessions/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: { a: 1 }, userId: "fuzz-user" }),
    });
  expect((await put(LIVE)).status).toBe(201);
  expect((await put(DELETED)).status).toBe(201);
  expect((await fetch(`${node.url}/v1/sessions/${DELETED}`, { method: "DELETE" })).status).toBe(
    204,
  );
});
afterAll(async () => {
  await node.close();
});

interface FuzzRequest {
  readonly why: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string | Uint8Array;
  readonly contentType?: string;
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
const validId = fc.oneof(
  fc.constantFrom(LIVE, DELETED),
  fc.stringMatching(/^[A-Za-z0-9_-]{16,40}$/),
);
const segment = fc.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/);
const junkBody = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);

const isPlainObject = (v: unknown) =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.getPrototypeOf(v) === Object.prototype;

/** The body routes, with a valid body each and the properties it allows. */
const BODY_ROUTES = [
  {
    method: "POST",
    path: () => fc.constant("/v1/sessions"),
    valid: { data: { a: 1 } },
    keys: ["data", "ttl", "idle", "maxLifetime", "userId"],
  },
  {
    method: "PUT",
    path: () => validId.map((id) => `/v1/sessions/${id}`),
    valid: { data: { a: 1 } },
    keys: ["data", "ttl", "idle", "userId"],
  },
  {
    method: "PATCH",
    path: () => validId.map((id) => `/v1/sessions/${id}`),
    valid: { set: { a: 1 } },
    keys: ["set", "unset", "yjs", "ttl"],
  },
  {
    method: "POST",
    path: () => validId.map((id) => `/v1/sessions/${id}/touch`),
    valid: { ttl: 5 },
    keys: ["ttl"],
  },
] as const;

const badDuration = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.boolean(),
  fc.integer({ max: 0 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, max: 0 }),
  fc.constant(1e13),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);
const badName = fc.oneof(
  fc.constant(""),
  fc.string({ maxLength: 10 }).map((s) => `${s}\u0000`),
  fc.constant("n".repeat(257)),
);
const notAnObject = fc.oneof(
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.string(),
  fc.integer(),
  fc.boolean(),
);
const badFields = fc.oneof(
  notAnObject,
  badName.map((n) => ({ [n]: 1 })),
  fc.constant({ big: "x".repeat(2000) }),
);
const badValue: Record<string, fc.Arbitrary<unknown>> = {
  ttl: badDuration,
  idle: badDuration,
  maxLifetime: badDuration,
  data: badFields,
  set: fc.oneof(badFields, fc.constant(null)),
  unset: fc.oneof(
    fc.string(),
    fc.integer(),
    fc.array(fc.oneof(fc.integer(), badName), { minLength: 1, maxLength: 3 }),
  ),
  yjs: fc.oneof(
    notAnObject,
    fc.constant(null),
    fc.record({
      d: fc.oneof(
        fc.integer(),
        fc.constant(""),
        fc.string({ maxLength: 20 }).map((s) => `!${s}`),
      ),
    }),
    fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((u) => ({ d: Buffer.from([0xff, ...u]).toString("base64") })),
  ),
  userId: fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant(""),
    fc.constant("u".repeat(257)),
    fc.string({ maxLength: 10 }).map((s) => `${s}\u0007`),
    fc.array(fc.string(), { maxLength: 2 }),
  ),
};

const encoded = (value: unknown) =>
  fc
    .boolean()
    .map(
      (msgpack): Pick<FuzzRequest, "body" | "contentType"> =>
        msgpack
          ? { body: packValue(value), contentType: "application/msgpack" }
          : { body: JSON.stringify(value), contentType: "application/json" },
    );

const badRoute: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.constantFrom(...METHODS),
    path: fc.oneof(
      segment
        .filter((s) => !["v1", "healthz", "readyz", "metrics"].includes(s))
        .map((s) => `/${s}`),
      segment.filter((s) => !["sessions", "cluster", "users"].includes(s)).map((s) => `/v1/${s}`),
      fc
        .tuple(
          validId,
          segment.filter((s) => s !== "touch"),
        )
        .map(([id, s]) => `/v1/sessions/${id}/${s}`),
      fc
        .tuple(
          segment,
          segment.filter((s) => s !== "sessions"),
        )
        .map(([u, s]) => `/v1/users/${u}/${s}`),
      fc.tuple(validId, segment).map(([id, s]) => `/v1/sessions/${id}/touch/${s}`),
    ),
    body: junkBody,
  })
  .map((r) => ({ why: "no route", ...r }));

const TEMPLATES = [
  { path: fc.constant("/v1/sessions"), allow: ["GET", "POST"] },
  { path: validId.map((id) => `/v1/sessions/${id}`), allow: ["GET", "PUT", "PATCH", "DELETE"] },
  { path: validId.map((id) => `/v1/sessions/${id}/touch`), allow: ["POST"] },
  { path: fc.constant("/v1/users/fuzz-user/sessions"), allow: ["GET", "DELETE"] },
  { path: fc.constantFrom("/v1/cluster", "/healthz", "/readyz", "/metrics"), allow: ["GET"] },
];
const wrongMethod: fc.Arbitrary<FuzzRequest> = fc
  .constantFrom(...TEMPLATES)
  .chain((t) =>
    fc.record({
      method: fc.constantFrom(...METHODS.filter((m) => !t.allow.includes(m))),
      path: t.path,
      body: junkBody,
    }),
  )
  .map((r) => ({ why: "wrong method", ...r }));

const badIdText = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,15}$/),
  fc.stringMatching(/^[A-Za-z0-9_-]{257,300}$/),
  // A bad character inside the id: URL parsers trim spaces at the ends of a URL.
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z0-9_-]{16,20}$/),
      fc.constantFrom("$", "!", " ", ".", "/", "\u00e9", "%"),
    )
    .map(([s, c]) => `${s.slice(0, 8)}${c}${s.slice(8)}`),
);
const badId: fc.Arbitrary<FuzzRequest> = fc
  .record({
    route: fc.constantFrom<[string, string]>(
      ["GET", ""],
      ["PUT", ""],
      ["PATCH", ""],
      ["DELETE", ""],
      ["POST", "/touch"],
    ),
    id: badIdText,
    raw: fc.boolean(),
    body: junkBody,
  })
  .map(({ route: [method, suffix], id, raw, body }) => ({
    why: "bad id",
    method,
    path: `/v1/sessions/${raw ? id.replace(/[/%?#]/g, "$") : encodeURIComponent(id)}${suffix}`,
    body,
  }));

const badUser: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.constantFrom("GET", "DELETE"),
    user: fc.oneof(
      fc.constant("u".repeat(257)),
      fc.string({ maxLength: 8 }).map((s) => `${s}\u0001`),
    ),
  })
  .map(({ method, user }) => ({
    why: "bad user id",
    method,
    path: `/v1/users/${encodeURIComponent(user)}/sessions`,
  }));

const badQuery: fc.Arbitrary<FuzzRequest> = fc
  .record({
    t: fc.constantFrom(...BODY_ROUTES),
    level: fc.string({ maxLength: 8 }).filter((s) => !["local", "quorum", "all"].includes(s)),
  })
  .chain(({ t, level }) =>
    fc.record({ path: t.path(), enc: encoded(t.valid) }).map(({ path, enc }) => ({
      why: "bad consistency",
      method: t.method,
      path: `${path}?consistency=${encodeURIComponent(level)}`,
      ...enc,
    })),
  );

const badProperty: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...BODY_ROUTES).chain((t) =>
  fc
    .oneof(
      fc.constantFrom(...t.keys).chain((key) => badValue[key]!.map((v) => ({ key, v }))),
      fc
        .string({ minLength: 1, maxLength: 12 })
        .filter((k) => !(t.keys as readonly string[]).includes(k) && k !== "__proto__")
        .map((key) => ({ key, v: 1 as unknown })),
    )
    .chain(({ key, v }) =>
      fc
        .record({ path: t.path(), enc: encoded({ ...t.valid, [key]: v }) })
        .map(({ path, enc }) => ({
          why: `bad ${key}`,
          method: t.method,
          path,
          ...enc,
        })),
    ),
);

const patchConflict: fc.Arbitrary<FuzzRequest> = fc
  .record({
    id: validId,
    name: fc.string({ minLength: 1, maxLength: 8 }).filter((n) => !n.includes("\u0000")),
  })
  .chain(({ id, name }) =>
    encoded({ set: { [name]: 1 }, unset: [name] }).map((enc) => ({
      why: "field in set and unset",
      method: "PATCH",
      path: `/v1/sessions/${id}`,
      ...enc,
    })),
  );

const badEncoding: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...BODY_ROUTES).chain((t) =>
  fc
    .record({
      path: t.path(),
      bad: fc.oneof(
        fc
          .jsonValue({ maxDepth: 2 })
          .map((v) => JSON.stringify({ data: v }))
          .chain((text) =>
            fc
              .integer({ min: 1, max: text.length - 1 })
              .map((cut) => ({ body: text.slice(0, cut), contentType: "application/json" })),
          ),
        notAnObject.map((v) => ({ body: JSON.stringify(v), contentType: "application/json" })),
        fc
          .uint8Array({ minLength: 1, maxLength: 64 })
          .filter((b) => {
            try {
              return !isPlainObject(unpackValue(b));
            } catch {
              return true;
            }
          })
          .map((b) => ({ body: b, contentType: "application/msgpack" })),
        fc
          .constantFrom(
            "text/html",
            "application/xml",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "image/png",
          )
          .map((contentType) => ({ body: JSON.stringify(t.valid), contentType })),
        fc.constant({ body: " ".repeat(64 * 1024 + 1), contentType: "application/json" }),
      ),
    })
    .map(({ path, bad }) => ({ why: "bad encoding", method: t.method, path, ...bad })),
);

const badListQuery: fc.Arbitrary<FuzzRequest> = fc
  .oneof(
    badIdText.map((id) => `after=${encodeURIComponent(id)}`),
    fc
      .string({ maxLength: 8 })
      .filter((s) => !/^[0-9]{1,4}$/.test(s) || Number(s) < 1 || Number(s) > 1000)
      .map((limit) => `limit=${encodeURIComponent(limit)}`),
    fc.integer({ min: 1001, max: 1e9 }).map((n) => `limit=${n}`),
  )
  .map((query) => ({ why: "bad listing query", method: "GET", path: `/v1/sessions?${query}` }));

const fuzzRequest = fc.oneof(
  badRoute,
  wrongMethod,
  badId,
  badUser,
  badQuery,
  badListQuery,
  badProperty,
  patchConflict,
  badEncoding,
);

describe("HTTP fuzz", () => {
  it("answers every bad request with a 4xx JSON error and stores nothing", async () => {
    const params = propertyParams("http fuzz", 300);
    const before = storeSnapshot(node);
    let wroteBy: string | undefined;
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async (r) => {
        // Once the store has changed every later run fails too; name the request that did it.
        if (wroteBy !== undefined) throw new Error(`the store was changed earlier by ${wroteBy}`);
        const withBody = r.body !== undefined && r.method !== "GET";
        const res = await fetch(`${node.url}${r.path}`, {
          method: r.method,
          headers: withBody && r.contentType !== undefined ? { "content-type": r.contentType } : {},
          ...(withBody ? { body: r.body } : {}),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        const after = storeSnapshot(node);
        if (after.count !== before.count || after.digest !== before.digest) {
          wroteBy = `${r.why}: ${r.method} ${r.path} (answered ${res.status})`;
        }
        expect(res.status, `${r.why}: ${text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${r.why}: ${text}`).toBeLessThan(500);
        expect(res.headers.get("content-type")).toMatch(/^application\/json/);
        const body = JSON.parse(text) as { error: { code: string; message: string } };
        expect(body.error.code).toMatch(/^MERIDIAN_ERR_[A-Z_]+$/);
        expect(typeof body.error.message).toBe("string");
        expect(wroteBy).toBeUndefined();
      }),
      { seed: params.seed, numRuns: params.numRuns },
    );
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
  });
});
