import { decodeMessage, encodeMessage, type PeerMessage } from "@meridian/core";
import type { Replicator } from "@meridian/server";
import { SimLink, type LinkCarrier } from "./sim-link.ts";
import type { SimRandom } from "./sim-random.ts";
import type { EventOwner, VirtualScheduler } from "./virtual-scheduler.ts";

/** A running node incarnation as the network sees it. */
export interface NetworkPeer {
  readonly label: string;
  readonly nodeId: string;
  readonly owner: EventOwner;
  readonly replicator: Replicator;
}

/** Message-level chaos beyond what TCP allows: each message lost, duplicated or delayed. */
export interface ChaosRates {
  readonly loss: number;
  readonly duplicate: number;
  readonly reorder: number;
}

/** Timing of link failure detection and reconnection, in ms. */
export interface LinkTiming {
  /** A blocked path is noticed (heartbeat timeout) after a delay in this range. */
  readonly detectMs: readonly [number, number];
  /** A crashed peer's connection resets after a delay in this range. */
  readonly resetMs: readonly [number, number];
  /** A dialler retries after a delay in this range (backoff with jitter). */
  readonly reconnectMs: readonly [number, number];
}

interface Direction {
  /** Messages held while this direction is blocked (TCP retransmits them after a heal). */
  held: Uint8Array[];
  /** Latest arrival time scheduled, so that a direction stays first-in first-out. */
  lastArrival: number;
}

interface Connection {
  readonly id: number;
  readonly dialer: NetworkPeer;
  readonly acceptor: NetworkPeer;
  readonly dialerEnd: SimLink;
  readonly acceptorEnd: SimLink;
  open: boolean;
  closeScheduled: boolean;
  /** Dialer to acceptor, then acceptor to dialer. */
  readonly dirs: readonly [Direction, Direction];
}

/** Close codes a healthy cluster never uses: a node closing a link with one is a bug. */
const PROTOCOL_FAULT_CODES = new Set([1011, 4400]);

/**
 * The simulated network between regions: one connection per ordered pair of regions, dialled by
 * the first, carrying `PeerMessage`s encoded and decoded by the real codec.
 *
 * @remarks Faithful to TCP by default: a connection delivers in order, and a blocked path holds
 * messages until it heals (retransmission) or the connection is declared dead after a detection
 * delay, which loses its tail; the dialler's replicator then gets `detach`, and after a heal a
 * fresh connection is dialled and `attach`ed, like a WebSocket reconnect. Chaos periods go beyond
 * that contract on purpose (loss, duplication, reordering inside a connection). Every delivery
 * is an event owned by the receiving incarnation, so it waits while that node pauses and
 * vanishes when it crashes.
 */
export class SimNetwork implements LinkCarrier {
  private readonly oneWay = new Map<string, number>();
  private readonly partitions = new Map<number, Set<string>>();
  private readonly chaos = new Map<number, ChaosRates>();
  private readonly suspects = new Set<string>();
  private readonly connections = new Map<string, Connection>();
  private readonly byId = new Map<number, Connection>();
  private readonly dialing = new Set<string>();
  private nextConnection = 1;
  private nextFault = 1;
  /** Messages sent, and bytes, for traces and reports. */
  messages = 0;
  bytes = 0;

  constructor(
    private readonly scheduler: VirtualScheduler,
    private readonly rng: SimRandom,
    private readonly regions: readonly string[],
    private readonly peerOf: (region: string) => NetworkPeer | undefined,
    private readonly timing: LinkTiming,
    private readonly trace: (line: string) => void,
    private readonly anomaly: (text: string) => void,
  ) {
    for (const [i, a] of regions.entries()) {
      for (const b of regions.slice(i + 1)) {
        const rtt = rng.int(10, 150);
        this.oneWay.set(`${a}>${b}`, rtt / 2);
        this.oneWay.set(`${b}>${a}`, rtt / 2);
      }
    }
  }

  /** Blocks every directed path in `paths` (`"a>b"`) until {@link SimNetwork.heal}. */
  partition(paths: Iterable<string>): number {
    const id = this.nextFault++;
    this.partitions.set(id, new Set(paths));
    this.trace(`partition ${id} ${[...this.partitions.get(id)!].join(",")}`);
    this.reconcile();
    return id;
  }

  /** Lifts one partition (or chaos period). */
  heal(id: number): void {
    this.partitions.delete(id);
    this.chaos.delete(id);
    this.trace(`heal ${id}`);
    this.reconcile();
  }

