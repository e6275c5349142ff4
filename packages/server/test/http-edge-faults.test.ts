import { createServer, request, type Server } from "node:http";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpHandler, type HttpDeps } from "../src/http/handler.ts";
import type { RunningNode, SessionService } from "../src/index.ts";
import { call, sid, startTestNode, storeSnapshot } from "./http-kit.ts";

let node: RunningNode;
const servers: Server[] = [];

beforeAll(async () => {
  node = await startTestNode();
});
afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await node.close();
});

/** Serves `deps` (the node's, with overrides) on a fresh loopback port. */
async function serveWith(overrides: Partial<HttpDeps>): Promise<string> {
  return (await serverWith(overrides)).base;
}

async function serverWith(overrides: Partial<HttpDeps>): Promise<{ base: string; server: Server }> {
  const deps: HttpDeps = {
    service: node.service,
    replicator: node.replicator,
    replica: node.replica,
    config: node.config,
    metrics: node.metrics,
    logger: node.logger,
    isReady: () => true,
    ...overrides,
  };
  const server = createServer(createHttpHandler(deps));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { base: `http://127.0.0.1:${address.port}`, server };
}

const V1_CALLS: [string, string, unknown?][] = [
  ["POST", "/v1/sessions", {}],
  ["GET", `/v1/sessions/${sid("nr")}`],
  ["PUT", `/v1/sessions/${sid("nr")}`, { data: {} }],
  ["PATCH", `/v1/sessions/${sid("nr")}`, { set: { a: 1 } }],
  ["POST", `/v1/sessions/${sid("nr")}/touch`, {}],
  ["DELETE", `/v1/sessions/${sid("nr")}`],
  ["GET", "/v1/users/u/sessions"],
  ["DELETE", "/v1/users/u/sessions"],
  ["GET", "/v1/cluster"],
];

describe("HTTP edge under faults", () => {
  it("answers 503 to every /v1 route while not ready, but stays live and scrapeable", async () => {
    const base = await serveWith({ isReady: () => false });
    const before = storeSnapshot(node);
    for (const [method, path, body] of V1_CALLS) {
      const a = await call(method, `${base}${path}`, body);
      expect({ path, method, status: a.status, code: a.body?.error?.code }).toEqual({
        path,
        method,
        status: 503,
        code: "MERIDIAN_ERR_NOT_READY",
      });
      expect(a.headers.get("retry-after")).toBe("1");
    }
    expect(storeSnapshot(node)).toEqual(before);
    expect((await call("GET", `${base}/healthz`)).status).toBe(200);
    const ready = await call("GET", `${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body?.error?.code).toBe("MERIDIAN_ERR_NOT_READY");
    expect((await call("GET", `${base}/metrics`)).status).toBe(200);
  });

  it("answers 500 to unexpected failures, logs them without the raw session id, and keeps running", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: "debug" }, sink);
    const broken = Object.create(node.service) as SessionService;
    broken.get = async (id: string) => {
      throw new TypeError(`cannot read session ${id}`);
    };
    broken.patch = () => Promise.reject("a string, not an Error");
    const base = await serveWith({ service: broken, logger });
    const id = sid("secret-session");
    const before = storeSnapshot(node);

    const g = await call("GET", `${base}/v1/sessions/${id}`);
    expect(g.status).toBe(500);
    expect(g.body).toEqual({ error: { code: "MERIDIAN_ERR_INTERNAL", message: "internal error" } });
    const p = await call("PATCH", `${base}/v1/sessions/${id}`, { set: { a: 1 } });
    expect(p.status).toBe(500);
    expect(p.body?.error?.code).toBe("MERIDIAN_ERR_INTERNAL");

    expect(storeSnapshot(node)).toEqual(before);
    const errors = lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain("TypeError");
    expect(lines.join("")).not.toContain(id);
    expect((await call("GET", `${base}/healthz`)).status).toBe(200);
  });

  it("treats a client that leaves mid-body as the client's doing: no 500, no error log, no write", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { base, server } = await serverWith({ logger: pino({ level: "debug" }, sink) });
    const before = storeSnapshot(node);
    const metricsBefore = await node.metrics.render();
    await new Promise<void>((resolve) => {
      const req = request(`${base}/v1/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": "1000" },
      });
      req.on("error", () => resolve());
      // Leave once the node has the request and is reading its body.
      server.once("request", () => setImmediate(() => req.destroy()));
      req.write('{"data": {"a": ');
    });
    const counted = (text: string) =>
      text
        .split("\n")
        .find((l) => l.startsWith('meridian_http_requests_total{op="create_session",status="400"'));
    for (
      let i = 0;
      i < 200 && counted(await node.metrics.render()) === counted(metricsBefore);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(counted(await node.metrics.render())).not.toBe(counted(metricsBefore));
    expect(lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50)).toEqual([]);
    expect(storeSnapshot(node)).toEqual(before);
    expect((await call("GET", `${base}/healthz`)).status).toBe(200);
  });

  it("answers 503 when a quorum is out of reach; a quorum write stays applied, as documented", async () => {
    const lonely = await startTestNode({ peers: ["http://127.0.0.1:9"], quorumTimeoutMs: 100 });
    try {
      const id = sid("quorum");
      const before = storeSnapshot(lonely);
      const r = await call("GET", `${lonely.url}/v1/sessions/${id}?consistency=quorum`);
      expect(r.status).toBe(503);
      expect(r.body?.error?.code).toBe("MERIDIAN_ERR_QUORUM_UNAVAILABLE");
      expect(storeSnapshot(lonely)).toEqual(before);
      const w = await call("PUT", `${lonely.url}/v1/sessions/${id}?consistency=all`, {
        data: { a: 1 },
      });
      expect(w.status).toBe(503);
      expect(w.body?.error?.code).toBe("MERIDIAN_ERR_QUORUM_UNAVAILABLE");
      expect((await call("GET", `${lonely.url}/v1/sessions/${id}`)).body?.data).toEqual({ a: 1 });
    } finally {
      await lonely.close();
    }
  });
});
