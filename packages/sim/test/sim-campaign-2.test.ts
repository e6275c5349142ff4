import { describe } from "vitest";
import { campaignBlock } from "./campaign-kit.ts";

describe("simulation campaign, seeds 151..300", () => {
  campaignBlock("sim-campaign-2.test.ts", 151, 150);
});
