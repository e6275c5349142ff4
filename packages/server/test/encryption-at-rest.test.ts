import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { yjsItems, yjsUpdate } from "@meridian/core/testing";
import { SqliteStore } from "@meridian/storage-sqlite";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { nodeConfig, type RunningNode, startNode } from "../src/index.ts";
import { call } from "./http-kit.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const CLI = resolve(import.meta.dirname, "../src/cli.ts");
const dir = mkdtempSync(join(tmpdir(), "meridian-at-rest-"));
const running = new Set<RunningNode>();
afterEach(async () => {
  await Promise.all([...running].map((n) => n.close()));
  running.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const key = () => randomBytes(32);
let keyrings = 0;
function keyringFile(current: string, keys: Record<string, Buffer>): string {
  const path = join(dir, `keyring-${++keyrings}.json`);
  const b64 = Object.fromEntries(Object.entries(keys).map(([id, k]) => [id, k.toString("base64")]));
  writeFileSync(path, JSON.stringify({ current, keys: b64 }));
  return path;
}

async function start(dataDir: string, keyring?: string): Promise<RunningNode> {
  const node = await startNode(
    nodeConfig(
      { region: "eu", dataDir, peers: [], secret: "s" },
      { port: 0, logLevel: "silent", ...(keyring !== undefined ? { keyringFile: keyring } : {}) },
    ),
  );
  running.add(node);
  return node;
}

async function stop(node: RunningNode): Promise<void> {
  await node.close();
  running.delete(node);
}

/** Distinctive strings written through the API: none may appear in the files. */
const CARD = "4111-1111-PLAINTEXT-CARD";
const EMAIL = "alice.PLAINTEXT@example.com";
const NOTE = "note-PLAINTEXT-created";
const BOOK = "book-PLAINTEXT-title";
const DRAFT = "draft-PLAINTEXT-yjs-text";
const ALICE = "user-PLAINTEXT-alice";
const BOB = "user-PLAINTEXT-bob";
const NEEDLES = [CARD, EMAIL, NOTE, BOOK, DRAFT, ALICE, BOB];
const ID = "at-rest-session-000001";
const LATER = "at-rest-session-later1";

/** Writes every needle through the HTTP API; returns the id of the session the node made. */
async function writeSecrets(node: RunningNode): Promise<string> {
  const put = await call("PUT", `${node.url}/v1/sessions/${ID}`, {
    data: { card: CARD, profile: { email: EMAIL } },
    userId: ALICE,
  });
  expect(put.status).toBe(201);
  const created = await call("POST", `${node.url}/v1/sessions`, {
    data: { note: NOTE },
    userId: BOB,
  });
  expect(created.status).toBe(201);
  const patch = await call("PATCH", `${node.url}/v1/sessions/${ID}`, {
    set: { cart: [BOOK] },
    yjs: { draft: Buffer.from(yjsUpdate(42, DRAFT)).toString("base64") },
  });
  expect(patch.status).toBe(200);
  return created.body!.id!;
}

/** Reads every needle back through the HTTP API. */
async function expectReadable(node: RunningNode, createdId: string): Promise<void> {
  const a = await call("GET", `${node.url}/v1/sessions/${ID}`);
  expect(a.status).toBe(200);
  expect(a.body?.data).toEqual({ card: CARD, profile: { email: EMAIL }, cart: [BOOK] });
  expect(a.body?.userId).toBe(ALICE);
  expect(yjsItems(Buffer.from(a.body?.yjs?.draft ?? "", "base64"))).toEqual([DRAFT]);
  const b = await call("GET", `${node.url}/v1/sessions/${createdId}`);
  expect(b.body?.data).toEqual({ note: NOTE });
  const users = await call("GET", `${node.url}/v1/users/${ALICE}/sessions`);
  expect(users.body?.sessions?.map((s) => s.id)).toEqual([ID]);
}

const dbFile = (dataDir: string) => join(dataDir, "meridian.db");

/** Needles found in the raw bytes of the database file, its WAL or its shared-memory index. */
function scan(dataDir: string, needles: readonly string[] = NEEDLES): string[] {
  const files = [dbFile(dataDir), `${dbFile(dataDir)}-wal`, `${dbFile(dataDir)}-shm`].filter((f) =>
    existsSync(f),
  );
  const bytes = files.map((f) => readFileSync(f));
  return needles.filter((n) => bytes.some((b) => b.includes(Buffer.from(n, "utf8"))));
}

const walBytes = (dataDir: string) =>
  existsSync(`${dbFile(dataDir)}-wal`) ? statSync(`${dbFile(dataDir)}-wal`).size : 0;

/** Checkpoints the node's WAL into the database file, as SQLite does on its own as it grows. */
function checkpoint(node: RunningNode): void {
  const store = node.replica.store;
  if (!(store instanceof SqliteStore)) throw new Error("expected the SQLite store");
  expect(store.checkpoint()).toBe(true);
}

function reencrypt(dataDir: string, keyring: string) {
  return spawnSync(
    process.execPath,
    ["--import", "tsx", CLI, "reencrypt", "--data", dataDir, "--keyring", keyring],
    { cwd: ROOT, encoding: "utf8" },
  );
}

describe("encryption at rest through the node", () => {
  it("finds the written plaintext in an unencrypted node's files (the scan works)", async () => {
    const data = join(dir, "plain");
    const node = await start(data);
    await writeSecrets(node);
    expect(scan(data)).toEqual(NEEDLES);
  });

  it("keeps every value and userId out of the database file and its WAL, before and after checkpoints", async () => {
    const data = join(dir, "sealed");
    const node = await start(data, keyringFile("k1", { k1: key() }));
    const createdId = await writeSecrets(node);
    expect(walBytes(data)).toBeGreaterThan(0);
    expect(scan(data)).toEqual([]);
    await expectReadable(node, createdId);

    checkpoint(node);
    expect(walBytes(data)).toBe(0);
    // The rows are now in the main file: the (non-secret) session id is there, the values not.
    expect(readFileSync(dbFile(data)).includes(Buffer.from(ID))).toBe(true);
    expect(scan(data)).toEqual([]);
    await expectReadable(node, createdId);

    // More writes after the checkpoint land in a fresh WAL; then the node closes.
    const again = await call("PATCH", `${node.url}/v1/sessions/${ID}`, { set: { card: CARD } });
    expect(again.status).toBe(200);
    expect(scan(data)).toEqual([]);
    await stop(node);
    expect(scan(data)).toEqual([]);
  });

  it("rotates keys: old values read, reencrypt moves them, the old key can go", async () => {
    const data = join(dir, "rotated");
    const k1 = key();
    const k2 = key();
    let node = await start(data, keyringFile("k1", { k1 }));
    const createdId = await writeSecrets(node);
    await stop(node);

    // Step 1: the new key becomes current; values under k1 still read, new writes use k2.
    const both = keyringFile("k2", { k1, k2 });
    node = await start(data, both);
    await expectReadable(node, createdId);
    const later = await call("PUT", `${node.url}/v1/sessions/${LATER}`, {
      data: { later: "later-PLAINTEXT-value" },
    });
    expect(later.status).toBe(201);
    await stop(node);

    // Step 2: reencrypt everything under k2 with the CLI.
    const run = reencrypt(data, both);
    expect(run.status, run.stderr).toBe(0);
    // card, profile, cart, draft, note, later and two userIds; all but later were under k1.
    expect(run.stdout).toContain("resealed 7 values and 2 user index entries in 3 sessions");
    expect(run.stdout).toContain('key "k2": 8 values');
    expect(run.stdout).not.toContain('key "k1"');

    // Step 3: k1 leaves the keyring; everything still reads, and nothing is in the clear.
    node = await start(data, keyringFile("k2", { k2 }));
    await expectReadable(node, createdId);
    const b = await call("GET", `${node.url}/v1/sessions/${LATER}`);
    expect(b.body?.data).toEqual({ later: "later-PLAINTEXT-value" });
    await stop(node);
    expect(scan(data, [...NEEDLES, "later-PLAINTEXT-value"])).toEqual([]);
  });

  it("answers a typed error, never garbage, when the key is missing or wrong", async () => {
    const data = join(dir, "wrong-key");
    let node = await start(data, keyringFile("k1", { k1: key() }));
    await writeSecrets(node);
    await stop(node);

    const cases: [string | undefined, string][] = [
      [keyringFile("k1", { k1: key() }), "MERIDIAN_ERR_STORAGE_DECRYPT"],
      [keyringFile("k9", { k9: key() }), "MERIDIAN_ERR_STORAGE_UNKNOWN_KEY"],
      [undefined, "MERIDIAN_ERR_STORAGE_UNKNOWN_KEY"],
    ];
    for (const [keyring, code] of cases) {
      node = await start(data, keyring);
      const got = await call("GET", `${node.url}/v1/sessions/${ID}`);
      expect([got.status, got.body?.error?.code]).toEqual([500, code]);
      expect(got.text).not.toContain(CARD);
      await stop(node);
    }
    const run = reencrypt(data, keyringFile("k9", { k9: key() }));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("MERIDIAN_ERR_STORAGE_UNKNOWN_KEY");
  });
});
