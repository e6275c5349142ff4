import type { BenchNode } from "../lib/bench-node.ts";
import { forEachConcurrently } from "../lib/closed-loop.ts";
import type { BenchContext, Workload } from "../lib/context.ts";
import { type Section, table } from "../lib/report.ts";
import { HttpJson } from "../lib/session-drivers.ts";
import { benchId } from "../lib/session-shape.ts";
import { int, sleep } from "../lib/stats.ts";

const CONCURRENCY = 32;

/** What one kill round saw. */
interface Round {
  readonly acknowledged: number;
  readonly inFlight: number;
  readonly lost: number;
  readonly wrong: number;
}

/**
 * Writes new sessions at `CONCURRENCY` in flight until the node is killed; returns the
 * acknowledged ids with the counter each holds, and how many requests had no answer.
 */
async function writeUntilKilled(
  node: BenchNode,
  round: number,
  killAfterMs: number,
): Promise<{ acked: Map<string, number>; inFlight: number }> {
  const http = new HttpJson(node.url);
  const acked = new Map<string, number>();
  let next = 0;
  let inFlight = 0;
  let killed = false;
  const worker = async () => {
    while (!killed) {
      const n = next++;
      const id = benchId(`kill-${round}`, n);
      try {
        const a = await http.call("PUT", `/v1/sessions/${id}`, { data: { n, round } });
        if (a.status === 201) acked.set(id, n);
      } catch {
        // No answer: the node died with this request in flight. Its outcome is unknown and it
        // is not counted as acknowledged; the writer stops here.
        inFlight += 1;
        return;
      }
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  await sleep(killAfterMs);
  await node.kill();
  killed = true;
  await Promise.all(workers);
  http.close();
  return { acked, inFlight };
}

/** Reads back every acknowledged session; counts the missing and the wrong ones. */
async function verify(node: BenchNode, acked: ReadonlyMap<string, number>): Promise<Round> {
  const http = new HttpJson(node.url);
  const ids = [...acked.keys()];
  let lost = 0;
  let wrong = 0;
  try {
    await forEachConcurrently(ids.length, 32, async (i) => {
      const id = ids[i]!;
      const a = await http.call("GET", `/v1/sessions/${id}`);
      if (a.status !== 200) lost += 1;
      else if ((JSON.parse(a.body) as { data: { n?: number } }).data.n !== acked.get(id))
        wrong += 1;
    });
  } finally {
    http.close();
  }
  return { acknowledged: ids.length, inFlight: 0, lost, wrong };
}

/**
 * (g) kill -9 under load: a node with its default durability (`synchronous = NORMAL`) takes new
 * sessions at 32 in flight and is SIGKILLed mid-flight, several times; after each restart every
 * acknowledged write must read back.
 */
export const killNine: Workload = {
  id: "g",
  title: "kill -9 under load: acknowledged writes lost",
  async run(ctx: BenchContext): Promise<Section> {
    const dataDir = ctx.folder("kill");
    const rounds: Round[] = [];
    const all = new Map<string, number>();
    let node = await ctx.node("kill", { dataDir });
    for (let r = 0; r < ctx.sizes.killRounds; r++) {
      const { acked, inFlight } = await writeUntilKilled(
        node,
        r,
        ctx.sizes.killAfterSeconds * 1000,
      );
      for (const [id, n] of acked) all.set(id, n);
      node = await ctx.node("kill", { dataDir, port: node.options.port });
      const check = await verify(node, acked);
      rounds.push({ ...check, inFlight });
      ctx.log(
        `  round ${r + 1}: ${int(check.acknowledged)} acknowledged, ${inFlight} without answer, ${check.lost} lost, ${check.wrong} wrong`,
      );
    }
    // Every earlier round's writes must also have survived the later kills.
    const final = await verify(node, all);
    const lost = final.lost + final.wrong;
    return {
      id: "g",
      title: killNine.title,
      summary: [
        {
          figure: `acknowledged writes lost over ${rounds.length} kills (${int(all.size)} acknowledged)`,
          value: int(lost),
          peer: "–",
          ratio: "–",
          target: "0",
          meets: lost === 0,
        },
      ],
      body: [
        `One node (default \`synchronous = NORMAL\`: commits reach the WAL, not fsynced one by one). Each round: ${CONCURRENCY} writers PUT new sessions for`,
        `${ctx.sizes.killAfterSeconds} s, then the process gets SIGKILL with requests in flight; the node is restarted`,
        "on the same folder and every session whose PUT was answered 201 is read back and compared. At the",
        "end every acknowledged write of every round is read again.",
        "",
        ...table(
          ["round", "acknowledged", "in flight at the kill", "lost", "wrong value"],
          rounds.map((r, i) => [
            String(i + 1),
            int(r.acknowledged),
            int(r.inFlight),
            int(r.lost),
            int(r.wrong),
          ]),
        ),
        "",
        `After the last restart: ${int(final.acknowledged)} acknowledged writes read back, ${final.lost} missing, ${final.wrong} wrong.`,
      ],
    };
  },
};