  /** Lifts every partition and chaos period. */
  healAll(): void {
    this.partitions.clear();
    this.chaos.clear();
    this.suspects.clear();
    this.trace("heal-all");
    this.reconcile();
  }

  /** Starts a chaos period; `heal(id)` ends it. */
  startChaos(rates: ChaosRates): number {
    const id = this.nextFault++;
    this.chaos.set(id, rates);
    this.trace(`chaos ${id} ${rates.loss} ${rates.duplicate} ${rates.reorder}`);
    return id;
  }

  /** Peers stop hearing from `region` (a long pause): its connections time out. */
  suspect(region: string, on: boolean): void {
    if (on) this.suspects.add(region);
    else this.suspects.delete(region);
    this.reconcile();
  }

  /** Whether messages from `a` can reach `b` now. */
  pathOpen(a: string, b: string): boolean {
    for (const blocked of this.partitions.values()) if (blocked.has(`${a}>${b}`)) return false;
    return true;
  }

  /**
   * Brings connections in line with the topology: schedules the close of those whose path broke
   * or whose end died, flushes held messages on healed paths, and dials missing connections.
   */
  reconcile(): void {
    for (const a of this.regions) {
      for (const b of this.regions) {
        if (a === b) continue;
        const key = `${a}>${b}`;
        const conn = this.connections.get(key);
        if (conn?.open) {
          if (this.stale(conn)) this.scheduleClose(conn, this.timing.resetMs);
          else if (!this.usable(a, b)) this.scheduleClose(conn, this.timing.detectMs);
          this.flushHeld(conn);
        } else if (this.usable(a, b) && !this.dialing.has(key)) {
          this.dialing.add(key);
          const [lo, hi] = this.timing.reconnectMs;
          this.scheduler.after(this.rng.int(lo, hi), () => {
            this.dialing.delete(key);
            this.dial(a, b);
          });
        }
      }
    }
  }

  transmit(link: SimLink, message: PeerMessage): boolean {
    const conn = this.byId.get(link.connection);
    if (conn === undefined || !conn.open || !link.open) return false;
    const forward = link === conn.dialerEnd;
    const from = forward ? conn.dialer : conn.acceptor;
    const to = forward ? conn.acceptor : conn.dialer;
    const bytes = encodeMessage(message);
    this.messages += 1;
    this.bytes += bytes.length;
    const sent =
      message.type === "deltas" ? ` sent=${message.sent.wall}.${message.sent.logical}` : "";
    this.trace(
      `send c${conn.id} ${link.localRegion}>${link.region} ${message.type} ${bytes.length}${sent}`,
    );
    const dir = conn.dirs[forward ? 0 : 1];
    if (!this.pathOpen(link.localRegion, link.region) || dir.held.length > 0) {
      dir.held.push(bytes);
      return true;
    }
    this.schedule(conn, forward, from, to, bytes);
    return true;
  }

  closeByNode(link: SimLink, code: number, reason: string): void {
    const conn = this.byId.get(link.connection);
    if (conn === undefined || !conn.open) return;
    if (PROTOCOL_FAULT_CODES.has(code)) {
      this.anomaly(`${link.localRegion} closed its link to ${link.region}: ${code} ${reason}`);
    }
    this.close(conn, `closed by ${link.localRegion} ${code}`);
    this.reconcile();
  }

  private usable(a: string, b: string): boolean {
    const pa = this.peerOf(a);
    const pb = this.peerOf(b);
    return (
      pa !== undefined &&
      pb !== undefined &&
      !this.suspects.has(a) &&
      !this.suspects.has(b) &&
      this.pathOpen(a, b) &&
      this.pathOpen(b, a)
    );
  }

  private stale(conn: Connection): boolean {
    const d = this.peerOf(conn.dialerEnd.localRegion);
    const a = this.peerOf(conn.acceptorEnd.localRegion);
    return d !== conn.dialer || a !== conn.acceptor;
  }

