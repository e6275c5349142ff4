import { createServer } from "node:net";

/** Finds `n` free TCP ports on 127.0.0.1 (by binding port 0 and releasing it). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = createServer();
      await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
      return s;
    }),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === "string") throw new Error("no port");
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}
