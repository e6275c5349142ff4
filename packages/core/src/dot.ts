import { compareHlc, type Hlc } from "./hlc.ts";

/**
 * The identity of one local write: the node that made it and that node's sequence number.
 *
 * @remarks Sequence numbers start at 1 and grow by one per write on each origin, so a version
 * vector can tell a missing write from one that never existed.
 */
export interface Dot {
  readonly origin: string;
  readonly seq: number;
}

/**
 * What every register carries about the write that produced it: its timestamp and its sequence
 * number. The write's {@link Dot} is `(hlc.node, seq)`.
 */
export interface Stamp {
  readonly hlc: Hlc;
  readonly seq: number;
}

/** The dot of the write a stamp belongs to. */
export function stampDot(stamp: Stamp): Dot {
  return { origin: stamp.hlc.node, seq: stamp.seq };
}

/** Total order on stamps: by timestamp, then sequence (equal timestamps mean the same write). */
export function compareStamp(a: Stamp, b: Stamp): number {
  return compareHlc(a.hlc, b.hlc) || a.seq - b.seq;
}

/** A dot as a string, for keys of maps and sets: `<seq>.<origin>`. */
export function dotKey(d: Dot): string {
  return `${d.seq}.${d.origin}`;
}

/** Equality of dots. */
export function sameDot(a: Dot, b: Dot): boolean {
  return a.origin === b.origin && a.seq === b.seq;
}
