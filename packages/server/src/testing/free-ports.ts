import { createServer } from "node:net";

/** Ports handed out: below Linux's default ephemeral range (32768–60999). */
const LOWEST = 20_000;
const HIGHEST = 32_767;

/**
 * Finds `n` free TCP ports on 127.0.0.1: random ones below the ephemeral range, each checked by
 * binding it and releasing it.
 *
 * @remarks A port is only reserved while bound, so the caller races everything else on the
 * machine between this call and its own `listen`. Ports the kernel hands out for port 0 and for
 * outgoing connections come from the ephemeral range, so picking below it leaves only other
 * callers of this function (in parallel test processes) to race with, and they rarely draw the
 * same port. Binding port 0 instead raced every outgoing connection and `listen(0)` on the box,
 * and tests failed now and then with EADDRINUSE.
 */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    if (!ports.includes(port) && (await bindable(port))) ports.push(port);
  }
  return ports;
}

/** Whether `port` can be bound on 127.0.0.1 right now (it is released again at once). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}
