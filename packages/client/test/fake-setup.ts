import { type ClientOptions, createClient, type MeridianClient } from "../src/index.ts";
import { FakeCluster, seededRng, VirtualClock } from "../src/testing/index.ts";

/** A client on a fake three-region cluster and a virtual clock, seeded. */
export interface FakeSetup {
  readonly clock: VirtualClock;
  readonly cluster: FakeCluster;
  readonly client: MeridianClient;
  /** Drives an operation to its end in virtual time. */
  run<T>(operation: Promise<T>): Promise<T>;
}

/** Builds a {@link FakeSetup}: regions eu, us, ap; eu local; 1 s timeout; 5 s probes. */
export function fakeSetup(seed: number, overrides: Partial<ClientOptions> = {}): FakeSetup {
  const clock = new VirtualClock();
  const cluster = new FakeCluster(["eu", "us", "ap"], clock);
  const client = createClient({
    regions: cluster.urls(),
    localRegion: "eu",
    fetch: cluster.fetch,
    clock,
    rng: seededRng(seed),
    timeoutMs: 1000,
    probeIntervalMs: 5000,
    ...overrides,
  });
  return { clock, cluster, client, run: (op) => clock.run(op) };
}
