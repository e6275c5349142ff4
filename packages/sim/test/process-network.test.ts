import { describe, it } from "vitest";
import { expectScenarioPasses } from "./process-kit.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("process tier: network faults on real nodes behind TCP proxies", () => {
  it("a region cut off and healed", async () => {
    await expectScenarioPasses("link cut", {
      opsPerRegion: 14,
      fault: async (c) => {
        c.cut("eu", "us");
        c.cut("eu", "ap");
        await sleep(1_500);
        c.healAll();
      },
    });
  });

  it("a one-way cut", async () => {
    await expectScenarioPasses("one-way cut", {
      opsPerRegion: 14,
      fault: async (c) => {
        c.cutOneWay("us", "eu");
        c.cutOneWay("us", "ap");
        await sleep(1_500);
        c.healAll();
      },
    });
  });

  it("slow links", async () => {
    await expectScenarioPasses("delay", {
      opsPerRegion: 12,
      fault: async (c) => {
        c.delay(150);
        await sleep(1_500);
        c.healAll();
      },
    });
  });
});
