/**
 * The msgpack header of an array of `n` items: a frame made of a header and items encoded one by
 * one holds the same bytes as the array encoded whole.
 */
export function msgpackArrayHeader(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x90 | n);
  if (n < 0x10000) return Uint8Array.of(0xdc, n >> 8, n & 0xff);
  return Uint8Array.of(0xdd, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}
