import { type Delta, type PeerLink, packValue, type Stamp } from "@meridian/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../src/index.ts";
import { freePorts, waitFor } from "../src/testing/index.ts";
import { call, sid, startTestNode } from "./http-kit.ts";

let node: RunningNode;
let other: RunningNode;

beforeAll(async () => {
  node = await startTestNode();
  other = await startTestNode({ region: "us" });
});
afterAll(async () => {
  await Promise.all([node.close(), other.close()]);
});

/** The value of one series in Prometheus text, or undefined when absent. */
function series(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

const NAMES = [
  "meridian_http_requests_total",
  "meridian_http_request_duration_seconds",
  "meridian_sessions_stored",
  "meridian_peers_connected",
  "meridian_replication_lag_seconds",
  "meridian_replication_last_lag_seconds",
  "meridian_deltas_applied_total",
  "meridian_anti_entropy_rounds_total",
  "meridian_anti_entropy_sessions_total",
  "meridian_anti_entropy_purged_ids_total",
  "meridian_clock_skew_refused_total",
  "meridian_push_queue_overflows_total",
  "meridian_peer_messages_received_total",
  "meridian_event_loop_lag_seconds",
  "meridian_process_resident_memory_bytes",
  "meridian_peer_bytes_total",
  "meridian_deltas_sent_total",
  "meridian_lww_lost_writes_total",
  "meridian_sessions_expired_total",
  "meridian_tombstones_collected_total",
];

describe("/metrics", () => {
  it("exposes every metric, counts requests by route name, and never holds a session id", async () => {
    const ids = [sid("metric-a"), sid("metric-b")];
    for (const id of ids) {
      expect(
        (await call("PUT", `${node.url}/v1/sessions/${id}`, { data: { secret: id } })).status,
      ).toBe(201);
      expect((await call("GET", `${node.url}/v1/sessions/${id}`)).status).toBe(200);
    }
    const created = await call("POST", `${node.url}/v1/sessions`, { data: {} });
    const createdId = created.body?.id as string;
    await call("GET", `${node.url}/v1/sessions/${sid("metric-absent")}`);
    await call("GET", `${node.url}/v1/sessions/${ids[0]}/nope`);

    const res = await fetch(`${node.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of NAMES) expect(text).toContain(`# TYPE ${name} `);
    expect(series(text, "meridian_http_requests_total", { op: "put_session", status: "201" })).toBe(
      2,
    );
    expect(series(text, "meridian_http_requests_total", { op: "get_session", status: "200" })).toBe(
      2,
    );
    expect(series(text, "meridian_http_requests_total", { op: "get_session", status: "404" })).toBe(
      1,
    );
    expect(series(text, "meridian_http_requests_total", { op: "no_route", status: "404" })).toBe(1);
    expect(
      series(text, "meridian_http_request_duration_seconds_count", { op: "put_session" }),
    ).toBe(2);
    expect(series(text, "meridian_sessions_stored", { region: "eu" })).toBe(
      node.replica.store.sessionCount(),
    );
    expect(series(text, "meridian_peers_connected")).toBe(0);
    expect(series(text, "meridian_event_loop_lag_seconds", { stat: "p99" })).toBeGreaterThanOrEqual(
      0,
    );
    expect(series(text, "meridian_process_resident_memory_bytes")).toBeGreaterThan(0);
    for (const id of [...ids, createdId, sid("metric-absent")]) expect(text).not.toContain(id);
  });

  it("keeps one registry per node", async () => {
    const text = await (await fetch(`${other.url}/metrics`)).text();
    expect(series(text, "meridian_http_requests_total", { op: "put_session" })).toBeUndefined();
    expect(series(text, "meridian_sessions_stored", { region: "us" })).toBe(0);
  });
});

/** A write from a fake peer, stamped at `wall`. */
function remoteWrite(origin: string, seq: number, wall: number): Delta {
  const stamp: Stamp = { hlc: { wall, logical: 0, node: origin }, seq };
  return {
    dot: { origin, seq },
    session: {
      id: sid(`remote-${seq}`),
      fields: new Map([["a", { kind: "value", stamp, value: packValue(seq) }]]),
      lifetimes: [{ from: wall, until: wall + 60_000, stamp }],
    },
  };
}

describe("replication metrics", () => {
  it("follow the replicator's events until close()", async () => {
    const n = await startTestNode({ region: "ap" });
    try {
      const sent: string[] = [];
      const link: PeerLink = {
        peerId: "us-peer",
        region: "us",
        send: (m) => {
          sent.push(m.type);
          return true;
        },
        close: () => {},
      };
      const now = Date.now();
      const sentAt = { wall: now, logical: 0, node: "us-peer" };
      n.replicator.receive(link, {
        type: "deltas",
        deltas: [remoteWrite("us-peer", 1, now)],
        sent: sentAt,
      });
      n.replicator.receive(link, {
        type: "deltas",
        deltas: [remoteWrite("us-peer", 2, now + 3_600_000)],
        sent: sentAt,
      });
      // Acknowledged once the tick's group commit is durable.
      await waitFor(() => sent.length > 0, "the ack");
      expect(sent).toEqual(["ack"]);
      const text = await n.metrics.render();
      expect(series(text, "meridian_deltas_applied_total", { peer: "us-peer" })).toBe(1);
      expect(series(text, "meridian_replication_lag_seconds_count", { peer: "us-peer" })).toBe(1);
      expect(
        series(text, "meridian_replication_last_lag_seconds", { peer: "us-peer" }),
      ).toBeGreaterThanOrEqual(0);
      expect(series(text, "meridian_clock_skew_refused_total", { peer: "us-peer" })).toBe(1);
      expect(series(text, "meridian_peer_messages_received_total", { type: "deltas" })).toBe(2);

      n.metrics.close();
      n.replicator.receive(link, {
        type: "deltas",
        deltas: [remoteWrite("us-peer", 3, now)],
        sent: sentAt,
      });
      await waitFor(() => sent.length > 1, "the second ack");
      const after = await n.metrics.render();
      expect(series(after, "meridian_deltas_applied_total", { peer: "us-peer" })).toBe(1);
      expect(series(after, "meridian_peer_messages_received_total", { type: "deltas" })).toBe(2);
    } finally {
      await n.close();
    }
  });
});

describe("operation counters", () => {
  it("count through their hooks", async () => {
    const n = await startTestNode({ region: "ap" });
    try {
      n.metrics.ops.deltasSent("us-peer", 3);
      n.metrics.ops.lwwLost(2);
      n.metrics.ops.lwwLost(0);
      const text = await n.metrics.render();
      expect(series(text, "meridian_deltas_sent_total", { peer: "us-peer" })).toBe(3);
      expect(series(text, "meridian_lww_lost_writes_total")).toBe(2);
    } finally {
      await n.close();
    }
  });

  it("count bytes on peer sockets in both directions", async () => {
    const [pa, pb] = await freePorts(2);
    const secret = "metrics-secret";
    const a = await startTestNode({
      region: "eu",
      port: pa!,
      secret,
      peers: [`http://127.0.0.1:${pb}`],
    });
    const b = await startTestNode({
      region: "us",
      port: pb!,
      secret,
      peers: [`http://127.0.0.1:${pa}`],
    });
    try {
      await waitFor(
        () => a.replicator.connectedPeers() === 1 && b.replicator.connectedPeers() === 1,
        "peers to connect",
      );
      const text = await a.metrics.render();
      const bytesIn = series(text, "meridian_peer_bytes_total", { direction: "in" }) ?? 0;
      const bytesOut = series(text, "meridian_peer_bytes_total", { direction: "out" }) ?? 0;
      expect(bytesIn).toBeGreaterThan(0);
      expect(bytesOut).toBeGreaterThan(0);
      expect(a.transport.traffic().bytesIn).toBeGreaterThanOrEqual(bytesIn);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
