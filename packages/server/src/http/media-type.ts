import type { IncomingMessage } from "node:http";
import { UnsupportedMediaTypeError } from "./http-errors.ts";

/** How a request or answer body is encoded. */
export type BodyFormat = "json" | "msgpack";

const MSGPACK_TYPES = new Set([
  "application/msgpack",
  "application/x-msgpack",
  "application/vnd.msgpack",
]);

/** The bare media type of a header value: lower case, parameters dropped. */
function bareType(value: string): string {
  return (value.split(";")[0] ?? "").trim().toLowerCase();
}

/**
 * The format of a request body, from its `content-type`.
 *
 * @remarks JSON for `application/json`, any `+json` type, `text/plain` (what `fetch` sends for a
 * string body when no type is given) and a missing header; msgpack for `application/msgpack`
 * (also `x-msgpack`, `vnd.msgpack`). Decided before the body is read.
 * @throws UnsupportedMediaTypeError for every other type.
 */
export function requestFormat(req: IncomingMessage): BodyFormat {
  const header = req.headers["content-type"];
  if (header === undefined || header.trim() === "") return "json";
  const type = bareType(header);
  if (MSGPACK_TYPES.has(type)) return "msgpack";
  if (
    type === "application/json" ||
    type === "text/plain" ||
    /^application\/[a-z0-9.+-]+\+json$/.test(type)
  ) {
    return "json";
  }
  throw new UnsupportedMediaTypeError(type);
}

/**
 * The format to answer in: msgpack when the `accept` header lists a msgpack type (with a
 * non-zero quality), else JSON.
 *
 * @remarks Errors are always JSON whatever this says (DESIGN.md: every error is JSON).
 */
export function answerFormat(req: IncomingMessage): BodyFormat {
  const header = req.headers.accept;
  if (header === undefined) return "json";
  for (const range of header.split(",")) {
    const [type = "", ...params] = range.split(";").map((p) => p.trim().toLowerCase());
    if (!MSGPACK_TYPES.has(type)) continue;
    const q = params.find((p) => p.startsWith("q="));
    if (q === undefined || Number(q.slice(2)) > 0) return "msgpack";
  }
  return "json";
}
