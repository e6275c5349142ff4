import { describe, expect, it } from "vitest";
import { statusTable } from "../src/cli/status.ts";

describe("meridian status table", () => {
  it("shows this node first, then each region with connectivity and lag percentiles", () => {
    const table = statusTable({
      nodeId: "eu-1",
      region: "eu",
      peers: [
        {
          nodeId: "us-1",
          region: "us",
          connected: false,
          lagMs: null,
          lagP50Ms: null,
          lagP99Ms: null,
          caughtUpTo: 7,
        },
        {
          nodeId: "ap-1",
          region: "ap",
          connected: true,
          lagMs: 2.5,
          lagP50Ms: 1.25,
          lagP99Ms: 42,
          caughtUpTo: 10,
        },
      ],
    });
    const lines = table.split("\n").map((l) => l.split(/\s{2,}/));
    expect(lines[0]).toEqual([
      "REGION",
      "NODE",
      "CONNECTED",
      "LAG",
      "LAG P50",
      "LAG P99",
      "CAUGHT UP TO",
    ]);
    expect(lines[1]).toEqual(["eu", "eu-1", "self", "-", "-", "-", "-"]);
    expect(lines[2]).toEqual(["ap", "ap-1", "yes", "2.5 ms", "1.3 ms", "42 ms", "10"]);
    expect(lines[3]).toEqual(["us", "us-1", "no", "-", "-", "-", "7"]);
  });
});
