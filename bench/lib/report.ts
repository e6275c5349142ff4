/** One line of the summary table of RESULTS.md. */
export interface SummaryRow {
  /** What was measured, e.g. "writes/s, concurrency 16". */
  readonly figure: string;
  /** meridian's figure, formatted. */
  readonly value: string;
  /** The peer and its figure, formatted ("Redis HSET: 41,000/s"); "-" when there is none. */
  readonly peer: string;
  /** meridian ÷ peer, formatted; "-" when there is no peer. */
  readonly ratio: string;
  /** The target, in words ("≥ 1.00× Redis"). */
  readonly target: string;
  /** Whether the figure meets its target; undefined when it has none. */
  readonly meets: boolean | undefined;
}

/** What one workload reports. */
export interface Section {
  /** Workload letter (a..g). */
  readonly id: string;
  readonly title: string;
  readonly summary: readonly SummaryRow[];
  /** Markdown: method, tables, notes. */
  readonly body: readonly string[];
}

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const align = header.map((_, i) => (i === 0 ? "---" : "---:"));
  return [
    `| ${header.join(" | ")} |`,
    `|${align.join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

/** ✅ / ❌ / – for a verdict. */
export function verdict(meets: boolean | undefined): string {
  if (meets === undefined) return "–";
  return meets ? "✅ meets" : "❌ misses";
}
