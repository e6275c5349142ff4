import { SimRandom, VirtualClock, VirtualScheduler } from "@meridian/sim";
import { describe, expect, it } from "vitest";

describe("VirtualScheduler", () => {
  it("runs events by time, then by insertion order, and flushes promise continuations between", async () => {
    const s = new VirtualScheduler();
    const log: string[] = [];
    s.after(10, () => log.push("b"));
    s.after(5, () => {
      log.push("a");
      Promise.resolve()
        .then(() => undefined)
        .then(() => log.push("a-continuation"));
    });
    s.after(10, () => log.push("c"));
    await s.runUntil(20);
    expect(log).toEqual(["a", "a-continuation", "b", "c"]);
    expect(s.now).toBe(20);
  });

  it("drops a dead owner's events and holds a paused owner's until it resumes", async () => {
    const s = new VirtualScheduler();
    const dead = { label: "dead", alive: true, pausedUntil: 0 };
    const paused = { label: "paused", alive: true, pausedUntil: 50 };
    const log: string[] = [];
    s.forOwner(dead).after(5, () => log.push("dead"));
    s.forOwner(paused).after(5, () => log.push(`paused@${s.now}`));
    s.after(10, () => log.push(`free@${s.now}`));
    dead.alive = false;
    await s.runUntil(100);
    expect(log).toEqual(["free@10", "paused@50"]);
  });

  it("records what an event throws instead of stopping", async () => {
    const s = new VirtualScheduler();
    s.after(1, () => {
      throw new Error("boom");
    });
    await s.runUntil(2);
    expect(s.faults.map((f) => String(f.error))).toEqual(["Error: boom"]);
  });

  it("gives each clock its skew and jumps", () => {
    const s = new VirtualScheduler();
    const c = new VirtualClock(s, 1500);
    const t = c.now();
    c.jump(-2000);
    expect(c.now()).toBe(t - 2000);
  });
});

describe("SimRandom", () => {
  it("is a pure function of its seed and label", () => {
    const a = SimRandom.derive(1, "x");
    const b = SimRandom.derive(1, "x");
    const c = SimRandom.derive(1, "y");
    const draw = (r: SimRandom) => Array.from({ length: 8 }, () => r.next());
    const da = draw(a);
    expect(draw(b)).toEqual(da);
    expect(draw(c)).not.toEqual(da);
    const r = new SimRandom(3);
    for (let i = 0; i < 1000; i++) {
      const v = r.int(-2, 2);
      expect(v).toBeGreaterThanOrEqual(-2);
      expect(v).toBeLessThanOrEqual(2);
    }
  });
});
