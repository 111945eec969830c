/**
 * Dashboards loading seven days over and over, in a process of their own at the lowest CPU priority, for the
 * history bench's ingest-under-load figure. Dashboards run on their users' machines, not on the collector's; here
 * they share its two cores, so this process (which drives the pages and parses the browser's protocol traffic)
 * and its Chromium take only the CPU the collector and the ingest probe leave (see yieldCpu).
 *
 * Forked by bench/history.ts: the first message ({@link DashboardLoad}) opens the pages; `{ started, applied }` is
 * answered once each has begun loading; the next message stops them, answered with `{ navigations }`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from '../web/test/browser/chromium.ts';

/** What to load: `dashboards` pages on the collector at `url`, cycling the timeline, Shutdowns and Functions. */
export interface DashboardLoad {
  url: string;
  dashboards: number;
}

const VIEWS = ['', 'view=shutdowns&', 'view=functions&'];
/** The CPU cgroup this process moves into where it may (root); bench/history.ts removes it afterwards. */
export const DASHBOARD_CGROUPS = [
  { dir: '/sys/fs/cgroup/lifeline-bench-dashboards', weight: 'cpu.weight', value: '1' },
  { dir: '/sys/fs/cgroup/cpu/lifeline-bench-dashboards', weight: 'cpu.shares', value: '2' },
];

/**
 * Takes this process and every process it starts later (Chromium) to the lowest CPU share it can. Niceness alone
 * is not enough where Chromium runs as root: it raises its own browser and GPU processes to -8 and renderers back
 * to 0 (observed with ps), so it competed with the collector at normal priority. A CPU cgroup of the smallest
 * weight (cgroup v2 `cpu.weight`, v1 `cpu.shares`) holds them all; without one, niceness 19 is what is left.
 * Returns what was applied, for the bench's log.
 */
function yieldCpu(): string {
  setPriority(19);
  for (const { dir, weight, value } of DASHBOARD_CGROUPS) {
    try {
      // mkdir alone proves nothing: where /sys/fs/cgroup is a plain tmpfs holding v1 hierarchies, it succeeds.
      if (
        !existsSync(join(dir, '..', weight === 'cpu.weight' ? 'cgroup.controllers' : 'cpu.shares'))
      )
        continue;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, weight), value);
      writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
      const joined = readFileSync('/proc/self/cgroup', 'utf8').includes(`/${basename(dir)}\n`);
      if (joined) return `CPU cgroup ${dir} (${weight} ${value})`;
    } catch {
      // Not this cgroup version, or not permitted.
    }
  }
  return 'niceness 19 only (no CPU cgroup could be made: Chromium may raise its own priority)';
}

// Only when forked (history.ts imports DASHBOARD_CGROUPS from here too).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.send !== undefined) {
  const send = process.send.bind(process);
  const applied = yieldCpu();
  process.once('message', async ({ url, dashboards }: DashboardLoad) => {
    const browser = await launchChromium();
    const pages = await Promise.all(
      Array.from({ length: dashboards }, () =>
        browser.newPage({ viewport: { width: 1280, height: 800 } }),
      ),
    );
    let loading = true;
    let navigations = 0;
    process.once('message', () => {
      loading = false;
    });
    const loads = pages.map(async (page, i) => {
      for (let round = 0; loading; round++) {
        await page.goto(`${url}/?${VIEWS[(i + round) % VIEWS.length]}range=7d`);
        navigations += 1;
        await page.waitForTimeout(200);
      }
    });
    send({ started: true, applied });
    await Promise.allSettled(loads);
    await browser.close();
    send({ navigations }, () => process.exit(0));
  });
}
