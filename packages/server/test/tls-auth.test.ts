import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type NodeConfig, nodeConfig, type RunningNode, startNode } from "../src/index.ts";
import type { ConnectionEnd } from "../src/peer/connection.ts";
import { freePorts } from "../src/testing/free-ports.ts";
import { waitFor } from "../src/testing/wait-for.ts";
import { bearer, type CertFiles, httpsCall, selfSignedCert } from "./tls-kit.ts";

const SECRET = "tls-cluster-secret";
const TOKEN = "client-token-0123456789abcdef";
const dir = mkdtempSync(join(tmpdir(), "meridian-tls-"));
let cert: CertFiles;
let keyringFile: string;
const running = new Set<RunningNode>();

beforeAll(() => {
  cert = selfSignedCert(dir);
  keyringFile = join(dir, "keyring.json");
  writeFileSync(
    keyringFile,
    JSON.stringify({ current: "k1", keys: { k1: randomBytes(32).toString("base64") } }),
  );
});
afterEach(async () => {
  await Promise.all([...running].map((n) => n.close()));
  running.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const httpsUrl = (port: number) => `https://127.0.0.1:${port}`;

/** A node with TLS (trusting the test certificate for peers), tokens and encryption at rest. */
async function startSecure(
  region: string,
  port: number,
  peers: number[],
  overrides: Partial<NodeConfig> = {},
): Promise<RunningNode> {
  const config = nodeConfig(
    { region, dataDir: join(dir, `${region}-${port}`), peers: peers.map(httpsUrl), secret: SECRET },
    {
      port,
      logLevel: process.env.LOG_LEVEL ?? "silent",
      syncIntervalMs: 200,
      tlsCertFile: cert.cert,
      tlsKeyFile: cert.key,
      tlsCaFile: cert.cert,
      tokens: [TOKEN],
      keyringFile,
      ...overrides,
    },
  );
  const node = await startNode(config);
  running.add(node);
  return node;
}

const api = (node: RunningNode, method: string, path: string, body?: unknown, token = TOKEN) =>
  httpsCall(method, `${node.url}${path}`, cert.pem, {
    ...(body !== undefined ? { body } : {}),
    headers: bearer(token),
  });

describe("a node with TLS and bearer tokens", () => {
  it("serves HTTPS only: plain HTTP and a plain WebSocket on its port are refused", async () => {
    const [port] = (await freePorts(1)) as [number];
    const node = await startSecure("eu", port, []);
    expect(node.url).toBe(httpsUrl(port));
    expect((await httpsCall("GET", `${node.url}/healthz`, cert.pem)).status).toBe(200);

    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await expect(
      fetch(`http://127.0.0.1:${port}/v1/cluster`, { headers: bearer(TOKEN) }),
    ).rejects.toThrow();
    const plainWs = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/peer`);
      ws.on("open", () => resolve("open"));
      ws.on("unexpected-response", () => resolve("http answer"));
      ws.on("error", () => resolve("error"));
    });
    expect(plainWs).toBe("error");
    // Without trusting the certificate, HTTPS is refused too: nothing falls back to no checks.
    await expect(fetch(`${node.url}/healthz`)).rejects.toThrow();
  });

  it("answers 401 without an accepted token on /v1 and /metrics, and keeps health checks open", async () => {
    const [port] = (await freePorts(1)) as [number];
    const node = await startSecure("eu", port, []);
    const id = "tls-token-session-0001";
    const put = await api(node, "PUT", `/v1/sessions/${id}`, { data: { a: 1 } });
    expect(put.status).toBe(201);

    const refused = [
      await httpsCall("GET", `${node.url}/v1/sessions/${id}`, cert.pem),
      await api(node, "GET", `/v1/sessions/${id}`, undefined, `${TOKEN}x`),
      await api(node, "GET", `/v1/sessions/${id}`, undefined, TOKEN.slice(0, -1)),
      await httpsCall("GET", `${node.url}/v1/sessions/${id}`, cert.pem, {
        headers: { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}` },
      }),
      await httpsCall("GET", `${node.url}/v1/sessions/${id}`, cert.pem, {
        headers: { authorization: TOKEN },
      }),
      await api(node, "PATCH", `/v1/sessions/${id}`, { set: { a: 2 } }, "wrong-token-wrong-token"),
      await api(node, "DELETE", `/v1/sessions/${id}`, undefined, ""),
      await httpsCall("GET", `${node.url}/v1/no-such-route`, cert.pem),
      await httpsCall("GET", `${node.url}/metrics`, cert.pem),
    ];
    for (const answer of refused) {
      expect(answer.status).toBe(401);
      expect(answer.body?.error?.code).toBe("MERIDIAN_ERR_AUTH");
      expect(answer.headers["www-authenticate"]).toBe('Bearer realm="meridian"');
    }
    // Nothing the refused requests tried was applied.
    const got = await api(node, "GET", `/v1/sessions/${id}`);
    expect(got.status).toBe(200);
    expect(got.body?.data).toEqual({ a: 1 });

    const lower = await httpsCall("GET", `${node.url}/v1/cluster`, cert.pem, {
      headers: { authorization: `bearer ${TOKEN}` },
    });
    expect(lower.status).toBe(200);
    const metrics = await api(node, "GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('meridian_http_requests_total{op="unauthorized",status="401"');
    expect((await httpsCall("GET", `${node.url}/healthz`, cert.pem)).status).toBe(200);
    expect((await httpsCall("GET", `${node.url}/readyz`, cert.pem)).status).toBe(200);
  });
});

