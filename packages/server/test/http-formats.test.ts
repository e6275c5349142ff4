import { packValue, unpackValue } from "@meridian/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { RunningNode } from "../src/index.ts";
import { call, sid, startTestNode } from "./http-kit.ts";

let node: RunningNode;
let url: string;

beforeAll(async () => {
  node = await startTestNode();
  url = node.url;
});
afterAll(async () => {
  await node.close();
});

const MSGPACK = "application/msgpack";

/** Sends a msgpack body and decodes a msgpack answer. */
async function msgpackCall(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; type: string; value: unknown }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { accept: MSGPACK, ...(body === undefined ? {} : { "content-type": MSGPACK }) },
    ...(body === undefined ? {} : { body: packValue(body) }),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const type = res.headers.get("content-type") ?? "";
  return { status: res.status, type, value: bytes.length === 0 ? undefined : unpackValue(bytes) };
}

interface MsgpackSession {
  id: string;
  data: Record<string, unknown>;
  expiresAt: string | null;
  userId: string | null;
  version: string;
}

const b64 = (u: Uint8Array) => Buffer.from(u).toString("base64");
const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

describe("HTTP API v1: msgpack", () => {
  it("round-trips Dates and binary through msgpack bodies and answers", async () => {
    const when = new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 123));
    const bin = new Uint8Array([0, 1, 2, 254, 255]);
    const c = await msgpackCall("POST", "/v1/sessions", {
      data: { when, bin, n: 7, nested: { at: when } },
      ttl: 60,
    });
    expect(c.status).toBe(201);
    expect(c.type).toBe(MSGPACK);
    const s = c.value as MsgpackSession;
    expect(s.data.when).toBeInstanceOf(Date);
    expect((s.data.when as Date).getTime()).toBe(when.getTime());
    expect(new Uint8Array(s.data.bin as Uint8Array)).toEqual(bin);
    expect(((s.data.nested as { at: Date }).at as Date).getTime()).toBe(when.getTime());
    expect(typeof s.expiresAt).toBe("string");
    expect(Number.isNaN(Date.parse(s.expiresAt as string))).toBe(false);

    const again = await msgpackCall("GET", `/v1/sessions/${s.id}`);
    expect(again.status).toBe(200);
    expect(((again.value as MsgpackSession).data.when as Date).getTime()).toBe(when.getTime());

    // The same session in JSON: Dates as ISO strings, binary as base64.
    const j = await call("GET", `${url}/v1/sessions/${s.id}`);
    expect(j.body?.data).toEqual({
      when: when.toISOString(),
      bin: b64(bin),
      n: 7,
      nested: { at: when.toISOString() },
    });
  });

  it("accepts a msgpack PATCH with binary Yjs updates and answers JSON when not asked for msgpack", async () => {
    const doc = new Y.Doc();
    doc.getText("t").insert(0, "bin");
    const res = await fetch(`${url}/v1/sessions/${sid("mp-yjs")}`, {
      method: "PATCH",
      headers: { "content-type": MSGPACK },
      body: packValue({ yjs: { draft: Y.encodeStateAsUpdate(doc) }, set: { big: 2n ** 60n } }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      yjs: Record<string, string>;
      data: Record<string, unknown>;
    };
    const copy = new Y.Doc();
    Y.applyUpdate(copy, fromB64(body.yjs.draft!));
    expect(copy.getText("t").toString()).toBe("bin");
    expect(body.data.big).toBe("1152921504606846976");
  });

  it("treats a text/plain body as JSON (what fetch sends for a string body)", async () => {
    const res = await fetch(`${url}/v1/sessions`, {
      method: "POST",
      body: JSON.stringify({ data: { a: 1 } }),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { data: unknown }).data).toEqual({ a: 1 });
  });
});

describe("HTTP API v1: Yjs fields", () => {
  it("merges concurrent edits from two Yjs documents", async () => {
    const path = `${url}/v1/sessions/${sid("yjs")}`;
    const tabA = new Y.Doc();
    tabA.getText("draft").insert(0, "hello");
    const first = await call("PATCH", path, { yjs: { draft: b64(Y.encodeStateAsUpdate(tabA)) } });
    expect(first.status).toBe(200);
    expect(first.body?.data).toEqual({});

    // Tab B loads the draft from the server.
    const tabB = new Y.Doc();
    Y.applyUpdate(tabB, fromB64(first.body?.yjs?.draft as string));
    expect(tabB.getText("draft").toString()).toBe("hello");

    // Both edit concurrently, each sending only its own change.
    const aBefore = Y.encodeStateVector(tabA);
    const bBefore = Y.encodeStateVector(tabB);
    tabA.getText("draft").insert(0, "Hi, ");
    tabB.getText("draft").insert(5, " world");
    const fromA = Y.encodeStateAsUpdate(tabA, aBefore);
    const fromB = Y.encodeStateAsUpdate(tabB, bBefore);
    expect((await call("PATCH", path, { yjs: { draft: b64(fromB) } })).status).toBe(200);
    expect(
      (await call("PATCH", path, { yjs: { draft: b64(fromA) }, set: { title: "t" } })).status,
    ).toBe(200);

    const g = await call("GET", path);
    expect(g.status).toBe(200);
    expect(Object.keys(g.body?.yjs ?? {})).toEqual(["draft"]);
    expect(g.body?.data).toEqual({ title: "t" });
    const merged = new Y.Doc();
    Y.applyUpdate(merged, fromB64(g.body?.yjs?.draft as string));
    expect(merged.getText("draft").toString()).toBe("Hi, hello world");
    // Both tabs converge on the server's state.
    Y.applyUpdate(tabA, fromB64(g.body?.yjs?.draft as string));
    Y.applyUpdate(tabB, fromB64(g.body?.yjs?.draft as string));
    expect(tabA.getText("draft").toString()).toBe("Hi, hello world");
    expect(tabB.getText("draft").toString()).toBe("Hi, hello world");
  });

  it("merges two concurrent first edits of a new field", async () => {
    const path = `${url}/v1/sessions/${sid("yjs-first")}`;
    const a = new Y.Doc();
    const b = new Y.Doc();
    a.getArray<string>("list").push(["from-a"]);
    b.getArray<string>("list").push(["from-b"]);
    await call("PATCH", path, { yjs: { list: b64(Y.encodeStateAsUpdate(a)) } });
    const last = await call("PATCH", path, { yjs: { list: b64(Y.encodeStateAsUpdate(b)) } });
    const merged = new Y.Doc();
    Y.applyUpdate(merged, fromB64(last.body?.yjs?.list as string));
    expect(merged.getArray<string>("list").toArray().sort()).toEqual(["from-a", "from-b"]);
  });

  it("resets a Yjs field when it is set to a plain value, and answers no yjs key without Yjs fields", async () => {
    const path = `${url}/v1/sessions/${sid("yjs-reset")}`;
    const d = new Y.Doc();
    d.getText("t").insert(0, "x");
    await call("PATCH", path, { yjs: { f: b64(Y.encodeStateAsUpdate(d)) } });
    const reset = await call("PATCH", path, { set: { f: "plain" } });
    expect(reset.body?.data).toEqual({ f: "plain" });
    expect(reset.body && "yjs" in reset.body).toBe(false);
  });
});
