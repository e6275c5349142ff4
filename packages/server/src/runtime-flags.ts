/**
 * The flags `node` runs a meridian node with: every launcher passes them (the `pnpm meridian`
 * script, the Dockerfile's entrypoint, and so the Kubernetes example; {@link NodeProcess} for
 * tests and the bench), and test/deploy-files.test.ts checks that each one does.
 *
 * @remarks `--max-semi-space-size=32` (MiB; Node 20's default is 16) doubles V8's young
 * generation. A node allocates many short-lived objects per message (decoded sessions, packed
 * buffers), and with the default semi-space the scavenger ran often enough to take about a fifth
 * of a node's busy time while it caught up after a partition, promoting objects that were about
 * to die. With 32 MiB, bench (d) converged in 3.3–3.9 s with 5.6–7.0 s of node CPU, against
 * 4.0–6.1 s and 7.2–10.9 s with the default (alternating runs on the 2-core bench machine); the
 * RSS of a node holding 1,000,000 sessions (bench f) moved by less than 3 MiB.
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ["--max-semi-space-size=32"];
