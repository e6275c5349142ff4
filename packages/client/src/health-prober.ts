import type { Timer } from "@meridian/core";
import type { ClientClock } from "./client-clock.ts";

/**
 * Probes every region's `/healthz` on a background timer, one round at a time.
 *
 * @remarks The timer is a background one (it never keeps a process alive), and the next round is
 * scheduled only after the previous one finished, so probes never pile up behind a slow region.
 * `stop()` cancels the timer; a round in flight completes but schedules nothing.
 */
export class HealthProber {
  private timer: Timer | undefined;
  private stopped = true;

  constructor(
    private readonly clock: ClientClock,
    private readonly intervalMs: number,
    private readonly probeRound: () => Promise<void>,
  ) {}

  /** Starts probing (idempotent). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Stops probing for good (idempotent). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.afterInBackground(this.intervalMs, () => {
      this.timer = undefined;
      // A round never rejects: each probe's outcome is recorded where it happens.
      void this.probeRound().finally(() => this.schedule());
    });
  }
}
