/**
 * The last version token of each session this client wrote, for read-your-writes.
 *
 * @remarks Bounded, in two generations of at most `capacity` sessions each: a write goes to the
 * current generation, and once that holds `capacity` sessions it becomes the previous one and the
 * one before is forgotten. So the last `capacity` sessions written are always remembered, and at
 * most `2 × capacity` are (a forgotten session's reads simply carry no token). Unlike a strict
 * LRU map, a write to a session already remembered never deletes and re-inserts a map entry,
 * which costs a large map dearly once it is full. A token is opaque: the client never parses it,
 * only hands it back as `after`.
 */
export class SessionVersions {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  /** Records `token` as the newest write to session `id`. */
  remember(id: string, token: string): void {
    this.current.set(id, token);
    if (this.current.size < this.capacity) return;
    this.previous = this.current;
    this.current = new Map();
  }

  /** The newest token of session `id`, if any. */
  tokenOf(id: string): string | undefined {
    return this.current.get(id) ?? this.previous.get(id);
  }

  /** Number of sessions tracked. */
  get size(): number {
    let n = this.current.size;
    for (const id of this.previous.keys()) if (!this.current.has(id)) n += 1;
    return n;
  }
}
