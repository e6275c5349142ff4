import { createClient, type MeridianClient } from "@meridian/client";
import { FakeCluster, seededRng, VirtualClock } from "@meridian/client/testing";
import { MeridianStore, type MeridianStoreOptions } from "../src/index.ts";

/** A store on a fake one-region cluster in virtual time. */
export interface StoreSetup {
  readonly clock: VirtualClock;
  readonly cluster: FakeCluster;
  /** The client under the store, for writes of other code and for more stores. */
  readonly client: MeridianClient;
  readonly store: MeridianStore;
  run<T>(operation: Promise<T>): Promise<T>;
  /** Requests other than health probes, as `METHOD path`. */
  calls(): string[];
  close(): void;
}

/** Builds a {@link StoreSetup}; the client is seeded with `seed`. */
export function storeSetup(
  seed: number,
  options: Omit<MeridianStoreOptions, "client"> = {},
): StoreSetup {
  const clock = new VirtualClock();
  const cluster = new FakeCluster(["eu"], clock);
  const client = createClient({
    regions: cluster.urls(),
    localRegion: "eu",
    fetch: cluster.fetch,
    clock,
    rng: seededRng(seed),
    probeIntervalMs: 60_000,
  });
  const store = new MeridianStore({ client, now: () => clock.now(), ...options });
  return {
    clock,
    cluster,
    client,
    store,
    run: (op) => clock.run(op),
    calls: () =>
      cluster.requests.filter((r) => r.path !== "/healthz").map((r) => `${r.method} ${r.path}`),
    close: () => client.close(),
  };
}

/** A session id express-session could have made. */
export const SID = "sid-aaaaaaaaaaaaaaaaaaaa";

/** A cookie as express-session stores it, expiring `ms` after `now`. */
export function cookieIn(now: number, ms: number): Record<string, unknown> {
  return { originalMaxAge: ms, expires: new Date(now + ms), httpOnly: true, path: "/" };
}
