import { describe, expect, it } from "vitest";
import { NODE_FLAGS, parseNodeArgs, UsageError } from "../src/cli/options.ts";

const BASE = ["--region", "eu", "--data", "/tmp/x", "--secret", "s"];

describe("security flags of meridian node", () => {
  it("reads keyring, TLS files and tokens from flags or MERIDIAN_* variables", () => {
    const fromFlags = parseNodeArgs(
      [
        ...BASE,
        "--keyring",
        "/etc/meridian/keyring.json",
        "--tls-cert",
        "/etc/meridian/node.crt",
        "--tls-key",
        "/etc/meridian/node.key",
        "--tls-ca",
        "/etc/meridian/ca.crt",
        "--tokens",
        "new-token-0123456789, old-token-0123456789",
      ],
      {},
    );
    expect(fromFlags).toMatchObject({
      keyringFile: "/etc/meridian/keyring.json",
      tlsCertFile: "/etc/meridian/node.crt",
      tlsKeyFile: "/etc/meridian/node.key",
      tlsCaFile: "/etc/meridian/ca.crt",
      tokens: ["new-token-0123456789", "old-token-0123456789"],
    });
    const fromEnv = parseNodeArgs(BASE, {
      MERIDIAN_KEYRING: "/k.json",
      MERIDIAN_TLS_CERT: "/c.pem",
      MERIDIAN_TLS_KEY: "/k.pem",
      MERIDIAN_TOKENS: "env-token-0123456789",
    });
    expect(fromEnv).toMatchObject({
      keyringFile: "/k.json",
      tlsCertFile: "/c.pem",
      tlsKeyFile: "/k.pem",
      tokens: ["env-token-0123456789"],
    });
    expect(NODE_FLAGS.tokens.env).toBe("MERIDIAN_TOKENS");
  });

  it("leaves everything off when no security flag is given", () => {
    const config = parseNodeArgs(BASE, {});
    for (const key of ["keyringFile", "tlsCertFile", "tlsKeyFile", "tlsCaFile", "tokens"]) {
      expect(config).not.toHaveProperty(key);
    }
  });

  it("refuses a certificate without its key, and short or blank-holding tokens", () => {
    const bad = [
      ["--tls-cert", "/c.pem"],
      ["--tls-key", "/k.pem"],
      ["--tokens", "short"],
      ["--tokens", "good-token-0123456789,has a space in it 0123"],
    ];
    for (const extra of bad)
      expect(() => parseNodeArgs([...BASE, ...extra], {})).toThrow(UsageError);
  });
});
