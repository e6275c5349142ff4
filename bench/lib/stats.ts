/** Small numeric helpers of the bench suite. */

/** The `p` quantile (0..1) of `values` (nearest rank); NaN when empty. */
export function quantile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** An integer with thousands separators. */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a";
}

/** A number with `digits` decimals. */
export function dec(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}

/** Bytes in the most readable unit. */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return "n/a";
  if (n < 10 * 1024) return `${int(n)} B`;
  if (n < 10 * 1024 * 1024) return `${dec(n / 1024)} KiB`;
  return `${dec(n / 1024 / 1024)} MiB`;
}

/** A ratio as `1.23×`. */
export function ratio(a: number, b: number): string {
  return Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : "n/a";
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
