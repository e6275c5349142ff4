import { describe, it } from "vitest";
import { expectScenarioPasses } from "./process-kit.ts";

describe("process tier: signals to real node processes", () => {
  it("kill -9 and restart on the same disk", async () => {
    await expectScenarioPasses("SIGKILL", {
      opsPerRegion: 14,
      fault: (c) => c.killAndRestart("ap", 300),
    });
  });

  it("SIGSTOP and SIGCONT", async () => {
    await expectScenarioPasses("SIGSTOP", {
      opsPerRegion: 14,
      fault: (c) => c.freeze("us", 2_000),
    });
  });
});
