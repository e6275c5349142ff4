/**
 * @meridian/server: the regional node (HTTP API, peer replication, consistency levels) and its CLI.
 */
export { NODE_FLAGS, parseNodeArgs } from "./cli/options.ts";
export { type NodeConfig, DEFAULTS, nodeConfig } from "./config.ts";
export * from "./errors.ts";
export { Janitor, type JanitorEvents, type JanitorOptions } from "./janitor.ts";
export { type NodeDeps, type RunningNode, startNode } from "./node.ts";
export { PeerCloseCode } from "./peer/close-codes.ts";
export type { ConnectionEnd, Direction } from "./peer/connection.ts";
export type { PeerTransport, PeerTransportEvents } from "./peer/transport.ts";
export { type CommittedWrite, Replica, type ReplicaOptions } from "./replica.ts";
export { NODE_RUNTIME_FLAGS } from "./runtime-flags.ts";
export {
  type PeerStatus,
  Replicator,
  type ReplicatorEvents,
  type ReplicatorOptions,
} from "./replicator.ts";
export {
  type Consistency,
  type SessionAnswer,
  type SessionPage,
  SessionService,
} from "./session-service.ts";
export { formatVersion, parseVersion } from "./version-token.ts";
