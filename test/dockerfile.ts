/**
 * A small Dockerfile reader for the deployment-file tests: enough of the syntax to check what a
 * Dockerfile runs (instructions, line continuations, comments, exec and shell forms).
 */

/** One instruction, with its arguments as written (continuations joined). */
export interface DockerInstruction {
  /** Upper-case keyword: FROM, RUN, ENV, USER, ENTRYPOINT… */
  readonly keyword: string;
  /** The text after the keyword, continuations joined with a space. */
  readonly text: string;
  /** 1-based line of the keyword. */
  readonly line: number;
}

/** One build stage: its FROM and the instructions up to the next FROM. */
export interface DockerStage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly DockerInstruction[];
}

/** Splits a Dockerfile into instructions. Parser directives and comments are dropped. */
export function parseDockerfile(source: string): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  let pending: { keyword: string; parts: string[]; line: number } | undefined;
  for (const [i, raw] of source.split("\n").entries()) {
    const line = raw.trim();
    if (line.startsWith("#")) continue;
    if (pending === undefined) {
      if (line === "") continue;
      const m = /^(\S+)\s*(.*)$/.exec(line)!;
      pending = { keyword: m[1]!.toUpperCase(), parts: [], line: i + 1 };
      addPart(pending.parts, m[2]!);
    } else {
      if (line === "") continue;
      addPart(pending.parts, line);
    }
    if (!line.endsWith("\\")) {
      out.push({ keyword: pending.keyword, text: pending.parts.join(" "), line: pending.line });
      pending = undefined;
    }
  }
  if (pending !== undefined) throw new Error(`Dockerfile ends inside ${pending.keyword}`);
  return out;
}

function addPart(parts: string[], text: string): void {
  const t = text.endsWith("\\") ? text.slice(0, -1).trim() : text.trim();
  if (t !== "") parts.push(t);
}

/** Groups instructions by stage. */
export function dockerStages(instructions: readonly DockerInstruction[]): DockerStage[] {
  const stages: { from: string; name: string | undefined; instructions: DockerInstruction[] }[] =
    [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.text);
      if (m === null) throw new Error(`line ${ins.line}: cannot read FROM ${ins.text}`);
      stages.push({ from: m[1]!, name: m[2], instructions: [] });
    } else {
      const stage = stages[stages.length - 1];
      if (stage === undefined) throw new Error(`line ${ins.line}: ${ins.keyword} before FROM`);
      stage.instructions.push(ins);
    }
  }
  return stages;
}

/** The words of an exec-form (`["a", "b"]`) or shell-form (`a b`) argument list. */
export function execWords(text: string): string[] {
  if (text.startsWith("[")) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || !parsed.every((w) => typeof w === "string")) {
      throw new Error(`not an exec form: ${text}`);
    }
    return parsed;
  }
  return text.split(/\s+/).filter((w) => w !== "");
}

/** The variables an ENV instruction sets (`K=V K2="V 2"` form, or the legacy `K V`). */
export function envPairs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
    const m = /^(\S+)\s+(.*)$/.exec(text);
    if (m !== null) out.set(m[1]!, m[2]!);
    return out;
  }
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
  for (const m of text.matchAll(re)) {
    const v = m[2]!;
    out.set(m[1]!, v.startsWith('"') ? (JSON.parse(v) as string) : v);
  }
  return out;
}
