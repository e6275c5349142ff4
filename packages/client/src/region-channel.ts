import {
  CHANNEL_PATH,
  type ChannelAnswer,
  type ChannelCall,
  decodeChannelAnswers,
  encodeChannelCalls,
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
  errorBody,
  type RegionTransport,
} from "./region-request.ts";

interface Pending {
  readonly resolve: (a: ApiAnswer) => void;
  readonly reject: (e: Error) => void;
  readonly timer: Timer;
  /** Frames received on the channel when the call was sent. */
  readonly framesAtSend: number;
}

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
 * was sent also drops the connection, so a dead link is not reused.
 */
export class RegionChannel {
  private ws: WebSocket | undefined;
  private opened: Promise<WebSocket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private outbox: ChannelCall[] = [];
  private flushScheduled = false;
  private nextId = 1;
  private framesReceived = 0;
  private closed = false;

  constructor(
    private readonly region: string,
    private readonly url: string,
    private readonly headers: Readonly<Record<string, string>>,
    private readonly clock: ClientClock,
  ) {}

  /** Sends one request and resolves with its answer. @throws MeridianError */
  async send(request: ApiRequest, timeoutMs: number): Promise<ApiAnswer> {
    const ws = await this.connect();
    return new Promise<ApiAnswer>((resolve, reject) => {
      const id = this.nextId++;
      const timer = this.clock.after(timeoutMs, () => {
        const p = this.pending.get(id);
        if (p === undefined) return;
        this.pending.delete(id);
        // Nothing came back at all since this call left: the link is likely dead.
        if (this.framesReceived === p.framesAtSend) ws.terminate();
        p.reject(new RequestTimeoutError(this.region, timeoutMs));
      });
      this.pending.set(id, { resolve, reject, timer, framesAtSend: this.framesReceived });
      this.outbox.push(
        request.body === undefined
          ? { id, method: request.method, target: request.path }
          : { id, method: request.method, target: request.path, body: request.body },
      );
      this.scheduleFlush();
    });
  }

  /** Closes the connection; calls in flight fail as unreachable. */
  close(): void {
    this.closed = true;
    this.ws?.terminate();
  }

  private connect(): Promise<WebSocket> {
    if (this.closed) {
      return Promise.reject(new RegionUnreachableError(this.region, true, "client closed"));
    }
    this.opened ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(this.url, {
        headers: { ...this.headers },
        perMessageDeflate: false,
      });
      let open = false;
      ws.binaryType = "nodebuffer";
      ws.on("open", () => {
        open = true;
        this.ws = ws;
        resolve(ws);
      });
      ws.on("unexpected-response", (_req, res) => {
        // Refused upgrade: 401 (token), 503 (draining), 404 (no channel on that node).
        const status = res.statusCode ?? 502;
        res.resume();
        ws.terminate();
        this.opened = undefined;
        reject(
          status === 503
            ? new RegionUnreachableError(this.region, true, "node not ready")
            : errorFromAnswer(status, this.region, undefined),
        );
      });
      ws.on("message", (data) => this.onFrame(data as Buffer));
      ws.on("error", (err) => {
        if (open) return; // "close" follows and fails what is in flight
        this.opened = undefined;
        reject(new RegionUnreachableError(this.region, true, errorCode(err)));
      });
      ws.on("close", () => {
        if (this.ws === ws) this.ws = undefined;
        if (open) this.opened = undefined;
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
        const e = new RegionUnreachableError(this.region, true, "channel closed before sending");
        for (const c of calls) this.settle(c.id)?.reject(e);
        return;
      }
      for (let i = 0; i < calls.length; i += MAX_CHANNEL_BATCH) {
        ws.send(encodeChannelCalls(calls.slice(i, i + MAX_CHANNEL_BATCH)));
      }
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

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p === undefined) return undefined;
    this.pending.delete(id);
    p.timer.cancel();
    return p;
  }

  private failAll(e: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(e);
  }
}

function errorCode(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : err.message;
}

/**
 * Reaches regions through their client channels: one {@link RegionChannel} per region, opened
 * on first use.
 */
export class ChannelTransport implements RegionTransport {
  private readonly channels = new Map<string, RegionChannel>();

  constructor(
    private readonly clock: ClientClock,
    private readonly headers: Readonly<Record<string, string>>,
  ) {}

  send(region: string, baseUrl: string, request: ApiRequest, timeoutMs: number) {
    let channel = this.channels.get(region);
    if (channel === undefined) {
      channel = new RegionChannel(region, channelUrl(baseUrl), this.headers, this.clock);
      this.channels.set(region, channel);
    }
    return channel.send(request, timeoutMs);
  }

  close(): void {
    for (const c of this.channels.values()) c.close();
  }
}
