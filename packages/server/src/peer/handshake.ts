import { createHmac, timingSafeEqual } from "node:crypto";
import { PROTOCOL_VERSION, type PeerMessage, type VersionVector } from "@meridian/core";
import { PeerCloseCode } from "./close-codes.ts";

/**
 * Bytes of the nonce each side sends in `hello`.
 *
 * @remarks A `hello` with a nonce of another length is refused (4400).
 */
export const NONCE_BYTES = 32;

/**
 * Who this node is, and what it proves itself with.
 *
 * @remarks `nonce` must be fresh for every connection, or a recorded proof could be replayed.
 */
export interface HandshakeOptions {
  readonly nodeId: string;
  readonly region: string;
  /** Accepted cluster secrets, none empty; the first one signs this node's proofs. */
  readonly secrets: readonly string[];
  /** This connection's fresh nonce ({@link NONCE_BYTES} random bytes). */
  readonly nonce: Uint8Array;
  /** This node's version vector, sent in `welcome`. */
  readonly versionVector: () => VersionVector;
}

/**
 * The peer at the other end, once its proof verified.
 *
 * @remarks `nodeId` is the id the proof was checked against, never merely the id it claimed.
 */
export interface PeerIdentity {
  readonly nodeId: string;
  readonly region: string;
}

/**
 * What one handshake message leads to.
 *
 * @remarks `refuse` is final: the caller closes the connection with `code`.
 */
export type HandshakeStep =
  | { readonly kind: "continue"; readonly send: readonly PeerMessage[] }
  | { readonly kind: "open"; readonly peer: PeerIdentity; readonly vv: VersionVector }
  | { readonly kind: "refuse"; readonly code: number; readonly reason: string };

/**
 * The proof a node gives: HMAC-SHA256 under `secret` of the other side's nonce followed by the
 * prover's own node id (UTF-8).
 *
 * @remarks Binding the prover's id stops reflection: a proof obtained from a node can only be
 * replayed as that node's own, and a node refuses peers that claim its id.
 */
export function signNonce(secret: string, nonce: Uint8Array, proverId: string): Uint8Array {
  return createHmac("sha256", secret).update(nonce).update(proverId, "utf8").digest();
}

/**
 * Whether `proof` is `proverId`'s proof for `nonce` under one of `secrets`.
 *
 * @remarks Constant time in the proof's content, and every secret is tried whatever matches.
 */
export function verifyProof(
  secrets: readonly string[],
  nonce: Uint8Array,
  proverId: string,
  proof: Uint8Array,
): boolean {
  let ok = false;
  for (const secret of secrets) {
    const expected = signNonce(secret, nonce, proverId);
    // Every secret is checked, so the time taken does not tell which one matched.
    if (proof.length === expected.length && timingSafeEqual(proof, expected)) ok = true;
  }
  return ok;
}

/**
 * One side of the mutual challenge-response handshake, as a pure state machine.
 *
 * @remarks Each side sends `hello` (its nonce), answers the other's `hello` with `auth`, checks
 * the other's `auth` and answers `welcome`; the link opens on the other's `welcome`, which proves
 * the other side accepted us. Each side's messages go out in that order, so anything else, in
 * any order, refuses the connection. The secret never crosses the wire.
 */
export class Handshake {
  private phase: "hello" | "auth" | "welcome" | "done" = "hello";
  private peer: PeerIdentity | undefined;

  constructor(private readonly options: HandshakeOptions) {}

  /** The opening message of this side. */
  hello(): PeerMessage {
    const { nodeId, region, nonce } = this.options;
    return { type: "hello", protocol: PROTOCOL_VERSION, nodeId, region, nonce };
  }

  /** Advances on a message from the peer. */
  receive(m: PeerMessage): HandshakeStep {
    const expected = this.phase;
    if (expected === "done" || m.type !== expected) {
      this.phase = "done";
      return refuse(PeerCloseCode.badMessage, `expected ${expected}, got ${m.type}`);
    }
    switch (m.type) {
      case "hello":
        return this.onHello(m);
      case "auth":
        return this.onAuth(m.proof);
      case "welcome":
        this.phase = "done";
        return { kind: "open", peer: this.peer!, vv: m.vv };
      default:
        return refuse(PeerCloseCode.badMessage, "unexpected message");
    }
  }

  private onHello(m: Extract<PeerMessage, { type: "hello" }>): HandshakeStep {
    if (m.protocol !== PROTOCOL_VERSION) {
      this.phase = "done";
      return refuse(
        PeerCloseCode.protocolMismatch,
        `protocol ${m.protocol} is not ${PROTOCOL_VERSION}`,
      );
    }
    if (m.nodeId === this.options.nodeId) {
      this.phase = "done";
      return refuse(PeerCloseCode.selfConnection, "connected to itself");
    }
    if (m.nonce.length !== NONCE_BYTES) {
      this.phase = "done";
      return refuse(PeerCloseCode.badMessage, `nonce must be ${NONCE_BYTES} bytes`);
    }
    this.peer = { nodeId: m.nodeId, region: m.region };
    this.phase = "auth";
    const proof = signNonce(this.options.secrets[0] ?? "", m.nonce, this.options.nodeId);
    return { kind: "continue", send: [{ type: "auth", proof }] };
  }

  private onAuth(proof: Uint8Array): HandshakeStep {
    const { secrets, nonce } = this.options;
    if (secrets.length === 0 || !verifyProof(secrets, nonce, this.peer!.nodeId, proof)) {
      this.phase = "done";
      return refuse(PeerCloseCode.authFailed, "authentication failed");
    }
    this.phase = "welcome";
    return { kind: "continue", send: [{ type: "welcome", vv: this.options.versionVector() }] };
  }
}

function refuse(code: number, reason: string): HandshakeStep {
  return { kind: "refuse", code, reason };
}
