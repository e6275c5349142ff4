import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { unpackValue } from "@meridian/core";
import { expect } from "vitest";
import { openSqliteStore } from "../src/index.ts";

/**
 * Runs fixtures/crash-writer.ts on the database at `path` with `args`, and kills it with SIGKILL
 * right after the first acknowledgement line for which `enough` holds (the child is then in the
 * middle of its next write). Resolves to the last acknowledged sequence number.
 */
export async function crashWriter(
  path: string,
  args: readonly string[],
  enough: (line: readonly number[]) => boolean,
): Promise<number> {
  const root = resolve(import.meta.dirname, "../../..");
  const script = resolve(import.meta.dirname, "fixtures/crash-writer.ts");
  const child = spawn(process.execPath, ["--import", "tsx", script, path, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let acked = 0;
  let stderr = "";
  let buffered = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | null>((done) =>
    child.on("exit", (_, sig) => done(sig)),
  );
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const numbers = line.split(" ").map(Number);
      acked = Math.max(acked, numbers[0] ?? 0);
      if (enough(numbers)) child.kill("SIGKILL");
    }
  });
  const signal = await exited;
  expect(signal, `the writer died on its own: ${stderr}`).toBe("SIGKILL");
  return acked;
}

/** Reopens the store at `path` and checks that writes 1..`acked` of the crash writer are there. */
export function expectAcknowledgedWrites(path: string, acked: number): void {
  const store = openSqliteStore(path);
  try {
    const vv = store.versionVector();
    expect(vv.base("eu")).toBeGreaterThanOrEqual(acked);
    for (let seq = 1; seq <= acked; seq++) {
      const s = store.getSession(`crash_${String(seq).padStart(10, "0")}`);
      const reg = s?.fields.get("n");
      expect(reg?.kind === "value" && reg.value !== null ? unpackValue(reg.value) : reg).toBe(seq);
    }
    expect(store.loadClock()?.wall).toBeGreaterThanOrEqual(1_700_000_000_000 + acked);
  } finally {
    store.close();
  }
}
