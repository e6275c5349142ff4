import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  NODE_FLAGS,
  NODE_RUNTIME_FLAGS,
  nodeConfig,
  parseNodeArgs,
  type RunningNode,
  startNode,
} from "@meridian/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  type DockerStage,
  dockerStages,
  envPairs,
  execWords,
  parseDockerfile,
} from "./dockerfile.ts";

/*
 * The deployment files (deploy/Dockerfile, deploy/kubernetes/) cannot run here (no container
 * engine), so this reads them and checks what would break them: flags and MERIDIAN_* variables
 * that the CLI does not know, probes at paths the node does not serve, a root container, a
 * missing init process, a volume that is not where the database goes.
 */

const ROOT = join(import.meta.dirname, "..");
const DEPLOY = join(ROOT, "deploy");
const KNOWN_ENV = new Set(Object.values(NODE_FLAGS).map((f) => f.env));
const KNOWN_FLAGS = new Set(Object.keys(NODE_FLAGS));
const CLI = "packages/server/src/cli.ts";

/** A loosely typed YAML node, narrowed with the helpers below. */
type Yaml = unknown;
type YamlMap = Record<string, Yaml>;

function map(v: Yaml, what: string): YamlMap {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Error(`${what}: not a map`);
  return v as YamlMap;
}

function list(v: Yaml, what: string): Yaml[] {
  if (!Array.isArray(v)) throw new Error(`${what}: not a list`);
  return v;
}

function str(v: Yaml, what: string): string {
  if (typeof v !== "string") throw new Error(`${what}: not a string`);
  return v;
}

/** `--flag` words of a `meridian node` argument list, without their dashes. */
function flagsOf(args: readonly string[]): string[] {
  return args.filter((a) => a.startsWith("--")).map((a) => a.slice(2).split("=")[0]!);
}

/** The arguments after the CLI's `node` subcommand, checking that the command is there. */
function nodeArgs(command: readonly string[]): string[] {
  const at = command.indexOf("node", command.findIndex((w) => w.endsWith("cli.ts")) + 1);
  expect(
    at,
    `command runs the meridian CLI's node subcommand: ${command.join(" ")}`,
  ).toBeGreaterThan(0);
  return command.slice(at + 1);
}

let node: RunningNode;
beforeAll(async () => {
  node = await startNode(
    nodeConfig(
      { region: "eu", dataDir: ":memory:", peers: [], secret: "s" },
      { port: 0, logLevel: "silent" },
    ),
  );
});
afterAll(() => node.close());

/** Whether the node answers 200 on a GET of `path` (what a probe needs). */
async function served(path: string): Promise<boolean> {
  return (await fetch(new URL(path, node.url))).status === 200;
}

