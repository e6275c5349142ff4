import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Replica } from "./replica.ts";
import type { Janitor } from "./janitor.ts";
import type { Replicator } from "./replicator.ts";
import { OperationCounters } from "./operation-counters.ts";

const SECONDS_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * Prometheus metrics of one node, in a registry of its own (several nodes share a process in
 * tests and in `meridian demo`, so the global registry is never used).
 *
 * @remarks Labels are closed, small sets: route names (never paths), statuses, peer node ids,
 * message types. No session id or value ever becomes a label. Replication metrics come from
 * the replicator's typed events; {@link NodeMetrics.close} unsubscribes them and stops the
 * event-loop monitor.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `meridian_http_requests_total` | counter | op, status |
 * | `meridian_http_request_duration_seconds` | histogram | op |
 * | `meridian_sessions_stored` | gauge | |
 * | `meridian_peers_connected` | gauge | |
 * | `meridian_client_channels` | gauge | |
 * | `meridian_client_channels_paused` | gauge | |
 * | `meridian_replication_lag_seconds` | histogram | peer |
 * | `meridian_replication_last_lag_seconds` | gauge | peer |
 * | `meridian_deltas_applied_total` | counter | peer |
 * | `meridian_anti_entropy_rounds_total` | counter | peer, complete |
 * | `meridian_anti_entropy_sessions_total` | counter | peer |
 * | `meridian_anti_entropy_purged_ids_total` | counter | peer |
 * | `meridian_clock_skew_refused_total` | counter | peer |
 * | `meridian_push_queue_overflows_total` | counter | peer |
 * | `meridian_peer_messages_received_total` | counter | type |
 * | `meridian_event_loop_lag_seconds` | gauge | stat (mean, p50, p99, max) |
 * | `meridian_process_resident_memory_bytes` | gauge | |
 * | `meridian_peer_bytes_total` | counter | direction (in, out) |
 * | `meridian_deltas_sent_total` | counter | peer |
 * | `meridian_lww_lost_writes_total` | counter | |
 * | `meridian_sessions_expired_total` | counter | |
 * | `meridian_tombstones_collected_total` | counter | |
 * | `meridian_wal_bytes` | gauge | |
 * | `meridian_wal_checkpoints_total` | counter | thread (worker, writer) |
 *
 * Every series also carries the node's `region`. Peer bytes, deltas sent and LWW losses are fed
 * through the hooks of {@link OperationCounters} (`metrics.ops`): see there for who calls what;
 * open client channels through {@link NodeMetrics.watchChannels}; the SQLite WAL through
 * {@link NodeMetrics.watchWal}.
 */
export class NodeMetrics {
  /** The node's own registry. */
  readonly registry = new Registry();
  private readonly requests: Counter<"op" | "status">;
  private readonly requestSeconds: Histogram<"op">;
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly unsubscribe: (() => void)[] = [];
  /** Hooks for the counters that other parts of the node feed (peer bytes, LWW losses). */
  readonly ops: OperationCounters;
  private channels: { readonly open: number; readonly paused: number } | undefined;
  private wal: WalSource | undefined;

