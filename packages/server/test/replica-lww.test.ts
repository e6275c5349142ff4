import { type Delta, MemoryStore } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { Replica } from "../src/replica.ts";
import { cryptoRng, eventLoopScheduler, systemClock } from "../src/scheduler.ts";

const ID = "lww-session-000001";

function replica(region: string): Replica {
  return new Replica({
    store: new MemoryStore(),
    clock: systemClock,
    rng: cryptoRng,
    scheduler: eventLoopScheduler,
    region,
  });
}

const value = (v: number) => new Map([["color", new Uint8Array([v])]]);

describe("last-writer-wins losses", () => {
  it("counts a pushed field write that arrives older than the stored one, once", async () => {
    const us = replica("us");
    const { delta: older } = await us.write(ID, { op: "create", data: value(1), ttlMs: 60_000 });
    const eu = replica("eu");
    // eu's write is made after us's (a later hybrid-clock stamp), so us's arrives as the loser.
    eu.hlc.receive(olderStamp(older));
    const { delta: newer } = await eu.write(ID, { op: "create", data: value(2), ttlMs: 60_000 });
    expect((await eu.applyRemote([older])).lostWrites).toBe(1);
    // Delivered again: already held, not a second loss.
    expect((await eu.applyRemote([older])).lostWrites).toBe(0);
    // The newer write arriving at us overwrites: nothing lost there.
    expect((await us.applyRemote([newer])).lostWrites).toBe(0);
    expect(eu.applyChunk([older.session]).lostWrites).toBe(1);
  });
});

function olderStamp(d: Delta) {
  const reg = d.session.fields.get("color")!;
  if (reg.kind !== "value") throw new Error("value register expected");
  return reg.stamp.hlc;
}