describe("deploy/Dockerfile", () => {
  const stages = dockerStages(parseDockerfile(readFileSync(join(DEPLOY, "Dockerfile"), "utf8")));
  const final = stages[stages.length - 1]!;
  const of = (stage: DockerStage, keyword: string) =>
    stage.instructions.filter((i) => i.keyword === keyword);
  const env = new Map(of(final, "ENV").flatMap((i) => [...envPairs(i.text)]));
  const entrypoint = execWords(of(final, "ENTRYPOINT").at(-1)?.text ?? "[]");
  const command = [...entrypoint, ...execWords(of(final, "CMD").at(-1)?.text ?? "[]")];

  it("runs as a non-root user that the image creates", () => {
    const user = of(final, "USER").at(-1)?.text;
    expect(user, "final stage sets USER").toBeDefined();
    const [name, group] = user!.split(":");
    expect(["root", "0"]).not.toContain(name);
    expect(["root", "0"]).not.toContain(group);
    const runs = of(final, "RUN").map((i) => i.text);
    const created = runs.some((r) => /\buseradd\b/.test(r) && r.includes(`--uid ${name}`));
    expect(created || runs.some((r) => /\buseradd\b.*\s${name}\b/.test(r))).toBe(true);
  });

  it("starts under an init process installed from Debian packages", () => {
    const init = entrypoint[0] ?? "";
    expect(init).toMatch(/\/(tini|dumb-init)$/);
    const pkg = init.slice(init.lastIndexOf("/") + 1);
    const installs = of(final, "RUN").some((i) =>
      new RegExp(`apt-get install[^&;]*\\b${pkg}\\b`).test(i.text),
    );
    expect(installs, `${pkg} installed with apt-get in the final stage`).toBe(true);
    if (pkg === "tini") expect(entrypoint[1]).toBe("--");
  });

  it("runs `meridian node` with flags and MERIDIAN_* variables the CLI knows", () => {
    expect(command).toContain(CLI);
    expect(existsSync(join(ROOT, CLI))).toBe(true);
    const args = nodeArgs(command);
    for (const flag of flagsOf(args)) expect(KNOWN_FLAGS, `--${flag}`).toContain(flag);
    for (const name of env.keys()) {
      if (name.startsWith("MERIDIAN_")) expect(KNOWN_ENV, name).toContain(name);
    }
    // What the image leaves to the operator (region, secret) is all that is missing.
    const config = parseNodeArgs(args, {
      ...Object.fromEntries(env),
      MERIDIAN_REGION: "eu",
      MERIDIAN_SECRET: "s",
    });
    expect(config.dataDir).toBe(env.get("MERIDIAN_DATA"));
    expect(config.host).toBe("0.0.0.0");
  });

  it("runs node with the runtime flags every launcher passes", () => {
    const runtime = command.slice(command.indexOf("node") + 1, command.indexOf(CLI));
    for (const flag of NODE_RUNTIME_FLAGS) expect(runtime).toContain(flag);
  });

  it("keeps the database on a volume owned by the user, and exposes the node's port", () => {
    const data = env.get("MERIDIAN_DATA")!;
    const volumes = of(final, "VOLUME").flatMap((i) => execWords(i.text));
    expect(volumes).toContain(data);
    expect(of(final, "RUN").some((i) => i.text.includes(`chown`) && i.text.includes(data))).toBe(
      true,
    );
    expect(of(final, "EXPOSE").map((i) => i.text)).toContain(env.get("MERIDIAN_PORT"));
  });

  it("installs with pnpm from the lockfile, at the version package.json pins", () => {
    const pinned = (
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
        packageManager: string;
      }
    ).packageManager.replace("pnpm@", "");
    const runs = stages.flatMap((s) => of(s, "RUN").map((i) => i.text));
    expect(runs.some((r) => r.includes("pnpm install --frozen-lockfile"))).toBe(true);
    expect(runs.some((r) => r.includes(`pnpm@${pinned}`))).toBe(true);
    for (const stage of stages) {
      for (const copy of of(stage, "COPY").filter((i) => !i.text.startsWith("--from"))) {
        const sources = copy.text.split(/\s+/).slice(0, -1);
        for (const src of sources) expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true);
      }
    }
  });

  it("health-checks a route the node serves", async () => {
    const check = of(final, "HEALTHCHECK").at(-1)?.text ?? "";
    const path = /\/(healthz|readyz)\b/.exec(check)?.[0];
    expect(path).toBeDefined();
    expect(await served(path!)).toBe(true);
  });
});

interface Manifest {
  readonly file: string;
  readonly doc: YamlMap;
}

function loadManifests(): Manifest[] {
  const dir = join(DEPLOY, "kubernetes");
  const kustomization = map(
    parseAllDocuments(readFileSync(join(dir, "kustomization.yaml"), "utf8"))[0]!.toJS(),
    "kustomization",
  );
  const out: Manifest[] = [];
  for (const file of list(kustomization.resources, "resources")) {
    const name = str(file, "resource");
    for (const d of parseAllDocuments(readFileSync(join(dir, name), "utf8"))) {
      expect(d.errors, `${name} parses`).toEqual([]);
      out.push({ file: name, doc: map(d.toJS(), name) });
    }
  }
  return out;
}

