import { type Rng, type Scheduler, type Timer, ValidationError } from "@meridian/core";
import { type BackoffPolicy, backoffDelay } from "./backoff.ts";
import { PeerCloseCode } from "./close-codes.ts";
import type { ConnectionEnd } from "./connection.ts";

/**
 * Path of the peer WebSocket endpoint on every node.
 *
 * @remarks Part of the wire contract: peers find each other's endpoint from the base URL alone.
 */
export const PEER_PATH = "/v1/peer";

/**
 * The peer WebSocket URL of a node from its base URL: `http://h:p` becomes `ws://h:p/v1/peer`.
 *
 * @remarks Keeps a path prefix (a node behind a reverse proxy). @throws ValidationError when `base`
 * is not an http(s) or ws(s) URL.
 */
export function peerSocketUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new ValidationError(`peer URL "${base}" is not a URL`);
  }
  const scheme = { "http:": "ws:", "https:": "wss:", "ws:": "ws:", "wss:": "wss:" }[url.protocol];
  if (scheme === undefined) throw new ValidationError(`peer URL "${base}" is not http(s)`);
  url.protocol = scheme;
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${PEER_PATH}`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

/**
 * One attempt in flight, as the dialer sees it.
 *
 * @remarks Closing it must eventually lead to {@link DialOutcome.ended}.
 */
export interface DialAttempt {
  close(code: number, reason: string): void;
}

/**
 * What the dialer is told about an attempt it started.
 *
 * @remarks `ended` is called exactly once per attempt, `opened` at most once and before it.
 */
export interface DialOutcome {
  /** The handshake finished: the next failure starts the backoff over. */
  opened(): void;
  /** The attempt ended; the dialer schedules the next one. */
  ended(end: ConnectionEnd): void;
}

/**
 * Settings of a {@link Dialer}.
 *
 * @remarks `connect` must not report the outcome synchronously.
 */
export interface DialerOptions {
  readonly url: string;
  readonly scheduler: Scheduler;
  readonly rng: Rng;
  readonly backoff: BackoffPolicy;
  /** Opens one connection to `url` and reports on it through `outcome`. */
  readonly connect: (url: string, outcome: DialOutcome) => DialAttempt;
}

/**
 * Keeps one outbound connection to one peer URL: dials, and after every close dials again after
 * a capped exponential backoff with full jitter.
 *
 * @remarks At most one attempt is in flight at a time. The backoff starts over after a finished
 * handshake, so a link that ran for a while reconnects at once. A URL that turns out to lead to
 * this very node is not dialled again. `stop()` is final.
 */
export class Dialer {
  private attempt = 0;
  private timer: Timer | undefined;
  private current: DialAttempt | undefined;
  private stopped = false;

  constructor(private readonly o: DialerOptions) {}

  /** Dials now. */
  start(): void {
    this.dial();
  }

  /** Stops dialling and closes the connection in flight, if any. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.current?.close(PeerCloseCode.goingAway, "node shutting down");
  }

  private dial(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.current = this.o.connect(this.o.url, {
      opened: () => {
        this.attempt = 0;
      },
      ended: (end) => {
        this.current = undefined;
        if (this.stopped || end.code === PeerCloseCode.selfConnection) return;
        const delay = backoffDelay(this.attempt, this.o.backoff, this.o.rng);
        this.attempt += 1;
        this.timer = this.o.scheduler.after(delay, () => this.dial());
      },
    });
  }
}
