import { ValidationError } from "@meridian/core";
import type { Consistency } from "../session-service.ts";

const LEVELS: readonly Consistency[] = ["local", "quorum", "all"];

/** The single value of a query parameter; undefined when absent. @throws ValidationError if repeated */
function single(query: URLSearchParams, name: string): string | undefined {
  const all = query.getAll(name);
  if (all.length > 1)
    throw new ValidationError(`query parameter ${name} is given ${all.length} times`);
  return all[0];
}

/**
 * The `consistency` query parameter: `local` (the default), `quorum` or `all`.
 *
 * @remarks Reads and writes alike take it. Anything else is refused rather than silently read as
 * `local`, so a typo never weakens a client's guarantee.
 * @throws ValidationError (400)
 */
export function consistencyOf(query: URLSearchParams): Consistency {
  const v = single(query, "consistency");
  if (v === undefined) return "local";
  const level = LEVELS.find((l) => l === v);
  if (level === undefined) throw new ValidationError("consistency must be local, quorum or all");
  return level;
}

/**
 * The `after` query parameter of a read: a version token, passed on to the service (which
 * checks its shape).
 *
 * @throws ValidationError (400) when repeated or empty.
 */
export function afterOf(query: URLSearchParams): string | undefined {
  const v = single(query, "after");
  if (v === "") throw new ValidationError("after must be a version token");
  return v;
}
