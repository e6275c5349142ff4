import type { Delta } from "./delta.ts";
import type { Dot } from "./dot.ts";
import type { Hlc } from "./hlc.ts";
import type { PurgedId } from "./purged.ts";
import type { SessionState } from "./session.ts";
import type { VersionVector } from "./version-vector.ts";

/**
 * Version of the peer protocol; a peer speaking another version is refused at the handshake.
 *
 * @remarks 2 since the expiry register became a list of lifetimes (version 1 carried a single
 * max-merged time, which a version 2 node cannot decode).
 */
export const PROTOCOL_VERSION = 2;

/**
 * Every message peers exchange, as one closed union on `type`. PROTOCOL.md writes down the
 * grammar and the encoding.
 *
 * @remarks Handshake: both sides send `hello` with a fresh nonce, answer with `auth` (an HMAC of
 * the other side's nonce under the cluster secret), and start replicating after `welcome`. An
 * anti-entropy round answers `sync-request` with `sync-chunk`s of state, then `sync-purged`s of
 * garbage-collected ids, numbered in one sequence that `sync-done` counts.
 */
export type PeerMessage =
  | {
      readonly type: "hello";
      readonly protocol: number;
      readonly nodeId: string;
      readonly region: string;
      readonly nonce: Uint8Array;
    }
  | { readonly type: "auth"; readonly proof: Uint8Array }
  | { readonly type: "welcome"; readonly vv: VersionVector }
  | { readonly type: "deltas"; readonly deltas: readonly Delta[]; readonly sent: Hlc }
  | { readonly type: "ack"; readonly dots: readonly Dot[] }
  | { readonly type: "sync-request"; readonly round: number; readonly vv: VersionVector }
  | {
      readonly type: "sync-chunk";
      readonly round: number;
      readonly index: number;
      readonly sessions: readonly SessionState[];
    }
  | {
      readonly type: "sync-purged";
      readonly round: number;
      readonly index: number;
      readonly purged: readonly PurgedId[];
    }
  | {
      readonly type: "sync-done";
      readonly round: number;
      readonly chunks: number;
      readonly vv: VersionVector;
    }
  | { readonly type: "read-request"; readonly req: number; readonly id: string }
  | {
      readonly type: "read-reply";
      readonly req: number;
      readonly session: SessionState | null;
      readonly vv: VersionVector;
    }
  | { readonly type: "repair"; readonly sessions: readonly SessionState[] }
  | { readonly type: "ping"; readonly req: number; readonly sent: Hlc }
  | { readonly type: "pong"; readonly req: number; readonly sent: Hlc };

/** The literal `type` of every peer message. */
export type PeerMessageType = PeerMessage["type"];
