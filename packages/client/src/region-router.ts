import { type MeridianError, type Rng, TypedEmitter } from "@meridian/core";
import { type Backoff, backoffDelay } from "./backoff.ts";
import { type ClientClock, sleep } from "./client-clock.ts";
import type { ClientEvents } from "./client-events.ts";
import {
  ClientClosedError,
  type FailedAttempt,
  MeridianRequestError,
  RegionsUnavailableError,
} from "./errors.ts";
import { HealthProber } from "./health-prober.ts";
import type { ApiAnswer, ApiRequest, RegionTransport } from "./region-request.ts";
import type { RegionTable } from "./region-table.ts";
import { isRegionFault, isRetryable, type RetryPolicy } from "./retry-policy.ts";

/**
 * How a {@link RegionRouter} reaches regions and how hard it tries.
 *
 * @remarks Resolved options: every default already applied.
 */
export interface RouterSettings {
  readonly transport: RegionTransport;
  readonly clock: ClientClock;
  readonly rng: Rng;
  readonly timeoutMs: number;
  /** Retries after the first attempt. */
  readonly retries: number;
  readonly backoff: Backoff;
  readonly probeIntervalMs: number;
}

/**
 * One API request plus what the router needs to route it.
 *
 * @remarks A function given as `request` is called once per attempt.
 */
export interface RoutedRequest {
  readonly policy: RetryPolicy;
  /** The request, or what builds it for the region it goes to (reads pick their `after` token per try). */
  readonly request: ApiRequest | ((region: string) => ApiRequest);
}

/**
 * A successful answer and the region that gave it.
 *
 * @remarks `region` is where the operation was finally served: after a failover, not the local one.
 */
export interface RoutedAnswer extends ApiAnswer {
  readonly region: string;
}

/**
 * Sends requests to the best region, fails over, retries with backoff, and keeps region health.
 *
 * @remarks Each attempt goes to the first region in {@link RegionTable.order} not yet tried in
 * the current pass (a pass ends when every region was tried; the next starts over). Before every
 * retry it waits a full-jitter backoff delay. Failures that are the region's fault count toward
 * marking it down; a background prober brings it back. Emits `failover` when an attempt moves to
 * another region after a failure, and `region-down` / `region-up` on transitions.
 */
export class RegionRouter extends TypedEmitter<ClientEvents> {
  private readonly prober: HealthProber;
  private closed = false;

  constructor(
    private readonly table: RegionTable,
    private readonly settings: RouterSettings,
  ) {
    super();
    this.prober = new HealthProber(settings.clock, settings.probeIntervalMs, () => this.probeAll());
    this.prober.start();
  }

  /**
   * Runs `request` until a region answers successfully, retries run out, or a failure is not
   * retryable under the request's policy.
   *
   * @throws The non-retryable error as it came; on exhaustion the last error a region answered
   * with, or {@link RegionsUnavailableError} when no region answered at all;
   * {@link ClientClosedError} once closed.
   */
  async run(request: RoutedRequest): Promise<RoutedAnswer> {
    const attempts: FailedAttempt[] = [];
    const tried = new Set<string>();
    let previous: string | undefined;
    let lastAnswered: MeridianRequestError | undefined;
    for (let attempt = 0; attempt <= this.settings.retries; attempt++) {
      if (this.closed) throw new ClientClosedError();
      if (attempt > 0) {
        await sleep(
          this.settings.clock,
          backoffDelay(attempt - 1, this.settings.backoff, this.settings.rng),
        );
        if (this.closed) throw new ClientClosedError();
      }
      const region = this.pick(tried);
      const last = attempts[attempts.length - 1];
      if (previous !== undefined && previous !== region && last !== undefined) {
        this.emit("failover", { from: previous, to: region, cause: last.error });
      }
      previous = region;
      try {
        const r = request.request;
        return await this.attempt(region, typeof r === "function" ? r(region) : r);
      } catch (e) {
        const error = e as MeridianError;
        if (!isRetryable(error, request.policy)) throw error;
        attempts.push({ region, error });
        if (error instanceof MeridianRequestError) lastAnswered = error;
      }
    }
    throw lastAnswered ?? new RegionsUnavailableError(attempts);
  }

  /** Stops the health prober; later `run` calls reject with {@link ClientClosedError}. */
  close(): void {
    this.closed = true;
    this.prober.stop();
    this.settings.transport.close();
  }

  private pick(tried: Set<string>): string {
    if (tried.size === 0) {
      const first = this.table.first();
      tried.add(first);
      return first;
    }
    const order = this.table.order();
    let next = order.find((r) => !tried.has(r));
    if (next === undefined) {
      tried.clear();
      next = order[0]!;
    }
    tried.add(next);
    return next;
  }

  /** One try in one region, with its outcome recorded. @throws MeridianError */
  private async attempt(region: string, request: ApiRequest): Promise<RoutedAnswer> {
    const started = this.settings.clock.now();
    try {
      const answer = await this.settings.transport.send(
        region,
        this.table.url(region),
        request,
        this.settings.timeoutMs,
      );
      this.succeeded(region, started);
      return { status: answer.status, body: answer.body, version: answer.version, region };
    } catch (e) {
      const error = e as MeridianError;
      if (isRegionFault(error)) this.failed(region, error);
      else if (error instanceof MeridianRequestError) this.succeeded(region, started);
      throw error;
    }
  }

  private succeeded(region: string, started: number): void {
    if (this.table.recordSuccess(region, this.settings.clock.now() - started) === "up") {
      this.emit("region-up", { region });
    }
  }

  private failed(region: string, cause: MeridianError): void {
    if (this.table.recordFailure(region) === "down") {
      this.emit("region-down", { region, failures: this.table.failures(region), cause });
    }
  }

  /** One probe round: `GET /healthz` on every region, outcomes recorded like requests'. */
  private async probeAll(): Promise<void> {
    await Promise.all(
      this.table.order().map(async (region) => {
        try {
          await this.attempt(region, { method: "GET", path: "/healthz" });
        } catch {
          // Recorded by attempt(); a probe has nobody to report to.
        }
      }),
    );
  }
}
