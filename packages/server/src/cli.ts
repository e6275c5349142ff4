#!/usr/bin/env -S node --import tsx
import { runDemo } from "./cli/demo.ts";
import { parseNodeArgs, UsageError, usage } from "./cli/options.ts";
import { runReencrypt } from "./cli/reencrypt.ts";
import { printStatus } from "./cli/status.ts";
import { startNode } from "./node.ts";

/** Entry point of `meridian`: node, demo, status, reencrypt. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "node": {
      const node = await startNode(parseNodeArgs(rest, process.env));
      const stop = (signal: string) => {
        node.logger.info({ signal }, "shutting down");
        node.close().then(
          () => process.exit(0),
          (e: unknown) => {
            node.logger.error({ err: e }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
      return -1;
    }
    case "demo":
      await runDemo(rest);
      return 0;
    case "status":
      return printStatus(rest);
    case "reencrypt":
      return runReencrypt(rest, process.env);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(usage());
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`meridian: ${e.message}\n\n${usage()}`);
      process.exit(2);
    }
    console.error("meridian:", e);
    process.exit(1);
  },
);
