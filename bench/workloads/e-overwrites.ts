import { statSync } from "node:fs";
import { join } from "node:path";
import * as Y from "yjs";
import { startCluster } from "../lib/cluster.ts";
import type { BenchContext, Workload } from "../lib/context.ts";
import { type Section, table } from "../lib/report.ts";
import { HttpJson } from "../lib/session-drivers.ts";
import { SqliteFile } from "../lib/sqlite-file.ts";
import { dec, int } from "../lib/stats.ts";

const ID = "overwrite-the-same-field";

/** The value of the n-th overwrite: the same size every time. */
function cart(n: number): { sku: string; qty: number } {
  return { sku: "A-1042", qty: n % 10 };
}

/** Write counts at which sizes are read: 1, 10, 100… up to `total`. */
function checkpoints(total: number): number[] {
  const out: number[] = [];
  for (let n = 1; n < total; n *= 10) out.push(n);
  out.push(total);
  return out;
}

/** Yjs sizes at each checkpoint, overwriting from `writers` replicas in turn (synced each time). */
function yjsSizes(total: number, marks: readonly number[], writers: number): Map<number, number> {
  const docs = Array.from({ length: writers }, () => new Y.Doc());
  const out = new Map<number, number>();
  for (let n = 1; n <= total; n++) {
    const doc = docs[n % writers]!;
    const before = Y.encodeStateVector(doc);
    doc.getMap("session").set("cart", cart(n));
    const update = Y.encodeStateAsUpdate(doc, before);
    for (const other of docs) if (other !== doc) Y.applyUpdate(other, update);
    if (marks.includes(n)) out.set(n, Y.encodeStateAsUpdate(docs[0]!).length);
  }
  return out;
}

/**
 * (e) Stored bytes after overwriting one field again and again from three regions in turn,
 * against Yjs Y.Maps doing the same: meridian keeps one register per field (the last writer's),
 * Yjs keeps a trace of every overwritten item it cannot merge away.
 */
export const overwrites: Workload = {
  id: "e",
  title: "Stored size under overwrites of one field vs a Yjs Y.Map",
  async run(ctx: BenchContext): Promise<Section> {
    const total = ctx.sizes.overwrites;
    const marks = checkpoints(total);
    const cluster = await startCluster(ctx, { proxies: false });
    const eu = cluster.nodes[0]!;
    const clients = cluster.nodes.map((n) => new HttpJson(n.url));
    const meridian = new Map<number, { bytes: number; pages: number }>();
    let file: SqliteFile | undefined;
    let fileBytes = 0;
    let pageSize = 0;
    try {
      for (let n = 1; n <= total; n++) {
        // Regions in turn, eu first: every checkpoint (1, 10, 100…) is a write made at eu, the
        // region whose file is read, so the reading never races replication.
        const a = await clients[(n - 1) % clients.length]!.call("PATCH", `/v1/sessions/${ID}`, {
          set: { cart: cart(n) },
        });
        if (a.status !== 200 && a.status !== 201) throw new Error(`PATCH answered ${a.status}`);
        if (marks.includes(n)) {
          file ??= new SqliteFile(join(eu.options.dataDir, "meridian.db"));
          const pages = file.pagesInUse();
          pageSize = pages.pageSize;
          meridian.set(n, { bytes: file.sessionBytes(ID).bytes, pages: pages.pages });
        }
      }
      file?.close();
      file = undefined;
      await cluster.close(); // closing SQLite checkpoints the WAL into the file
      fileBytes = statSync(join(eu.options.dataDir, "meridian.db")).size;
    } finally {
      file?.close();
      for (const c of clients) c.close();
      await cluster.close();
    }
    const yjs = yjsSizes(total, marks, 3);
    const yjsOne = yjsSizes(total, marks, 1);
    const first = meridian.get(1)!;
    const last = meridian.get(total)!;
    const growth = (last.bytes - first.bytes) / (total - 1);
    const yGrowth = (yjs.get(total)! - yjs.get(1)!) / (total - 1);
    ctx.log(
      `  after ${int(total)} overwrites: meridian ${int(last.bytes)} B (${dec(growth, 3)} B/overwrite), Yjs ${int(yjs.get(total)!)} B (${dec(yGrowth, 2)} B/overwrite), Yjs one writer ${int(yjsOne.get(total)!)} B`,
    );
    return {
      id: "e",
      title: overwrites.title,
      summary: [
        {
          figure: `bytes stored for the session after ${int(total)} overwrites`,
          value: `${int(last.bytes)} B`,
          peer: `Yjs Y.Map: ${int(yjs.get(total)!)} B`,
          ratio: `${dec(last.bytes / yjs.get(total)!, 3)}×`,
          target: "flat",
          meets: growth < 0.1,
        },
        {
          figure: "growth per overwrite",
          value: `${dec(growth, 3)} B`,
          peer: `Yjs Y.Map: ${dec(yGrowth, 2)} B`,
          ratio: yGrowth > 0 ? `${dec(growth / yGrowth, 3)}×` : "–",
          target: "≈ 0 (Yjs ~8 B)",
          meets: growth < 0.1,
        },
      ],
      body: [
        `One session, one field (\`cart\`, a value of the same size every time) overwritten ${int(total)} times`,
        "through the HTTP API of a three-region cluster, one PATCH after the other, the regions in turn.",
        "meridian's figure is the bytes of the session's rows in eu's SQLite file (every register: ids, key,",
        "kind, origin, sequence number, payload; plus its sessions row), read from the live file. Yjs: three",
        'Y.Docs (one per region) take the same overwrites in turn, `map.set("cart", value)`, each update',
        "applied to the other two; measured as `Y.encodeStateAsUpdate(doc).length`. A single Y.Doc",
        "overwritten by one client is shown too: Yjs merges one client's deleted items into ranges, so",
        "its growth comes from writers taking turns, as regions and browser tabs do.",
        "",
        ...table(
          [
            "overwrites",
            "meridian session rows",
            "SQLite pages in use (eu)",
            "Yjs, 3 writers",
            "Yjs, 1 writer",
          ],
          marks.map((n) => [
            int(n),
            `${int(meridian.get(n)!.bytes)} B`,
            `${int(meridian.get(n)!.pages)} × ${int(pageSize)} B`,
            `${int(yjs.get(n)!)} B`,
            `${int(yjsOne.get(n)!)} B`,
          ]),
        ),
        "",
        `eu's database file after the nodes stopped (WAL checkpointed into it): ${int(fileBytes)} bytes. Pages`,
        "in use count every table and index (version vector, clock, node identity included), which is why",
        "they start above the session's own bytes.",
      ],
    };
  },
};
