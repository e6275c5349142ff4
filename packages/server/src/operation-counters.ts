import { Counter, type Registry } from "prom-client";

/** Bytes a node's peer sockets moved so far, both kinds of link together. */
export interface PeerTrafficTotals {
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** Something that can tell its peer traffic totals (the peer transport). */
export interface PeerTrafficSource {
  traffic(): PeerTrafficTotals;
}

/**
 * Counters that parts of the node outside the replicator's events feed, each through one hook.
 *
 * @remarks Every hook takes counts only, never a session id: label sets stay closed.
 *
 * | hook | series | who calls it |
 * |---|---|---|
 * | {@link OperationCounters.watchTraffic} | `meridian_peer_bytes_total{direction}` | node.ts, with the peer transport |
 * | {@link OperationCounters.deltasSent} | `meridian_deltas_sent_total{peer}` | the replicator's `sent` event, per `deltas` message sent |
 * | {@link OperationCounters.lwwLost} | `meridian_lww_lost_writes_total` | the replicator's `lww-lost` event: pushed writes new to this node and anti-entropy chunks (counted by the store's join: core's `rejectedFieldWrites`) |
 */
export class OperationCounters {
  private readonly sent: Counter<"peer">;
  private readonly lost: Counter;
  private traffic: PeerTrafficSource | undefined;

  constructor(registers: Registry[]) {
    const self = this;
    const seen = { in: 0, out: 0 };
    new Counter({
      name: "meridian_peer_bytes_total",
      help: "Bytes on peer sockets (WebSocket frames and handshakes), by direction",
      labelNames: ["direction"],
      registers,
      collect() {
        // Socket totals only grow; the counter follows them by increments.
        const t = self.traffic?.traffic() ?? { bytesIn: seen.in, bytesOut: seen.out };
        this.inc({ direction: "in" }, Math.max(0, t.bytesIn - seen.in));
        this.inc({ direction: "out" }, Math.max(0, t.bytesOut - seen.out));
        seen.in = Math.max(seen.in, t.bytesIn);
        seen.out = Math.max(seen.out, t.bytesOut);
      },
    });
    this.sent = new Counter({
      name: "meridian_deltas_sent_total",
      help: "Local writes pushed to peers",
      labelNames: ["peer"],
      registers,
    });
    this.lost = new Counter({
      name: "meridian_lww_lost_writes_total",
      help: "Remote field writes that arrived older than the stored register (lost a last-writer-wins race)",
      registers,
    });
  }

  /**
   * Reads peer byte totals from `source` at every scrape.
   *
   * @remarks One source per node; a later call replaces the earlier one.
   */
  watchTraffic(source: PeerTrafficSource): void {
    this.traffic = source;
  }

  /** Counts `count` deltas pushed to `peer` (a node id). */
  deltasSent(peer: string, count: number): void {
    if (count > 0) this.sent.inc({ peer }, count);
  }

  /** Counts `count` remote field writes that lost a last-writer-wins race on arrival. */
  lwwLost(count: number): void {
    if (count > 0) this.lost.inc(count);
  }
}
