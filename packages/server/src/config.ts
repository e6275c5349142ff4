/**
 * Configuration of one regional node, as the CLI and `MERIDIAN_*` variables give it.
 *
 * @remarks Sizes in bytes, durations in ms. Defaults follow DESIGN.md: body 1 MiB, field value
 * 64 KiB, 1,000 fields per session, clock skew 5 s.
 */
export interface NodeConfig {
  readonly region: string;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Folder of the SQLite database; `:memory:` keeps everything in memory. */
  readonly dataDir: string;
  /** Other nodes' base URLs, e.g. `http://127.0.0.1:7002`. */
  readonly peers: readonly string[];
  /**
   * Cluster secret peers authenticate with; never sent over the wire. Several, comma-separated,
   * during a rotation: the first signs this node's proofs, every one is accepted (see
   * {@link clusterSecrets}).
   */
  readonly secret: string;
  readonly defaultTtlMs: number | null;
  readonly maxBodyBytes: number;
  readonly maxValueBytes: number;
  readonly maxFields: number;
  readonly maxClockSkewMs: number;
  readonly quorumTimeoutMs: number;
  readonly syncIntervalMs: number;
  /** Period of expiry sweeps and tombstone collection. */
  readonly janitorIntervalMs: number;
  /** How long a session stays expired before the sweep tombstones it. */
  readonly expiryGraceMs: number;
  /** Minimum age of a tombstone before it may be collected (once every region holds it). */
  readonly tombstoneMinAgeMs: number;
  /** SQLite synchronous setting: FULL survives power loss, NORMAL survives process crashes. */
  readonly synchronous: "FULL" | "NORMAL";
  /** Log level for pino (`silent` in tests). */
  readonly logLevel: string;
  /**
   * Keyring file (JSON `{current, keys: {id: base64}}`): field values, Yjs documents and userIds
   * are encrypted at rest under it. Absent: stored in the clear.
   */
  readonly keyringFile?: string;
  /** PEM certificate (chain) file; with {@link NodeConfig.tlsKeyFile}, the node serves HTTPS and wss. */
  readonly tlsCertFile?: string;
  /** PEM private key file of {@link NodeConfig.tlsCertFile}. */
  readonly tlsKeyFile?: string;
  /** PEM CA bundle trusted when dialling `https://` peers (self-signed certs); default: system CAs. */
  readonly tlsCaFile?: string;
  /**
   * Client bearer tokens: with any, `/v1` and `/metrics` answer 401 without one of them. Several
   * during a rotation, all accepted. Empty or absent: the API is open.
   */
  readonly tokens?: readonly string[];
}

/** Name of the database file inside {@link NodeConfig.dataDir}. */
export const DATABASE_FILE = "meridian.db";

/**
 * The cluster secrets of a `secret` setting: comma-separated, blanks around them dropped.
 *
 * @remarks The first one signs this node's handshake proofs and all of them verify a peer's, so a
 * rotation goes `old` -> `old,new` -> `new,old` -> `new`, one rolling restart per step.
 */
export function clusterSecrets(secret: string): string[] {
  return secret
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Defaults for everything but region, data folder, peers and secret. */
export const DEFAULTS = {
  host: "127.0.0.1",
  port: 7001,
  defaultTtlMs: 86_400_000,
  maxBodyBytes: 1024 * 1024,
  maxValueBytes: 64 * 1024,
  maxFields: 1000,
  maxClockSkewMs: 5000,
  quorumTimeoutMs: 2000,
  syncIntervalMs: 5000,
  janitorIntervalMs: 10_000,
  expiryGraceMs: 60_000,
  tombstoneMinAgeMs: 60_000,
  synchronous: "NORMAL",
  logLevel: "info",
} as const satisfies Partial<NodeConfig>;

/** A full config from the required parts plus overrides. */
export function nodeConfig(
  required: Pick<NodeConfig, "region" | "dataDir" | "peers" | "secret">,
  overrides: Partial<NodeConfig> = {},
): NodeConfig {
  return { ...DEFAULTS, ...required, ...overrides };
}
