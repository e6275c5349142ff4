import { readFileSync } from "node:fs";

/**
 * Resident memory of a process, from `/proc/<pid>/status` (Linux): the current resident set
 * (`VmRSS`) and its high-water mark (`VmHWM`), in bytes.
 */
export function residentMemory(pid: number): { rss: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    if (m === null) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}
