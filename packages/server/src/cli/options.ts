import { parseArgs } from "node:util";
import { DEFAULTS, type NodeConfig } from "../config.ts";

/**
 * Every flag of `meridian node`, with the environment variable that may give it instead.
 *
 * @remarks The deployment files (Dockerfile, Kubernetes example) are checked against this table
 * by a test, so a flag they use must exist here.
 */
export const NODE_FLAGS = {
  region: { env: "MERIDIAN_REGION", help: "region name (required)" },
  host: { env: "MERIDIAN_HOST", help: `address to listen on (default ${DEFAULTS.host})` },
  port: { env: "MERIDIAN_PORT", help: `port for HTTP and peers (default ${DEFAULTS.port})` },
  data: { env: "MERIDIAN_DATA", help: "folder of the SQLite database (required)" },
  peers: { env: "MERIDIAN_PEERS", help: "other nodes' base URLs, comma-separated" },
  secret: {
    env: "MERIDIAN_SECRET",
    help: "cluster secret(s), comma-separated: first signs, all accepted (required)",
  },
  "default-ttl": { env: "MERIDIAN_DEFAULT_TTL", help: "ttl in s of sessions created without one" },
  "max-clock-skew": {
    env: "MERIDIAN_MAX_CLOCK_SKEW",
    help: "refuse remote clocks ahead by more (ms)",
  },
  "quorum-timeout": {
    env: "MERIDIAN_QUORUM_TIMEOUT",
    help: "how long quorum operations wait (ms)",
  },
  "sync-interval": { env: "MERIDIAN_SYNC_INTERVAL", help: "anti-entropy period (ms)" },
  synchronous: {
    env: "MERIDIAN_SYNCHRONOUS",
    help: "SQLite synchronous: NORMAL (default; survives kill -9) or FULL (also survives power loss)",
  },
  "log-level": { env: "MERIDIAN_LOG_LEVEL", help: "pino level (default info)" },
  keyring: { env: "MERIDIAN_KEYRING", help: "keyring JSON file: encrypt values at rest" },
  "tls-cert": { env: "MERIDIAN_TLS_CERT", help: "PEM certificate: serve HTTPS and wss" },
  "tls-key": { env: "MERIDIAN_TLS_KEY", help: "PEM private key of --tls-cert" },
  "tls-ca": { env: "MERIDIAN_TLS_CA", help: "PEM CA bundle trusted when dialling peers" },
  tokens: { env: "MERIDIAN_TOKENS", help: "client bearer tokens, comma-separated (all accepted)" },
} as const;

/** Shortest bearer token accepted: a token is a password, and a short one can be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/** The comma-separated items of a flag, blanks around them dropped. */
function list(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

/**
 * The security settings of `meridian node`: keyring, TLS files and tokens.
 *
 * @remarks Only paths are read here; the node reads the files when it starts, so a bad file
 * stops it with a typed error. A certificate without its key (or the reverse) is refused, so a
 * node never silently falls back to plain HTTP.
 */
function securityOptions(
  get: (name: keyof typeof NODE_FLAGS) => string | undefined,
): Partial<NodeConfig> {
  const out: {
    -readonly [K in
      | "keyringFile"
      | "tlsCertFile"
      | "tlsKeyFile"
      | "tlsCaFile"
      | "tokens"]?: NodeConfig[K];
  } = {};
  const keyring = get("keyring");
  const cert = get("tls-cert");
  const key = get("tls-key");
  const ca = get("tls-ca");
  if (keyring) out.keyringFile = keyring;
  if (Boolean(cert) !== Boolean(key)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (cert && key) {
    out.tlsCertFile = cert;
    out.tlsKeyFile = key;
  }
  if (ca) out.tlsCaFile = ca;
  const tokens = list(get("tokens"));
  for (const t of tokens) {
    if (t.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(t)) {
      throw new UsageError(
        `every token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces`,
      );
    }
  }
  if (tokens.length > 0) out.tokens = tokens;
  return out;
}

/** A command-line or environment mistake; the CLI prints it with usage and exits 2. */
export class UsageError extends Error {}

function int(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`--${name} must be a non-negative integer`);
  return n;
}

/** Reads `meridian node` flags, falling back to `MERIDIAN_*` variables. */
export function parseNodeArgs(argv: readonly string[], env: NodeJS.ProcessEnv): NodeConfig {
  const options = Object.fromEntries(
    Object.keys(NODE_FLAGS).map((k) => [k, { type: "string" as const }]),
  );
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  const get = (name: keyof typeof NODE_FLAGS): string | undefined => {
    const v = values[name];
    return typeof v === "string" ? v : env[NODE_FLAGS[name].env];
  };
  const need = (name: keyof typeof NODE_FLAGS): string => {
    const v = get(name);
    if (v === undefined || v === "") {
      throw new UsageError(`--${name} (or ${NODE_FLAGS[name].env}) is required`);
    }
    return v;
  };
  const synchronous = (get("synchronous") ?? DEFAULTS.synchronous).toUpperCase();
  if (synchronous !== "FULL" && synchronous !== "NORMAL") {
    throw new UsageError("--synchronous must be FULL or NORMAL");
  }
  const peers = (get("peers") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  for (const p of peers) {
    if (!/^https?:\/\/[^/]+\/?$/.test(p)) throw new UsageError(`peer "${p}" is not a base URL`);
  }
  const ttl = get("default-ttl");
  const opt = (name: keyof typeof NODE_FLAGS, fallback: number) => {
    const v = get(name);
    return v === undefined ? fallback : int(name, v);
  };
  return {
    ...DEFAULTS,
    region: need("region"),
    dataDir: need("data"),
    secret: need("secret"),
    peers,
    host: get("host") ?? DEFAULTS.host,
    port: opt("port", DEFAULTS.port),
    defaultTtlMs: ttl === undefined ? DEFAULTS.defaultTtlMs : int("default-ttl", ttl) * 1000,
    maxClockSkewMs: opt("max-clock-skew", DEFAULTS.maxClockSkewMs),
    quorumTimeoutMs: opt("quorum-timeout", DEFAULTS.quorumTimeoutMs),
    syncIntervalMs: opt("sync-interval", DEFAULTS.syncIntervalMs),
    synchronous,
    logLevel: get("log-level") ?? DEFAULTS.logLevel,
    ...securityOptions(get),
  };
}

/** Usage text of the CLI. */
export function usage(): string {
  const flags = Object.entries(NODE_FLAGS)
    .map(([k, v]) => `    --${k.padEnd(16)} ${v.env.padEnd(26)} ${v.help}`)
    .join("\n");
  return [
    "usage: meridian <command>",
    "",
    "  node      start a regional node",
    flags,
    "  demo      start three regions here, write everywhere, cut one off, heal, report",
    "  status    --url URL: show the cluster as one node sees it",
    "  reencrypt --data DIR --keyring FILE [--adopt-plaintext] [--batch N]:",
    "            seal every stored value under the keyring's current key",
  ].join("\n");
}
