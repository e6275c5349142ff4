import type { SessionState } from "@meridian/core";

/**
 * The most recently used sessions, decoded, by id.
 *
 * @remarks Holds only states equal to what the database holds after the last commit: the store
 * fills it on reads and after a transaction commits, and drops an id whenever its rows change any
 * other way (purge, re-encryption). Least recently used entries leave first once `capacity` is
 * reached, so memory stays bounded whatever the number of stored sessions. States are immutable
 * values (core never mutates one), so handing the same object to several readers is safe.
 */
export class SessionCache {
  private readonly entries = new Map<string, SessionState>();

  constructor(private readonly capacity: number) {}

  get(id: string): SessionState | undefined {
    const s = this.entries.get(id);
    if (s !== undefined) {
      // Re-inserting moves the id to the young end of the Map's insertion order.
      this.entries.delete(id);
      this.entries.set(id, s);
    }
    return s;
  }

  set(id: string, state: SessionState): void {
    if (this.capacity <= 0) return;
    this.entries.delete(id);
    this.entries.set(id, state);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  /** Replaces the state of `id` if it is cached; never adds an entry. */
  refresh(id: string, state: SessionState): void {
    if (this.entries.has(id)) this.entries.set(id, state);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}
