import {
  type Delta,
  type Dot,
  dotKey,
  mergeSession,
  type PeerLink,
  type PeerMessage,
  type PurgedId,
  type Scheduler,
  type SessionState,
  type Timer,
  TypedEmitter,
  type VersionVector,
} from "@meridian/core";
import { LagWindow } from "./lag-window.ts";
import { deltaSize, MAX_MESSAGE_BYTES, takeBatch } from "./message-batching.ts";
import { isWholeWrite, newestStamp, type RemoteApplyResult, type Replica } from "./replica.ts";
import { SyncServing } from "./sync-serving.ts";

/** Tuning of the replication loop. */
export interface ReplicatorOptions {
  /** Deltas waiting for one peer before the queue is dropped in favour of anti-entropy. */
  readonly maxQueue?: number;
  /** Deltas per `deltas` message. */
  readonly batchSize?: number;
  /** Period of anti-entropy rounds per peer, in ms. */
  readonly syncIntervalMs?: number;
  /** Sessions per `sync-chunk`, and purged ids per `sync-purged`. */
  readonly syncPageSize?: number;
}

/** Events of the replicator, for metrics and tests. */
export interface ReplicatorEvents {
  /** A peer link became usable for sending (after its handshake). */
  "peer-up": (peerId: string, region: string) => void;
  "peer-down": (peerId: string) => void;
  /**
   * Remote writes were applied: `lagsMs` holds, for each, how long it took from its origin's
   * write (hybrid-clock wall time) to its durable apply here.
   */
  applied: (peerId: string, lagsMs: readonly number[]) => void;
  /** A `deltas` message of `count` local writes left for a peer. */
  sent: (peerId: string, count: number) => void;
  /** Field writes that arrived older than the stored value and so lost last-writer-wins. */
  "lww-lost": (count: number) => void;
  /** Remote writes refused because their clock was too far ahead. */
  "skew-refused": (peerId: string, count: number) => void;
  /** An anti-entropy round finished on this side; `complete` when the vector was merged. */
  "sync-done": (peerId: string, sessions: number, complete: boolean) => void;
  /** Purged ids an anti-entropy round brought from a peer (already known ones included). */
  "purged-received": (peerId: string, count: number) => void;
  /** A peer's push queue overflowed and was replaced by an anti-entropy round. */
  overflow: (peerId: string) => void;
  /** Serving a peer failed (a store error, say); the link was closed. */
  fault: (peerId: string, error: unknown) => void;
  /** Bytes-agnostic message counters. */
  "message-in": (type: PeerMessage["type"]) => void;
}

/** Per-peer view for `/v1/cluster`. */
export interface PeerStatus {
  readonly nodeId: string;
  readonly region: string;
  readonly connected: boolean;
  /** Lag of the last writes applied from this peer, in ms. */
  readonly lagMs: number | null;
  /** Median and 99th percentile of the recent lag samples from this peer, in ms. */
  readonly lagP50Ms: number | null;
  readonly lagP99Ms: number | null;
  /** Highest sequence number of this peer we hold contiguously. */
  readonly caughtUpTo: number;
}

interface PeerState {
  link: PeerLink | undefined;
  region: string;
  queue: Delta[];
  needsSync: boolean;
  syncing: number | undefined;
  /** When the round in flight started (physical ms), to abandon rounds whose end was lost. */
  syncStartedAt: number;
  lagMs: number | null;
  lags: LagWindow;
}

interface IncomingRound {
  received: Set<number>;
  sessions: number;
  refused: boolean;
}

interface AckWaiter {
  readonly peers: Set<string>;
  readonly needed: number;
  readonly resolve: (acks: number) => void;
  readonly timer: Timer;
}

interface ReadWaiter {
  readonly replies: Map<string, { session: SessionState | null; vv: VersionVector }>;
  readonly needed: number;
  readonly resolve: () => void;
  readonly timer: Timer;
}

