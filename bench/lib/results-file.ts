import type { Machine } from "./machine.ts";
import { type Section, table, verdict } from "./report.ts";
import { bytes } from "./stats.ts";

/** Everything RESULTS.md is made of. */
export interface RunRecord {
  readonly machine: Machine;
  /** 1-minute load average when the run ended. */
  readonly loadAtEnd: number;
  readonly redis: string | undefined;
  readonly started: Date;
  readonly seconds: number;
  readonly quick: boolean;
  readonly command: string;
  readonly sections: readonly Section[];
}

/** The text of RESULTS.md. */
export function renderResults(run: RunRecord): string {
  const m = run.machine;
  const rows = run.sections.flatMap((s) =>
    s.summary.map((r) => [
      `(${s.id})`,
      r.figure,
      r.value,
      r.peer,
      r.ratio,
      r.target,
      verdict(r.meets),
    ]),
  );
  const lines = [
    "# Benchmark results",
    "",
    `Produced by \`${run.command}\` (bench/run.ts) on ${run.started.toISOString().replace("T", " ").slice(0, 16)} UTC,`,
    `${Math.round(run.seconds / 60)} minutes${run.quick ? ", **quick mode: reduced sizes, not comparable with the targets**" : ""}.`,
    "Every figure was measured in this one run, side by side with its peer on the same machine.",
    'Targets are those of DESIGN.md ("Targets"). Regenerate with `pnpm bench`; see README.md, "Benchmarks".',
    "",
    "## Machine",
    "",
    ...table(
      ["", ""],
      [
        ["CPU", m.cpu],
        ["cores", String(m.cores)],
        ["memory", bytes(m.memoryBytes)],
        ["Node.js", m.node],
        ["SQLite", m.sqlite],
        ["Redis", run.redis ?? "not started"],
        ["OS", m.os],
        [
          "load average (1 min) at start / end (the end counts the bench's own processes)",
          `${m.loadAtStart.toFixed(2)} / ${run.loadAtEnd.toFixed(2)}`,
        ],
      ],
    ),
    "",
    // Only the load at the start says what else ran: by the end, the 1-minute average is mostly
    // the bench's own nodes and load generator.
    ...(m.loadAtStart > m.cores / 2
      ? [
          `**Other work was running on this machine (load average above ${m.cores / 2} with ${m.cores} cores at the start): every`,
          "figure below is pessimistic, the multi-process ones (c, d) most of all.**",
          "",
        ]
      : []),
    "## Summary",
    "",
    "Ratio is meridian's figure divided by the peer's.",
    "",
    ...table(["", "figure", "meridian", "peer", "ratio", "target", ""], rows),
    "",
  ];
  for (const s of run.sections) {
    lines.push(`## (${s.id}) ${s.title}`, "", ...s.body, "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
