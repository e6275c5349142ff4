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
  /** Cluster secret peers authenticate with; never sent over the wire. */
  readonly secret: string;
  readonly defaultTtlMs: number | null;
  readonly maxBodyBytes: number;
  readonly maxValueBytes: number;
  readonly maxFields: number;
  readonly maxClockSkewMs: number;
  readonly quorumTimeoutMs: number;
  readonly syncIntervalMs: number;
  /** SQLite synchronous setting: FULL survives power loss, NORMAL survives process crashes. */
  readonly synchronous: "FULL" | "NORMAL";
  /** Log level for pino (`silent` in tests). */
  readonly logLevel: string;
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
  synchronous: "FULL",
  logLevel: "info",
} as const satisfies Partial<NodeConfig>;

/** A full config from the required parts plus overrides. */
export function nodeConfig(
  required: Pick<NodeConfig, "region" | "dataDir" | "peers" | "secret">,
  overrides: Partial<NodeConfig> = {},
): NodeConfig {
  return { ...DEFAULTS, ...required, ...overrides };
}
