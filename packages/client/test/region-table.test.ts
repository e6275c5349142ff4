import { describe, expect, it } from "vitest";
import { RegionTable } from "../src/region-table.ts";
import { seededRng } from "../src/testing/index.ts";
import { testSeed } from "./seed.ts";

const URLS = { eu: "http://eu/", us: "http://us", ap: "http://ap" };

describe("RegionTable", () => {
  it("puts the local region first, then the others by measured latency, unmeasured last", () => {
    const t = new RegionTable(URLS, "us", 3);
    expect(t.order()).toEqual(["us", "eu", "ap"]);
    t.recordSuccess("ap", 20);
    expect(t.order()).toEqual(["us", "ap", "eu"]);
    t.recordSuccess("eu", 5);
    expect(t.order()).toEqual(["us", "eu", "ap"]);
    // The local region stays first even when slower.
    t.recordSuccess("us", 500);
    expect(t.order()[0]).toBe("us");
    expect(t.url("eu")).toBe("http://eu");
  });

  it("averages latency, so one fast answer does not outrank a steadily faster region", () => {
    const t = new RegionTable(URLS, "eu", 3);
    for (let i = 0; i < 5; i++) t.recordSuccess("us", 10);
    for (let i = 0; i < 5; i++) t.recordSuccess("ap", 100);
    t.recordSuccess("ap", 1);
    expect(t.order()).toEqual(["eu", "us", "ap"]);
  });

  it("marks a region down after N consecutive failures only, and up on its next success", () => {
    const t = new RegionTable(URLS, "eu", 3);
    expect(t.recordFailure("eu")).toBeUndefined();
    expect(t.recordFailure("eu")).toBeUndefined();
    t.recordSuccess("eu", 1);
    expect(t.recordFailure("eu")).toBeUndefined();
    expect(t.recordFailure("eu")).toBeUndefined();
    expect(t.recordFailure("eu")).toBe("down");
    expect(t.recordFailure("eu")).toBeUndefined();
    expect(t.order()).toEqual(["us", "ap", "eu"]);
    expect(t.status().find((r) => r.name === "eu")?.up).toBe(false);
    expect(t.recordSuccess("eu", 1)).toBe("up");
    expect(t.order()[0]).toBe("eu");
  });

  it("refuses a local region that is not one of the regions", () => {
    expect(() => new RegionTable(URLS, "mars", 3)).toThrow(RangeError);
  });

  it("names as first the region order() puts first, through random outcomes", () => {
    const rng = seededRng(testSeed());
    const t = new RegionTable(URLS, "us", 2);
    const names = ["eu", "us", "ap"] as const;
    for (let i = 0; i < 2000; i++) {
      const [pick, kind, latency] = rng.bytes(3);
      const region = names[pick! % 3]!;
      if (kind! % 3 === 0) t.recordFailure(region);
      else t.recordSuccess(region, latency!);
      expect(t.first()).toBe(t.order()[0]);
    }
  });
});
