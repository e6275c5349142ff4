import {
  CHANNEL_PATH,
  type ChannelAnswer,
  channelFrame,
  decodeChannelAnswers,
  encodeChannelCall,
  MAX_CHANNEL_BATCH,
  type Timer,
} from "@meridian/core";
import WebSocket from "ws";
import type { ClientClock } from "./client-clock.ts";
import {
  errorFromAnswer,
  MalformedAnswerError,
  RegionUnreachableError,
  RequestTimeoutError,
} from "./errors.ts";
import {
  type ApiAnswer,
  type ApiRequest,
  causeCode,
  errorBody,
  type RegionTransport,
} from "./region-request.ts";

interface Pending {
  readonly resolve: (a: ApiAnswer) => void;
  readonly reject: (e: Error) => void;
  /** Clock time past which the call has timed out. */
  readonly deadline: number;
  readonly timeoutMs: number;
  /** Frames received on the channel when the call was sent. */
  readonly framesAtSend: number;
}

/** Largest encoded call sent on the channel; bigger ones go by HTTP. */
const MAX_CALL_BYTES = 256 * 1024;
/** Largest frame the client sends (the node accepts at least 1 MiB). */
const MAX_FRAME_BYTES = 512 * 1024;
/** Longest target sent on the channel (the node's frame limit is 8,192); longer ones go by HTTP. */
const MAX_TARGET_CHARS = 8192;
/** Calls in flight on one channel before more go by HTTP (the node closes past 16,384). */
const MAX_IN_FLIGHT = 8192;

/** The WebSocket URL of a region's client channel, from its base URL. */
export function channelUrl(baseUrl: string): string {
  const u = new URL(CHANNEL_PATH, baseUrl);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}

/**
 * The client channel to one region: one WebSocket carrying every call to it (PROTOCOL.md,
 * "Client channel").
 *
 * @remarks Connects on the first call and again on the first call after it closed. Calls of one
 * tick leave together in one frame; answers come back in any order, matched by id. Failures come
 * out typed as over HTTP: a connection that never opened is {@link RegionUnreachableError} with
 * `refused` (the call was never sent, so any call may be retried), one that closed with calls in
 * flight fails them with `refused: false` (their outcome is unknown), a call without an answer
 * in time is {@link RequestTimeoutError}. A timeout with nothing at all received since the call
 * was sent also drops the connection, so a dead link is not reused. Timeouts come from one timer
 * per channel, set for the earliest deadline of the calls in flight, not one timer per call:
 * with calls of equal timeouts it fires about once per timeout, whatever the call rate.
 */
