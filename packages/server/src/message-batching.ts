import type { Delta, PurgedId, SessionState } from "@meridian/core";

/** Bound on the estimated size of one deltas, sync-chunk or sync-purged message. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Removes and returns the first items of `queue`: at most `count`, and no more than `maxBytes` by
 * the estimate `sizeOf`, but always at least one.
 */
export function takeBatch<T>(
  queue: T[],
  count: number,
  maxBytes: number,
  sizeOf: (item: T) => number,
): T[] {
  let bytes = 0;
  let n = 0;
  while (n < queue.length && n < count) {
    const size = sizeOf(queue[n]!);
    if (n > 0 && bytes + size > maxBytes) break;
    bytes += size;
    n += 1;
  }
  return queue.splice(0, n);
}

/** An upper bound of a purged id's encoded size. */
export function purgedSize(p: PurgedId): number {
  return 16 + p.id.length + (p.dot === null ? 0 : 16 + p.dot.origin.length);
}

/** A cheap upper-ish estimate of a delta's encoded size. */
export function deltaSize(d: Delta): number {
  return estimateSize(d.session);
}

/** A cheap upper-ish estimate of a session fragment's encoded size. */
export function estimateSize(s: SessionState): number {
  let bytes = 64 + s.id.length;
  for (const [name, reg] of s.fields) {
    bytes += name.length + 48;
    bytes +=
      reg.kind === "value" ? (reg.value?.length ?? 0) : reg.update.length + 40 * reg.stamps.length;
  }
  return bytes;
}
