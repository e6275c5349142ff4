/**
 * The session the throughput workloads write and read, the same for meridian and Redis: a user
 * id, a cart, a CSRF token and a counter (about 150 bytes of JSON).
 */

/** A session id of the bench (valid under the id rules: 16+ characters of [A-Za-z0-9_-]). */
export function benchId(prefix: string, n: number): string {
  return `${prefix}-${String(n).padStart(12, "0")}`;
}

/** Fields of a whole session. */
export function sessionFields(n: number): Record<string, unknown> {
  return {
    user: `user-${n % 100_000}`,
    cart: [
      { sku: "A-1042", qty: 1 + (n % 3) },
      { sku: "B-7", qty: 2 },
    ],
    csrf: `csrf-${(n * 2654435761) % 4294967296}`,
    n,
  };
}

/** The fields a write changes: the cart and the counter. */
export function writeFields(n: number): Record<string, unknown> {
  return { cart: [{ sku: "A-1042", qty: 1 + (n % 5) }], n };
}

/** `fields` as Redis HSET arguments: field, JSON value, field, JSON value… */
export function redisArgs(fields: Record<string, unknown>): string[] {
  return Object.entries(fields).flatMap(([k, v]) => [k, JSON.stringify(v)]);
}
