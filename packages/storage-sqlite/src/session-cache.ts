import type { SessionState } from "@meridian/core";

/** What the cache knows of a session: its state, or `null` for no row and not purged. */
export type CachedSession = SessionState | null;

/** One cached session, linked into the recency list. */
interface Entry {
  id: string;
  state: CachedSession;
  /** The next older entry; the oldest entry links to nothing. */
  older: Entry | undefined;
  /** The next younger entry; the youngest entry links to nothing. */
  younger: Entry | undefined;
}

/**
 * The most recently used sessions, decoded, by id.
 *
 * @remarks Holds only states equal to what the database holds after the last commit: the store
 * fills it on reads and after a transaction commits, and drops an id whenever its rows change any
 * other way (purge, re-encryption). Least recently used entries leave first once `capacity` is
 * reached, so memory stays bounded whatever the number of stored sessions. States are immutable
 * values (core never mutates one), so handing the same object to several readers is safe.
 *
 * An entry may also say that a session is known to be absent and not purged (`null`), so that
 * a new session costs one lookup, not one per reader (the write path, then its commit). That
 * knowledge goes stale the same way a state does: every transaction that writes a session,
 * a new one included, must {@link SessionCache.set} or {@link SessionCache.refresh} its id
 * afterwards, and a purge must {@link SessionCache.delete} it. A new known-absent entry joins
 * as the oldest, not the youngest: it is evicted first, so clients asking for ids that do not
 * exist (stale cookies, probes) take one slot at a time from the cache instead of pushing the
 * sessions in use out of it. A read or write of it makes it young like any other.
 *
 * Recency is a doubly linked list beside the index, so every operation is O(1). A `Map` alone
 * (re-insert to refresh, evict its first key) is not: V8 leaves a hole for each deleted key at
 * the front of the Map's table until the next rehash, and finding the first key walks over them,
 * which cost several µs per insert at 10,000 entries.
 */
export class SessionCache {
  private readonly index = new Map<string, Entry>();
  private youngest: Entry | undefined;
  private oldest: Entry | undefined;

  constructor(private readonly capacity: number) {}

  /** The cached state of `id` (`null`: known absent), undefined when not cached. */
  get(id: string): CachedSession | undefined {
    const e = this.index.get(id);
    if (e === undefined) return undefined;
    this.touch(e);
    return e.state;
  }

  set(id: string, state: CachedSession): void {
    if (this.capacity <= 0) return;
    const e = this.index.get(id);
    if (e !== undefined) {
      e.state = state;
      this.touch(e);
      return;
    }
    let entry: Entry;
    if (this.index.size >= this.capacity && this.oldest !== undefined) {
      // The evicted entry is reused for the new one: a full cache allocates nothing per insert.
      entry = this.oldest;
      this.unlink(entry);
      this.index.delete(entry.id);
      entry.id = id;
      entry.state = state;
    } else {
      entry = { id, state, older: undefined, younger: undefined };
    }
    if (state === null) this.insertOldest(entry);
    else this.insert(entry);
  }

  /** Replaces the state of `id` if it is cached (known absent included); never adds an entry. */
  refresh(id: string, state: SessionState): void {
    const e = this.index.get(id);
    if (e !== undefined) e.state = state;
  }

  delete(id: string): void {
    const e = this.index.get(id);
    if (e === undefined) return;
    this.unlink(e);
    this.index.delete(id);
  }

  clear(): void {
    this.index.clear();
    this.youngest = undefined;
    this.oldest = undefined;
  }

  /** Adds `e` (not linked) as the youngest entry. */
  private insert(e: Entry): void {
    e.older = this.youngest;
    e.younger = undefined;
    if (this.youngest !== undefined) this.youngest.younger = e;
    else this.oldest = e;
    this.youngest = e;
    this.index.set(e.id, e);
  }

  /** Adds `e` (not linked) as the oldest entry. */
  private insertOldest(e: Entry): void {
    e.younger = this.oldest;
    e.older = undefined;
    if (this.oldest !== undefined) this.oldest.older = e;
    else this.youngest = e;
    this.oldest = e;
    this.index.set(e.id, e);
  }

  /** Makes a linked entry the youngest. */
  private touch(e: Entry): void {
    if (e === this.youngest) return;
    this.unlink(e);
    e.older = this.youngest;
    e.younger = undefined;
    if (this.youngest !== undefined) this.youngest.younger = e;
    else this.oldest = e;
    this.youngest = e;
  }

  private unlink(e: Entry): void {
    if (e.younger !== undefined) e.younger.older = e.older;
    else this.youngest = e.older;
    if (e.older !== undefined) e.older.younger = e.younger;
    else this.oldest = e.younger;
    e.older = undefined;
    e.younger = undefined;
  }
}
