import {
  decodeMessage,
  PROTOCOL_VERSION,
  type PeerMessage,
  type Scheduler,
  type Timer,
  unpackValue,
} from "@meridian/core";
import type { Duplex } from "node:stream";
import { type RawData, WebSocket } from "ws";
import type { Logger } from "../log.ts";
import { closeCodeOf, PeerCloseCode } from "./close-codes.ts";
import type { Handshake } from "./handshake.ts";
import { loggableError } from "./loggable-error.ts";
import { type LinkLimits, sendMessage, WsLink } from "./ws-link.ts";

/**
 * Which side opened the connection.
 *
 * @remarks Only outbound links are attached to the replicator; inbound ones carry replies.
 */
export type Direction = "inbound" | "outbound";

/**
 * How a connection ended.
 *
 * @remarks `code` is the one this side sent when `byUs`, else the one the peer sent (1006 when
 * the connection dropped without a close frame).
 */
export interface ConnectionEnd {
  readonly code: number;
  readonly reason: string;
  /** Whether this side chose to close (a refusal, shutdown, an error here). */
  readonly byUs: boolean;
  /** Whether the handshake had finished. */
  readonly authenticated: boolean;
}

/**
 * What a connection reports to the transport that owns it.
 *
 * @remarks `open` at most once, `message` only after it, `closed` exactly once and last.
 */
export interface ConnectionHandler {
  /** The handshake finished; `link` is ready for sending. */
  open(connection: PeerConnection, link: WsLink): void;
  /** A replication message arrived after the handshake. */
  message(link: WsLink, message: PeerMessage): void;
  /** The socket closed; called exactly once. */
  closed(connection: PeerConnection, end: ConnectionEnd): void;
}

/**
 * Settings of one peer connection.
 *
 * @remarks `handshake` belongs to this connection alone (its nonce is this connection's).
 */
export interface PeerConnectionOptions {
  readonly ws: WebSocket;
  /**
   * The socket under `ws` of an accepted connection, which the link corks around a run of
   * sends; a dialled connection takes it from the upgrade response.
   */
  readonly socket?: Duplex;
  readonly direction: Direction;
  readonly handshake: Handshake;
  readonly handler: ConnectionHandler;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly limits: LinkLimits;
  readonly handshakeTimeoutMs: number;
  /** Interval of WebSocket pings; a peer that misses a whole interval is dropped. */
  readonly heartbeatMs: number;
}

/** Largest frame accepted before the peer has authenticated. */
const MAX_HANDSHAKE_FRAME = 4096;
/** How long a closing handshake may take before the socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * One peer WebSocket, inbound or outbound: runs the handshake, then hands messages over.
 *
 * @remarks Nothing a peer sends can throw out of here: a frame that does not decode closes the
 * link with 4400, a non-handshake message before authentication too, and an exception while the
 * message is handled is logged (redacted) and closes the link with a code from
 * {@link closeCodeOf}. A peer that stops answering pings for a whole interval is dropped.
 */
export class PeerConnection {
  /** Resolves once the socket has closed. */
  readonly closed: Promise<void>;
  private link: WsLink | undefined;
  private closingCode: number | undefined;
  private closingReason = "";
  private handshakeTimer: Timer | undefined;
  private heartbeatTimer: Timer | undefined;
  private graceTimer: Timer | undefined;
  private alive = true;
  private socket: Duplex | undefined;
  private readonly o: PeerConnectionOptions;
  private resolveClosed: () => void = () => {};

  constructor(options: PeerConnectionOptions) {
    this.o = options;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    const { ws, scheduler } = options;
    this.socket = options.socket;
    ws.once("upgrade", (res) => {
      this.socket = res.socket;
    });
    ws.on("error", (e) => this.log().debug({ error: loggableError(e) }, "peer socket error"));
    ws.on("message", (data, isBinary) => this.onFrame(data, isBinary));
    ws.on("pong", () => {
      this.alive = true;
    });
    ws.once("close", (code, reason) => this.onClose(code, reason.toString()));
    this.handshakeTimer = scheduler.after(options.handshakeTimeoutMs, () =>
      this.close(PeerCloseCode.handshakeTimeout, "handshake timed out"),
    );
    if (ws.readyState === WebSocket.OPEN) this.begin();
    else ws.once("open", () => this.begin());
  }

  /** The link of the authenticated peer, once the handshake finished. */
  get authenticatedLink(): WsLink | undefined {
    return this.link;
  }

