import type { IncomingMessage, ServerResponse } from "node:http";
import { packValue } from "@meridian/core";
import { errorCodeOf, httpStatusOf } from "./error-map.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import { answerFormat } from "./media-type.ts";

/** Header carrying the version token of a write, on every write answer (204 ones included). */
export const VERSION_HEADER = "meridian-version";

/**
 * What a route answers.
 *
 * @remarks `body` is encoded as JSON or msgpack after the request's `accept` header; `text`
 * answers go out as they are (Prometheus exposition).
 */
export type Reply =
  | { readonly status: number; readonly body?: unknown; readonly version?: string }
  | { readonly status: number; readonly text: string; readonly contentType: string };

const BASE_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" } as const;

/**
 * Writes a reply.
 *
 * @remarks When the request body was not read to its end (refused as too large, or never
 * needed), the answer carries `connection: close`: the rest of the body is never read.
 */
export function sendReply(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string | number> = { ...BASE_HEADERS };
  if (!req.complete) headers.connection = "close";
  if ("text" in reply) {
    send(
      res,
      reply.status,
      { ...headers, "content-type": reply.contentType },
      Buffer.from(reply.text),
    );
    return;
  }
  if (reply.version !== undefined && reply.version !== "") headers[VERSION_HEADER] = reply.version;
  if (reply.body === undefined) {
    send(res, reply.status, headers, undefined);
    return;
  }
  if (answerFormat(req) === "msgpack") {
    send(
      res,
      reply.status,
      { ...headers, "content-type": "application/msgpack" },
      packValue(reply.body),
    );
  } else {
    const json = JSON.stringify(reply.body, jsonReplacer);
    send(
      res,
      reply.status,
      { ...headers, "content-type": "application/json; charset=utf-8" },
      Buffer.from(json),
    );
  }
}

/**
 * Writes the answer to a failed request: always JSON `{error: {code, message}}`, the status from
 * the error map.
 *
 * @remarks Unexpected errors answer `MERIDIAN_ERR_INTERNAL` with a fixed message: internals never
 * reach the client. 405 answers carry `allow`, 503 answers `retry-after`, 401 answers
 * `www-authenticate`.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  const { status, body } = errorAnswer(error);
  const headers: Record<string, string | number> = {
    ...BASE_HEADERS,
    "content-type": "application/json; charset=utf-8",
  };
  if (!req.complete) headers.connection = "close";
  if (error instanceof MethodNotAllowedError) headers.allow = error.allow.join(", ");
  if (status === 503) headers["retry-after"] = 1;
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="meridian"';
  send(res, status, headers, Buffer.from(JSON.stringify(body)));
}

/**
 * The status and `{error: {code, message}}` body answering `error`, whatever carries it.
 *
 * @remarks Unexpected errors answer `MERIDIAN_ERR_INTERNAL` with a fixed message: internals never
 * reach the client.
 */
export function errorAnswer(error: unknown): {
  status: number;
  body: { error: { code: string; message: string } };
} {
  const status = httpStatusOf(error);
  const code = errorCodeOf(error);
  const message = status >= 500 && status < 503 ? "internal error" : errorMessage(error);
  return { status, body: { error: { code, message } } };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : "internal error";
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  payload: Uint8Array | undefined,
): void {
  if (payload !== undefined) headers["content-length"] = payload.byteLength;
  res.writeHead(status, headers);
  res.end(payload);
}

/**
 * JSON rendering of values msgpack can hold but JSON cannot: binary becomes base64, big
 * integers become numbers when safe, else decimal strings (JSON.stringify throws on BigInt).
 */
function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw: unknown = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array)
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64");
  if (typeof value === "bigint") {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  return value;
}
