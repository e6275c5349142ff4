import { describe, expect, it } from "vitest";
import { LagWindow } from "../src/lag-window.ts";

describe("LagWindow", () => {
  it("answers quantiles of the samples held, and sees samples added after a quantile", () => {
    const w = new LagWindow(100);
    expect(w.quantile(0.5)).toBeNull();
    for (let i = 99; i >= 0; i--) w.add(i);
    expect([w.quantile(0), w.quantile(0.5), w.quantile(0.99), w.quantile(1)]).toEqual([
      0, 50, 99, 99,
    ]);
    w.add(1000); // overwrites the oldest sample (99)
    expect(w.quantile(1)).toBe(1000);
    expect(w.quantile(0.99)).toBe(1000);
    expect(w.last()).toBe(1000);
    w.clear();
    expect(w.quantile(0.5)).toBeNull();
  });
});
