/**
 * Replicas wired by hand: nodes on a virtual scheduler and links whose messages the test
 * delivers itself, in any order, for the anti-entropy and group-commit cases that the
 * simulator's campaigns do not reach deterministically.
 */
import {
  type ClockHighWater,
  type Delta,
  type JoinReport,
  MemoryStore,
  type PeerLink,
  type PeerMessage,
  packValue,
  type Store,
} from "@meridian/core";
import { Replica, Replicator } from "@meridian/server";
import { SimRandom, VirtualClock, VirtualScheduler } from "@meridian/sim";

/** A link that keeps what is sent on it (and its close code), for delivering by hand. */
export class HandLink implements PeerLink {
  readonly sent: PeerMessage[] = [];
  closedWith: number | undefined;
  /** Called after each message is kept. */
  onSend: () => void = () => {};
  constructor(
    readonly peerId: string,
    readonly region: string,
  ) {}
  send(message: PeerMessage): boolean {
    this.sent.push(message);
    this.onSend();
    return true;
  }
  close(code: number): void {
    this.closedWith = code;
  }
  /** The dots of each `ack` sent, one `origin:seq,…` text per ack. */
  acks(): string[] {
    return this.sent.flatMap((m) =>
      m.type === "ack" ? [m.dots.map((d) => `${d.origin}:${d.seq}`).join()] : [],
    );
  }
}

/** Options of {@link handNode}. */
export interface HandNodeOptions {
  /** Seed of the node's random source (its node id). */
  readonly seed: number;
  readonly store?: Store;
  readonly syncPageSize?: number;
}

/** A replica and its replicator on `scheduler`, with anti-entropy only when a test asks. */
export function handNode(region: string, scheduler: VirtualScheduler, o: HandNodeOptions) {
  const replica = new Replica({
    store: o.store ?? new MemoryStore(),
    clock: new VirtualClock(scheduler),
    rng: SimRandom.derive(o.seed, region),
    scheduler,
    region,
  });
  const replicator = new Replicator(replica, scheduler, {
    syncIntervalMs: 60_000,
    ...(o.syncPageSize !== undefined ? { syncPageSize: o.syncPageSize } : {}),
  });
  return { replica, replicator };
}

/**
 * Awaits `p` after advancing `scheduler` by one virtual millisecond past the last settle: one
 * tick per write, so its group commit runs on its own.
 */
export function settler(scheduler: VirtualScheduler): <T>(p: Promise<T>) => Promise<T> {
  let t = scheduler.now;
  return async (p) => {
    t += 1;
    await scheduler.runUntil(t);
    return p;
  };
}

/** A create write with one field `x`. */
export const createWrite = (x: unknown) => ({
  op: "create" as const,
  data: new Map([["x", packValue(x)]]),
  ttlMs: null,
});

/** A dot as text, `origin:seq`, for comparing the dots of messages. */
export const dotText = (d: Delta) => `${d.dot.origin}:${d.dot.seq}`;

/** A memory store that records each `applyDeltas` call and can be told to fail the next one. */
export class RecordingStore extends MemoryStore {
  readonly commits: number[] = [];
  failNext = false;
  override applyDeltas(deltas: readonly Delta[], clock?: ClockHighWater): JoinReport {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("disk full");
    }
    this.commits.push(deltas.length);
    return super.applyDeltas(deltas, clock);
  }
}

/** Hands `replicator` a `deltas` message from `origin` on `link`. */
export function deliverer(replicator: Replicator, link: PeerLink, origin: string) {
  return (deltas: Delta[]) =>
    replicator.receive(link, {
      type: "deltas",
      deltas,
      sent: { wall: 0, logical: 0, node: origin },
    });
}

/**
 * Regions eu and us on one virtual scheduler, us on a {@link RecordingStore}: us receives what
 * the test delivers from eu's writes.
 */
export function euToUs(seeds: { eu: number; us: number }) {
  const scheduler = new VirtualScheduler();
  const settle = settler(scheduler);
  const eu = handNode("eu", scheduler, { seed: seeds.eu });
  const store = new RecordingStore();
  const us = handNode("us", scheduler, { seed: seeds.us, store });
  return { settle, eu, us, store };
}
