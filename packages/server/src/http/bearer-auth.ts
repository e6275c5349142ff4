import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { UnauthorizedError } from "../errors.ts";

/**
 * Whether a path needs a bearer token when tokens are configured: the whole `/v1` API and
 * `/metrics`.
 *
 * @remarks `/healthz` and `/readyz` stay open for load balancers and orchestrators; `/metrics`
 * is protected because its counters tell an outsider about traffic and peers (Prometheus sends
 * the token with `authorization.credentials`). The peer WebSocket (`/v1/peer`) authenticates with
 * the cluster secret's handshake instead; it never reaches the request handler.
 */
export function needsToken(path: string): boolean {
  return path === "/v1" || path.startsWith("/v1/") || path === "/metrics";
}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/**
 * Checks the request's `authorization: Bearer <token>` against the accepted tokens.
 *
 * @remarks Several tokens are accepted at once so that clients can move to a new token before
 * the old one is dropped. Both sides are hashed first, so the comparison takes the same time
 * whatever the lengths, and every accepted token is compared, so the time does not tell which
 * one matched. @throws UnauthorizedError when the header is missing, malformed or wrong.
 */
export function checkBearer(req: IncomingMessage, accepted: readonly string[]): void {
  const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? "");
  const given = digest(match?.[1] ?? "");
  let ok = false;
  for (const token of accepted) {
    if (timingSafeEqual(given, digest(token)) && match !== null) ok = true;
  }
  if (!ok) throw new UnauthorizedError();
}
