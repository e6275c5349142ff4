import { createServer, type Server, type Socket, connect } from "node:net";

/**
 * A fault-injecting TCP proxy for one directed link between two nodes on loopback.
 *
 * @remarks Cutting destroys every open connection and refuses new ones until healed, which is
 * how a partition looks to a WebSocket: the peer sees the link drop and reconnects with backoff.
 * `delayMs` holds every chunk that long in both directions, keeping byte order. A one-way cut
 * (`cutOneWay`) holds the bytes of one direction, like TCP retransmitting into a path that
 * drops them, and releases them in order on `heal` if the connection is still open.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private isCut = false;
  private held: "to-target" | "from-target" | undefined;
  private readonly holds = new Map<Socket, { to: Socket; chunks: Buffer[] }>();
  /** Extra one-way latency per chunk, in ms. */
  delayMs = 0;
  /** Bytes forwarded since start, both directions. */
  bytes = 0;
  /** Bytes from the connecting side to the target. */
  bytesToTarget = 0;
  /** Bytes from the target back to the connecting side. */
  bytesFromTarget = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = "127.0.0.1",
  ) {}

  /** Listens on `port` (0 picks one); resolves to the port. */
  async listen(port = 0, host = "127.0.0.1"): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no port");
    return address.port;
  }

  /** Drops every connection and refuses new ones. */
  cut(): void {
    this.isCut = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /**
   * Holds every byte going one way (`to-target`: from the connecting side to the target) until
   * `heal`, keeping connections open; the other way flows as usual.
   */
  cutOneWay(direction: "to-target" | "from-target"): void {
    this.held = direction;
  }

  /** Lets connections through again, releasing what a one-way cut held. */
  heal(): void {
    this.isCut = false;
    this.held = undefined;
    for (const [from, { to, chunks }] of this.holds) {
      if (!from.destroyed && to.writable) for (const c of chunks) to.write(c);
    }
    this.holds.clear();
  }

  /** Whether the link is cut. */
  get cutOff(): boolean {
    return this.isCut;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private accept(client: Socket): void {
    if (this.isCut) {
      client.destroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const pipe = (from: Socket, to: Socket) => {
      from.on("data", (chunk: Buffer) => {
        this.bytes += chunk.length;
        if (from === client) this.bytesToTarget += chunk.length;
        else this.bytesFromTarget += chunk.length;
        const direction = from === client ? "to-target" : "from-target";
        const hold = this.holds.get(from);
        if (this.held === direction || hold !== undefined) {
          if (hold === undefined) this.holds.set(from, { to, chunks: [chunk] });
          else hold.chunks.push(chunk);
          return;
        }
        if (this.delayMs <= 0) to.write(chunk);
        else setTimeout(() => to.writable && to.write(chunk), this.delayMs);
      });
    };
    pipe(client, upstream);
    pipe(upstream, client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      this.holds.delete(client);
      this.holds.delete(upstream);
    };
    client.on("close", drop);
    upstream.on("close", drop);
    client.on("error", drop);
    upstream.on("error", drop);
  }
}
