/**
 * The client channel: the HTTP API v1 carried over one WebSocket per client connection
 * (PROTOCOL.md, "Client channel").
 *
 * - Same routes, same validation, same answers, same metrics: every call goes through
 *   `serveCall`, as an HTTP request does. Only the framing differs, which is what makes it
 *   fast: no headers to parse or write per call, calls pipelined without waiting, and the answers
 *   of one tick sent together in one frame (one write) instead of one response each.
 * - Bearer tokens are checked once, on the upgrade (401 without a valid one).
 * - A frame that does not decode closes the channel with 4400: without a trustworthy call id
 *   there is nobody to answer. A call that decodes but is wrong gets its 4xx answer.
 * - Calls in flight per channel are bounded; past the bound the channel closes with 1008 (the
 *   client pipelines past what the node can take).
 * - Answers waiting in the socket are bounded too: past `maxBufferedBytes` the node stops reading
 *   the channel's calls until the client has read half of them (TCP then pushes back on the
 *   client), so a client that sends without reading cannot make the node buffer without end.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import {
  CHANNEL_PATH,
  type ChannelAnswer,
  type ChannelCall,
  decodeChannelCalls,
  MAX_CHANNEL_BATCH,
  encodeChannelAnswers,
} from "@meridian/core";
import { type WebSocket, WebSocketServer } from "ws";
import { checkBearer } from "../http/bearer-auth.ts";
import { WS_CLOSE } from "../http/error-map.ts";
import { type ApiCall, type CallOutcome, type HttpDeps, serveCall } from "../http/handler.ts";
import { errorAnswer } from "../http/respond.ts";
import { refuseUpgrade } from "../peer/upgrade.ts";

/** Limits of the client channel. */
export interface ClientChannelLimits {
  /** Largest frame a client may send (default: the HTTP body limit plus 64 KiB, at least 1 MiB). */
  readonly maxPayload: number;
  /** Calls in flight on one channel before it is closed (default 16,384). */
  readonly maxInFlight: number;
  /** Answer bytes waiting in one channel's socket before the node stops reading its calls (default 16 MiB). */
  readonly maxBufferedBytes: number;
}

/** How often a paused channel checks whether its client has read enough answers to resume. */
const RESUME_POLL_MS = 10;

/** Close code for a client that exceeded the calls-in-flight bound (RFC 6455 policy violation). */
const POLICY_VIOLATION = 1008;

/** Accepts client channels on the node's port and serves their calls. */
export class ClientChannels {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Map<WebSocket, ChannelSession>();
  private closing = false;

  constructor(
    private readonly deps: HttpDeps,
    private readonly limits: ClientChannelLimits = {
      // At least the 512 KiB frames the SDK sends, whatever the body limit.
      maxPayload: Math.max(deps.config.maxBodyBytes + 64 * 1024, 1024 * 1024),
      maxInFlight: 16_384,
      maxBufferedBytes: 16 * 1024 * 1024,
    },
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxPayload,
      perMessageDeflate: false,
    });
  }

  /** Channels open now. */
  get open(): number {
    return this.sockets.size;
  }

  /** Channels whose calls are not read now because their client is not reading its answers. */
  get paused(): number {
    let n = 0;
    for (const channel of this.sockets.values()) if (channel.paused) n += 1;
    return n;
  }

  /**
   * Takes an upgrade request that is not for the peer endpoint.
   *
   * @remarks Answers 404 for any other path, 503 while draining, 401 without a valid token when
   * tokens are configured; never throws.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? "";
    const q = url.indexOf("?");
    if ((q < 0 ? url : url.slice(0, q)) !== CHANNEL_PATH) {
      refuseUpgrade(socket, 404, "Not Found");
      return;
    }
    if (this.closing || !this.deps.isReady()) {
      refuseUpgrade(socket, 503, "Service Unavailable");
      return;
    }
    const tokens = this.deps.config.tokens ?? [];
    if (tokens.length > 0) {
      try {
        checkBearer(req, tokens);
      } catch {
        this.deps.metrics.observeRequest("unauthorized", 401, 0);
        refuseUpgrade(socket, 401, "Unauthorized");
        return;
      }
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  /**
   * Closes every channel with 1001, and drops those whose client does not answer the close
   * within a second, so a drain never waits on a silent client. Calls still running finish but
   * their answers are dropped.
   */
  close(): void {
    this.closing = true;
    for (const ws of this.sockets.keys()) {
      ws.close(WS_CLOSE.goingAway, "node shutting down");
      setTimeout(() => ws.terminate(), 1000).unref();
    }
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    const channel = new ChannelSession(ws, this.deps, this.limits);
    this.sockets.set(ws, channel);
    ws.on("message", (data, isBinary) => channel.onFrame(data as Buffer, isBinary));
    ws.on("error", (err) => this.deps.logger.debug({ err: err.message }, "client channel failed"));
    ws.on("close", () => {
      channel.stop();
      this.sockets.delete(ws);
    });
  }
}

