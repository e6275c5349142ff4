import { WS_CLOSE, wsCloseCodeOf } from "../http/error-map.ts";

/**
 * WebSocket close codes of the peer transport: the shared table's codes under the names the
 * transport uses, plus three the transport alone raises.
 *
 * @remarks Stable: peers and operators read them in logs. The shared codes come from
 * `http/error-map.ts` (the one table of error codes to HTTP statuses and close codes);
 * `handshakeTimeout`, `duplicate` and `selfConnection` belong there too once its owner adds them.
 * Codes in 4000-4999 echo the HTTP status of the same meaning (4401 ~ 401).
 */
export const PeerCloseCode = {
  /** This node is shutting down, or stopped dialling. */
  goingAway: WS_CLOSE.goingAway,
  /** Handling a message failed on this side; the peer did nothing wrong that we know of. */
  internalError: WS_CLOSE.internal,
  /** The replicator replaced this link by a newer one to the same peer. */
  replaced: WS_CLOSE.replaced,
  /** A frame that does not decode, a text frame, or a message out of place in the handshake. */
  badMessage: WS_CLOSE.badMessage,
  /** The peer's proof does not verify under any accepted cluster secret. */
  authFailed: WS_CLOSE.unauthorized,
  /** The peer speaks another protocol version. */
  protocolMismatch: WS_CLOSE.protocol,
  /** The handshake did not finish in time. */
  handshakeTimeout: 4408,
  /** A second outbound link to a peer that already has one (two URLs naming one node). */
  duplicate: 4409,
  /** The connection leads back to this very node. */
  selfConnection: 4508,
} as const;

/**
 * The close code for an exception raised while handling a peer's message.
 *
 * @remarks Input the peer got wrong (decode, validation) maps to 4400; anything unexpected is
 * this node's fault and maps to 1011, so the peer retries instead of blaming itself.
 */
export function closeCodeOf(error: unknown): number {
  return wsCloseCodeOf(error);
}
