import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A tiny cookie jar: what a browser keeps of `set-cookie` answers, sent back on every request.
 *
 * @remarks Enough for session cookies on one host: name and value, dropped when the server
 * expires them. Attributes (path, secure, domain) are ignored.
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Takes the `set-cookie` headers of an answer. */
  absorb(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";").map((p) => p.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const expired = attrs.some((a) => {
        const [k = "", v = ""] = a.split("=");
        if (k.toLowerCase() === "max-age") return Number(v) <= 0;
        if (k.toLowerCase() === "expires") return new Date(v).getTime() <= Date.now();
        return false;
      });
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
  }

  /** The `cookie` header to send, or undefined when empty. */
  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** A copy sharing nothing with this jar (a second browser tab with the same cookies). */
  clone(): CookieJar {
    const c = new CookieJar();
    for (const [k, v] of this.cookies) c.cookies.set(k, v);
    return c;
  }
}

/** What a test app answers: status and JSON body. */
export interface AppAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Sends a request to an app as a browser would, carrying and updating `jar`. */
export async function browse(
  jar: CookieJar,
  baseUrl: string,
  method: string,
  path: string,
): Promise<AppAnswer> {
  const cookie = jar.header();
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: cookie === undefined ? {} : { cookie },
  });
  jar.absorb(res);
  const text = await res.text();
  return { status: res.status, body: (text === "" ? {} : JSON.parse(text)) as AppAnswer["body"] };
}

/**
 * Named meeting points for handlers: a handler announces it `arrived` (its session is loaded)
 * and waits until the test `release`s it.
 *
 * @remarks This is how a test makes two requests overlap exactly: both have loaded the session
 * before either changes it, and the test decides which saves first. No sleeps.
 */
export class Gates {
  private readonly arrivals = new Map<string, () => void>();
  private readonly arrived = new Map<string, Promise<void>>();
  private readonly releases = new Map<string, () => void>();
  private readonly released = new Map<string, Promise<void>>();

  private ensure(name: string): void {
    if (this.arrived.has(name)) return;
    this.arrived.set(name, new Promise((r) => this.arrivals.set(name, r)));
    this.released.set(name, new Promise((r) => this.releases.set(name, r)));
  }

  /** Called by a handler: announces arrival, resolves once released. */
  async pass(name: string): Promise<void> {
    this.ensure(name);
    this.arrivals.get(name)?.();
    await this.released.get(name);
  }

  /** Resolves once a handler reached gate `name`. */
  async reached(name: string): Promise<void> {
    this.ensure(name);
    await this.arrived.get(name);
  }

  /** Lets the handler at gate `name` go on. */
  release(name: string): void {
    this.ensure(name);
    this.releases.get(name)?.();
  }
}

/** Base URL of a listening HTTP server. */
export function serverUrl(server: Server): string {
  const a = server.address() as AddressInfo;
  return `http://127.0.0.1:${a.port}`;
}

/** Closes an HTTP server and every connection it holds. */
export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
