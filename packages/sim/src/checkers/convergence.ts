import { sessionBytes } from "@meridian/core";
import type { History } from "../history.ts";
import type { Violation } from "./violation.ts";

/**
 * Convergence: after the final heal and quiet period every replica has the same digest.
 *
 * @remarks When digests differ, names the first sessions whose states differ, to point at the
 * merge or replication path at fault.
 */
export function checkConvergence(history: History): Violation[] {
  const digests = new Set(history.final.map((f) => f.digest));
  if (digests.size <= 1) return [];
  const [first, ...rest] = history.final;
  if (first === undefined) return [];
  const bytesOf = (s: Parameters<typeof sessionBytes>[0]) =>
    Buffer.from(sessionBytes(s)).toString("hex");
  const differing: string[] = [];
  const ids = new Set(history.final.flatMap((f) => f.sessions.map((s) => s.id)));
  for (const id of [...ids].sort()) {
    const states = history.final.map((f) => {
      const s = f.sessions.find((x) => x.id === id);
      return s === undefined ? "absent" : bytesOf(s);
    });
    if (new Set(states).size > 1) differing.push(id);
  }
  return [
    {
      checker: "convergence",
      message:
        `replicas differ after the quiet period: ${first.region}=${first.digest} ` +
        `${rest.map((f) => `${f.region}=${f.digest}`).join(" ")}; sessions differing: ` +
        differing.slice(0, 5).join(", "),
    },
  ];
}
