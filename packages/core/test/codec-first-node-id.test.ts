import { describe, expect, it } from "vitest";
import { DecodeError, decodeMessage, PROTOCOL_VERSION, packValue } from "../src/index.ts";

// A file of its own: the codec remembers the node id it accepted last, and the defect showed
// only while it had accepted none (vitest gives each file a fresh module).
describe("decodeMessage, before it has accepted any node id", () => {
  it("regression: refuses an empty node id (the fast readers took it for the one seen last)", () => {
    const refuse = (wire: unknown[]) =>
      expect(() => decodeMessage(packValue(wire))).toThrow(DecodeError);
    refuse([PROTOCOL_VERSION, 5, [["", 1]]]);
    refuse([PROTOCOL_VERSION, 12, 1, [1, 0, ""]]);
    const session = ["abcdefghijklmnop", [], null, null, null, null, null, [1, 0, "", 1]];
    refuse([PROTOCOL_VERSION, 4, [[["n1", 1], session]], [1, 0, "n1"]]);
  });
});
