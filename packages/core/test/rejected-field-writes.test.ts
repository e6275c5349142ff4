import { packValue, rejectedFieldWrites, type SessionState, type Stamp } from "@meridian/core";
import { describe, expect, it } from "vitest";

describe("rejectedFieldWrites", () => {
  const at = (wall: number, node: string): Stamp => ({ hlc: { wall, logical: 0, node }, seq: 1 });
  const state = (fields: [string, Stamp][]): SessionState => ({
    id: "lww-session-000001",
    fields: new Map(fields.map(([k, stamp]) => [k, { kind: "value", stamp, value: packValue(k) }])),
  });

  it("counts incoming fields older than the stored ones, and nothing for a new session", () => {
    const stored = state([
      ["a", at(10, "eu")],
      ["b", at(10, "eu")],
    ]);
    const incoming = state([
      ["a", at(5, "us")],
      ["b", at(20, "us")],
      ["c", at(1, "us")],
    ]);
    expect(rejectedFieldWrites(stored, incoming)).toBe(1);
    expect(rejectedFieldWrites(undefined, incoming)).toBe(0);
    expect(rejectedFieldWrites(stored, stored)).toBe(0);
  });
});