describe("deploy/kubernetes", () => {
  const manifests = loadManifests();
  const kind = (k: string) => manifests.filter((m) => m.doc.kind === k);
  const sets = kind("StatefulSet");
  const services = kind("Service");
  const secrets = kind("Secret");
  const regionOf = (set: Manifest) => {
    const c = containerOf(set);
    return str(envOf(c).get("MERIDIAN_REGION")?.value, "MERIDIAN_REGION");
  };

  it("has one StatefulSet of one replica per region", () => {
    expect(sets.length).toBeGreaterThanOrEqual(2);
    const regions = sets.map(regionOf);
    expect(new Set(regions).size).toBe(regions.length);
    for (const s of sets) expect(map(s.doc.spec, "spec").replicas).toBe(1);
  });

  it("uses only flags and MERIDIAN_* variables the CLI knows, and gives a valid config", () => {
    for (const s of sets) {
      const c = containerOf(s);
      const args = (c.args === undefined ? [] : list(c.args, "args")).map((a) => str(a, "arg"));
      const cmd = [...(c.command === undefined ? [] : list(c.command, "command")), ...args];
      for (const flag of flagsOf(cmd.map(String))) expect(KNOWN_FLAGS, `--${flag}`).toContain(flag);
      const env = envOf(c);
      for (const name of env.keys()) {
        if (name.startsWith("MERIDIAN_")) expect(KNOWN_ENV, `${s.file}: ${name}`).toContain(name);
      }
      const values = Object.fromEntries(
        [...env].map(([k, v]) => [k, v.value === undefined ? "from-secret" : String(v.value)]),
      );
      const config = parseNodeArgs(args.slice(args.indexOf("node") + 1), values);
      expect(config.region).toBe(regionOf(s));
    }
  });

  it("takes MERIDIAN_SECRET from a Secret that holds that key", () => {
    for (const s of sets) {
      const ref = map(
        map(envOf(containerOf(s)).get("MERIDIAN_SECRET")?.valueFrom, "valueFrom").secretKeyRef,
        "secretKeyRef",
      );
      const secret = secrets.find((m) => map(m.doc.metadata, "metadata").name === ref.name);
      expect(secret, `Secret ${String(ref.name)}`).toBeDefined();
      const keys = {
        ...map(secret!.doc.stringData ?? {}, "stringData"),
        ...map(secret!.doc.data ?? {}, "data"),
      };
      expect(Object.keys(keys)).toContain(ref.key);
    }
  });

  it("lists every other region as a peer, through that region's Service", () => {
    for (const s of sets) {
      const peers = str(envOf(containerOf(s)).get("MERIDIAN_PEERS")?.value, "MERIDIAN_PEERS");
      const hosts = peers.split(",").map((p) => new URL(p).hostname.split(".")[0]);
      const others = sets.filter((o) => o !== s).map((o) => serviceNameOf(o));
      expect(hosts.sort()).toEqual(others.sort());
    }
  });

  it("governs each StatefulSet with a Service that selects its pods on the node's port", () => {
    for (const s of sets) {
      const svc = services.find((m) => map(m.doc.metadata, "metadata").name === serviceNameOf(s));
      expect(svc, `Service ${serviceNameOf(s)}`).toBeDefined();
      const spec = map(svc!.doc.spec, "service spec");
      const labels = map(map(podTemplate(s).metadata, "metadata").labels, "labels");
      for (const [k, v] of Object.entries(map(spec.selector, "selector"))) {
        expect(labels[k]).toBe(v);
      }
      const port = Number(envOf(containerOf(s)).get("MERIDIAN_PORT")?.value);
      const target = map(list(spec.ports, "ports")[0], "port").targetPort;
      expect(target === port || containerPort(containerOf(s), target) === port).toBe(true);
    }
  });

  it("keeps SQLite on a persistent volume claim mounted at MERIDIAN_DATA", () => {
    for (const s of sets) {
      const c = containerOf(s);
      const data = envOf(c).get("MERIDIAN_DATA")?.value;
      const mount = list(c.volumeMounts, "volumeMounts")
        .map((m) => map(m, "mount"))
        .find((m) => m.mountPath === data);
      expect(mount, `${s.file}: a mount at ${String(data)}`).toBeDefined();
      const claims = list(map(s.doc.spec, "spec").volumeClaimTemplates, "claims").map(
        (t) => map(map(t, "claim").metadata, "metadata").name,
      );
      expect(claims).toContain(mount!.name);
    }
  });

  it("probes readiness at /readyz, startup and liveness at /healthz on the node's port", async () => {
    expect(await served("/readyz")).toBe(true);
    expect(await served("/healthz")).toBe(true);
    for (const s of sets) {
      const c = containerOf(s);
      const port = Number(envOf(c).get("MERIDIAN_PORT")?.value);
      for (const [probe, path] of [
        ["readinessProbe", "/readyz"],
        ["livenessProbe", "/healthz"],
        // Liveness waits for it, so a node migrating a large file at start is not killed.
        ["startupProbe", "/healthz"],
      ] as const) {
        const get = map(map(c[probe], probe).httpGet, `${probe}.httpGet`);
        expect(get.path, `${s.file}: ${probe}`).toBe(path);
        expect(get.port === port || containerPort(c, get.port) === port).toBe(true);
      }
    }
  });

  it("shuts down gracefully: a preStop pause within the termination grace period", () => {
    for (const s of sets) {
      const spec = podTemplateSpec(s);
      const grace = Number(spec.terminationGracePeriodSeconds);
      const preStop = map(map(containerOf(s).lifecycle, "lifecycle").preStop, "preStop");
      const words = list(map(preStop.exec, "exec").command, "command").map(String);
      expect(words[0]).toBe("sleep");
      // The pause, then the node's drain (peer links, SQLite close) must fit in the grace period.
      expect(grace).toBeGreaterThanOrEqual(Number(words[1]) + 10);
    }
  });

  it("runs as a non-root user", () => {
    for (const s of sets) {
      const pod = map(podTemplateSpec(s).securityContext ?? {}, "securityContext");
      const container = map(containerOf(s).securityContext ?? {}, "securityContext");
      const ctx = { ...pod, ...container };
      expect(ctx.runAsNonRoot).toBe(true);
      expect(Number(ctx.runAsUser)).toBeGreaterThan(0);
      expect(container.allowPrivilegeEscalation).toBe(false);
    }
  });
});

