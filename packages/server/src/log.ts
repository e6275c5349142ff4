import { createHmac, randomBytes } from "node:crypto";
import pino from "pino";

/** The structured logger of a node (pino). */
export type Logger = pino.Logger;

/** A pino logger tagged with the node's region. */
export function createLogger(level: string, region: string): Logger {
  return pino({ level, base: { region } });
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
