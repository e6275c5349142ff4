import { canonicalYjs, ValidationError } from "@meridian/core";
import * as Y from "yjs";
import { LimitError } from "../errors.ts";
import { clip, fieldName, type InputLimits, plainObject } from "./input-rules.ts";

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * The `yjs` part of a PATCH: field name to Yjs update, each in canonical form.
 *
 * @remarks Updates are base64 strings (standard or URL alphabet, padding optional); msgpack
 * bodies may send binary instead. Each update is checked against `maxValueBytes` and must
 * decode as a Yjs update, so no malformed update ever reaches a merge.
 * @throws ValidationError (400), LimitError (413)
 */
export function yjsUpdates(v: unknown, limits: InputLimits): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [name, raw] of Object.entries(plainObject(v, "yjs"))) {
    fieldName(name, "yjs");
    let bytes: Uint8Array;
    if (raw instanceof Uint8Array) bytes = raw;
    else if (
      typeof raw === "string" &&
      BASE64.test(raw) &&
      raw.replace(/=+$/, "").length % 4 !== 1
    ) {
      bytes = Buffer.from(raw, "base64");
    } else throw new ValidationError(`yjs.${clip(name)} must be a base64-encoded Yjs update`);
    if (bytes.length > limits.maxValueBytes) {
      throw new LimitError(
        `yjs update of field "${clip(name)}" is ${bytes.length} bytes, over the limit of ${limits.maxValueBytes}`,
      );
    }
    out.set(name, canonicalUpdate(name, bytes));
  }
  return out;
}

/**
 * The canonical form of a client's Yjs update.
 *
 * @remarks `Y.decodeUpdate` first: it refuses malformed bytes in time linear in their length,
 * whereas `Y.applyUpdate` (inside `canonicalYjs`) can spend a second of CPU on 200 random bytes
 * before it fails.
 */
function canonicalUpdate(name: string, bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) throw new ValidationError(`yjs.${clip(name)} is empty`);
  try {
    Y.decodeUpdate(bytes);
    return canonicalYjs([bytes]);
  } catch {
    throw new ValidationError(`yjs.${clip(name)} is not a Yjs update`);
  }
}
