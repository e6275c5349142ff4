import type { Clock } from "@meridian/core";
import { type NodeConfig, nodeConfig, type RunningNode, startNode } from "../src/index.ts";

/** A session id valid under the id rules, unique per tag. */
export const sid = (tag: string | number): string => `sess-${String(tag)}`.padEnd(20, "0");

/** A clock the test can move forward, to expire sessions without waiting. */
export class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

/** Starts a single in-memory node on a free loopback port. */
export function startTestNode(
  overrides: Partial<NodeConfig> = {},
  clock?: Clock,
): Promise<RunningNode> {
  const config = nodeConfig(
    { region: "eu", dataDir: ":memory:", peers: [], secret: "s" },
    { port: 0, logLevel: "silent", ...overrides },
  );
  return startNode(config, clock === undefined ? {} : { clock });
}

/** A parsed answer. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON body, or undefined for an empty body. */
  readonly body: ApiBody | undefined;
  readonly text: string;
}

/** The union of answer shapes, loosely typed for assertions. */
export interface ApiBody {
  id?: string;
  data?: Record<string, unknown>;
  yjs?: Record<string, string>;
  expiresAt?: string | null;
  userId?: string | null;
  version?: string;
  sessions?: ApiBody[];
  /** The cursor of a `GET /v1/sessions` page. */
  next?: string | null;
  revoked?: number;
  nodeId?: string;
  region?: string;
  peers?: unknown[];
  seq?: number;
  sessionCount?: number;
  status?: string;
  error?: { code: string; message: string };
}

/** Sends a request; a non-string `body` goes as JSON. */
export async function call(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const init: RequestInit = {
    method,
    headers: { ...headers },
    signal: AbortSignal.timeout(15_000),
  };
  if (body !== undefined) {
    init.body =
      typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
    init.headers = { "content-type": "application/json", ...headers };
  }
  const res = await fetch(url, init);
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  const parsed =
    text !== "" && type.startsWith("application/json") ? (JSON.parse(text) as ApiBody) : undefined;
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** What a bad request must leave untouched. */
export function storeSnapshot(node: RunningNode): { count: number; digest: string } {
  return { count: node.replica.store.sessionCount(), digest: node.replica.store.digest() };
}
