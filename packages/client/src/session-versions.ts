/**
 * The last version token of each session this client wrote, for read-your-writes.
 *
 * @remarks Bounded: past `capacity` sessions the least recently written is forgotten (its reads
 * then simply carry no token). A token is opaque: the client never parses it, only hands it back
 * as `after`.
 */
export class SessionVersions {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  /** Records `token` as the newest write to session `id`. */
  remember(id: string, token: string): void {
    this.tokens.delete(id);
    this.tokens.set(id, token);
    if (this.tokens.size > this.capacity) {
      const oldest = this.tokens.keys().next();
      if (oldest.done !== true) this.tokens.delete(oldest.value);
    }
  }

  /** The newest token of session `id`, if any. */
  tokenOf(id: string): string | undefined {
    return this.tokens.get(id);
  }

  /** Number of sessions tracked. */
  get size(): number {
    return this.tokens.size;
  }
}
