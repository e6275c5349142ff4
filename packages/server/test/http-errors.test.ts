import { packValue } from "@meridian/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { RunningNode } from "../src/index.ts";
import { type Answer, call, sid, startTestNode, storeSnapshot } from "./http-kit.ts";

let node: RunningNode;
let url: string;
const LIVE = sid("live");
const DELETED = sid("deleted");

beforeAll(async () => {
  node = await startTestNode();
  url = node.url;
  expect(
    (await call("PUT", `${url}/v1/sessions/${LIVE}`, { data: { a: 1 }, userId: "u" })).status,
  ).toBe(201);
  expect((await call("PUT", `${url}/v1/sessions/${DELETED}`, { data: { a: 1 } })).status).toBe(201);
  expect((await call("DELETE", `${url}/v1/sessions/${DELETED}`)).status).toBe(204);
});
afterAll(async () => {
  await node.close();
});

/** Asserts a JSON error answer `{error: {code, message}}` with `status` and `code`. */
function expectError(a: Answer, status: number, code: string): void {
  expect({ status: a.status, code: a.body?.error?.code }).toEqual({ status, code });
  expect(a.headers.get("content-type")).toMatch(/^application\/json/);
  expect(Object.keys(a.body ?? {})).toEqual(["error"]);
  expect(Object.keys(a.body?.error ?? {}).sort()).toEqual(["code", "message"]);
  expect(typeof a.body?.error?.message).toBe("string");
}

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
}

const S = `/v1/sessions/${LIVE}`;
const NEW = `/v1/sessions/${sid("never-written")}`;
const yjsUpdate = () => {
  const d = new Y.Doc();
  d.getText("t").insert(0, "x");
  return Buffer.from(Y.encodeStateAsUpdate(d)).toString("base64");
};

