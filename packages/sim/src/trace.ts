import { hashBytes } from "@meridian/core";

const encoder = new TextEncoder();

/**
 * The event trace of a run: every line is folded into a running hash, and the last lines are
 * kept for failure reports.
 *
 * @remarks Two runs of one schedule must give the same hash: that is the determinism check.
 * Lines hold virtual times and ids only, never real time.
 */
export class Trace {
  private hash = "0000000000000000";
  private readonly tail: string[] = [];
  /** Lines recorded. */
  count = 0;

  constructor(
    private readonly now: () => number,
    private readonly keep = 200,
    private readonly all: string[] | undefined = undefined,
  ) {}

  /** Records one line, stamped with the virtual time. */
  add(line: string): void {
    const stamped = `${this.now()} ${line}`;
    this.hash = hashBytes(encoder.encode(`${this.hash}|${stamped}`));
    this.count += 1;
    this.tail.push(stamped);
    if (this.tail.length > this.keep) this.tail.shift();
    this.all?.push(stamped);
  }

  /** The running hash of every line so far. */
  digest(): string {
    return this.hash;
  }

  /** The last lines recorded. */
  lastLines(): readonly string[] {
    return this.tail;
  }
}