export class RegionChannel {
  private ws: WebSocket | undefined;
  private opened: Promise<WebSocket> | undefined;
  /** Calls in flight, in the order they were sent. */
  private readonly pending = new Map<number, Pending>();
  /** Calls encoded and waiting for the next flush, with their ids. */
  private outbox: { id: number; bytes: Uint8Array }[] = [];
  private flushScheduled = false;
  private nextId = 1;
  private framesReceived = 0;
  private closed = false;
  /** The socket, from the moment it starts opening (`ws` is set once it is open). */
  private socket: WebSocket | undefined;
  /** The timer of the probe in progress: the link is dropped when it fires before a pong. */
  private probing: Timer | undefined;
  /** The timer that times calls out, and the clock time it fires at. */
  private sweep: Timer | undefined;
  private sweepAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly region: string,
    private readonly url: string,
    private readonly headers: Readonly<Record<string, string>>,
    private readonly clock: ClientClock,
  ) {}

  /** Calls waiting for an answer on this channel. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Whether the connection is open now (a call sent now does not wait for a handshake). */
  get isOpen(): boolean {
    return this.ws !== undefined && this.ws.readyState === WebSocket.OPEN && !this.closed;
  }

  /**
   * Sends one request and resolves with its answer; undefined, without sending anything, for a
   * request the channel must not carry (too long a target, too big a call): send it by HTTP.
   * The promise rejects with a MeridianError.
   *
   * @remarks `timeoutMs` also bounds opening the connection: a handshake that does not finish
   * in time fails as unreachable with `refused` (the call never left). Not async: on an open
   * channel the call is queued at once, with no turn through the promise queue.
   */
  send(request: ApiRequest, timeoutMs: number): Promise<ApiAnswer> | undefined {
    if (request.path.length > MAX_TARGET_CHARS) return undefined;
    const id = this.nextId++;
    let bytes: Uint8Array;
    try {
      bytes = encodeChannelCall(
        request.body === undefined
          ? { id, method: request.method, target: request.path }
          : { id, method: request.method, target: request.path, body: request.body },
      );
    } catch (e) {
      return Promise.reject(e);
    }
    // A call this big would make the frame close the channel (and fail every call on it).
    if (bytes.length > MAX_CALL_BYTES) return undefined;
    if (this.isOpen) return this.enqueue(id, bytes, timeoutMs);
    return this.connect(timeoutMs).then(() => this.enqueue(id, bytes, timeoutMs));
  }

  private enqueue(id: number, bytes: Uint8Array, timeoutMs: number): Promise<ApiAnswer> {
    return new Promise<ApiAnswer>((resolve, reject) => {
      const deadline = this.elapsed() + timeoutMs;
      this.pending.set(id, {
        resolve,
        reject,
        deadline,
        timeoutMs,
        framesAtSend: this.framesReceived,
      });
      if (deadline < this.sweepAt) this.armSweep(deadline);
      this.outbox.push({ id, bytes });
      this.scheduleFlush();
    });
  }

  /** Time that deadlines are measured on: monotonic, so a step of the wall clock moves none. */
  private elapsed(): number {
    return this.clock.monotonic?.() ?? this.clock.now();
  }

  /** Sets the timeout timer to fire at `at` (see {@link elapsed}), replacing a later one. */
  private armSweep(at: number): void {
    this.sweep?.cancel();
    this.sweepAt = at;
    this.sweep = this.clock.after(Math.max(0, at - this.elapsed()), () => this.timeOut());
  }

  /** Cancels the timeout timer: for when no call is left in flight. */
  private stopSweep(): void {
    this.sweep?.cancel();
    this.sweep = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
  }

  /** Fails the calls past their deadline, and sets the timer for the earliest one left. */
  private timeOut(): void {
    this.sweep = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    const now = this.elapsed();
    let next = Number.POSITIVE_INFINITY;
    for (const [id, p] of this.pending) {
      if (p.deadline > now) {
        if (p.deadline < next) next = p.deadline;
        continue;
      }
      this.pending.delete(id);
      // Nothing came back at all since this call left: check the link is alive. Every call in
      // flight was sent on the current socket (a socket that closes fails its calls).
      if (this.framesReceived === p.framesAtSend && this.ws !== undefined) {
        this.probe(this.ws, p.timeoutMs);
      }
      p.reject(new RequestTimeoutError(this.region, p.timeoutMs));
    }
    if (next !== Number.POSITIVE_INFINITY) this.armSweep(next);
  }

  /** Closes the connection (also one still opening); calls in flight fail as unreachable. */
  close(): void {
    this.closed = true;
    this.socket?.terminate();
  }

  /** Pings a channel that went silent; terminates it when no pong comes back in time. */
  private probe(ws: WebSocket, timeoutMs: number): void {
    if (this.probing !== undefined || ws.readyState !== WebSocket.OPEN) return;
    this.probing = this.clock.after(Math.min(timeoutMs, 2000), () => {
      this.probing = undefined;
      ws.terminate();
    });
    ws.once("pong", () => this.stopProbe());
    ws.ping();
  }

  /** Cancels the pending probe's timer, if any: answered, or its socket is gone. */
  private stopProbe(): void {
    this.probing?.cancel();
    this.probing = undefined;
  }

  private connect(timeoutMs: number): Promise<WebSocket> {
    if (this.closed) {
      return Promise.reject(new RegionUnreachableError(this.region, true, "client closed"));
    }
    this.opened ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(this.url, {
        headers: { ...this.headers },
        perMessageDeflate: false,
        handshakeTimeout: timeoutMs,
      });
      this.socket = ws;
      let open = false;
      ws.binaryType = "nodebuffer";
      ws.on("open", () => {
        if (this.closed) {
          ws.terminate();
          return;
        }
        open = true;
        this.ws = ws;
        resolve(ws);
      });
      ws.on("unexpected-response", (_req, res) => {
        // Refused upgrade: 401 (token), 503 (draining), 404 (a node without the channel).
        const status = res.statusCode ?? 502;
        res.resume();
        ws.terminate();
        this.opened = undefined;
        reject(refusedUpgrade(this.region, status));
      });
      ws.on("message", (data) => this.onFrame(data as Buffer));
      ws.on("error", (err) => {
        if (open) return; // "close" follows and fails what is in flight
        this.opened = undefined;
        reject(new RegionUnreachableError(this.region, true, causeCode(err) ?? err.message));
      });
      ws.on("close", () => {
        if (this.ws === ws) this.ws = undefined;
        if (this.socket === ws) this.socket = undefined;
        this.stopProbe();
        if (open) this.opened = undefined;
        else reject(new RegionUnreachableError(this.region, true, "channel closed while opening"));
        this.refuseUnsent(this.outbox);
        this.outbox = [];
        this.failAll(new RegionUnreachableError(this.region, false, "channel closed"));
      });
    });
    return this.opened;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const calls = this.outbox;
      this.outbox = [];
      const ws = this.ws;
      if (ws === undefined || ws.readyState !== WebSocket.OPEN) {
        this.refuseUnsent(calls);
        // Settling does not stop the timer (a call's end is not worth a timer reset); here the
        // channel may stay idle, and a timer left armed would hold the process.
        if (this.pending.size === 0) this.stopSweep();
        return;
      }
      // Frames bounded in calls and in bytes, so none outgrows the node's frame limit.
      let frame: Uint8Array[] = [];
      let size = 0;
      for (const c of calls) {
        if (frame.length === MAX_CHANNEL_BATCH || size + c.bytes.length > MAX_FRAME_BYTES) {
          ws.send(channelFrame(frame));
          frame = [];
          size = 0;
        }
        frame.push(c.bytes);
        size += c.bytes.length;
      }
      if (frame.length > 0) ws.send(channelFrame(frame));
    });
  }

  private onFrame(data: Buffer): void {
    this.framesReceived += 1;
    let answers: ChannelAnswer[];
    try {
      answers = decodeChannelAnswers(data);
    } catch (e) {
      this.failAll(new MalformedAnswerError(this.region, (e as Error).message));
      this.ws?.terminate();
      return;
    }
    for (const a of answers) {
      const p = this.settle(a.id);
      if (p === undefined) continue; // timed out already
      if (a.status >= 400) p.reject(errorFromAnswer(a.status, this.region, errorBody(a.body)));
      else p.resolve({ status: a.status, body: a.body, version: a.version });
    }
  }

  /** Fails calls that never left as refused (the channel closed first): any may be retried. */
  private refuseUnsent(calls: readonly { id: number }[]): void {
    if (calls.length === 0) return;
    const e = new RegionUnreachableError(this.region, true, "channel closed before sending");
    for (const c of calls) this.settle(c.id)?.reject(e);
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p === undefined) return undefined;
    this.pending.delete(id);
    return p;
  }

  private failAll(e: Error): void {
    const failed = [...this.pending.values()];
    this.pending.clear();
    this.stopSweep();
    for (const p of failed) p.reject(e);
  }
}

