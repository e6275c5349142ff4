import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { NodeConfig } from "./config.ts";

/** The PEM contents a node's TLS needs. */
export interface TlsMaterial {
  /** Certificate (chain) and key the node serves HTTPS and wss with; absent: plain HTTP. */
  readonly server?: { readonly cert: Buffer; readonly key: Buffer };
  /** CA bundle trusted when dialling peers; absent: the system's CAs. */
  readonly ca?: Buffer;
}

/**
 * Reads the TLS files a config names.
 *
 * @remarks Read once at start: a missing or unreadable file stops the node before it listens.
 * Rotating a certificate means restarting the node (peers reconnect with backoff).
 */
export function readTlsMaterial(config: NodeConfig): TlsMaterial {
  const { tlsCertFile: cert, tlsKeyFile: key, tlsCaFile: ca } = config;
  return {
    ...(cert && key ? { server: { cert: readFileSync(cert), key: readFileSync(key) } } : {}),
    ...(ca ? { ca: readFileSync(ca) } : {}),
  };
}

/**
 * The node's listening server: HTTPS when `tls.server` is given, else plain HTTP.
 *
 * @remarks With TLS the port speaks nothing else: a plain HTTP request fails its TLS handshake
 * and the connection is dropped. The peer WebSocket shares the port, so peers use `wss`. Client
 * certificates are not asked for; peers prove themselves with the cluster secret.
 */
export function createNodeServer(listener: RequestListener, tls: TlsMaterial): Server {
  if (tls.server === undefined) return createHttpServer(listener);
  return createHttpsServer({ cert: tls.server.cert, key: tls.server.key }, listener);
}
