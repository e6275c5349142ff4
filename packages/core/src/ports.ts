import type { PeerMessage } from "./messages.ts";

/**
 * The boundaries through which core meets the world. Production passes real implementations;
 * the simulator passes virtual ones, which is what lets the same node code run under simulation.
 */

/** Physical time source in milliseconds since the Unix epoch. */
export interface Clock {
  /** @remarks May go backwards or jump (NTP, skew injected by the simulator); the HLC copes. */
  now(): number;
}

/** Randomness source. Ids need a CSPRNG in production; the simulator passes a seeded one. */
export interface Rng {
  /** Fills and returns `n` random bytes. */
  bytes(n: number): Uint8Array;
}

/** A cancellable timer. */
export interface Timer {
  cancel(): void;
}

/**
 * Timers. Production uses the event loop; the simulator fires them in virtual time.
 *
 * @remarks Callbacks never run synchronously inside `after`.
 */
export interface Scheduler {
  /** Runs `fn` once, `ms` milliseconds from now. */
  after(ms: number, fn: () => void): Timer;
}

/**
 * One authenticated, ordered, bidirectional channel to a peer, as the transport hands it to the
 * replication logic after the handshake.
 *
 * @remarks Messages on one link arrive in order or not at all (a lost link loses its tail); the
 * replication logic must stay correct when a link drops at any point.
 */
export interface PeerLink {
  /** The peer's node id, proven by the handshake. */
  readonly peerId: string;
  /** The peer's region name. */
  readonly region: string;
  /** Queues a message; false when the link is closed or its send buffer is over its bound. */
  send(message: PeerMessage): boolean;
  /** Closes the link with a WebSocket-style close code and reason. */
  close(code: number, reason: string): void;
}
