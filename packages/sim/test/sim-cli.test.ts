import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

function sim(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { encoding: "utf8" });
}

describe("pnpm sim, bad flags", () => {
  it.each([
    [["--bogus"], "Unknown option '--bogus'"],
    [["--seeds", "x"], "--seeds takes a whole number, not x"],
    [["--seed=-3"], "--seed takes a whole number, not -3"],
    [["--gc", "maybe"], "--gc takes on or off, not maybe"],
  ])("%j exits 2 with a message and the usage, no stack trace", (args, message) => {
    const run = sim(...args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain("usage: pnpm sim");
    expect(run.stderr).not.toContain("    at ");
    expect(run.stdout).toBe("");
  });

  it("--help prints the usage and exits 0", () => {
    const run = sim("--help");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("usage: pnpm sim");
  });

  it("a small campaign runs and reports its seeds", () => {
    const run = sim("--seeds", "2", "--from", "7");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("ran 2 schedules (seeds 7..8), 0 failed");
  });
});
