/*
 * Peer transport design.
 *
 * - One port: the HTTP API and the peer WebSocket share the node's server. `upgrade` requests for
 *   `/v1/peer` go to a `noServer` WebSocketServer; any other upgrade gets a bare 404 and its
 *   socket destroyed (503 while closing, or when too many handshakes are pending).
 * - Every node dials every configured peer base URL (`http://h:p` -> `ws://h:p/v1/peer`), so
 *   between two nodes there are two connections, one dialled by each. A node pushes, acks the
 *   peer's pushes and sends requests on its outbound connection (`replicator.attach`), and
 *   answers other requests on the connection they came in on (`replicator.receive` for both
 *   directions). Inbound connections are never attached. The frames a link sends in one run of
 *   code leave in one socket write (ws-link.ts).
 * - Every connection runs the mutual challenge-response handshake of handshake.ts before anything
 *   else: hello (nonce) -> auth (HMAC of the other's nonce and the prover's id) -> welcome. Wrong
 *   proof 4401, other protocol 4426, malformed frame or out-of-place message 4400, no handshake
 *   within 5 s 4408, a connection to oneself 4508 (that URL is not dialled again).
 * - Reconnects: capped exponential backoff with full jitter (50 ms doubling to 250 ms, randomness
 *   from the injected Rng), started over after each finished handshake. Timers go through the
 *   injected Scheduler. WebSocket pings drop a peer that stops answering.
 * - Frames a node sends as the dialling side carry an all-zero masking key (`unmaskedFrames`).
 * - Sends never block: a link answers false when its socket is not open or holds more than
 *   `maxBufferedBytes`, and the replicator falls back to anti-entropy.
 * - Nothing a peer sends crashes the node: errors are logged (ids redacted) and close that link.
 * - Frames after the handshake are not authenticated one by one: run peers over TLS. A node
 *   given a certificate serves wss on its port, and `https://` peer URLs are dialled as wss,
 *   trusting `ca` when given (self-signed certificates), else the system's CAs.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type Rng, type Scheduler, TypedEmitter } from "@meridian/core";
import { WebSocket, WebSocketServer } from "ws";
import type { Logger } from "../log.ts";
import type { Replica } from "../replica.ts";
import type { Replicator } from "../replicator.ts";
import { type BackoffPolicy, DEFAULT_BACKOFF } from "./backoff.ts";
import { PeerCloseCode } from "./close-codes.ts";
import { type ConnectionEnd, type Direction, PeerConnection } from "./connection.ts";
import { type DialAttempt, type DialOutcome, Dialer, peerSocketUrl } from "./dialer.ts";
import { Handshake, NONCE_BYTES } from "./handshake.ts";
import { SocketTraffic } from "./socket-traffic.ts";
import { isPeerUpgrade, refuseUpgrade } from "./upgrade.ts";
import type { LinkLimits, WsLink } from "./ws-link.ts";

/**
 * What the peer transport needs.
 *
 * @remarks Durations in ms, sizes in bytes; every node of a cluster should use the same
 * `maxPayload`.
 */
