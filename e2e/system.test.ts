/**
 * The whole system, end to end: a fresh collector process, the emulator running the real built layer, and headless
 * Chromium on the dashboard. What the dashboard shows (lanes, invokes, shutdown reasons and timings) must equal what
 * the emulator's event log says happened.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type EmulatorLogEntry, type InvokeOptions, Sandbox } from '@lifeline/emulator';
import type { Page as ApiPage, Environment, Shutdown } from '@lifeline/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDuration } from '../web/src/timeline/time-scale.ts';
import { launchChromium } from '../web/test/browser/chromium.ts';
import {
  type CollectorProcess,
  startCollectorProcess,
  tempDir,
} from '../web/test/browser/collector-process.ts';
import { environmentsFromLog, type TrueEnvironment } from './emulator-truth.ts';

const ROOT = resolve(import.meta.dirname, '..');
const EXTENSIONS_DIR = resolve(ROOT, 'extension/dist/layer/extensions');
const ARTIFACTS = resolve(ROOT, 'artifacts/screenshots');
const short = (id: string) => `${id.slice(0, 8)}…`;

/** Each scenario produces one shutdown reason through the mechanism itself (not a label). */
const SCENARIOS: Array<{
  functionName: string;
  timeoutMs: number;
  run: (sandbox: Sandbox, invoke: (options: InvokeOptions) => Promise<void>) => Promise<void>;
}> = [
  {
    functionName: 'e2e-steady',
    timeoutMs: 3000,
    run: async (sandbox, invoke) => {
      for (const durationMs of [40, 120, 15, 260, 60, 90, 25, 180, 45, 70])
        await invoke({ durationMs });
      await sandbox.shutdown('spindown');
    },
  },
  {
    functionName: 'e2e-timeout',
    timeoutMs: 700,
    run: async (sandbox, invoke) => {
      await invoke({ durationMs: 30 });
      await invoke({ outcome: 'timeout' }); // reset: SHUTDOWN timeout, next invoke re-inits
      await invoke({ durationMs: 20 });
      await sandbox.shutdown('spindown');
    },
  },
  {
    functionName: 'e2e-crash',
    timeoutMs: 3000,
    run: async (sandbox, invoke) => {
      await invoke({ durationMs: 25, outcome: 'error' });
      await invoke({ durationMs: 10, outcome: 'crash' }); // reset: SHUTDOWN failure
      await invoke({ durationMs: 10 });
      await sandbox.shutdown('spindown');
    },
  },
];

