import { readFileSync } from "node:fs";

/**
 * The identity of the machine's current boot (Linux `/proc/sys/kernel/random/boot_id`), or
 * undefined where the system does not tell.
 *
 * @remarks Lets a restarted node tell a process crash (no committed write lost) from an OS crash
 * or power loss (see `ReplicaOptions.bootId`).
 */
export function currentBootId(): string | undefined {
  try {
    const id = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return id === "" ? undefined : id;
  } catch {
    return undefined;
  }
}
