import { packValue, unpackValue } from "./codec.ts";
import { msgpackArrayHeader } from "./msgpack-header.ts";
import { DecodeError } from "./errors.ts";

/**
 * Path of the client channel: the HTTP API v1 carried over one WebSocket (see PROTOCOL.md,
 * "Client channel").
 */
export const CHANNEL_PATH = "/v1/channel";

/** HTTP methods a channel call may name: those of the API. */
export type ChannelMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

const METHODS: ReadonlySet<string> = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

/**
 * One API call on the client channel: what an HTTP request would say.
 *
 * @remarks `id` is chosen by the client and echoed by the answer; ids in flight on one channel
 * are distinct. `body` is what a msgpack request body would decode to (absent: no body).
 */
export interface ChannelCall {
  readonly id: number;
  readonly method: ChannelMethod;
  /** Path and query, starting with `/`, exactly as in an HTTP request line. */
  readonly target: string;
  readonly body?: unknown;
}

/**
 * The answer to one {@link ChannelCall}: what the HTTP response would say.
 *
 * @remarks Error answers (status 400 and above) carry `{error: {code, message}}` as their body,
 * the same as over HTTP.
 */
export interface ChannelAnswer {
  readonly id: number;
  readonly status: number;
  readonly body?: unknown;
  /** The `meridian-version` of a write answer. */
  readonly version?: string;
}

/** Longest `target` a call may carry, in UTF-16 units. */
const MAX_TARGET = 8192;
/** Most calls or answers in one frame. */
export const MAX_CHANNEL_BATCH = 4096;

/**
 * Encodes calls as one frame: a msgpack array of `[id, method, target]` or
 * `[id, method, target, body]`.
 */
export function encodeChannelCalls(calls: readonly ChannelCall[]): Uint8Array {
  return packValue(
    calls.map((c) =>
      c.body === undefined ? [c.id, c.method, c.target] : [c.id, c.method, c.target, c.body],
    ),
  );
}

/**
 * Decodes a frame of calls.
 *
 * @remarks The frame as a whole is refused on any malformed call: without a trustworthy id there
 * is nobody to answer, so the server closes the channel instead.
 * @throws DecodeError
 */
export function decodeChannelCalls(bytes: Uint8Array): ChannelCall[] {
  const items = frameItems(unpackValue(bytes));
  return items.map((item) => {
    if (!Array.isArray(item) || (item.length !== 3 && item.length !== 4)) {
      throw new DecodeError("a channel call is [id, method, target, body?]");
    }
    const [id, method, target, body] = item as unknown[];
    if (typeof method !== "string" || !METHODS.has(method)) {
      throw new DecodeError("a channel call's method must be GET, POST, PUT, PATCH or DELETE");
    }
    if (typeof target !== "string" || !target.startsWith("/") || target.length > MAX_TARGET) {
      throw new DecodeError(`a channel call's target must start with / (at most ${MAX_TARGET})`);
    }
    // Built whole rather than spread: this runs for every call the node serves.
    return item.length === 4
      ? { id: callId(id), method: method as ChannelMethod, target, body }
      : { id: callId(id), method: method as ChannelMethod, target };
  });
}

/** Encodes one call as a frame item, for {@link channelFrame}. */
export function encodeChannelCall(c: ChannelCall): Uint8Array {
  return packValue(
    c.body === undefined ? [c.id, c.method, c.target] : [c.id, c.method, c.target, c.body],
  );
}

/**
 * A frame made of items encoded one by one ({@link encodeChannelCall}): a msgpack array header
 * followed by the items, the same bytes as {@link encodeChannelCalls} gives for the calls, so
 * a sender can measure each call before it chooses the frame it goes in.
 */
export function channelFrame(items: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat([msgpackArrayHeader(items.length), ...items]);
}

/** Encodes answers as one frame: a msgpack array of `[id, status, body, version]` (nil for none). */
export function encodeChannelAnswers(answers: readonly ChannelAnswer[]): Uint8Array {
  return packValue(answers.map((a) => [a.id, a.status, a.body ?? null, a.version ?? null]));
}

/** Decodes a frame of answers. @throws DecodeError */
export function decodeChannelAnswers(bytes: Uint8Array): ChannelAnswer[] {
  return frameItems(unpackValue(bytes)).map((item) => {
    if (!Array.isArray(item) || item.length !== 4) {
      throw new DecodeError("a channel answer is [id, status, body, version]");
    }
    const [id, status, body, version] = item as unknown[];
    if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) {
      throw new DecodeError("a channel answer's status must be an HTTP status");
    }
    if (version !== null && typeof version !== "string") {
      throw new DecodeError("a channel answer's version must be a string or nil");
    }
    // Built whole rather than spread: this runs for every answer the client gets.
    const answer: { id: number; status: number; body?: unknown; version?: string } = {
      id: callId(id),
      status,
    };
    if (body !== null) answer.body = body;
    if (version !== null) answer.version = version;
    return answer;
  });
}

function frameItems(value: unknown): unknown[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_CHANNEL_BATCH) {
    throw new DecodeError(`a channel frame is an array of 1 to ${MAX_CHANNEL_BATCH} items`);
  }
  return value;
}

function callId(id: unknown): number {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    throw new DecodeError("a channel call id must be a non-negative integer");
  }
  return id;
}
