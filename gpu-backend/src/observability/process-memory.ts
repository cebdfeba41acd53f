import { readFile } from 'node:fs/promises';

/** A process's resident set in bytes (VmRSS in /proc/<pid>/status), or undefined off Linux or once it is gone. */
export async function residentBytesOf(pid: number): Promise<number | undefined> {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
