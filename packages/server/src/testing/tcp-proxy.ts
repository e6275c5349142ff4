import { createServer, type Server, type Socket, connect } from "node:net";

/**
 * A fault-injecting TCP proxy for one directed link between two nodes on loopback.
 *
 * @remarks Cutting destroys every open connection and refuses new ones until healed, which is
 * how a partition looks to a WebSocket: the peer sees the link drop and reconnects with backoff.
 * `delayMs` holds every chunk that long in both directions, keeping byte order.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private isCut = false;
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

  /** Lets connections through again. */
  heal(): void {
    this.isCut = false;
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
    };
    client.on("close", drop);
    upstream.on("close", drop);
    client.on("error", drop);
    upstream.on("error", drop);
  }
}
