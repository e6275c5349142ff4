import { type Dot, isNodeId } from "@meridian/core";

/**
 * Version tokens: the dot of a write as an opaque string, `<seq>.<origin>`.
 *
 * @remarks A read with `after=<token>` answers only from state whose version vector covers the
 * dot, which is what gives read-your-writes across regions.
 */
export function formatVersion(dot: Dot): string {
  return `${dot.seq}.${dot.origin}`;
}

/** Parses a token made by {@link formatVersion}; undefined when malformed. */
export function parseVersion(token: string): Dot | undefined {
  const dotAt = token.indexOf(".");
  if (dotAt <= 0) return undefined;
  const seqText = token.slice(0, dotAt);
  const origin = token.slice(dotAt + 1);
  if (!/^[0-9]{1,15}$/.test(seqText) || !isNodeId(origin)) return undefined;
  const seq = Number(seqText);
  return seq >= 1 ? { origin, seq } : undefined;
}
