import { describe, expect, it } from "vitest";
import { SessionVersions } from "../src/session-versions.ts";

describe("SessionVersions", () => {
  it("answers the newest token of a session", () => {
    const v = new SessionVersions(10);
    v.remember("a", "1");
    v.remember("b", "2");
    v.remember("a", "3");
    expect(v.tokenOf("a")).toBe("3");
    expect(v.tokenOf("b")).toBe("2");
    expect(v.tokenOf("c")).toBeUndefined();
  });

  it("always remembers the last `capacity` sessions written, and at most twice as many", () => {
    const capacity = 50;
    const v = new SessionVersions(capacity);
    for (let i = 0; i < 1000; i++) {
      v.remember(`s${i}`, `t${i}`);
      for (let j = Math.max(0, i - capacity + 1); j <= i; j++) {
        expect(v.tokenOf(`s${j}`)).toBe(`t${j}`);
      }
      expect(v.size).toBeLessThanOrEqual(2 * capacity);
    }
    expect(v.tokenOf("s0")).toBeUndefined();
  });

  it("keeps a session written again and again while others come and go", () => {
    const v = new SessionVersions(8);
    for (let i = 0; i < 200; i++) {
      v.remember("hot", `h${i}`);
      v.remember(`cold${i}`, "c");
      expect(v.tokenOf("hot")).toBe(`h${i}`);
    }
    // A token from an older generation never hides a newer one.
    expect(v.tokenOf("hot")).toBe("h199");
  });
});
