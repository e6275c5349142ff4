import type { PartitionShape } from "./schedule.ts";

/**
 * The directed paths (`"a>b"`: messages from a to b) a partition shape blocks.
 *
 * @remarks `target` picks the region (or pair) the shape centres on, modulo the region count:
 * - `halves`: regions alternate between two sides (for three: one against two);
 * - `isolate`: the target against everyone;
 * - `one-way`: everything the target sends is lost, it still hears the others;
 * - `ring`: each region can send only to the next one;
 * - `bridge`: only the target and the next region are cut from each other.
 */
export function blockedPaths(
  shape: PartitionShape,
  regions: readonly string[],
  target: number,
): string[] {
  const n = regions.length;
  const t = ((target % n) + n) % n;
  const out: string[] = [];
  const cut = (i: number, j: number) => out.push(`${regions[i]}>${regions[j]}`);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      switch (shape) {
        case "halves":
          if ((i + t) % 2 !== (j + t) % 2) cut(i, j);
          break;
        case "isolate":
          if (i === t || j === t) cut(i, j);
          break;
        case "one-way":
          if (i === t) cut(i, j);
          break;
        case "ring":
          if (j !== (i + 1) % n) cut(i, j);
          break;
        case "bridge":
          if ((i === t && j === (t + 1) % n) || (j === t && i === (t + 1) % n)) cut(i, j);
          break;
      }
    }
  }
  return out;
}