  private dial(a: string, b: string): void {
    const key = `${a}>${b}`;
    if (this.connections.get(key)?.open || !this.usable(a, b)) return;
    const dialer = this.peerOf(a)!;
    const acceptor = this.peerOf(b)!;
    const id = this.nextConnection++;
    const dialerEnd = new SimLink(acceptor.nodeId, b, a, id, this);
    const acceptorEnd = new SimLink(dialer.nodeId, a, b, id, this);
    dialerEnd.other = acceptorEnd;
    acceptorEnd.other = dialerEnd;
    const conn: Connection = {
      id,
      dialer,
      acceptor,
      dialerEnd,
      acceptorEnd,
      open: true,
      closeScheduled: false,
      dirs: [
        { held: [], lastArrival: 0 },
        { held: [], lastArrival: 0 },
      ],
    };
    this.connections.set(key, conn);
    this.byId.set(id, conn);
    this.trace(`connect c${id} ${a}>${b} ${dialer.nodeId}>${acceptor.nodeId}`);
    // The handshake costs a round trip; the dialler attaches once it is done.
    this.scheduler.at(
      this.scheduler.now + 2 * (this.oneWay.get(key) ?? 0),
      () => {
        if (conn.open) dialer.replicator.attach(dialerEnd);
      },
      dialer.owner,
    );
  }

  private scheduleClose(conn: Connection, range: readonly [number, number]): void {
    if (conn.closeScheduled) return;
    conn.closeScheduled = true;
    this.scheduler.after(this.rng.int(range[0], range[1]), () => {
      conn.closeScheduled = false;
      if (!conn.open) return;
      const a = conn.dialerEnd.localRegion;
      const b = conn.acceptorEnd.localRegion;
      if (this.stale(conn) || !this.usable(a, b)) {
        this.close(conn, "detected");
        this.reconcile();
      }
    });
  }

  private close(conn: Connection, why: string): void {
    conn.open = false;
    conn.dialerEnd.open = false;
    conn.acceptorEnd.open = false;
    for (const d of conn.dirs) d.held = [];
    this.trace(`disconnect c${conn.id} ${why}`);
    const dialer = conn.dialer;
    this.scheduler.at(
      this.scheduler.now,
      () => dialer.replicator.detach(conn.dialerEnd),
      dialer.owner,
    );
  }

  private flushHeld(conn: Connection): void {
    for (const forward of [true, false]) {
      const dir = conn.dirs[forward ? 0 : 1];
      const from = forward ? conn.dialer : conn.acceptor;
      const to = forward ? conn.acceptor : conn.dialer;
      const fromRegion = forward ? conn.dialerEnd.localRegion : conn.acceptorEnd.localRegion;
      const toRegion = forward ? conn.acceptorEnd.localRegion : conn.dialerEnd.localRegion;
      if (dir.held.length === 0 || !this.pathOpen(fromRegion, toRegion)) continue;
      const held = dir.held;
      dir.held = [];
      for (const bytes of held) this.schedule(conn, forward, from, to, bytes);
    }
  }

  private schedule(
    conn: Connection,
    forward: boolean,
    from: NetworkPeer,
    to: NetworkPeer,
    bytes: Uint8Array,
  ): void {
    const dir = conn.dirs[forward ? 0 : 1];
    const key = `${forward ? conn.dialerEnd.localRegion : conn.acceptorEnd.localRegion}>${
      forward ? conn.acceptorEnd.localRegion : conn.dialerEnd.localRegion
    }`;
    const base = this.oneWay.get(key) ?? 0;
    const delay = base + this.rng.float() * base * 0.2;
    let chaos: ChaosRates | undefined;
    for (const c of this.chaos.values()) chaos = c;
    if (chaos !== undefined && this.rng.chance(chaos.loss)) {
      this.trace(`lose c${conn.id} ${from.label}>${to.label}`);
      return;
    }
    let arrival: number;
    if (chaos !== undefined && this.rng.chance(chaos.reorder)) {
      arrival = this.scheduler.now + delay + this.rng.int(1, 400);
    } else {
      arrival = Math.max(this.scheduler.now + delay, dir.lastArrival);
      dir.lastArrival = arrival;
    }
    const receiverEnd = forward ? conn.acceptorEnd : conn.dialerEnd;
    const deliver = () => {
      if (!conn.open) return;
      let message: PeerMessage;
      try {
        message = decodeMessage(bytes);
      } catch (e) {
        this.anomaly(`codec refused a message it encoded: ${String(e)}`);
        return;
      }
      this.trace(`recv c${conn.id} ${to.label} ${message.type}`);
      to.replicator.receive(receiverEnd, message);
    };
    this.scheduler.at(arrival, deliver, to.owner);
    if (chaos !== undefined && this.rng.chance(chaos.duplicate)) {
      this.scheduler.at(arrival + this.rng.int(0, 200), deliver, to.owner);
    }
  }
}