describe("a three-node cluster over TLS", () => {
  it("converges with tokens and encryption on, and refuses a peer with the wrong secret", async () => {
    const ports = (await freePorts(4)) as [number, number, number, number];
    const regions = ["eu", "us", "ap"];
    const intruderPort = ports[3];
    const nodes = await Promise.all(
      regions.map((r, i) =>
        startSecure(r, ports[i]!, [...ports.slice(0, 3).filter((_, j) => j !== i), intruderPort]),
      ),
    );
    const refused: ConnectionEnd[] = [];
    for (const n of nodes) n.transport.on("handshake-failed", (_d, e) => e.byUs && refused.push(e));
    const intruder = await startSecure("xx", intruderPort, ports.slice(0, 3), {
      secret: "not-the-cluster-secret",
    });
    const intruderLinks: string[] = [];
    intruder.transport.on("link-up", (peer) => intruderLinks.push(peer));
    await waitFor(
      () => nodes.every((n) => n.replicator.connectedPeers() === 2),
      "every TLS node to link to the two others",
      15_000,
    );

    const ids = regions.map((r) => `tls-${r}-session-000001`);
    for (const [i, node] of nodes.entries()) {
      const answer = await api(node, "PUT", `/v1/sessions/${ids[i]}`, {
        data: { from: regions[i], secret: `value-of-${regions[i]}` },
        userId: `user-${regions[i]}`,
      });
      expect(answer.status).toBe(201);
    }
    await waitFor(
      async () => {
        for (const node of nodes) {
          for (const id of ids) {
            if ((await api(node, "GET", `/v1/sessions/${id}`)).status !== 200) return false;
          }
        }
        return true;
      },
      "every session readable in every region over HTTPS",
      15_000,
    );
    for (const node of nodes) {
      for (const [i, id] of ids.entries()) {
        const got = await api(node, "GET", `/v1/sessions/${id}`);
        expect(got.body?.data).toEqual({ from: regions[i], secret: `value-of-${regions[i]}` });
        expect(got.body?.userId).toBe(`user-${regions[i]}`);
      }
    }
    await waitFor(
      () => new Set(nodes.map((n) => n.replica.store.digest())).size === 1,
      "equal digests",
      15_000,
    );

    await waitFor(() => refused.length >= 3, "the cluster to refuse the intruder", 15_000);
    for (const end of refused) expect(end).toMatchObject({ code: 4401, authenticated: false });
    expect(intruderLinks).toEqual([]);
    expect(intruder.replica.store.sessionCount()).toBe(0);
    for (const n of nodes) {
      expect(n.replicator.status().map((p) => p.nodeId)).not.toContain(intruder.nodeId);
    }
  });

  it("never links to a peer whose certificate it does not trust", async () => {
    const [pEu, pUs] = (await freePorts(2)) as [number, number];
    const eu = await startSecure("eu", pEu, [pUs]);
    const failed: ConnectionEnd[] = [];
    const us = await startSecure("us", pUs, [pEu], { tlsCaFile: undefined });
    us.transport.on("handshake-failed", (direction, end) => {
      if (direction === "outbound") failed.push(end);
    });
    // eu trusts us's certificate and links up outbound; us refuses eu's certificate every time.
    await waitFor(() => eu.replicator.connectedPeers() === 1, "eu to link to us", 15_000);
    await waitFor(() => failed.length >= 2, "us to fail twice to dial eu", 15_000);
    expect(us.replicator.connectedPeers()).toBe(0);
    for (const end of failed) expect(end).toMatchObject({ authenticated: false, byUs: false });
  });
});