/** One client's channel: its calls in flight and its answers waiting for the next flush. */
class ChannelSession {
  /** Calls read and not yet answered, those held back in `held` included. */
  private inFlight = 0;
  /** Calls read while the client's unread answers were over the bound; served once it reads. */
  private held: ChannelCall[] = [];
  private outbox: ChannelAnswer[] = [];
  private flushScheduled = false;
  private resumeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: HttpDeps,
    private readonly limits: ClientChannelLimits,
  ) {}

  /** Whether the node stopped reading this channel's calls (its client is not reading answers). */
  get paused(): boolean {
    return this.resumeTimer !== undefined;
  }

  /** Stops watching the socket (it closed). */
  stop(): void {
    clearInterval(this.resumeTimer);
    this.resumeTimer = undefined;
  }

  onFrame(data: Buffer, isBinary: boolean): void {
    // Closing (refused frame, overload, drain): nothing more is served.
    if (this.ws.readyState !== this.ws.OPEN) return;
    let calls: ChannelCall[];
    try {
      if (!isBinary) throw new Error("text frame");
      calls = decodeChannelCalls(data);
    } catch {
      this.ws.close(WS_CLOSE.badMessage, "malformed channel frame");
      return;
    }
    if (this.inFlight + calls.length > this.limits.maxInFlight) {
      this.ws.close(POLICY_VIOLATION, "too many calls in flight");
      return;
    }
    this.inFlight += calls.length;
    // Frames already read when the bound was passed are held, not served: their answers would
    // only add to what the client is not reading.
    if (this.paused || this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.held.push(...calls);
      this.pause();
      return;
    }
    for (const call of calls) this.serve(call);
  }

  private serve(call: ChannelCall): void {
    void serveCall(this.deps, new ChannelApiCall(call)).then((outcome) =>
      this.answered(call.id, outcome),
    );
  }

  private answered(id: number, outcome: CallOutcome): void {
    this.inFlight -= 1;
    const r = outcome.reply;
    if (r === undefined) {
      const { status, body } = errorAnswer(outcome.error);
      this.answer({ id, status, body });
    } else if ("text" in r) {
      this.answer({ id, status: r.status, body: r.text });
    } else {
      // Built whole rather than spread: one answer per call served.
      const a: { id: number; status: number; body?: unknown; version?: string } = {
        id,
        status: r.status,
      };
      if (r.body !== undefined) a.body = r.body;
      if (r.version !== undefined && r.version !== "") a.version = r.version;
      this.answer(a);
    }
  }

  /** Queues an answer; the answers of one tick leave together in one frame. */
  private answer(a: ChannelAnswer): void {
    this.outbox.push(a);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const answers = this.outbox;
    this.outbox = [];
    if (this.ws.readyState !== this.ws.OPEN) return;
    try {
      for (let i = 0; i < answers.length; i += MAX_CHANNEL_BATCH) {
        this.ws.send(encodeChannelAnswers(answers.slice(i, i + MAX_CHANNEL_BATCH)));
      }
    } catch (err) {
      // An answer that does not encode must not take the node down: this channel ends.
      this.deps.logger.error(
        { err: err instanceof Error ? err.message : String(err) },
        "could not send channel answers",
      );
      this.ws.close(WS_CLOSE.internal, "could not encode an answer");
      return;
    }
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) this.pause();
  }

  /**
   * Stops reading calls until the client has read half of the answers waiting for it; then
   * serves the calls held meanwhile and reads again.
   */
  private pause(): void {
    if (this.paused) return;
    this.ws.pause();
    this.resumeTimer = setInterval(() => {
      if (this.ws.readyState !== this.ws.OPEN) {
        this.stop();
        return;
      }
      if (this.ws.bufferedAmount > this.limits.maxBufferedBytes / 2) return;
      this.stop();
      const held = this.held;
      this.held = [];
      for (const call of held) this.serve(call);
      this.ws.resume();
    }, RESUME_POLL_MS);
    this.resumeTimer.unref();
  }
}

/**
 * A channel call as the API handler takes it: a class rather than an object of closures, since
 * one is made for every call served.
 */
class ChannelApiCall implements ApiCall {
  readonly method: string;
  readonly target: string;

  constructor(private readonly call: ChannelCall) {
    this.method = call.method;
    this.target = call.target;
  }

  /** Checked on the upgrade: every call of the channel carries the connection's token. */
  authorize(): void {}

  /** An own property, not a method: route actions call it detached (`ctx.body()`). */
  readonly body = (): Promise<unknown> => Promise.resolve(this.call.body);
}
