import { readFileSync } from 'node:fs';

/**
 * Sum of the peak resident set sizes (VmHWM, Linux) of `pids`, in whole MB; undefined where /proc is unavailable.
 */
export function peakMemoryMb(pids: readonly number[]): number | undefined {
  let totalKb = 0;
  let found = false;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const match = /VmHWM:\s+(\d+)\s+kB/.exec(status);
      if (match) {
        totalKb += Number(match[1]);
        found = true;
      }
    } catch {
      // The process is gone or /proc does not exist.
    }
  }
  return found ? Math.ceil(totalKb / 1024) : undefined;
}