/**
 * Replication between one replica and its peers: pushes local writes in batches, acknowledges
 * durable applies, runs anti-entropy rounds on every connect and periodically, and serves the
 * peer side of quorum reads.
 *
 * @remarks Sends go over each peer's outbound link, acks included (with the pushes of the same
 * tick); replies go back on the link a request came in on. The version vector of a sync round
 * is merged only when every chunk of the round arrived and none was refused, so a node never
 * claims a write it does not hold. Push queues are bounded: an overflowing queue is dropped and
 * replaced by an anti-entropy round, never grown.
 */
export class Replicator extends TypedEmitter<ReplicatorEvents> {
  private readonly peers = new Map<string, PeerState>();
  private readonly incoming = new Map<string, IncomingRound>();
  private readonly ackWaiters = new Map<string, AckWaiter>();
  private readonly readWaiters = new Map<number, ReadWaiter>();
  private readonly dotWaiters = new Set<{
    dot: Dot;
    resolve: (ok: boolean) => void;
    timer: Timer;
  }>();
  /** The latest version vector each other region sent us, by region (latest incarnation). */
  private readonly knownVectors = new Map<string, { nodeId: string; vv: VersionVector }>();
  /** Dots durably applied and not yet acknowledged, by the link their writes came in on. */
  private readonly pendingAcks = new Map<PeerLink, Dot[]>();
  /** Whether {@link Replicator.sendOutbox} is due at the end of this tick. */
  private outboxDue = false;
  /** The latest sync round served on each link (rounds of one requester only grow). */
  private readonly lastServed = new WeakMap<PeerLink, number>();
  private nextRound = 1;
  private nextReq = 1;
  private syncTimer: Timer | undefined;
  private stopped = false;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly syncIntervalMs: number;
  private readonly syncPageSize: number;
  private readonly serving: SyncServing;

  constructor(
    readonly replica: Replica,
    private readonly scheduler: Scheduler,
    options: ReplicatorOptions = {},
  ) {
    super();
    this.maxQueue = options.maxQueue ?? 50_000;
    this.batchSize = options.batchSize ?? 500;
    this.syncIntervalMs = options.syncIntervalMs ?? 5_000;
    this.syncPageSize = options.syncPageSize ?? 1_000;
    this.serving = new SyncServing({
      store: replica.store,
      scheduler,
      pageSize: this.syncPageSize,
      onFault: (link, e) => this.emit("fault", link.peerId, e),
      stopped: () => this.stopped,
    });
    this.scheduleSync();
  }

  /** Stops timers; links are closed by their transport. */
  stop(): void {
    this.stopped = true;
    this.syncTimer?.cancel();
    for (const w of this.ackWaiters.values()) {
      w.timer.cancel();
      w.resolve(w.peers.size);
    }
    this.ackWaiters.clear();
    for (const w of this.readWaiters.values()) {
      w.timer.cancel();
      w.resolve();
    }
    this.readWaiters.clear();
    for (const w of this.dotWaiters) {
      w.timer.cancel();
      w.resolve(false);
    }
    this.dotWaiters.clear();
  }

  /** Registers an authenticated outbound link: pushes and requests to this peer use it. */
  attach(link: PeerLink): void {
    const peer = this.peer(link.peerId, link.region);
    peer.link?.close(4000, "replaced by a newer link");
    peer.link = link;
    peer.queue = [];
    if (peer.syncing !== undefined) this.incoming.delete(roundKey(link.peerId, peer.syncing));
    peer.syncing = undefined;
    this.emit("peer-up", link.peerId, link.region);
    this.requestSync(link.peerId);
  }

  /** Forgets an outbound link that closed. */
  detach(link: PeerLink): void {
    const peer = this.peers.get(link.peerId);
    if (peer === undefined || peer.link !== link) return;
    peer.link = undefined;
    peer.queue = [];
    const hadRound = peer.syncing !== undefined;
    if (peer.syncing !== undefined) this.incoming.delete(roundKey(link.peerId, peer.syncing));
    peer.syncing = undefined;
    this.emit("peer-down", link.peerId);
    if (hadRound) this.nextWaitingSync(link.peerId, false);
  }

