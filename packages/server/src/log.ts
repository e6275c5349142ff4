import { createHmac, randomBytes } from "node:crypto";
import pino from "pino";

/** The structured logger of a node (pino). */
export type Logger = pino.Logger;

/**
 * A pino logger tagged with the node's region, writing to `destination` (default stdout).
 *
 * @remarks `destination` lets a test capture what a node logs and check it holds no session id
 * or value.
 */
export function createLogger(
  level: string,
  region: string,
  destination?: pino.DestinationStream,
): Logger {
  const options = { level, base: { region } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

const logKey = randomBytes(32);

/**
 * A keyed hash of a session id for logs.
 *
 * @remarks Logs never hold a raw session id: with the id, anyone reading logs could hijack the
 * session. The key is random per process, so the hash only correlates lines of one run.
 */
export function logId(sessionId: string): string {
  return createHmac("sha256", logKey).update(sessionId).digest("base64url").slice(0, 12);
}
