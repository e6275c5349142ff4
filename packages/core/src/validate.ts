/**
 * Shape rules for identifiers, shared by the HTTP edge, the codec and storage.
 *
 * @remarks Session ids must carry enough entropy to be unguessable; client-supplied ones
 * (express-session makes its own) must match `[A-Za-z0-9_-]{16,256}`.
 */
const SESSION_ID = /^[A-Za-z0-9_-]{16,256}$/;
const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const USER_ID_MAX = 256;

/** Whether `s` is an acceptable session id. */
export function isSessionId(s: string): boolean {
  return SESSION_ID.test(s);
}

/** Whether `s` is an acceptable node or region id. */
export function isNodeId(s: string): boolean {
  return NODE_ID.test(s);
}

/**
 * Whether `s` is well-formed UTF-16. The wire carries UTF-8, which turns a lone surrogate into
 * U+FFFD: the name a node wrote under and the name its peers received would differ.
 */
function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDFFF]/u.test(s);
}

/** Whether `s` is an acceptable field name: 1 to 256 characters, no NUL, well-formed. */
export function isFieldName(s: string): boolean {
  return s.length >= 1 && s.length <= 256 && !s.includes("\u0000") && isWellFormed(s);
}

/** Whether `s` is an acceptable user id: 1 to 256 characters, no control characters, well-formed. */
export function isUserId(s: string): boolean {
  return (
    s.length >= 1 &&
    s.length <= USER_ID_MAX &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    !/[\u0000-\u001f]/.test(s) &&
    isWellFormed(s)
  );
}