  /** Known peers and their state. */
  status(): PeerStatus[] {
    const vv = this.replica.store.versionVector();
    return [...this.peers.entries()].map(([nodeId, p]) => ({
      nodeId,
      region: p.region,
      connected: p.link !== undefined,
      lagMs: p.lagMs,
      lagP50Ms: p.lags.quantile(0.5),
      lagP99Ms: p.lags.quantile(0.99),
      caughtUpTo: vv.base(nodeId),
    }));
  }

  /**
   * The latest version vector each other region reported (in its anti-entropy requests), by
   * region. A vector is a lower bound of what that region holds.
   */
  peerVectors(): ReadonlyMap<string, { nodeId: string; vv: VersionVector }> {
    return this.knownVectors;
  }

  /** Number of peers with a live outbound link. */
  connectedPeers(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.link !== undefined) n += 1;
    return n;
  }

  /**
   * Queues a local write for every connected peer; sent in batches at the end of this tick,
   * together with the tick's acks (see {@link Replicator.sendOutbox}).
   */
  push(delta: Delta): void {
    for (const [peerId, peer] of this.peers) {
      if (peer.link === undefined) continue;
      if (peer.queue.length >= this.maxQueue) {
        peer.queue = [];
        this.emit("overflow", peerId);
        peer.needsSync = true;
        continue;
      }
      peer.queue.push(delta);
      this.outboxDueAtTickEnd();
    }
  }

  /** Waits until `needed` peers acknowledged the write `dot` durably, or `timeoutMs` passed. */
  waitForAcks(dot: Dot, needed: number, timeoutMs: number): Promise<number> {
    if (needed <= 0) return Promise.resolve(0);
    const key = dotKey(dot);
    return new Promise((resolve) => {
      const timer = this.scheduler.after(timeoutMs, () => {
        const w = this.ackWaiters.get(key);
        this.ackWaiters.delete(key);
        resolve(w?.peers.size ?? 0);
      });
      this.ackWaiters.set(key, { peers: new Set(), needed, resolve, timer });
    });
  }

  /**
   * Asks every connected peer for a session and waits for `needed` answers or `timeoutMs`.
   * Returns the answers by peer id.
   */
  async readFromPeers(
    id: string,
    needed: number,
    timeoutMs: number,
  ): Promise<Map<string, { session: SessionState | null; vv: VersionVector }>> {
    const req = this.nextReq++;
    const replies = new Map<string, { session: SessionState | null; vv: VersionVector }>();
    if (needed <= 0) return replies;
    await new Promise<void>((resolve) => {
      const timer = this.scheduler.after(timeoutMs, () => {
        this.readWaiters.delete(req);
        resolve();
      });
      this.readWaiters.set(req, { replies, needed, resolve, timer });
      for (const p of this.peers.values()) p.link?.send({ type: "read-request", req, id });
    });
    return replies;
  }

  /** Sends merged state to peers that answered a quorum read with less. */
  repair(peerIds: readonly string[], session: SessionState): void {
    for (const id of peerIds)
      this.peers.get(id)?.link?.send({ type: "repair", sessions: [session] });
  }

  /** Resolves true as soon as the local store holds `dot`, false after `timeoutMs`. */
  waitForDot(dot: Dot, timeoutMs: number): Promise<boolean> {
    if (this.replica.store.holds(dot)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const entry = {
        dot,
        resolve,
        timer: this.scheduler.after(timeoutMs, () => {
          this.dotWaiters.delete(entry);
          resolve(false);
        }),
      };
      this.dotWaiters.add(entry);
    });
  }

  /** Handles one message from a peer, arriving on `link` (inbound or outbound). */
  receive(link: PeerLink, message: PeerMessage): void {
    this.emit("message-in", message.type);
    switch (message.type) {
      case "deltas":
        this.onDeltas(link, message.deltas, message.sent.wall);
        return;
      case "ack":
        this.onAck(link.peerId, message.dots);
        return;
      case "sync-request":
        // Each round is served once per link, and never after a later one: served twice (a
        // duplicated request) with different snapshots, the requester could complete the round
        // with one serve's chunks and the other's vector (found by the simulator).
        if (message.round <= (this.lastServed.get(link) ?? 0)) return;
        this.lastServed.set(link, message.round);
        this.knownVectors.set(link.region, { nodeId: link.peerId, vv: message.vv });
        this.serving.serve(link, message.round, message.vv);
        return;
      case "sync-chunk":
        this.onSyncChunk(link, message.round, message.index, message.sessions);
        return;
      case "sync-purged":
        this.onSyncPurged(link, message.round, message.index, message.purged);
        return;
      case "sync-done":
        this.onSyncDone(link, message.round, message.chunks, message.vv);
        return;
      case "read-request":
        link.send({
          type: "read-reply",
          req: message.req,
          session: this.replica.get(message.id) ?? null,
          vv: this.replica.store.versionVector(),
        });
        return;
      case "read-reply":
        this.onReadReply(link.peerId, message.req, message.session, message.vv);
        return;
      case "repair":
        this.replica.applyStates(message.sessions);
        return;
      case "ping":
        link.send({ type: "pong", req: message.req, sent: message.sent });
        return;
      case "pong":
      case "hello":
      case "auth":
      case "welcome":
        // Handshake messages are the transport's business; a pong needs no answer.
        return;
    }
  }

  private peer(peerId: string, region: string): PeerState {
    let p = this.peers.get(peerId);
    if (p === undefined) {
      p = {
        link: undefined,
        region,
        queue: [],
        needsSync: false,
        syncing: undefined,
        syncStartedAt: 0,
        lagMs: null,
        lags: new LagWindow(),
      };
      this.peers.set(peerId, p);
    }
    return p;
  }

  /**
   * Sends what this tick left for peers: its acks, then its pushes. Runs once per tick, after
   * every promise continuation the tick released (a group commit settles all its writes and
   * remote applies in one round of continuations), so one commit makes one ack and one `deltas`
   * message per peer, with nothing in between.
   *
   * @remarks An ack travels on this node's outbound link to the peer, the one its pushes take,
   * so a tick's ack and deltas to one peer leave in one socket write and wake it once; on the
   * link its writes came in on when there is no outbound link (or it refuses the message).
   * Either way it leaves only after the commit that made its writes durable.
   */
  private sendOutbox(): void {
    this.outboxDue = false;
    for (const [link, dots] of this.pendingAcks) {
      const ack: PeerMessage = { type: "ack", dots };
      const outbound = this.peers.get(link.peerId)?.link;
      if (outbound === undefined || !outbound.send(ack)) link.send(ack);
    }
    this.pendingAcks.clear();
    if (this.stopped) return;
    for (const [peerId, peer] of this.peers) if (peer.queue.length > 0) this.flush(peerId, peer);
  }

  /**
   * Schedules {@link Replicator.sendOutbox} once per tick. A `nextTick` queued from a promise
   * continuation runs only once the microtask queue is empty: after the last continuation of
   * the commit, however deep its chain, and before any further I/O or timer.
   */
  private outboxDueAtTickEnd(): void {
    if (this.outboxDue) return;
    this.outboxDue = true;
    process.nextTick(() => this.sendOutbox());
  }

  private flush(peerId: string, peer: PeerState): void {
    const link = peer.link;
    if (link === undefined) return;
    while (peer.queue.length > 0) {
      const batch = takeBatch(peer.queue, this.batchSize, MAX_MESSAGE_BYTES, deltaSize);
      // `sent` is the physical clock, read without issuing a timestamp: an issued one would
      // leave the node without being persisted, and a restart could issue it again.
      const sent = { wall: this.replica.now(), logical: 0, node: this.replica.nodeId };
      const ok = link.send({ type: "deltas", deltas: batch, sent });
      if (ok) this.emit("sent", peerId, batch.length);
      if (!ok) {
        // The link's buffer is over its bound: drop the backlog, let anti-entropy catch up.
        peer.queue = [];
        this.emit("overflow", peerId);
        peer.needsSync = true;
        return;
      }
    }
    if (peer.needsSync) this.requestSync(peerId);
  }

  /**
   * Joins pushed writes into the current tick's group commit and acknowledges them once it is
   * durable; a failed commit acknowledges nothing and closes the link (the peer's next round
   * fetches what is missing).
   */
  private onDeltas(link: PeerLink, deltas: readonly Delta[], sentWall: number): void {
    if (!deltas.every(isWholeWrite)) {
      link.close(4400, "deltas must each hold one whole write");
      return;
    }
    // Each write's own clock, for its lag once applied.
    const walls: number[] = [];
    for (const d of deltas) {
      const stamp = newestStamp(d.session);
      if (stamp !== undefined) walls.push(stamp.hlc.wall);
    }
    this.replica.applyRemote(deltas).then(
      (result) => this.onRemoteApplied(link, walls, sentWall, result),
      (e: unknown) => {
        this.emit("fault", link.peerId, e);
        link.close(1011, "applying deltas failed");
      },
    );
  }

  private onRemoteApplied(
    link: PeerLink,
    walls: readonly number[],
    sentWall: number,
    { held, refusedSkew, lostWrites }: RemoteApplyResult,
  ): void {
    if (refusedSkew > 0) this.emit("skew-refused", link.peerId, refusedSkew);
    if (lostWrites > 0) this.emit("lww-lost", lostWrites);
    if (held.length === 0) return;
    this.ack(link, held);
    // Lag of each write: from its origin's clock to durably applied here.
    const now = this.replica.now();
    const peer = this.peers.get(link.peerId);
    let worst = Math.max(0, now - sentWall);
    const lags: number[] = [];
    for (const wall of walls) {
      const one = Math.max(0, now - wall);
      peer?.lags.add(one);
      lags.push(one);
      if (one > worst) worst = one;
    }
    if (peer) peer.lagMs = worst;
    this.emit("applied", link.peerId, lags);
    this.resolveDotWaiters();
  }

  /**
   * Acknowledges `dots`, written durably, to the peer of `link`, together with the other dots
   * of the same commit: one `ack` per link the tick's `deltas` came in on, sent with the tick's
   * pushes (see {@link Replicator.sendOutbox}).
   */
  private ack(link: PeerLink, dots: readonly Dot[]): void {
    let pending = this.pendingAcks.get(link);
    if (pending === undefined) {
      pending = [];
      this.pendingAcks.set(link, pending);
    }
    for (const dot of dots) pending.push(dot);
    this.outboxDueAtTickEnd();
  }

  private onAck(peerId: string, dots: readonly Dot[]): void {
    // Writes at local consistency wait for no ack: most acks find nobody to tell.
    if (this.ackWaiters.size === 0) return;
    for (const dot of dots) {
      const key = dotKey(dot);
      const w = this.ackWaiters.get(key);
      if (w === undefined) continue;
      w.peers.add(peerId);
      if (w.peers.size >= w.needed) {
        w.timer.cancel();
        this.ackWaiters.delete(key);
        w.resolve(w.peers.size);
      }
    }
  }

  private onReadReply(
    peerId: string,
    req: number,
    session: SessionState | null,
    vv: VersionVector,
  ): void {
    const w = this.readWaiters.get(req);
    if (w === undefined) return;
    w.replies.set(peerId, { session, vv });
    if (w.replies.size >= w.needed) {
      w.timer.cancel();
      this.readWaiters.delete(req);
      w.resolve();
    }
  }

  private requestSync(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined || peer.link === undefined || this.stopped) return;
    const now = this.replica.now();
    if (peer.syncing !== undefined && now - peer.syncStartedAt < this.syncIntervalMs * 3) {
      peer.needsSync = true;
      return;
    }
    if (peer.syncing !== undefined) this.incoming.delete(roundKey(peerId, peer.syncing));
    // One round at a time across peers: after a round with one peer the next asks only for what
    // is still missing, instead of every peer sending the same backlog at once.
    for (const [otherId, other] of this.peers) {
      if (otherId === peerId || other.syncing === undefined) continue;
      if (now - other.syncStartedAt < this.syncIntervalMs * 3) {
        peer.needsSync = true;
        return;
      }
    }
    peer.syncStartedAt = now;
    const round = this.nextRound++;
    peer.syncing = round;
    peer.needsSync = false;
    this.incoming.set(roundKey(peerId, round), {
      received: new Set(),
      sessions: 0,
      refused: false,
    });
    if (!peer.link.send({ type: "sync-request", round, vv: this.replica.store.versionVector() })) {
      // Not sent (link closed or over its buffer bound): no round is in flight; retry next tick.
      this.incoming.delete(roundKey(peerId, round));
      peer.syncing = undefined;
      peer.needsSync = true;
    }
  }

  private onSyncChunk(
    link: PeerLink,
    round: number,
    index: number,
    sessions: readonly SessionState[],
  ): void {
    const r = this.receiveChunk(link, round, index);
    if (r === undefined) return;
    r.sessions += sessions.length;
    const { refused, lostWrites } = this.replica.applyChunk(sessions);
    if (lostWrites > 0) this.emit("lww-lost", lostWrites);
    if (refused > 0) {
      r.refused = true;
      this.emit("skew-refused", link.peerId, 1);
    }
  }

  /**
   * Learns purges: each id becomes a permanent remove-wins tombstone here, dropping whatever
   * this node holds for it (a write it took to the id before it knew, say).
   */
  private onSyncPurged(
    link: PeerLink,
    round: number,
    index: number,
    purged: readonly PurgedId[],
  ): void {
    if (this.receiveChunk(link, round, index) === undefined) return;
    this.replica.store.applyPurged(purged);
    this.emit("purged-received", link.peerId, purged.length);
  }

  /** Records chunk `index` of a round in flight; undefined for unknown rounds and repeats. */
  private receiveChunk(link: PeerLink, round: number, index: number): IncomingRound | undefined {
    const r = this.incoming.get(roundKey(link.peerId, round));
    if (r === undefined) return undefined;
    if (r.received.has(index)) return undefined;
    r.received.add(index);
    // A round that is still delivering is alive: only a silent round is abandoned as lost, so a
    // long catch-up is never restarted (and sent twice) halfway through.
    const peer = this.peers.get(link.peerId);
    if (peer !== undefined && peer.syncing === round) peer.syncStartedAt = this.replica.now();
    return r;
  }

  private onSyncDone(link: PeerLink, round: number, chunks: number, vv: VersionVector): void {
    const key = roundKey(link.peerId, round);
    const r = this.incoming.get(key);
    this.incoming.delete(key);
    const peer = this.peers.get(link.peerId);
    if (peer !== undefined && peer.syncing === round) peer.syncing = undefined;
    if (r === undefined) return;
    let complete = !r.refused && r.received.size === chunks;
    for (let i = 0; complete && i < chunks; i++) if (!r.received.has(i)) complete = false;
    if (complete) {
      this.replica.store.mergeVersionVector(vv);
      this.resolveDotWaiters();
    }
    this.emit("sync-done", link.peerId, r.sessions, complete);
    this.nextWaitingSync(link.peerId, peer?.needsSync === true);
  }

  /** Starts the round a peer is waiting for, other peers first so nobody starves. */
  private nextWaitingSync(justDone: string, again: boolean): void {
    for (const [id, p] of this.peers) {
      if (id !== justDone && p.needsSync && p.link !== undefined) {
        this.requestSync(id);
        return;
      }
    }
    if (again) this.requestSync(justDone);
  }

  private resolveDotWaiters(): void {
    if (this.dotWaiters.size === 0) return;
    const vv = this.replica.store.versionVector();
    for (const w of [...this.dotWaiters]) {
      if (vv.has(w.dot)) {
        w.timer.cancel();
        this.dotWaiters.delete(w);
        w.resolve(true);
      }
    }
  }

  private scheduleSync(): void {
    if (this.stopped) return;
    this.syncTimer = this.scheduler.after(this.syncIntervalMs, () => {
      for (const peerId of this.peers.keys()) this.requestSync(peerId);
      this.scheduleSync();
    });
  }
}

function roundKey(peerId: string, round: number): string {
  return `${peerId}#${round}`;
}

/** Joins the answers of a quorum read with the local state. */
export function mergeAnswers(
  local: SessionState | undefined,
  answers: Iterable<SessionState | null>,
): SessionState | undefined {
  let merged = local;
  for (const s of answers) {
    if (s === null) continue;
    merged = merged === undefined ? s : mergeSession(merged, s);
  }
  return merged;
}
