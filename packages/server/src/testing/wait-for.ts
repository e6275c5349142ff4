/**
 * Waits until `cond` holds, polling every 10 ms; fails naming `what` after `timeoutMs`.
 *
 * @remarks The way tests wait on a cluster: on a condition with a deadline, never a bare sleep.
 */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