export interface PeerTransportOptions {
  readonly server: Server;
  readonly replicator: Replicator;
  readonly replica: Replica;
  /** Cluster secret; used when `secrets` is absent. */
  readonly secret: string;
  /** Accepted secrets for rotation: proofs under any verify, the first one signs. Empty ones are ignored. */
  readonly secrets?: readonly string[];
  /** Other nodes' base URLs, e.g. `http://127.0.0.1:7002`. */
  readonly peers: readonly string[];
  readonly logger: Logger;
  readonly rng: Rng;
  readonly scheduler: Scheduler;
  /** Largest frame in either direction (default 16 MiB, the codec's default limit). */
  readonly maxPayload?: number;
  /** Send buffer bound per link (default 64 MiB). */
  readonly maxBufferedBytes?: number;
  /** Time allowed for the handshake (default 5 s). */
  readonly handshakeTimeoutMs?: number;
  /** Ping interval (default 10 s). */
  readonly heartbeatMs?: number;
  readonly backoff?: BackoffPolicy;
  /** CA bundle (PEM) trusted when dialling `wss` peers; default: the system's CAs. */
  readonly ca?: Buffer;
  /** Takes upgrade requests for any other path (the client channel); absent, they get 404. */
  readonly otherUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/**
 * Events of the peer transport, for metrics, logs and tests.
 *
 * @remarks `link-down` follows exactly one `link-up`; a connection that never authenticated
 * ends in `handshake-failed` instead (shutdown closes excepted).
 */
export interface PeerTransportEvents {
  /** A connection finished its handshake. */
  "link-up": (peerId: string, region: string, direction: Direction) => void;
  /** An authenticated connection closed. */
  "link-down": (peerId: string, direction: Direction, code: number) => void;
  /** A connection closed before its handshake finished (`end.byUs`: this side refused it). */
  "handshake-failed": (direction: Direction, end: ConnectionEnd) => void;
}

/**
 * Peer WebSockets of one node: accepts peers on the node's port and dials the configured ones.
 *
 * @remarks At most one outbound link per peer node is attached to the replicator at a time.
 */
export interface PeerTransport {
  /** Starts dialling the configured peers. */
  start(): void;
  /** Stops dialling, closes every link with 1001 and resolves once all are closed. Idempotent. */
  close(): Promise<void>;
  /** Adds an event listener; returns a function that removes it. */
  on<K extends keyof PeerTransportEvents>(event: K, listener: PeerTransportEvents[K]): () => void;
  /** Bytes received and sent on peer sockets since start, inbound and outbound links together. */
  traffic(): { bytesIn: number; bytesOut: number };
}

/**
 * Leaves the masking key of the frames this node sends as a client all zero, so ws neither
 * copies nor XORs their payload, and the receiving node skips unmasking it.
 *
 * @remarks Masking (RFC 6455, 5.3) keeps a browser script from choosing the bytes a
 * misbehaving intermediary sees; a peer link carries frames between two nodes that proved the
 * cluster secret, is meant to run over TLS across networks (where an intermediary sees no
 * plaintext), and is never opened by a browser. Every deltas message was masked and unmasked
 * once per peer, byte by byte in JavaScript: 2% of a node's busy time at 1,000-5,000 writes/s.
 */
function unmaskedFrames(mask: Buffer): void {
  mask.fill(0);
}

/** Pending inbound handshakes beyond which new upgrades are answered 503. */
const MAX_PENDING_INBOUND = 64;

/**
 * Attaches the peer transport to the node's HTTP server (it starts accepting at once; dialling
 * starts with `start()`).
 *
 * @remarks A node with no usable secret authenticates no one: it refuses every peer and dials
 * none. See the design note at the top of this file.
 */
export function attachPeerTransport(options: PeerTransportOptions): PeerTransport {
  return new WsPeerTransport(options);
}

class WsPeerTransport extends TypedEmitter<PeerTransportEvents> implements PeerTransport {
  private readonly wss: WebSocketServer;
  private readonly limits: LinkLimits;
  private readonly secrets: readonly string[];
  private readonly dialers: Dialer[] = [];
  private readonly connections = new Set<PeerConnection>();
  /** Outbound links attached to the replicator, by peer id. */
  private readonly outbound = new Map<string, WsLink>();
  private pendingInbound = 0;
  private readonly sockets = new SocketTraffic();
  private closing: Promise<void> | undefined;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    this.upgrade(req, socket, head);

