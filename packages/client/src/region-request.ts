import { type MeridianError, packValue, unpackValue } from "@meridian/core";
import type { ClientClock } from "./client-clock.ts";
import {
  errorFromAnswer,
  MalformedAnswerError,
  RegionUnreachableError,
  RequestTimeoutError,
} from "./errors.ts";

/**
 * Options `fetch` is called with: only what the client uses.
 *
 * @remarks A subset of `RequestInit`, so the global `fetch` fits `FetchLike` as it is.
 */
export interface FetchInit {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array;
  readonly signal: AbortSignal;
}

/**
 * The `fetch` the client calls; the global one by default.
 *
 * @remarks Tests inject a fake to script timeouts, refused connections and slow regions.
 */
export type FetchLike = (url: string, init: FetchInit) => Promise<Response>;

/**
 * One HTTP request of the API, region-independent.
 *
 * @remarks The same request may go to several regions in turn; it holds no region-specific part.
 */
export interface ApiRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path and query, starting with `/`. */
  readonly path: string;
  /** Sent as msgpack when present. */
  readonly body?: unknown;
}

/**
 * A successful answer.
 *
 * @remarks Only 1xx-3xx statuses: error statuses are raised as typed errors.
 */
export interface ApiAnswer {
  readonly status: number;
  /** Decoded body; undefined for an empty one (204). */
  readonly body: unknown;
  /** The `meridian-version` header of a write answer. */
  readonly version: string | undefined;
}

/**
 * How the client reaches a region: HTTP requests, or the client channel.
 *
 * @remarks Both raise the same typed errors for the same situations, so failover and retries do
 * not depend on the transport.
 */
export interface RegionTransport {
  /** Sends `request` to `region` (at `baseUrl`) and decodes the answer. @throws MeridianError */
  send(region: string, baseUrl: string, request: ApiRequest, timeoutMs: number): Promise<ApiAnswer>;
  /** Releases connections; later sends fail. */
  close(): void;
}

/** A {@link RegionTransport} of HTTP requests made with `fetchFn`, one per call. */
export function httpTransport(
  fetchFn: FetchLike,
  clock: ClientClock,
  headers: Readonly<Record<string, string>>,
): RegionTransport {
  return {
    send: (region, baseUrl, request, timeoutMs) =>
      sendToRegion(fetchFn, clock, region, baseUrl, request, timeoutMs, headers),
    close: () => {},
  };
}

const MSGPACK = "application/msgpack";

/**
 * Sends `request` to one region and decodes the answer.
 *
 * @remarks Talks msgpack both ways, so Dates and binary survive. Aborts after `timeoutMs`.
 * Every failure comes out typed: {@link RegionUnreachableError}, {@link RequestTimeoutError},
 * the error class of the answer's code, or {@link MalformedAnswerError}.
 * @throws MeridianError
 */
export async function sendToRegion(
  fetchFn: FetchLike,
  clock: ClientClock,
  region: string,
  baseUrl: string,
  request: ApiRequest,
  timeoutMs: number,
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<ApiAnswer> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = clock.after(timeoutMs, () => {
    timedOut = true;
    controller.abort();
  });
  try {
    const headers: Record<string, string> = {
      ...extraHeaders,
      accept: `${MSGPACK}, application/json;q=0.5`,
    };
    const init: FetchInit =
      request.body === undefined
        ? { method: request.method, headers, signal: controller.signal }
        : {
            method: request.method,
            headers: { ...headers, "content-type": MSGPACK },
            body: packValue(request.body),
            signal: controller.signal,
          };
    let res: Response;
    let bytes: Uint8Array;
    try {
      res = await fetchFn(`${baseUrl}${request.path}`, init);
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      if (timedOut) throw new RequestTimeoutError(region, timeoutMs);
      throw unreachable(region, e);
    }
    const body = decode(res, bytes, region);
    if (res.status >= 400) throw errorFromAnswer(res.status, region, errorBody(body));
    return { status: res.status, body, version: res.headers.get("meridian-version") ?? undefined };
  } finally {
    timer.cancel();
  }
}

function decode(res: Response, bytes: Uint8Array, region: string): unknown {
  if (bytes.length === 0) return undefined;
  const type = (res.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  try {
    if (type === MSGPACK) return unpackValue(bytes);
    if (type === "application/json") return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (e) {
    if (res.status >= 400) return undefined;
    throw new MalformedAnswerError(region, e instanceof Error ? e.message : "undecodable body");
  }
  if (res.status >= 400) return undefined;
  throw new MalformedAnswerError(region, `unexpected content type "${type ?? ""}"`);
}

/** The `{code, message}` of an error answer's body, if it has one. */
export function errorBody(body: unknown): { code: string; message: string } | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const error: unknown = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== "string") return undefined;
  return { code, message: typeof message === "string" ? message : code };
}

/** The connection-level failure behind a rejected `fetch`. */
function unreachable(region: string, e: unknown): MeridianError {
  const code = causeCode(e);
  const reason = code ?? (e instanceof Error ? e.message : String(e));
  return new RegionUnreachableError(region, code === "ECONNREFUSED", reason);
}

/** The `code` of an error or of its (nested) `cause`: undici wraps socket errors. */
export function causeCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur !== undefined && depth < 5; depth++) {
    if (typeof cur !== "object" || cur === null) return undefined;
    const { code, cause } = cur as { code?: unknown; cause?: unknown };
    if (typeof code === "string") return code;
    cur = cause;
  }
  return undefined;
}
