import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";

/** A certificate and its key on disk, PEM. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
  /** The certificate's PEM, to trust it as its own CA. */
  readonly pem: Buffer;
}

/**
 * Makes a self-signed certificate for 127.0.0.1 and localhost in `dir` with `openssl`.
 *
 * @remarks Needs the `openssl` command; without it this throws (it never skips), saying so.
 */
export function selfSignedCert(dir: string, name = "node"): CertFiles {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "2",
        "-subj",
        `/CN=meridian-test-${name}`,
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
  } catch (e) {
    throw new Error(`these tests make a certificate with openssl, which failed: ${String(e)}`);
  }
  return { cert, key, pem: readFileSync(cert) };
}

/** An HTTPS answer, its body parsed when it is JSON. */
export interface TlsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: { error?: { code: string }; [k: string]: unknown } | undefined;
  readonly text: string;
}

/** Sends one HTTPS request trusting `ca`; a `body` goes as JSON. */
export function httpsCall(
  method: string,
  url: string,
  ca: Buffer,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<TlsAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) headers["content-type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const json = (res.headers["content-type"] ?? "").startsWith("application/json");
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: json && text !== "" ? (JSON.parse(text) as TlsAnswer["body"]) : undefined,
          text,
        });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(payload);
  });
}

/** The `authorization` header for a bearer token. */
export const bearer = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});
