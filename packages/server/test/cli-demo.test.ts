import { afterEach, describe, expect, it, vi } from "vitest";
import { runDemo } from "../src/cli/demo.ts";

afterEach(() => vi.restoreAllMocks());

describe("meridian demo", () => {
  it("runs three regions, cuts one off, heals, and shows them converged", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => lines.push(String(line)));
    await runDemo(["--sessions", "20"]);
    const text = lines.join("\n");
    expect(text).toContain("all regions connected");
    expect(text).toMatch(/converged in \d+ ms; 60 sessions in each region/);
    expect(text).toContain("digests now differ");
    const healed = /converged in \d+ ms; digest ([0-9a-f]+) everywhere/.exec(text);
    expect(healed).not.toBeNull();
    // Writes went on in every region during the partition, and every region holds them all.
    const total = /(\d+) sessions per region/.exec(text);
    expect(Number(total?.[1])).toBeGreaterThan(60);
    expect(text).toContain('"region":"eu"');
  }, 60_000);
});
