import type { Server } from "node:http";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Clock, MemoryStore, type Rng, type Scheduler, type Store } from "@meridian/core";
import { openSqliteStore, readKeyringFile, type SqliteStore } from "@meridian/storage-sqlite";
import type { DestinationStream } from "pino";
import { clusterSecrets, DATABASE_FILE, type NodeConfig } from "./config.ts";
import { currentBootId } from "./boot-id.ts";
import { ClientChannels } from "./channel/client-channel.ts";
import { createHttpHandler } from "./http/handler.ts";
import { createLogger, type Logger } from "./log.ts";
import { loggableError } from "./peer/loggable-error.ts";
import { NodeMetrics } from "./metrics.ts";
import { createNodeServer, readTlsMaterial } from "./node-server.ts";
import { attachPeerTransport, type PeerTransport } from "./peer/transport.ts";
import { Janitor } from "./janitor.ts";
import { Replica } from "./replica.ts";
import { Replicator } from "./replicator.ts";
import { cryptoRng, eventLoopScheduler, systemClock } from "./scheduler.ts";
import { SessionService } from "./session-service.ts";

/** Injectable parts, for tests that skew clocks or seed randomness. */
export interface NodeDeps {
  readonly clock?: Clock;
  readonly rng?: Rng;
  readonly scheduler?: Scheduler;
  /** The machine's boot id (default: read from /proc; null: unknown, as on a fresh boot). */
  readonly bootId?: string | null;
  /** Where log lines go instead of stdout (tests that read what a node logs). */
  readonly logDestination?: DestinationStream;
}

/** A running regional node. */
export interface RunningNode {
  readonly config: NodeConfig;
  /** Base URL the node listens on, e.g. `http://127.0.0.1:7001` (`https://` with TLS). */
  readonly url: string;
  readonly port: number;
  readonly nodeId: string;
  readonly replica: Replica;
  readonly replicator: Replicator;
  /** Expiry sweeps and tombstone collection. */
  readonly janitor: Janitor;
  /** Peer WebSockets; its events tell links going up and down and refused handshakes. */
  readonly transport: PeerTransport;
  readonly service: SessionService;
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
  /** Stops taking requests, closes peer links and the database. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a node: opens the store, listens for HTTP and peer WebSockets on one port, dials peers.
 *
 * @remarks `/readyz` answers 200 only between "listening with the database open" and the start of
 * `close()`; while draining it answers 503 and new requests get 503 too. With a certificate the
 * port serves HTTPS and wss only; TLS files and the keyring are read before anything listens.
 */
export async function startNode(config: NodeConfig, deps: NodeDeps = {}): Promise<RunningNode> {
  const clock = deps.clock ?? systemClock;
  const rng = deps.rng ?? cryptoRng;
  const scheduler = deps.scheduler ?? eventLoopScheduler;
  const logger = createLogger(config.logLevel, config.region, deps.logDestination);
  const tls = readTlsMaterial(config);
  const { store, sqlite } = openStore(config, logger);
  const replica = new Replica({
    store,
    clock,
    rng,
    scheduler,
    region: config.region,
    maxClockSkewMs: config.maxClockSkewMs,
    ...(deps.bootId !== null ? { bootId: deps.bootId ?? currentBootId() } : {}),
  });
  const replicator = new Replicator(replica, scheduler, { syncIntervalMs: config.syncIntervalMs });
  replicator.on("fault", (peer, err) =>
    logger.error({ peer, err: loggableError(err) }, "serving a peer failed"),
  );
  const service = new SessionService(replica, replicator, rng, {
    defaultTtlMs: config.defaultTtlMs,
    maxFields: config.maxFields,
    quorumTimeoutMs: config.quorumTimeoutMs,
    clusterSize: config.peers.length + 1,
  });
  const janitor = new Janitor(replica, replicator, scheduler, {
    intervalMs: config.janitorIntervalMs,
    expiryGraceMs: config.expiryGraceMs,
    tombstoneMinAgeMs: config.tombstoneMinAgeMs,
    clusterSize: config.peers.length + 1,
  });
  janitor.on("fault", (err) => logger.error({ err: loggableError(err) }, "janitor pass failed"));
  const metrics = new NodeMetrics(replica, replicator, janitor);
  if (sqlite !== undefined) metrics.watchWal(sqlite);
  let ready = false;
  const httpDeps = {
    service,
    replicator,
    replica,
    config,
    metrics,
    logger,
    isReady: () => ready,
  };
  const server: Server = createNodeServer(createHttpHandler(httpDeps), tls);
  const channels = new ClientChannels(httpDeps);
  metrics.watchChannels(channels);
  const transport: PeerTransport = attachPeerTransport({
    server,
    replicator,
    replica,
    secret: config.secret,
    secrets: clusterSecrets(config.secret),
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    peers: config.peers,
    logger,
    rng,
    scheduler,
    otherUpgrade: (req, socket, head) => channels.handleUpgrade(req, socket, head),
  });
  metrics.ops.watchTraffic(transport);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  transport.start();
  janitor.start();
  ready = true;
  if (replica.stoppedUncleanly) {
    logger.warn(
      { nodeId: replica.nodeId },
      "previous run stopped uncleanly with synchronous NORMAL and the machine rebooted since: new incarnation",
    );
  }
  logger.info({ nodeId: replica.nodeId, port, peers: config.peers.length }, "node ready");

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      ready = false;
      logger.info("draining");
      channels.close();
      await transport.close();
      janitor.stop();
      replicator.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      metrics.close();
      replica.markStopped();
      store.close();
      logger.info("closed");
    })();
    return closing;
  };

  return {
    config,
    url: `${tls.server === undefined ? "http" : "https"}://${config.host}:${port}`,
    port,
    nodeId: replica.nodeId,
    replica,
    replicator,
    janitor,
    transport,
    service,
    metrics,
    logger,
    close,
  };
}

/**
 * The node's store; when it is SQLite, also as such (for the WAL metrics).
 *
 * @remarks The WAL is checkpointed from a worker thread, so that copying it into the database
 * file never stalls the event loop inside a commit; if the worker fails, the error is logged
 * and SQLite checkpoints inside commits again.
 */
function openStore(config: NodeConfig, logger: Logger): { store: Store; sqlite?: SqliteStore } {
  if (config.dataDir === ":memory:") return { store: new MemoryStore() };
  mkdirSync(config.dataDir, { recursive: true });
  const keyring = config.keyringFile ? readKeyringFile(config.keyringFile) : undefined;
  const sqlite = openSqliteStore(join(config.dataDir, DATABASE_FILE), {
    synchronous: config.synchronous,
    keyring,
    checkpointWorker: {
      onFailure: (err) =>
        logger.error(
          { err: loggableError(err) },
          "WAL checkpoint worker failed: checkpointing inside commits",
        ),
    },
  });
  return { store: sqlite, sqlite };
}
