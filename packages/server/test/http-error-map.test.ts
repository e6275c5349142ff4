import {
  ClockSkewError,
  DecodeError,
  MeridianError,
  SessionDeletedError,
  SessionExpiredError,
  SessionNotFoundError,
  ValidationError,
} from "@meridian/core";
import {
  DecryptError,
  KeyringError,
  PlaintextValueError,
  UnknownKeyError,
} from "@meridian/storage-sqlite";
import { describe, expect, it } from "vitest";
import {
  LimitError,
  NotReadyError,
  QuorumUnavailableError,
  UnauthorizedError,
  VersionUnavailableError,
} from "../src/errors.ts";
import {
  errorCodeOf,
  HTTP_STATUS_BY_CODE,
  httpStatusOf,
  WS_CLOSE,
  WS_CLOSE_BY_CODE,
  wsCloseCodeOf,
} from "../src/http/error-map.ts";
import {
  MethodNotAllowedError,
  NoRouteError,
  UnsupportedMediaTypeError,
} from "../src/http/http-errors.ts";

describe("error map", () => {
  it("maps every error class the server raises to its HTTP status", () => {
    const cases: [MeridianError, number][] = [
      [new DecodeError("x"), 400],
      [new ValidationError("x"), 400],
      [new ValidationError("x", "MERIDIAN_ERR_BAD_ID"), 400],
      [new NoRouteError(), 404],
      [new SessionNotFoundError("s"), 404],
      [new MethodNotAllowedError(["GET"]), 405],
      [new SessionDeletedError("s"), 410],
      [new SessionExpiredError("s"), 410],
      [new LimitError("x"), 413],
      [new UnsupportedMediaTypeError("text/html"), 415],
      [new ClockSkewError(2, 1, 0), 503],
      [new QuorumUnavailableError(2, 1), 503],
      [new VersionUnavailableError("1.a"), 503],
      [new NotReadyError(), 503],
      [new UnauthorizedError(), 401],
      [new KeyringError("x"), 500],
      [new UnknownKeyError("k1"), 500],
      [new DecryptError("k1"), 500],
      [new PlaintextValueError(), 500],
    ];
    for (const [error, status] of cases) {
      expect([error.code, httpStatusOf(error)]).toEqual([error.code, status]);
      expect(Object.hasOwn(HTTP_STATUS_BY_CODE, error.code)).toBe(true);
    }
  });

  it("answers 500 and closes with 1011 for anything unexpected", () => {
    for (const e of [
      new Error("x"),
      new MeridianError("MERIDIAN_ERR_SOMETHING_NEW", "x"),
      "str",
      undefined,
    ]) {
      expect(httpStatusOf(e)).toBe(500);
      expect(wsCloseCodeOf(e)).toBe(WS_CLOSE.internal);
    }
    // A code property on a foreign error is never trusted.
    expect(errorCodeOf(Object.assign(new Error("x"), { code: "MERIDIAN_ERR_INVALID" }))).toBe(
      "MERIDIAN_ERR_INTERNAL",
    );
  });

  it("maps peer-link errors to WebSocket close codes", () => {
    expect(wsCloseCodeOf(new DecodeError("x"))).toBe(4400);
    expect(wsCloseCodeOf(new ValidationError("x"))).toBe(4400);
    expect(wsCloseCodeOf(new MeridianError("MERIDIAN_ERR_AUTH", "x"))).toBe(4401);
    expect(wsCloseCodeOf(new MeridianError("MERIDIAN_ERR_PROTOCOL", "x"))).toBe(4426);
    expect(wsCloseCodeOf(new LimitError("x"))).toBe(1009);
    expect(wsCloseCodeOf(new NotReadyError())).toBe(1001);
  });

  it("keeps HTTP statuses and close codes in their ranges", () => {
    for (const s of Object.values(HTTP_STATUS_BY_CODE)) expect(s >= 400 && s < 600).toBe(true);
    for (const c of Object.values(WS_CLOSE_BY_CODE))
      expect(c === 1001 || c === 1009 || (c >= 4000 && c < 5000)).toBe(true);
  });
});
