import { exampleLifecycle, type LifelineEvent, type ShutdownStats } from '@lifeline/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ingest, until } from './browser-helpers.ts';
import { launchChromium } from './chromium.ts';
import { type CollectorProcess, startCollectorProcess, tempDir } from './collector-process.ts';

/**
 * The dashboard against a real collector holding three days of history: it opens on now and follows live, a
 * relative range survives a reload, a shared absolute range shows that range, and the Shutdowns total for 7 days
 * equals the collector's.
 */

const HOUR = 3_600_000;
const FUNCTIONS = ['orders', 'billing', 'search'];
let browser: Browser;
let collector: CollectorProcess;
let removeDir: () => void;
const now = Date.now();

/** Environments of the history: every function, one environment every 2 hours for 3 days, each living 1 hour. */
function history(): { events: LifelineEvent[]; ended: string[]; current: string[] } {
  const events: LifelineEvent[] = [];
  const ended: string[] = [];
  const current: string[] = [];
  for (const [f, functionName] of FUNCTIONS.entries()) {
    for (let hoursAgo = 72; hoursAgo >= 2; hoursAgo -= 2) {
      const envId = `hist-${functionName}-${hoursAgo}h`;
      ended.push(envId);
      events.push(
        ...exampleLifecycle({
          envId,
          functionName,
          startAt: now - hoursAgo * HOUR + f * 60_000,
          invokes: 5,
          gapMs: 10 * 60_000,
          shutdownReason: hoursAgo % 6 === 0 ? 'timeout' : 'spindown',
        }),
      );
    }
    const envId = `now-${functionName}`;
    current.push(envId);
    events.push(
      ...exampleLifecycle({
        envId,
        functionName,
        startAt: now - 5 * 60_000,
        invokes: 3,
        gapMs: 30_000,
      }),
    );
  }
  return { events, ended, current };
}

const HISTORY = history();

beforeAll(async () => {
  const dir = tempDir('lifeline-history-');
  removeDir = dir.remove;
  collector = await startCollectorProcess({ dbPath: `${dir.dir}/history.db` });
  await ingest(collector.url, HISTORY.events);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await collector?.stop();
  removeDir?.();
});

async function openPage(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  onTestFinished(() => page.close());
  await page.goto(`${collector.url}${path}`);
  return page;
}

/** The environments the dashboard holds (its store's lanes). */
function laneIds(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...(window.__lifeline?.store.getSnapshot().lanes.keys() ?? [])].sort(),
  );
}

describe('dashboard over days of history', () => {
  it('opens on now: the last 15 minutes, following live, without the old environments', async () => {
    const page = await openPage('/');
    const lanes = await until(
      () => laneIds(page),
      (ids) => HISTORY.current.every((id) => ids.includes(id)),
      'the current environments',
    );
    expect(lanes.filter((id) => id.startsWith('hist-'))).toEqual([]);
    await until(
      () => page.locator('.conn').getAttribute('data-status'),
      (status) => status === 'open',
      'live',
    );
    expect(new URL(page.url()).search).toBe('');

    // Following live: a new environment appears without a reload.
    await ingest(
      collector.url,
      exampleLifecycle({
        envId: 'live-new',
        functionName: 'orders',
        startAt: Date.now(),
        invokes: 1,
      }),
    );
    await until(
      () => laneIds(page),
      (ids) => ids.includes('live-new'),
      'the new environment',
    );
  });

  it('keeps a relative range relative across a reload', async () => {
    const page = await openPage('/?range=6h');
    const inSix = (ids: string[]) =>
      ids.includes('hist-orders-4h') && !ids.includes('hist-orders-12h');
    await until(() => laneIds(page), inSix, 'the last 6 hours');
    await page.reload();
    expect(new URL(page.url()).searchParams.get('range')).toBe('6h');
    await until(() => laneIds(page), inSix, 'the last 6 hours after a reload');
  });

  it('shows exactly a shared absolute range', async () => {
    const from = new Date(now - 49 * HOUR).toISOString();
    const to = new Date(now - 47 * HOUR).toISOString();
    const page = await openPage(`/?from=${from}&to=${to}`);
    const lanes = await until(
      () => laneIds(page),
      (ids) => ids.includes('hist-orders-48h'),
      'the shared range',
    );
    // Environments of the range: the ones alive at some point in [from, to].
    for (const id of lanes) expect(id).toMatch(/^hist-.*-(48|50)h$/);
    expect(lanes).not.toContain('now-orders');
    const params = new URL(page.url()).searchParams;
    expect(params.get('from')).toBe(from);
    expect(params.get('to')).toBe(to);
  });

  it("shows the collector's Shutdowns total for 7 days", async () => {
    const page = await openPage('/?view=shutdowns&range=7d');
    const shown = await until(
      () => page.locator('[data-total]').first().getAttribute('data-total'),
      (total) => total !== null,
      'the Shutdowns total',
    );
    const to = Date.now();
    const res = await fetch(
      `${collector.url}/v1/stats/shutdowns?from=${to - 7 * 24 * HOUR}&to=${to}`,
    );
    const stats = (await res.json()) as ShutdownStats;
    expect(stats.total).toBe(HISTORY.ended.length);
    expect(Number(shown)).toBe(stats.total);
  });
});