const INVALID = "MERIDIAN_ERR_INVALID";
const CASES: Case[] = [
  // Malformed bodies.
  {
    name: "malformed JSON",
    method: "POST",
    path: "/v1/sessions",
    body: '{"data": {',
    status: 400,
    code: "MERIDIAN_ERR_DECODE",
  },
  {
    name: "JSON with trailing garbage",
    method: "PATCH",
    path: NEW,
    body: '{"set":{}} x',
    status: 400,
    code: "MERIDIAN_ERR_DECODE",
  },
  {
    name: "invalid UTF-8",
    method: "PUT",
    path: NEW,
    body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    status: 400,
    code: "MERIDIAN_ERR_DECODE",
  },
  {
    name: "malformed msgpack",
    method: "POST",
    path: "/v1/sessions",
    body: new Uint8Array([0xc1, 0x00]),
    headers: { "content-type": "application/msgpack" },
    status: 400,
    code: "MERIDIAN_ERR_DECODE",
  },
  {
    name: "msgpack with trailing bytes",
    method: "POST",
    path: "/v1/sessions",
    body: new Uint8Array([0x80, 0x80]),
    headers: { "content-type": "application/msgpack" },
    status: 400,
    code: "MERIDIAN_ERR_DECODE",
  },
  {
    name: "deeply nested JSON",
    method: "PUT",
    path: NEW,
    body: `{"data":{"a":${"[".repeat(200_000)}${"]".repeat(200_000)}}}`,
    status: 400,
    code: INVALID,
  },
  {
    name: "deeply nested msgpack",
    method: "PUT",
    path: NEW,
    body: new Uint8Array([
      0x81,
      0xa4,
      0x64,
      0x61,
      0x74,
      0x61,
      0x81,
      0xa1,
      0x61,
      ...new Array<number>(300_000).fill(0x91),
      0xc0,
    ]),
    headers: { "content-type": "application/msgpack" },
    status: 400,
    code: "MERIDIAN_ERR_DECODE",
  },
  // Wrong shapes and types.
  {
    name: "array body",
    method: "POST",
    path: "/v1/sessions",
    body: [],
    status: 400,
    code: INVALID,
  },
  { name: "null body", method: "PATCH", path: NEW, body: "null", status: 400, code: INVALID },
  {
    name: "number body",
    method: "POST",
    path: `${S}/touch`,
    body: "42",
    status: 400,
    code: INVALID,
  },
  {
    name: "msgpack body that is not a map",
    method: "POST",
    path: "/v1/sessions",
    body: packValue([1, 2]),
    headers: { "content-type": "application/msgpack" },
    status: 400,
    code: INVALID,
  },
  {
    name: "msgpack ttl of the wrong type",
    method: "POST",
    path: "/v1/sessions",
    body: packValue({ ttl: new Date() }),
    headers: { "content-type": "application/msgpack" },
    status: 400,
    code: INVALID,
  },
  {
    name: "ttl as a string",
    method: "POST",
    path: "/v1/sessions",
    body: { ttl: "60" },
    status: 400,
    code: INVALID,
  },
  {
    name: "negative ttl",
    method: "PUT",
    path: NEW,
    body: { data: {}, ttl: -1 },
    status: 400,
    code: INVALID,
  },
  { name: "zero ttl", method: "PATCH", path: NEW, body: { ttl: 0 }, status: 400, code: INVALID },
  {
    name: "absurd ttl",
    method: "POST",
    path: `${S}/touch`,
    body: { ttl: 1e300 },
    status: 400,
    code: INVALID,
  },
  {
    name: "idle as a boolean",
    method: "POST",
    path: "/v1/sessions",
    body: { idle: true },
    status: 400,
    code: INVALID,
  },
  {
    name: "maxLifetime as an array",
    method: "POST",
    path: "/v1/sessions",
    body: { maxLifetime: [] },
    status: 400,
    code: INVALID,
  },
  {
    name: "data as an array",
    method: "POST",
    path: "/v1/sessions",
    body: { data: [1] },
    status: 400,
    code: INVALID,
  },
  {
    name: "data as a string",
    method: "PUT",
    path: NEW,
    body: { data: "x" },
    status: 400,
    code: INVALID,
  },
  {
    name: "data null in PUT",
    method: "PUT",
    path: NEW,
    body: { data: null },
    status: 400,
    code: INVALID,
  },
  {
    name: "PUT without data",
    method: "PUT",
    path: NEW,
    body: { ttl: 5 },
    status: 400,
    code: INVALID,
  },
  {
    name: "userId as a number",
    method: "POST",
    path: "/v1/sessions",
    body: { userId: 5 },
    status: 400,
    code: INVALID,
  },
  {
    name: "empty userId",
    method: "PUT",
    path: NEW,
    body: { data: {}, userId: "" },
    status: 400,
    code: INVALID,
  },
  {
    name: "userId with a control character",
    method: "POST",
    path: "/v1/sessions",
    body: { userId: "a\u0001b" },
    status: 400,
    code: INVALID,
  },
  {
    name: "set as a number",
    method: "PATCH",
    path: S,
    body: { set: 1 },
    status: 400,
    code: INVALID,
  },
  {
    name: "unset as a string",
    method: "PATCH",
    path: S,
    body: { unset: "a" },
    status: 400,
    code: INVALID,
  },
  {
    name: "unset with a number",
    method: "PATCH",
    path: S,
    body: { unset: [1] },
    status: 400,
    code: INVALID,
  },
  {
    name: "yjs as an array",
    method: "PATCH",
    path: S,
    body: { yjs: [] },
    status: 400,
    code: INVALID,
  },
  {
    name: "yjs update as a number",
    method: "PATCH",
    path: S,
    body: { yjs: { d: 5 } },
    status: 400,
    code: INVALID,
  },
  {
    name: "yjs update not base64",
    method: "PATCH",
    path: S,
    body: { yjs: { d: "!!!" } },
    status: 400,
    code: INVALID,
  },
  {
    name: "yjs update empty",
    method: "PATCH",
    path: S,
    body: { yjs: { d: "" } },
    status: 400,
    code: INVALID,
  },
  {
    name: "yjs update not a Yjs update",
    method: "PATCH",
    path: S,
    body: { yjs: { d: Buffer.from("definitely not yjs at all").toString("base64") } },
    status: 400,
    code: INVALID,
  },
  {
    name: "unknown property",
    method: "POST",
    path: "/v1/sessions",
    body: { data: {}, tll: 5 },
    status: 400,
    code: INVALID,
  },
  {
    name: "maxLifetime of the wrong type on PUT",
    method: "PUT",
    path: NEW,
    body: { data: {}, maxLifetime: "5" },
    status: 400,
    code: INVALID,
  },
  {
    name: "empty field name",
    method: "POST",
    path: "/v1/sessions",
    body: { data: { "": 1 } },
    status: 400,
    code: INVALID,
  },
  {
    name: "field name with NUL",
    method: "PATCH",
    path: S,
    body: { set: { "a\u0000b": 1 } },
    status: 400,
    code: INVALID,
  },
  {
    name: "field name too long",
    method: "PATCH",
    path: S,
    body: { unset: ["x".repeat(257)] },
    status: 400,
    code: INVALID,
  },
  {
    name: "field in set and unset",
    method: "PATCH",
    path: S,
    body: { set: { a: 1 }, unset: ["a"] },
    status: 400,
    code: INVALID,
  },
  {
    name: "field in set and yjs",
    method: "PATCH",
    path: S,
    body: { set: { a: 1 }, yjs: { a: yjsUpdate() } },
    status: 400,
    code: INVALID,
  },
  {
    name: "field in unset and yjs",
    method: "PATCH",
    path: S,
    body: { unset: ["a"], yjs: { a: yjsUpdate() } },
    status: 400,
    code: INVALID,
  },
  // Query parameters.
  {
    name: "unknown consistency",
    method: "GET",
    path: `${S}?consistency=strong`,
    status: 400,
    code: INVALID,
  },
  {
    name: "consistency twice",
    method: "PUT",
    path: `${NEW}?consistency=local&consistency=all`,
    body: { data: {} },
    status: 400,
    code: INVALID,
  },
  {
    name: "consistency on delete",
    method: "DELETE",
    path: `${NEW}?consistency=one`,
    status: 400,
    code: INVALID,
  },
  {
    name: "consistency on revoke",
    method: "DELETE",
    path: "/v1/users/u/sessions?consistency=x",
    status: 400,
    code: INVALID,
  },
  { name: "empty after", method: "GET", path: `${S}?after=`, status: 400, code: INVALID },
  {
    name: "malformed after",
    method: "GET",
    path: `${S}?after=not-a-token`,
    status: 400,
    code: INVALID,
  },
  // Ids.
  {
    name: "short id on GET",
    method: "GET",
    path: "/v1/sessions/short",
    status: 400,
    code: "MERIDIAN_ERR_BAD_ID",
  },
  {
    name: "id with a bad character on PUT",
    method: "PUT",
    path: "/v1/sessions/abcdefghijklmnop$q",
    body: { data: {} },
    status: 400,
    code: "MERIDIAN_ERR_BAD_ID",
  },
  {
    name: "id too long on PATCH",
    method: "PATCH",
    path: `/v1/sessions/${"a".repeat(257)}`,
    body: {},
    status: 400,
    code: "MERIDIAN_ERR_BAD_ID",
  },
  {
    name: "percent-encoded bad id on touch",
    method: "POST",
    path: "/v1/sessions/abcdefghijklmnop%2Fq/touch",
    status: 400,
    code: "MERIDIAN_ERR_BAD_ID",
  },
  {
    name: "malformed percent-encoding on DELETE",
    method: "DELETE",
    path: "/v1/sessions/abcdefghijklmnop%E0%A4%A",
    status: 400,
    code: "MERIDIAN_ERR_BAD_ID",
  },
  {
    name: "user id with a control character",
    method: "GET",
    path: "/v1/users/%01/sessions",
    status: 400,
    code: "MERIDIAN_ERR_BAD_ID",
  },
  {
    name: "user id too long",
    method: "DELETE",
    path: `/v1/users/${"u".repeat(257)}/sessions`,
    status: 400,
    code: "MERIDIAN_ERR_BAD_ID",
  },
  // Routes and methods.
  {
    name: "unknown route",
    method: "GET",
    path: "/v1/nope",
    status: 404,
    code: "MERIDIAN_ERR_NO_ROUTE",
  },
  {
    name: "unknown sub-route",
    method: "POST",
    path: `${S}/renew`,
    body: {},
    status: 404,
    code: "MERIDIAN_ERR_NO_ROUTE",
  },
  {
    name: "trailing slash",
    method: "POST",
    path: "/v1/sessions/",
    body: {},
    status: 404,
    code: "MERIDIAN_ERR_NO_ROUTE",
  },
  {
    name: "other API version",
    method: "GET",
    path: `/v2/sessions/${LIVE}`,
    status: 404,
    code: "MERIDIAN_ERR_NO_ROUTE",
  },
  { name: "root", method: "GET", path: "/", status: 404, code: "MERIDIAN_ERR_NO_ROUTE" },
  {
    name: "doubled slash",
    method: "GET",
    path: "//v1/cluster",
    status: 404,
    code: "MERIDIAN_ERR_NO_ROUTE",
  },
  {
    name: "PUT on the collection",
    method: "PUT",
    path: "/v1/sessions",
    body: { data: {} },
    status: 405,
    code: "MERIDIAN_ERR_METHOD_NOT_ALLOWED",
  },
  {
    name: "POST on a session",
    method: "POST",
    path: S,
    body: { data: {} },
    status: 405,
    code: "MERIDIAN_ERR_METHOD_NOT_ALLOWED",
  },
  {
    name: "GET on touch",
    method: "GET",
    path: `${S}/touch`,
    status: 405,
    code: "MERIDIAN_ERR_METHOD_NOT_ALLOWED",
  },
  {
    name: "PATCH on cluster",
    method: "PATCH",
    path: "/v1/cluster",
    body: {},
    status: 405,
    code: "MERIDIAN_ERR_METHOD_NOT_ALLOWED",
  },
  {
    name: "POST on healthz",
    method: "POST",
    path: "/healthz",
    status: 405,
    code: "MERIDIAN_ERR_METHOD_NOT_ALLOWED",
  },
  // Sizes and media types.
  {
    name: "body over maxBodyBytes",
    method: "POST",
    path: "/v1/sessions",
    body: JSON.stringify({ data: { a: "x".repeat(1024 * 1024) } }),
    status: 413,
    code: "MERIDIAN_ERR_LIMIT",
  },
  {
    name: "field value over maxValueBytes",
    method: "PATCH",
    path: S,
    body: { set: { big: "x".repeat(64 * 1024) } },
    status: 413,
    code: "MERIDIAN_ERR_LIMIT",
  },
  {
    name: "value over maxValueBytes in msgpack",
    method: "POST",
    path: "/v1/sessions",
    body: packValue({ data: { big: new Uint8Array(70_000) } }),
    headers: { "content-type": "application/msgpack" },
    status: 413,
    code: "MERIDIAN_ERR_LIMIT",
  },
  {
    name: "too many fields in PUT",
    method: "PUT",
    path: NEW,
    body: { data: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`f${i}`, i])) },
    status: 413,
    code: "MERIDIAN_ERR_LIMIT",
  },
  {
    name: "too many fields after PATCH",
    method: "PATCH",
    path: S,
    body: { set: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f${i}`, i])) },
    status: 413,
    code: "MERIDIAN_ERR_LIMIT",
  },
  {
    name: "HTML body",
    method: "POST",
    path: "/v1/sessions",
    body: "<p>hi</p>",
    headers: { "content-type": "text/html" },
    status: 415,
    code: "MERIDIAN_ERR_UNSUPPORTED_MEDIA_TYPE",
  },
  {
    name: "form body",
    method: "PUT",
    path: NEW,
    body: "data=1",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    status: 415,
    code: "MERIDIAN_ERR_UNSUPPORTED_MEDIA_TYPE",
  },
  {
    name: "XML body",
    method: "PATCH",
    path: S,
    body: "<set/>",
    headers: { "content-type": "application/xml" },
    status: 415,
    code: "MERIDIAN_ERR_UNSUPPORTED_MEDIA_TYPE",
  },
  // Session states.
  {
    name: "read of a deleted session",
    method: "GET",
    path: `/v1/sessions/${DELETED}`,
    status: 410,
    code: "MERIDIAN_ERR_SESSION_DELETED",
  },
  {
    name: "PUT to a deleted id",
    method: "PUT",
    path: `/v1/sessions/${DELETED}`,
    body: { data: { b: 1 } },
    status: 410,
    code: "MERIDIAN_ERR_SESSION_DELETED",
  },
  {
    name: "PATCH to a deleted id",
    method: "PATCH",
    path: `/v1/sessions/${DELETED}`,
    body: { set: { b: 1 } },
    status: 410,
    code: "MERIDIAN_ERR_SESSION_DELETED",
  },
  {
    name: "touch of a deleted id",
    method: "POST",
    path: `/v1/sessions/${DELETED}/touch`,
    status: 410,
    code: "MERIDIAN_ERR_SESSION_DELETED",
  },
  {
    name: "read of an absent session",
    method: "GET",
    path: NEW,
    status: 404,
    code: "MERIDIAN_ERR_NOT_FOUND",
  },
  {
    name: "touch of an absent session",
    method: "POST",
    path: `${NEW}/touch`,
    body: { ttl: 5 },
    status: 404,
    code: "MERIDIAN_ERR_NOT_FOUND",
  },
  {
    name: "read after a version no region holds",
    method: "GET",
    path: `${S}?after=7.elsewhere-00000000`,
    status: 503,
    code: "MERIDIAN_ERR_VERSION_UNAVAILABLE",
  },
];

describe("HTTP API v1: every bad request answers a JSON error and writes nothing", () => {
  it.each(CASES)("$name → $status $code", async (c) => {
    const before = storeSnapshot(node);
    const a = await call(c.method, `${url}${c.path}`, c.body, c.headers);
    expectError(a, c.status, c.code);
    expect(storeSnapshot(node)).toEqual(before);
    if (c.status === 405) expect(a.headers.get("allow")).toMatch(/^[A-Z, ]+$/);
  });

  it("refuses a streamed body as soon as it passes maxBodyBytes, without reading the rest", async () => {
    const before = storeSnapshot(node);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    const res = await fetch(`${url}/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: endless,
      duplex: "half",
      signal: AbortSignal.timeout(15_000),
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get("connection")).toBe("close");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      "MERIDIAN_ERR_LIMIT",
    );
    // An endless body cannot have been read to its end.
    expect(pulled).toBeGreaterThan(16);
    expect(storeSnapshot(node)).toEqual(before);
  });

  it("answers JSON errors even when the client asked for msgpack", async () => {
    const a = await call("GET", `${url}/v1/sessions/short`, undefined, {
      accept: "application/msgpack",
    });
    expectError(a, 400, "MERIDIAN_ERR_BAD_ID");
  });

  it("keeps serving after all of the above", async () => {
    expect((await call("GET", `${url}/healthz`)).status).toBe(200);
    expect((await call("GET", `${url}/v1/sessions/${LIVE}`)).body?.data).toEqual({ a: 1 });
  });
});