  constructor(
    readonly replica: Replica,
    readonly replicator: Replicator,
    janitor?: Janitor,
  ) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ region: replica.region });
    this.requests = new Counter({
      name: "meridian_http_requests_total",
      help: "HTTP requests answered, by operation (route name) and status",
      labelNames: ["op", "status"],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: "meridian_http_request_duration_seconds",
      help: "Time to answer an HTTP request, by operation",
      labelNames: ["op"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    new Gauge({
      name: "meridian_sessions_stored",
      help: "Sessions in the store, tombstones included",
      registers,
      collect() {
        this.set(replica.store.sessionCount());
      },
    });
    const channels: Gauge = new Gauge({
      name: "meridian_client_channels",
      help: "Open client channels (SDK WebSockets on /v1/channel)",
      registers,
      collect: () => {
        channels.set(this.channels?.open ?? 0);
      },
    });
    const paused: Gauge = new Gauge({
      name: "meridian_client_channels_paused",
      help: "Client channels whose calls the node stopped reading: their answers wait unread",
      registers,
      collect: () => {
        paused.set(this.channels?.paused ?? 0);
      },
    });
    new Gauge({
      name: "meridian_peers_connected",
      help: "Peers with a live outbound link",
      registers,
      collect() {
        this.set(replicator.connectedPeers());
      },
    });
    const lag = new Histogram({
      name: "meridian_replication_lag_seconds",
      help: "Per remote write: time from its origin's clock to its durable apply here",
      labelNames: ["peer"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    const lastLag = new Gauge({
      name: "meridian_replication_last_lag_seconds",
      help: "Lag of the last batch of writes applied from each peer",
      labelNames: ["peer"],
      registers,
    });
    const deltas = counter(registers, "meridian_deltas_applied_total", "Remote writes applied", [
      "peer",
    ]);
    const rounds = counter(
      registers,
      "meridian_anti_entropy_rounds_total",
      "Anti-entropy rounds finished",
      ["peer", "complete"],
    );
    const synced = counter(
      registers,
      "meridian_anti_entropy_sessions_total",
      "Session fragments received in anti-entropy rounds",
      ["peer"],
    );
    const skew = counter(
      registers,
      "meridian_clock_skew_refused_total",
      "Remote writes refused because their clock was too far ahead",
      ["peer"],
    );
    const purgedIds = counter(
      registers,
      "meridian_anti_entropy_purged_ids_total",
      "Garbage-collected session ids received in anti-entropy rounds",
      ["peer"],
    );
    const overflows = counter(
      registers,
      "meridian_push_queue_overflows_total",
      "Push queues dropped in favour of anti-entropy",
      ["peer"],
    );
    const messages = counter(
      registers,
      "meridian_peer_messages_received_total",
      "Peer messages received",
      ["type"],
    );
    const loopDelay = this.loopDelay;
    loopDelay.enable();
    new Gauge({
      name: "meridian_event_loop_lag_seconds",
      help: "Event-loop delay since the previous scrape",
      labelNames: ["stat"],
      registers,
      collect() {
        const s = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
        this.set({ stat: "mean" }, s(loopDelay.mean));
        this.set({ stat: "p50" }, s(loopDelay.percentile(50)));
        this.set({ stat: "p99" }, s(loopDelay.percentile(99)));
        this.set({ stat: "max" }, s(loopDelay.max));
        loopDelay.reset();
      },
    });
    new Gauge({
      name: "meridian_process_resident_memory_bytes",
      help: "Resident set size of the process",
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });

    const walBytes: Gauge = new Gauge({
      name: "meridian_wal_bytes",
      help: "Size of the SQLite WAL file",
      registers,
      collect: () => {
        walBytes.set(this.wal?.walStatus().bytes ?? 0);
      },
    });
    const checkpoints: Counter<"thread"> = new Counter({
      name: "meridian_wal_checkpoints_total",
      help: "WAL checkpoints that copied pages, by thread: the checkpoint worker, or the writer's when the WAL passed its limit",
      labelNames: ["thread"],
      registers,
      collect: () => {
        const c = this.wal?.walStatus().checkpoints;
        checkpoints.reset();
        checkpoints.inc({ thread: "worker" }, c?.worker ?? 0);
        checkpoints.inc({ thread: "writer" }, c?.writer ?? 0);
      },
    });

    this.ops = new OperationCounters(registers);

    this.unsubscribe.push(
      replicator.on("applied", (peer, lagsMs) => {
        deltas.inc({ peer }, lagsMs.length);
        // One observation per write, so that quantiles are per write.
        const child = lag.labels({ peer });
        let worst = 0;
        for (const ms of lagsMs) {
          child.observe(ms / 1000);
          if (ms > worst) worst = ms;
        }
        lastLag.set({ peer }, worst / 1000);
      }),
      replicator.on("sent", (peer, count) => this.ops.deltasSent(peer, count)),
      replicator.on("lww-lost", (count) => this.ops.lwwLost(count)),
      replicator.on("sync-done", (peer, sessions, complete) => {
        rounds.inc({ peer, complete: String(complete) });
        synced.inc({ peer }, sessions);
      }),
      replicator.on("purged-received", (peer, count) => purgedIds.inc({ peer }, count)),
      replicator.on("skew-refused", (peer, count) => skew.inc({ peer }, count)),
      replicator.on("overflow", (peer) => overflows.inc({ peer })),
      replicator.on("message-in", (type) => messages.inc({ type })),
    );
    const expiries = new Counter({
      name: "meridian_sessions_expired_total",
      help: "Sessions found expired past the grace period and tombstoned by this node's sweep",
      registers,
    });
    const collections = new Counter({
      name: "meridian_tombstones_collected_total",
      help: "Tombstones purged once every region held the delete",
      registers,
    });
    if (janitor !== undefined) {
      this.unsubscribe.push(
        janitor.on("expired", (n) => expiries.inc(n)),
        janitor.on("collected", (n) => collections.inc(n)),
      );
    }
  }

  /**
   * Counts one answered HTTP request.
   *
   * @remarks `op` must be a route name from a closed set, never a path.
   */
  observeRequest(op: string, status: number, seconds: number): void {
    this.requests.inc({ op, status: String(status) });
    this.requestSeconds.observe({ op }, seconds);
  }

  /** Content type of {@link NodeMetrics.render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reports the number of open client channels from `source` (the node's `ClientChannels`). */
  watchChannels(source: { readonly open: number; readonly paused: number }): void {
    this.channels = source;
  }

  /** Reports the size and checkpoints of the WAL of `source` (the node's SQLite store). */
  watchWal(source: WalSource): void {
    this.wal = source;
  }

  /** Prometheus text exposition. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Unsubscribes from the replicator and stops the event-loop monitor. Idempotent. */
  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.loopDelay.disable();
  }
}

/** What {@link NodeMetrics.watchWal} reads: the SQLite store's `walStatus`. */
export interface WalSource {
  walStatus(): {
    readonly bytes: number;
    readonly checkpoints: { readonly worker: number; readonly writer: number };
  };
}

function counter<L extends string>(
  registers: Registry[],
  name: string,
  help: string,
  labelNames: readonly L[],
): Counter<L> {
  return new Counter({ name, help, labelNames, registers });
}