  constructor(private readonly o: PeerTransportOptions) {
    super();
    this.limits = {
      maxPayload: o.maxPayload ?? 16 * 1024 * 1024,
      maxBufferedBytes: o.maxBufferedBytes ?? 64 * 1024 * 1024,
    };
    this.secrets = (o.secrets ?? [o.secret]).filter((s) => s.length > 0);
    for (const base of o.peers) {
      const url = peerSocketUrl(base);
      this.dialers.push(
        new Dialer({
          url,
          scheduler: o.scheduler,
          rng: o.rng,
          backoff: o.backoff ?? DEFAULT_BACKOFF,
          connect: (u, outcome) => this.dial(u, outcome),
        }),
      );
    }
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.maxPayload,
      perMessageDeflate: false,
    });
    o.server.on("upgrade", this.onUpgrade);
  }

  start(): void {
    if (this.closing !== undefined) return;
    if (this.secrets.length === 0) {
      if (this.dialers.length > 0) this.o.logger.error("no cluster secret: peers are not dialled");
      return;
    }
    for (const d of this.dialers) d.start();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.o.server.off("upgrade", this.onUpgrade);
      for (const d of this.dialers) d.stop();
      for (const c of this.connections) c.close(PeerCloseCode.goingAway, "node shutting down");
      await Promise.all([...this.connections].map((c) => c.closed));
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    })();
    return this.closing;
  }

  traffic(): { bytesIn: number; bytesOut: number } {
    return this.sockets.totals();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!isPeerUpgrade(req)) {
      if (this.o.otherUpgrade !== undefined) this.o.otherUpgrade(req, socket, head);
      else refuseUpgrade(socket, 404, "Not Found");
      return;
    }
    if (this.closing !== undefined || this.pendingInbound >= MAX_PENDING_INBOUND) {
      refuseUpgrade(socket, 503, "Service Unavailable");
      return;
    }
    this.sockets.watch(socket);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket));
  }

  private accept(ws: WebSocket, socket: Duplex): void {
    if (this.closing !== undefined) {
      ws.close(PeerCloseCode.goingAway, "node shutting down");
      return;
    }
    this.pendingInbound += 1;
    let pending = true;
    const settle = () => {
      if (pending) this.pendingInbound -= 1;
      pending = false;
    };
    this.track(
      ws,
      "inbound",
      {
        open: () => settle(),
        ended: () => settle(),
      },
      socket,
    );
  }

  private dial(url: string, outcome: DialOutcome): DialAttempt {
    const ws = new WebSocket(url, {
      maxPayload: this.limits.maxPayload,
      perMessageDeflate: false,
      generateMask: unmaskedFrames,
      ...(this.o.ca !== undefined ? { ca: this.o.ca } : {}),
    });
    ws.once("upgrade", (res) => this.sockets.watch(res.socket));
    return this.track(ws, "outbound", {
      open: () => outcome.opened(),
      ended: (e) => outcome.ended(e),
    });
  }

  private track(
    ws: WebSocket,
    direction: Direction,
    hooks: { open: () => void; ended: (end: ConnectionEnd) => void },
    socket?: Duplex,
  ): PeerConnection {
    const connection = new PeerConnection({
      ws,
      ...(socket !== undefined ? { socket } : {}),
      direction,
      handshake: new Handshake({
        nodeId: this.o.replica.nodeId,
        region: this.o.replica.region,
        secrets: this.secrets,
        nonce: this.o.rng.bytes(NONCE_BYTES),
        versionVector: () => this.o.replica.store.versionVector(),
      }),
      handler: {
        open: (c, link) => {
          if (this.opened(c, link, direction)) hooks.open();
        },
        message: (link, message) => this.o.replicator.receive(link, message),
        closed: (c, end) => {
          this.connections.delete(c);
          try {
            this.ended(c, direction, end);
          } finally {
            hooks.ended(end);
          }
        },
      },
      scheduler: this.o.scheduler,
      logger: this.o.logger,
      limits: this.limits,
      handshakeTimeoutMs: this.o.handshakeTimeoutMs ?? 5000,
      heartbeatMs: this.o.heartbeatMs ?? 10_000,
    });
    this.connections.add(connection);
    return connection;
  }

  /** Wires up a connection whose handshake finished; false when it is refused as a duplicate. */
  private opened(connection: PeerConnection, link: WsLink, direction: Direction): boolean {
    if (direction === "outbound" && this.outbound.has(link.peerId)) {
      // Two configured URLs lead to one node: keep the link we have. The duplicate's dialer
      // keeps backing off, since its handshake does not count as a success.
      connection.close(PeerCloseCode.duplicate, "duplicate link");
      return false;
    }
    this.o.logger.info({ peer: link.peerId, peerRegion: link.region, direction }, "peer link up");
    this.emit("link-up", link.peerId, link.region, direction);
    if (direction === "outbound") {
      this.outbound.set(link.peerId, link);
      this.o.replicator.attach(link);
    }
    return true;
  }

  private ended(connection: PeerConnection, direction: Direction, end: ConnectionEnd): void {
    const link = connection.authenticatedLink;
    if (link === undefined) {
      if (end.code !== PeerCloseCode.goingAway) this.emit("handshake-failed", direction, end);
      return;
    }
    if (direction === "outbound" && this.outbound.get(link.peerId) === link) {
      this.outbound.delete(link.peerId);
      this.o.replicator.detach(link);
    } else if (direction === "outbound") {
      return; // a refused duplicate: never announced, nothing to undo
    }
    this.o.logger.info({ peer: link.peerId, direction, code: end.code }, "peer link down");
    this.emit("link-down", link.peerId, direction, end.code);
  }
}
