import { randomFillSync } from "node:crypto";
import type { Rng } from "@meridian/core";
import { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
import { type ClientClock, systemClock } from "./client-clock.ts";
import type { FetchLike } from "./region-request.ts";

/**
 * Options of {@link createClient}.
 *
 * @remarks Every option but `regions` and `localRegion` has a default; `resolveClientOptions` checks ranges at construction, so a bad option fails at once, not at the first request.
 */
export interface ClientOptions {
  /** Base URL of each region's node, by region name: `{ eu: "http://…", us: "http://…" }`. */
  readonly regions: Readonly<Record<string, string>>;
  /** The region tried first while it is up. */
  readonly localRegion: string;
  /**
   * Bearer token sent as `authorization: Bearer <token>` on every request, for nodes that
   * require one (default: none).
   */
  readonly authToken?: string;
  /** Per-attempt timeout in ms (default 5,000: above the server's 2 s quorum wait). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt (default 4). */
  readonly retries?: number;
  /** Backoff between retries (default 50 ms doubling, capped at 2 s; full jitter). */
  readonly backoff?: BackoffOptions;
  /** Consecutive failures that mark a region down (default 3). */
  readonly failuresBeforeDown?: number;
  /** Interval of the background `/healthz` probes, in ms (default 2,000). */
  readonly probeIntervalMs?: number;
  /**
   * Sessions whose last version token is remembered (default 10,000): at least the last this
   * many sessions written, at most twice as many.
   */
  readonly trackedSessions?: number;
  /**
   * How requests travel (default `"channel"`, or `"http"` when `fetch` is given).
   *
   * @remarks `"channel"`: one WebSocket per region (`/v1/channel`) carries every call, pipelined,
   * in msgpack; the fast way. `"http"`: one HTTP request per call through `fetch`, for
   * environments where WebSockets cannot pass. Same API, same errors, same failover either way.
   */
  readonly transport?: "channel" | "http";
  /** `fetch` to use with the `"http"` transport (default: the global one). */
  readonly fetch?: FetchLike;
  /**
   * Randomness for backoff jitter and client-made session ids (default: the OS CSPRNG).
   *
   * @remarks Pass a seeded one only in tests: ids made from it are guessable.
   */
  readonly rng?: Rng;
  /** Time and timers (default: `Date.now` and `setTimeout`). */
  readonly clock?: ClientClock;
}

/**
 * {@link ClientOptions} with every default applied.
 *
 * @remarks What the client runs with; never partially defaulted.
 */
export interface ResolvedClientOptions {
  readonly regions: Readonly<Record<string, string>>;
  readonly localRegion: string;
  /** Headers sent on every request (the bearer token). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoff: Required<BackoffOptions>;
  readonly failuresBeforeDown: number;
  readonly probeIntervalMs: number;
  readonly trackedSessions: number;
  readonly transport: "channel" | "http";
  readonly fetch: FetchLike;
  readonly rng: Rng;
  readonly clock: ClientClock;
}

/**
 * The OS CSPRNG as a core `Rng`.
 *
 * @remarks `crypto.randomFillSync`: suitable for session ids.
 */
export const cryptoRng: Rng = {
  bytes: (n) => randomFillSync(new Uint8Array(n)),
};

function positive(name: string, v: number, min = 1): number {
  if (!Number.isFinite(v) || v < min) throw new RangeError(`${name} must be a number >= ${min}`);
  return v;
}

/**
 * Applies defaults and checks ranges.
 *
 * @throws RangeError for a bad option (no regions, unknown local region, negative retries, ...).
 *
 * @remarks Counts (`retries`, `failuresBeforeDown`, `trackedSessions`) are floored to integers.
 */
export function resolveClientOptions(o: ClientOptions): ResolvedClientOptions {
  if (Object.keys(o.regions).length === 0) throw new RangeError("regions must name a region");
  const backoff = { ...DEFAULT_BACKOFF, ...o.backoff };
  return {
    regions: o.regions,
    localRegion: o.localRegion,
    headers: o.authToken === undefined ? {} : { authorization: `Bearer ${o.authToken}` },
    timeoutMs: positive("timeoutMs", o.timeoutMs ?? 5000),
    retries: Math.floor(positive("retries", o.retries ?? 4, 0)),
    backoff: {
      baseMs: positive("backoff.baseMs", backoff.baseMs, 0),
      capMs: positive("backoff.capMs", backoff.capMs, 0),
    },
    failuresBeforeDown: Math.floor(positive("failuresBeforeDown", o.failuresBeforeDown ?? 3)),
    probeIntervalMs: positive("probeIntervalMs", o.probeIntervalMs ?? 2000),
    trackedSessions: Math.floor(positive("trackedSessions", o.trackedSessions ?? 10_000)),
    transport: o.transport ?? (o.fetch === undefined ? "channel" : "http"),
    fetch: o.fetch ?? ((url, init) => fetch(url, init)),
    rng: o.rng ?? cryptoRng,
    clock: o.clock ?? systemClock,
  };
}
