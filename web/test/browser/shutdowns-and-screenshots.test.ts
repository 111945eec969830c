import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page as ApiPage, Shutdown } from '@lifeline/protocol';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reasonKind } from '../../src/timeline/lane-state.ts';
import { formatDuration } from '../../src/timeline/time-scale.ts';
import { ingest, invokeNames, laneNames, until } from './browser-helpers.ts';
import { launchChromium } from './chromium.ts';
import { type CollectorProcess, startCollectorProcess, tempDir } from './collector-process.ts';
import { demoFleet } from './demo-data.ts';

const SCREENSHOTS = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../artifacts/screenshots',
);

let browser: Browser;
let collector: CollectorProcess;
let tmp: ReturnType<typeof tempDir>;
const events = demoFleet(Date.now());

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  tmp = tempDir();
  browser = await launchChromium();
  collector = await startCollectorProcess({ dbPath: join(tmp.dir, 'lifeline.db') });
  await ingest(collector.url, events);
});
afterAll(async () => {
  await browser?.close();
  await collector?.stop();
  tmp?.remove();
});

async function collectorShutdowns(): Promise<Shutdown[]> {
  const res = await fetch(`${collector.url}/v1/shutdowns?limit=1000`);
  expect(res.status).toBe(200);
  return ((await res.json()) as ApiPage<Shutdown>).items;
}

describe('shutdown view', () => {
  it('shows the same numbers as the ingested data', async () => {
    const expected = await collectorShutdowns();
    const ingestedShutdowns = events.filter((e) => e.type === 'shutdown');
    expect(expected).toHaveLength(ingestedShutdowns.length);
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${collector.url}/?view=shutdowns`);
    const rows = await until(
      () => page.locator('table[aria-label="Shutdowns"] tbody tr').count(),
      (n) => n === expected.length,
      'one table row per shutdown',
    );
    expect(rows).toBe(ingestedShutdowns.length);
    // Per-reason counts in the cards.
    const all = page.locator('section[data-reason="all"] [data-figure="count"]');
    expect(await all.textContent()).toBe(String(expected.length));
    for (const kind of ['spindown', 'timeout', 'failure'] as const) {
      const n = expected.filter((s) => reasonKind(s.reason) === kind).length;
      const card = page.locator(`section[data-reason="${kind}"] [data-figure="count"]`);
      if (n === 0) expect(await card.count()).toBe(0);
      else expect(await card.textContent()).toBe(String(n));
    }
    // Every row: shutdown phase, budget used, idle time, lifetime and invokes as the collector derived them.
    for (const s of expected) {
      const cells = await page.locator(`tr[data-env="${s.envId}"] td`).allTextContents();
      expect(cells[3]).toBe(s.reason);
      expect(cells[4]).toBe(
        `${formatDuration(s.shutdownDurationMs)} / ${formatDuration(s.budgetMs)}`,
      );
      expect(cells[5]).toBe(s.budgetUsedPct === null ? '—' : `${s.budgetUsedPct.toFixed(1)} %`);
      // Idle before means something only for a spindown.
      expect(cells[6]).toBe(reasonKind(s.reason) === 'spindown' ? formatDuration(s.idleMs) : '—');
      expect(cells[7]).toBe(formatDuration(s.lifetimeMs));
      expect(cells[8]).toBe(String(s.invokes));
    }
    // Filter by reason through the URL: only those rows remain.
    await page.goto(`${collector.url}/?view=shutdowns&reason=spindown`);
    const spindowns = expected.filter((s) => reasonKind(s.reason) === 'spindown').length;
    await until(
      () => page.locator('table[aria-label="Shutdowns"] tbody tr').count(),
      (n) => n === spindowns,
      'filtered rows',
    );
    await page.goto(`${collector.url}/?view=shutdowns`);
    await page.locator('table[aria-label="Shutdowns"] tbody tr').first().waitFor();
    for (const scheme of ['dark', 'light'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(SCREENSHOTS, `shutdowns-${scheme}.png`), fullPage: true });
    }
    await page.close();
  });
});

describe('timeline', () => {
  it('draws every environment and invoke with an accessible name and saves screenshots', async () => {
    const lanesExpected = new Set(events.map((e) => e.envId)).size;
    const invokesExpected = events.filter((e) => e.type === 'invoke').length;
    for (const scheme of ['dark', 'light'] as const) {
      const page = await browser.newPage({
        viewport: { width: 1440, height: 760 },
        colorScheme: scheme,
      });
      await page.goto(`${collector.url}/`);
      await until(
        () => laneNames(page),
        (n) => n.length === lanesExpected,
        'all lanes',
      );
      await until(
        () => invokeNames(page),
        (n) => n.length === invokesExpected,
        'all invokes',
      );
      await page.waitForFunction(
        () => Number(document.querySelector('.timeline')?.getAttribute('data-drawn-lanes')) > 0,
      );
      await page.screenshot({ path: join(SCREENSHOTS, `timeline-${scheme}.png`) });
      if (scheme === 'dark') {
        // Details: click an invoke, see its request id and the raw events.
        const target = page.getByRole('button', { name: /^Invoke a11ce001… [\d.]+ s timeout$/ });
        await target.click();
        const panel = page.getByRole('complementary', { name: 'Details' });
        await panel.getByText('timeout (Sandbox.Timeout)').waitFor();
        expect(await panel.textContent()).toContain(
          'arn:aws:lambda:eu-west-1:123456789012:function:image-resizer',
        );
        expect(page.url()).toContain('req=');
        await page.screenshot({ path: join(SCREENSHOTS, 'timeline-details-dark.png') });
        await panel.getByRole('button', { name: 'Environment', exact: true }).click();
        await panel.getByText(/^Invokes \(7\)/).waitFor();
        expect(page.url()).not.toContain('req=');
        await page.screenshot({ path: join(SCREENSHOTS, 'timeline-env-details-dark.png') });
      }
      await page.close();
    }
  });
});

describe('function overview', () => {
  it('lists each function with environments alive, cold starts and timeouts', async () => {
    const page = await browser.newPage({
      viewport: { width: 1440, height: 600 },
      colorScheme: 'dark',
    });
    await page.goto(`${collector.url}/?view=functions`);
    const row = page.locator('tr[data-function="image-resizer"] td');
    await row.first().waitFor();
    const cells = await row.allTextContents();
    // Two environments (one re-initialised after a timeout), one alive, one timeout invoke.
    expect(cells[2]).toBe('1');
    expect(cells[3]).toBe('2');
    expect(cells[4]).toBe('2');
    expect(cells[9]).toBe('1');
    await page.screenshot({ path: join(SCREENSHOTS, 'functions-dark.png') });
    await page.close();
  });
});
