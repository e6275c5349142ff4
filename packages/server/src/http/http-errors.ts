import { MeridianError } from "@meridian/core";

/**
 * No route of the HTTP API matches the request path.
 *
 * @remarks Code `MERIDIAN_ERR_NO_ROUTE`, answered 404. The message never echoes the path: paths
 * may hold session ids.
 */
export class NoRouteError extends MeridianError {
  constructor() {
    super("MERIDIAN_ERR_NO_ROUTE", "no such route");
  }
}

/**
 * The path names a route, but not for this method.
 *
 * @remarks Code `MERIDIAN_ERR_METHOD_NOT_ALLOWED`, answered 405 with an `Allow` header listing
 * {@link MethodNotAllowedError.allow}.
 */
export class MethodNotAllowedError extends MeridianError {
  constructor(readonly allow: readonly string[]) {
    super("MERIDIAN_ERR_METHOD_NOT_ALLOWED", `method not allowed; allowed: ${allow.join(", ")}`);
  }
}

/**
 * The request body's content type is neither JSON nor msgpack.
 *
 * @remarks Code `MERIDIAN_ERR_UNSUPPORTED_MEDIA_TYPE`, answered 415. Checked before the body is
 * read, so an unsupported body is never buffered.
 */
export class UnsupportedMediaTypeError extends MeridianError {
  constructor(type: string) {
    super(
      "MERIDIAN_ERR_UNSUPPORTED_MEDIA_TYPE",
      `content type "${type.slice(0, 100)}" is not supported; send application/json or application/msgpack`,
    );
  }
}

/**
 * The client went away before its request body was complete.
 *
 * @remarks Code `MERIDIAN_ERR_ABORTED`, mapped to 400: the client's doing, never logged as a
 * server fault. Usually nobody is left to read the answer.
 */
export class RequestAbortedError extends MeridianError {
  constructor() {
    super("MERIDIAN_ERR_ABORTED", "the request body was cut off");
  }
}
