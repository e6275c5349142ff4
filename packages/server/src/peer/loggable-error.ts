import { MeridianError } from "@meridian/core";
import { logId } from "../log.ts";

/**
 * An error as it may appear in logs.
 *
 * @remarks Holds no raw session id (see {@link redactIds}).
 */
export interface LoggableError {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
  readonly stack?: string;
}

const TOKEN = /[A-Za-z0-9_-]{16,}/g;
const PLAIN_WORD = /^[A-Za-z]+$/;

/**
 * Replaces every token that could be a session id (16 or more base64url characters, other than
 * a plain word) by its keyed hash.
 *
 * @remarks Errors raised while handling a peer's message may quote a session id; logs must never
 * hold one raw (see {@link logId}).
 */
export function redactIds(text: string): string {
  return text.replace(TOKEN, (token) => (PLAIN_WORD.test(token) ? token : `#${logId(token)}`));
}

/**
 * The loggable form of anything thrown: name, and the stable code of a {@link MeridianError} or
 * the stack of anything else, message and stack redacted.
 *
 * @remarks Never carries a raw session id; safe to hand to the logger as `err`.
 */
export function loggableError(error: unknown): LoggableError {
  if (!(error instanceof Error)) return { name: "NonError", message: redactIds(String(error)) };
  if (error instanceof MeridianError) {
    // Raised on purpose: the code and message say it all, the stack adds nothing.
    return { name: error.name, code: error.code, message: redactIds(error.message) };
  }
  return {
    name: error.name,
    message: redactIds(error.message),
    ...(error.stack !== undefined ? { stack: redactIds(error.stack) } : {}),
  };
}
