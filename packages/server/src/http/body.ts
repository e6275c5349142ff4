import type { IncomingMessage } from "node:http";
import { DecodeError, unpackValue } from "@meridian/core";
import { LimitError } from "../errors.ts";
import { RequestAbortedError } from "./http-errors.ts";
import type { BodyFormat } from "./media-type.ts";

/**
 * Reads a request body, refusing it as soon as it grows past `maxBytes`.
 *
 * @remarks Never holds more than `maxBytes`: a declared `content-length` over the limit is
 * refused before a byte is read, and a streamed body is refused (and no longer read) at the
 * chunk that crosses the limit. The caller then answers with `connection: close` (see
 * `sendReply`), so the rest of the body is never read or buffered.
 * @throws LimitError (413) over the limit; RequestAbortedError when the client goes away first.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onAbort);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.pause();
        chunks.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onAbort = () => {
      cleanup();
      reject(new RequestAbortedError());
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  });
}

function tooLarge(maxBytes: number): LimitError {
  return new LimitError(`request body exceeds ${maxBytes} bytes`);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a request body in `format`; `undefined` for an empty body.
 *
 * @remarks JSON must be well-formed UTF-8; msgpack goes through core's `unpackValue` (so Dates
 * and binary survive). Any nesting depth decodes without crashing the node.
 * @throws DecodeError (400) for malformed input.
 */
export function decodeBody(bytes: Uint8Array, format: BodyFormat): unknown {
  if (bytes.length === 0) return undefined;
  if (format === "msgpack") return unpackValue(bytes);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new DecodeError("request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch {
    // V8's message quotes the input, which may hold a session's values: keep it out.
    throw new DecodeError("request body is not well-formed JSON");
  }
}