  /** Closes the socket with `code`; the first call wins. */
  close(code: number, reason: string): void {
    const { ws } = this.o;
    if (this.closingCode !== undefined || ws.readyState === WebSocket.CLOSED) return;
    this.closingCode = code;
    this.closingReason = reason;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    try {
      ws.close(code, reason);
    } catch {
      ws.terminate(); // a code or reason ws refuses: drop the socket rather than keep it open
      return;
    }
    this.graceTimer = this.o.scheduler.after(CLOSE_GRACE_MS, () => ws.terminate());
  }

  private begin(): void {
    this.sendHandshake(this.o.handshake.hello());
    this.heartbeat();
  }

  private heartbeat(): void {
    this.heartbeatTimer = this.o.scheduler.after(this.o.heartbeatMs, () => {
      if (!this.alive) {
        this.log().warn("peer stopped answering pings");
        this.o.ws.terminate();
        return;
      }
      this.alive = false;
      if (this.o.ws.readyState === WebSocket.OPEN) this.o.ws.ping();
      this.heartbeat();
    });
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.closingCode !== undefined) return;
    this.alive = true;
    const bytes = toBytes(data);
    if (!isBinary) {
      this.refuse(PeerCloseCode.badMessage, "binary frames only");
      return;
    }
    if (this.link === undefined && bytes.length > MAX_HANDSHAKE_FRAME) {
      this.refuse(PeerCloseCode.badMessage, "handshake frame too large");
      return;
    }
    let message: PeerMessage;
    try {
      message = decodeMessage(bytes, { maxBytes: this.o.limits.maxPayload });
    } catch (e) {
      if (this.link === undefined && speaksOtherProtocol(bytes)) {
        this.refuse(PeerCloseCode.protocolMismatch, "protocol version mismatch");
      } else {
        this.refuse(PeerCloseCode.badMessage, "malformed frame", e);
      }
      return;
    }
    try {
      if (this.link === undefined) this.onHandshake(message);
      else this.onMessage(this.link, message);
    } catch (e) {
      this.log().error(
        { error: loggableError(e), type: message.type },
        "handling a peer message failed",
      );
      this.close(closeCodeOf(e), "error handling message");
    }
  }

  private onHandshake(message: PeerMessage): void {
    const step = this.o.handshake.receive(message);
    if (step.kind === "refuse") {
      this.refuse(step.code, step.reason);
      return;
    }
    if (step.kind === "continue") {
      for (const m of step.send) this.sendHandshake(m);
      return;
    }
    this.handshakeTimer?.cancel();
    const { ws, limits } = this.o;
    this.link = new WsLink(
      step.peer.nodeId,
      step.peer.region,
      ws,
      limits,
      (code, reason) => this.close(code, reason),
      this.socket,
    );
    this.o.handler.open(this, this.link);
  }

  private onMessage(link: WsLink, message: PeerMessage): void {
    if (message.type === "hello" || message.type === "auth" || message.type === "welcome") {
      this.refuse(PeerCloseCode.badMessage, `unexpected ${message.type} after handshake`);
      return;
    }
    this.o.handler.message(link, message);
  }

  private sendHandshake(message: PeerMessage): void {
    if (!sendMessage(this.o.ws, message, this.o.limits)) {
      this.close(PeerCloseCode.internalError, "could not send handshake");
    }
  }

  private refuse(code: number, reason: string, cause?: unknown): void {
    const error = cause === undefined ? {} : { error: loggableError(cause) };
    this.log().warn({ code, reason, ...error }, "closing peer connection");
    this.close(code, reason);
  }

  private onClose(code: number, reason: string): void {
    this.handshakeTimer?.cancel();
    this.heartbeatTimer?.cancel();
    this.graceTimer?.cancel();
    const byUs = this.closingCode !== undefined;
    try {
      this.o.handler.closed(this, {
        code: this.closingCode ?? code,
        reason: byUs ? this.closingReason : reason,
        byUs,
        authenticated: this.link !== undefined,
      });
    } catch (e) {
      // Runs inside the socket's close event: throwing here would take the node down.
      this.log().error({ error: loggableError(e) }, "cleaning up a closed peer link failed");
    }
    this.resolveClosed();
  }

  private log(): Logger {
    return this.o.logger.child({ direction: this.o.direction, peer: this.link?.peerId });
  }
}

/** Whether a frame that failed to decode at least starts like a message of another version. */
function speaksOtherProtocol(bytes: Uint8Array): boolean {
  try {
    const top = unpackValue(bytes);
    return Array.isArray(top) && typeof top[0] === "number" && top[0] !== PROTOCOL_VERSION;
  } catch {
    return false; // not even msgpack: malformed, not another version
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
