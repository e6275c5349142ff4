import { distance, type FieldSnapshot } from "./field-snapshot.ts";

/**
 * Snapshots of loaded sessions not yet saved, by session id, for frameworks whose session
 * objects cannot carry one (@fastify/session copies only enumerable string keys).
 *
 * @remarks One entry per load. `take` hands a `set` the pending snapshot of that id closest to
 * what it saves: with several requests of one session in flight in this process, that is the one
 * the request loaded (it differs only by the request's own changes), so a request never sends
 * back another's older values. Bounded: past `capacity` entries the oldest are dropped, and a
 * `set` without a snapshot writes the whole session.
 */
export class SnapshotRegistry {
  private readonly bySid = new Map<string, FieldSnapshot[]>();
  private readonly order: { sid: string; snapshot: FieldSnapshot }[] = [];

  constructor(private readonly capacity: number) {}

  /** Records a load of `sid`. */
  add(sid: string, snapshot: FieldSnapshot): void {
    const list = this.bySid.get(sid) ?? [];
    list.push(snapshot);
    this.bySid.set(sid, list);
    this.order.push({ sid, snapshot });
    while (this.order.length > this.capacity) {
      const oldest = this.order.shift();
      if (oldest !== undefined) this.removeFrom(oldest.sid, oldest.snapshot);
    }
  }

  /** Removes and returns the pending snapshot of `sid` closest to `hashes`, if any. */
  take(sid: string, hashes: ReadonlyMap<string, string>): FieldSnapshot | undefined {
    const list = this.bySid.get(sid);
    if (list === undefined || list.length === 0) return undefined;
    let best = list[0]!;
    for (const s of list) if (distance(s, hashes) < distance(best, hashes)) best = s;
    this.remove(sid, best);
    return best;
  }

  /** Forgets one snapshot (claimed some other way). */
  remove(sid: string, snapshot: FieldSnapshot): void {
    this.removeFrom(sid, snapshot);
    const i = this.order.findIndex((e) => e.snapshot === snapshot);
    if (i >= 0) this.order.splice(i, 1);
  }

  /** Forgets every snapshot of `sid` (destroyed). */
  forget(sid: string): void {
    for (const s of [...(this.bySid.get(sid) ?? [])]) this.remove(sid, s);
  }

  /** Pending snapshots. */
  get size(): number {
    return this.order.length;
  }

  private removeFrom(sid: string, snapshot: FieldSnapshot): void {
    const list = this.bySid.get(sid);
    if (list === undefined) return;
    const i = list.indexOf(snapshot);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.bySid.delete(sid);
  }
}
