import { describe } from "vitest";
import { campaignBlock } from "./campaign-kit.ts";

// The CI budget is split over two files so that vitest runs them on two workers.
describe("simulation campaign, seeds 1..150", () => {
  campaignBlock("sim-campaign-1.test.ts", 1, 150);
});
