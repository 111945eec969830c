import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CPU_CGROUPS = '/sys/fs/cgroup/cpu';

/**
 * Caps process `pid` at `cores` of CPU with a cgroup v1 CPU quota of its own, so a bench can make the collectors
 * the bottleneck on a machine too small to give the database cores of its own. Returns how to remove the cap (after
 * the process exited), or undefined where no such cgroup can be made (not root, no cgroup v1 CPU controller); the
 * bench then leaves the figure out.
 */
export function capCpu(pid: number, cores: number): (() => void) | undefined {
  const dir = join(CPU_CGROUPS, `lifeline-bench-collector-${pid}`);
  try {
    if (!existsSync(join(CPU_CGROUPS, 'cpu.cfs_quota_us'))) return undefined;
    mkdirSync(dir);
    writeFileSync(join(dir, 'cpu.cfs_period_us'), '100000');
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.round(cores * 100_000)));
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    if (
      !readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/lifeline-bench-collector-${pid}\n`)
    ) {
      throw new Error('not moved');
    }
  } catch {
    try {
      rmdirSync(dir);
    } catch {
      // Never made.
    }
    return undefined;
  }
  return () => {
    try {
      rmdirSync(dir);
    } catch {
      // Still in use or already gone: the cgroup is empty once its process exited, and harmless if left.
    }
  };
}