/**
 * The error of a refused upgrade: typed as the same refusal over HTTP would be (the refusal
 * carries no body, so the code is the one the status implies).
 */
function refusedUpgrade(region: string, status: number): Error {
  if (status === 503) return new RegionUnreachableError(region, true, "node not ready");
  if (status === 401) {
    return errorFromAnswer(401, region, {
      code: "MERIDIAN_ERR_AUTH",
      message: "missing or wrong bearer token",
    });
  }
  if (status === 404) return new ChannelUnavailableError(region);
  return errorFromAnswer(status, region, undefined);
}

/** The region's node has no client channel (an older node): the caller falls back to HTTP. */
export class ChannelUnavailableError extends RegionUnreachableError {
  constructor(region: string) {
    super(region, true, "no client channel on this node");
  }
}

/**
 * Reaches regions through their client channels: one {@link RegionChannel} per region, opened
 * on first use.
 */
export class ChannelTransport implements RegionTransport {
  private readonly channels = new Map<string, RegionChannel>();
  /** Regions whose node has no client channel: served by HTTP from then on. */
  private readonly httpOnly = new Set<string>();

  constructor(
    private readonly clock: ClientClock,
    private readonly headers: Readonly<Record<string, string>>,
    /** Carries what the channel must not: oversized calls, overflow, nodes without a channel. */
    private readonly http: RegionTransport,
  ) {}

  send(region: string, baseUrl: string, request: ApiRequest, timeoutMs: number) {
    if (this.httpOnly.has(region)) return this.http.send(region, baseUrl, request, timeoutMs);
    let channel = this.channels.get(region);
    if (channel === undefined) {
      channel = new RegionChannel(region, channelUrl(baseUrl), this.headers, this.clock);
      this.channels.set(region, channel);
    }
    if (channel.inFlight >= MAX_IN_FLIGHT) {
      return this.http.send(region, baseUrl, request, timeoutMs);
    }
    const open = channel.isOpen;
    const sent = channel.send(request, timeoutMs);
    if (sent === undefined) return this.http.send(region, baseUrl, request, timeoutMs);
    // Only opening the connection can find a node without a channel.
    if (open) return sent;
    return sent.catch((e: unknown) => {
      if (!(e instanceof ChannelUnavailableError)) throw e;
      this.httpOnly.add(region);
      return this.http.send(region, baseUrl, request, timeoutMs);
    });
  }

  close(): void {
    for (const c of this.channels.values()) c.close();
    this.http.close();
  }
}
