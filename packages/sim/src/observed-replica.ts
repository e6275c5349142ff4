import type { Delta, SessionWrite } from "@meridian/core";
import { type CommittedWrite, Replica, type ReplicaOptions } from "@meridian/server";

/** What an {@link ObservedReplica} reports. */
export interface ReplicaObserver {
  /** A local write committed; `op` is the client operation current when it was made. */
  committed(op: number | undefined, delta: Delta): void;
}

/**
 * The real {@link Replica} with one observation point for the simulator: every committed local
 * write (its dot, stamp and fragment), for the history and the clock checker.
 *
 * @remarks Observes only: it returns the very promise the replica made and adds no behaviour, so
 * the node logic under test is the production one. `currentOp` is set by the driver around the
 * synchronous part of a client call, which is where `SessionService` makes its write.
 */
export class ObservedReplica extends Replica {
  /** The client operation being invoked right now, if any. */
  currentOp: number | undefined;

  constructor(
    options: ReplicaOptions,
    private readonly observer: ReplicaObserver,
  ) {
    super(options);
  }

  override write(id: string, write: SessionWrite): Promise<CommittedWrite> {
    const op = this.currentOp;
    const result = super.write(id, write);
    result.then(
      (r) => this.observer.committed(op, r.delta),
      () => undefined,
    );
    return result;
  }
}
