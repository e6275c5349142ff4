import type { PeerLink, PeerMessage } from "@meridian/core";

/** What a {@link SimLink} asks of the network it belongs to. */
export interface LinkCarrier {
  transmit(link: SimLink, message: PeerMessage): boolean;
  closeByNode(link: SimLink, code: number, reason: string): void;
}

/**
 * One end of a simulated peer connection, as the replicator sees it: `peerId` and `region` name
 * the node at the other end, and `send` travels through the simulated network.
 *
 * @remarks Like a WebSocket link it exists only while its connection is open (`open`); sends on
 * a closed link answer false and go nowhere.
 */
export class SimLink implements PeerLink {
  /** The other end of the same connection. */
  other: SimLink | undefined;
  open = true;

  constructor(
    readonly peerId: string,
    readonly region: string,
    /** Region of the node holding this end. */
    readonly localRegion: string,
    /** Connection id, for traces. */
    readonly connection: number,
    private readonly carrier: LinkCarrier,
  ) {}

  send(message: PeerMessage): boolean {
    return this.carrier.transmit(this, message);
  }

  close(code: number, reason: string): void {
    this.carrier.closeByNode(this, code, reason);
  }
}