function podTemplate(set: Manifest): YamlMap {
  return map(map(set.doc.spec, "spec").template, "template");
}

function podTemplateSpec(set: Manifest): YamlMap {
  return map(podTemplate(set).spec, "pod spec");
}

function containerOf(set: Manifest): YamlMap {
  const containers = list(podTemplateSpec(set).containers, "containers");
  expect(containers).toHaveLength(1);
  return map(containers[0], "container");
}

function serviceNameOf(set: Manifest): string {
  return str(map(set.doc.spec, "spec").serviceName, "serviceName");
}

function envOf(container: YamlMap): Map<string, YamlMap> {
  const out = new Map<string, YamlMap>();
  for (const e of list(container.env ?? [], "env")) {
    const entry = map(e, "env entry");
    out.set(str(entry.name, "env name"), entry);
  }
  return out;
}

/** The number of a named container port, or undefined. */
function containerPort(container: YamlMap, name: Yaml): number | undefined {
  const port = list(container.ports ?? [], "ports")
    .map((p) => map(p, "port"))
    .find((p) => p.name === name);
  return port === undefined ? undefined : Number(port.containerPort);
}

describe("package.json", () => {
  it("runs `pnpm meridian` with the runtime flags every launcher passes", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const words = String(pkg.scripts.meridian).split(/\s+/);
    expect(words[0]).toBe("node");
    expect(words.at(-1)).toBe(CLI);
    for (const flag of NODE_RUNTIME_FLAGS) expect(words.slice(1, -1)).toContain(flag);
  });
});
