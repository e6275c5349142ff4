import { Agent, request } from "node:http";
import { createClient } from "@meridian/client";

/**
 * One way of talking to a meridian node, so that a workload can run through the SDK and through
 * plain HTTP side by side.
 */
export interface SessionDriver {
  readonly name: string;
  /** Field-level merge of `set` into session `id` (creating it). Resolves once acknowledged. */
  patch(id: string, set: Record<string, unknown>): Promise<void>;
  /** Creates or replaces session `id`; resolves to the write's version token. */
  put(id: string, data: Record<string, unknown>): Promise<string>;
  /** Reads session `id`; resolves to its data. @throws when the session is not readable */
  get(id: string): Promise<Record<string, unknown>>;
  close(): void;
}

/**
 * The SDK (`@meridian/client`) against one region, with its defaults (msgpack over the client
 * channel, retries, version tokens), or over HTTP with the global `fetch`.
 */
export function sdkDriver(
  url: string,
  options: { retries?: number; transport?: "channel" | "http" } = {},
): SessionDriver {
  const client = createClient({
    regions: { bench: url },
    localRegion: "bench",
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.transport !== undefined ? { transport: options.transport } : {}),
  });
  return {
    name: options.transport === "http" ? "SDK over HTTP" : "SDK",
    async patch(id, set) {
      await client.patch(id, { set });
    },
    async put(id, data) {
      return (await client.put(id, { data })).version;
    },
    async get(id) {
      return (await client.get(id)).data;
    },
    close: () => client.close(),
  };
}

/** An answer of {@link HttpJson.call}. */
interface HttpAnswer {
  readonly status: number;
  readonly version: string | undefined;
  readonly body: string;
}

/**
 * Plain HTTP/1.1 with JSON bodies over a keep-alive agent (`node:http`): the cheapest client,
 * to tell the SDK's cost from the server's.
 */
export class HttpJson {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(url: string, maxSockets = 256) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** Sends one request and reads the whole answer. */
  call(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers:
            payload === undefined
              ? {}
              : { "content-type": "application/json", "content-length": payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const v = res.headers["meridian-version"];
            resolve({
              status: res.statusCode ?? 0,
              version: typeof v === "string" ? v : undefined,
              body: Buffer.concat(chunks).toString("utf8"),
            });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** {@link HttpJson} as a {@link SessionDriver}. */
export function httpDriver(url: string): SessionDriver {
  const http = new HttpJson(url);
  const path = (id: string) => `/v1/sessions/${encodeURIComponent(id)}`;
  const expect = (a: HttpAnswer, ok: number[], what: string) => {
    if (!ok.includes(a.status)) throw new Error(`${what} answered ${a.status}: ${a.body}`);
  };
  return {
    name: "HTTP/JSON",
    async patch(id, set) {
      expect(await http.call("PATCH", path(id), { set }), [200, 201], "PATCH");
    },
    async put(id, data) {
      const a = await http.call("PUT", path(id), { data });
      expect(a, [200, 201], "PUT");
      return a.version ?? "";
    },
    async get(id) {
      const a = await http.call("GET", path(id));
      expect(a, [200], "GET");
      return (JSON.parse(a.body) as { data: Record<string, unknown> }).data;
    },
    close: () => http.close(),
  };
}
