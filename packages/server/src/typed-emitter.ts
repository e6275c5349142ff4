/**
 * A minimal event emitter typed by an `Events` interface: one listener signature per event name.
 *
 * @remarks Listeners run synchronously in registration order; a throwing listener propagates to
 * the emitter, never swallowed.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const l of [...set]) (l as (...a: Parameters<Events[K]>) => void)(...args);
  }
}
