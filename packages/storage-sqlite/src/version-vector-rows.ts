import { VersionVector } from "@meridian/core";
import { StorageCorruptError } from "./errors.ts";
import type { Statements } from "./statements.ts";

/** Reads the persisted version vector: one row per origin, its base and its ranges. */
export function loadVersionVector(q: Statements): VersionVector {
  return VersionVector.from(
    q.versionVector.all().map((row) => {
      const ranges: unknown = JSON.parse(row.ranges);
      if (!Array.isArray(ranges)) throw new StorageCorruptError(`ranges of ${row.origin}`);
      return [row.origin, { base: row.base, ranges: ranges as [number, number][] }] as const;
    }),
  );
}

/**
 * Writes the coverage of `origins` as `vv` holds it.
 *
 * @remarks Called inside the transaction that applies the writes, so the persisted vector never
 * claims a write whose effect is not stored with it; gaps are persisted as ranges, never closed.
 */
export function saveCoverage(q: Statements, vv: VersionVector, origins: ReadonlySet<string>): void {
  if (origins.size === 0) return;
  for (const [origin, coverage] of vv.entries()) {
    if (origins.has(origin)) {
      q.upsertCoverage.run(origin, coverage.base, JSON.stringify(coverage.ranges));
    }
  }
}
