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

/** Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on every Linux port). */
const USER_HZ = 100;

/**
 * CPU time a process has used so far (user plus system), in seconds, from `/proc/<pid>/stat`
 * (Linux), at 10 ms resolution.
 *
 * @remarks Unlike wall-clock figures it does not grow when other work on the machine takes the
 * cores, so it compares runs made under different loads.
 */
export function cpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name, which may itself hold spaces.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat; the list starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}