describe('Lifeline end to end', () => {
  const temp = tempDir('lifeline-e2e-');
  let collector: CollectorProcess;
  let browser: Browser;
  let page: Page;
  const log: EmulatorLogEntry[] = [];
  const functionOfSandbox = new Map<string, string>();
  /** requestId → the status the platform reports for it (a runtime crash is `error`, Runtime.ExitError). */
  const statusOf = new Map<string, string>();
  let truth: TrueEnvironment[] = [];

  beforeAll(async () => {
    if (
      !existsSync(resolve(EXTENSIONS_DIR, 'lifeline')) ||
      !existsSync(resolve(ROOT, 'web/dist/index.html'))
    ) {
      throw new Error(
        'the layer or the dashboard is not built: run `npm run build` first (npm test does)',
      );
    }
    collector = await startCollectorProcess({ dbPath: resolve(temp.dir, 'lifeline.db') });
    // The three functions run concurrently, like real traffic; each sandbox freezes between invokes.
    await Promise.all(
      SCENARIOS.map(async (scenario) => {
        const sandbox = new Sandbox({
          extensionsDir: EXTENSIONS_DIR,
          functionName: scenario.functionName,
          timeoutMs: scenario.timeoutMs,
          freeze: true,
          tmpDir: resolve(temp.dir, scenario.functionName),
          env: { LIFELINE_COLLECTOR_URL: collector.url, LIFELINE_LOG_LEVEL: 'warn' },
          onLog: (entry) => {
            functionOfSandbox.set(entry.sandboxId, scenario.functionName);
            log.push(entry);
          },
        });
        try {
          await scenario.run(sandbox, async (options) => {
            const result = await sandbox.invoke(options);
            statusOf.set(result.requestId, result.status === 'failure' ? 'error' : result.status);
          });
        } finally {
          await sandbox.close();
        }
      }),
    );
    truth = environmentsFromLog(log, (sandboxId) => functionOfSandbox.get(sandboxId) ?? '?');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await collector?.stop();
    temp.remove();
  });

  it('runs the scenarios the emulator says it ran', () => {
    // Two environments for each function that was reset (the re-init registers anew), one for the steady one.
    expect(truth.map((env) => env.functionName).sort()).toEqual([
      'e2e-crash',
      'e2e-crash',
      'e2e-steady',
      'e2e-timeout',
      'e2e-timeout',
    ]);
    expect(truth.map((env) => env.shutdownReason).sort()).toEqual([
      'failure',
      'spindown',
      'spindown',
      'spindown',
      'timeout',
    ]);
    // The extension exited by itself after every SHUTDOWN, before the deadline, whatever the reason.
    for (const env of truth) expect(env.exitCode, `${env.functionName} ${env.envId}`).toBe(0);
  });

  it('stores every environment with no missing event', async () => {
    const environments = await waitFor(async () => {
      const page = (await getJson(
        `${collector.url}/v1/environments?limit=100`,
      )) as ApiPage<Environment>;
      return page.items.length === truth.length && page.items.every((e) => e.state === 'ended')
        ? page.items
        : undefined;
    });
    for (const env of truth) {
      const stored = environments.find((e) => e.envId === env.envId);
      expect(stored, env.envId).toBeDefined();
      expect(stored).toMatchObject({
        functionName: env.functionName,
        invokeCount: env.requestIds.length,
        missingEvents: 0,
        droppedEvents: 0,
        shutdown: { reason: env.shutdownReason, deadlineMs: env.shutdownDeadlineMs },
      });
    }
  });

  it('draws one lane per environment with its invokes and shutdown reason', async () => {
    await page.goto(`${collector.url}/`);
    // The dashboard is live: history streams in over the socket, so poll until it has settled on the truth.
    const labels = (selector: string) =>
      page
        .locator(selector)
        .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('aria-label') ?? '').sort());
    const expectedLanes = truth
      .map((env) => {
        const n = env.requestIds.length;
        return `Environment ${short(env.envId)} ${env.functionName} ended, ${n} invoke${n === 1 ? '' : 's'}, shutdown ${env.shutdownReason}`;
      })
      .sort();
    await expect
      .poll(() => labels('[aria-label^="Environment "]'), { timeout: 30_000 })
      .toEqual(expectedLanes);
    // Every invoke is drawn once, with the outcome the emulator produced (no invoke is left "running").
    const expectedInvokes = truth
      .flatMap((env) => env.requestIds.map((id) => `${short(id)} ${statusOf.get(id)}`))
      .sort();
    const drawnInvokes = async () =>
      (await labels('[aria-label^="Invoke "]'))
        .map((label) => {
          const [, id, ...rest] = label.replace(/ near timeout$/, '').split(' ');
          return `${id} ${rest.at(-1)}`;
        })
        .sort();
    await expect.poll(drawnInvokes, { timeout: 30_000 }).toEqual(expectedInvokes);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.getByRole('button', { name: 'Fit' }).click();
    await page.screenshot({ path: resolve(ARTIFACTS, 'e2e-timeline.png') });
  });

  it('shows the shutdown timings the events say', async () => {
    const shutdowns = (await getJson(
      `${collector.url}/v1/shutdowns?limit=100`,
    )) as ApiPage<Shutdown>;
    for (const env of truth) {
      const row = shutdowns.items.find((s) => s.envId === env.envId);
      expect(row, env.envId).toMatchObject({
        reason: env.shutdownReason,
        invokes: env.requestIds.length,
      });
      // The budget is the deadline the emulator sent minus when the extension received SHUTDOWN: at most 2 s.
      expect(row!.budgetMs).toBeGreaterThan(1500);
      expect(row!.budgetMs).toBeLessThanOrEqual(2000);
      expect(row!.shutdownDurationMs).not.toBeNull();
      expect(row!.shutdownDurationMs!).toBeLessThan(row!.budgetMs);
    }
    await page.getByRole('tab', { name: /shutdowns/i }).click();
    const table = page.getByRole('table', { name: 'Shutdowns' });
    await expect
      .poll(() => table.locator('tbody tr').count(), { timeout: 20_000 })
      .toBe(truth.length);
    for (const env of truth) {
      const cells = await table
        .locator(`tbody tr[data-env="${env.envId}"] td`)
        .evaluateAll((nodes) => nodes.map((n) => n.textContent?.trim() ?? ''));
      // Columns: shutdown at, environment, function, reason, shutdown phase, budget used, idle, lifetime, invokes.
      expect(cells[2], env.envId).toContain(env.functionName);
      expect(cells[3], env.envId).toBe(env.shutdownReason);
      expect(cells[8], env.envId).toBe(String(env.requestIds.length));
      // The timings the dashboard derives itself equal the collector's, which the events determine.
      const api = shutdowns.items.find((s) => s.envId === env.envId)!;
      expect(cells[4], env.envId).toBe(
        `${formatDuration(api.shutdownDurationMs)} / ${formatDuration(api.budgetMs)}`,
      );
      expect(cells[5], env.envId).toBe(`${api.budgetUsedPct!.toFixed(1)} %`);
      expect(cells[6], env.envId).toBe(formatDuration(api.idleMs));
      expect(cells[7], env.envId).toBe(formatDuration(api.lifetimeMs));
    }
    await page.screenshot({ path: resolve(ARTIFACTS, 'e2e-shutdowns.png'), fullPage: true });
  });
});

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** Polls until `probe` returns a value (the extension delivers asynchronously), for at most 30 s. */
async function waitFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting for the collector');
    await new Promise((r) => setTimeout(r, 200));
  }
}
