import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exampleLifecycle, type LifelineEvent } from '@lifeline/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, invokeNames, until } from './browser-helpers.ts';
import { launchChromium } from './chromium.ts';
import { type CollectorProcess, startCollectorProcess, tempDir } from './collector-process.ts';

/**
 * A week of history on the timeline: a 7-day range is read and drawn as density (cells per environment, not
 * invocations), a cell tells on hover what it holds, and zooming into the last hour reads it invoke by invoke.
 */

const HOUR = 3_600_000;
const FUNCTIONS = ['orders', 'billing', 'search'];
const IMAGES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/images');
const now = Date.now();
let browser: Browser;
let collector: CollectorProcess;
let removeDir: () => void;

/** Every function: an environment every 12 hours for 7 days, each busy for 6 hours (an invoke every 5 minutes). */
function week(): { events: LifelineEvent[]; invokes: number } {
  const events: LifelineEvent[] = [];
  let invokes = 0;
  for (const [f, functionName] of FUNCTIONS.entries()) {
    for (let hoursAgo = 7 * 24 - 6; hoursAgo >= 12; hoursAgo -= 12) {
      events.push(
        ...exampleLifecycle({
          envId: `week-${functionName}-${hoursAgo}h`,
          functionName,
          startAt: now - hoursAgo * HOUR + f * 60_000,
          invokes: 72,
          gapMs: 5 * 60_000,
          statusOf: (i) => (i % 17 === 3 ? 'error' : i % 29 === 7 ? 'timeout' : 'success'),
          shutdownReason: 'spindown',
        }),
      );
      invokes += 72;
    }
    // Alive now: an invoke every 2 minutes for the last 50 minutes.
    events.push(
      ...exampleLifecycle({
        envId: `now-${functionName}`,
        functionName,
        startAt: now - 50 * 60_000,
        invokes: 24,
        gapMs: 2 * 60_000,
      }),
    );
    invokes += 24;
  }
  return { events, invokes };
}

const WEEK = week();

beforeAll(async () => {
  const dir = tempDir('lifeline-long-');
  removeDir = dir.remove;
  collector = await startCollectorProcess({ dbPath: `${dir.dir}/week.db` });
  await ingest(collector.url, WEEK.events);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await collector?.stop();
  removeDir?.();
});

interface LaneSummary {
  envId: string;
  step: number | null;
  cells: number;
  cellInvokes: number;
  held: number;
}

function lanes(page: Page): Promise<LaneSummary[]> {
  return page.evaluate(() =>
    [...(window.__lifeline?.store.getSnapshot().lanes.values() ?? [])].map((lane) => ({
      envId: lane.envId,
      step: lane.activity?.step ?? null,
      cells: lane.activity?.cells.length ?? 0,
      cellInvokes: lane.activity?.invokes ?? 0,
      held: lane.invokes.length,
    })),
  );
}

describe('long ranges on the timeline', () => {
  it('draws a week as dense lanes, tells what a cell holds, and shows invokes again zoomed into an hour', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${collector.url}/?range=7d`);
    const week = await until(
      () => lanes(page),
      (all) => all.length === WEEK.events.filter((e) => e.type === 'register').length,
      'every environment of the week',
    );
    // Dense: every lane holds cells on one grid (an hour per cell on a ~1,200 px lane: about 4 px) and a single
    // invoke one by one.
    expect(new Set(week.map((lane) => lane.step))).toEqual(new Set([HOUR]));
    expect(week.every((lane) => lane.cells > 0 && lane.held <= 1)).toBe(true);
    expect(week.reduce((sum, lane) => sum + lane.cellInvokes, 0)).toBe(WEEK.invokes);
    await until(
      () => page.locator('.timeline').getAttribute('data-drawn-lanes'),
      (drawn) => Number(drawn) > 5,
      'lanes drawn',
    );

    // Hover the busiest cell of a lane from mid-week: the card says its span and counts.
    const target = await page.evaluate(() => {
      const chart = document.querySelector<HTMLElement>('.lane-chart[data-env="week-billing-90h"]');
      const envId = chart?.dataset.env;
      const lane = envId ? window.__lifeline?.store.getSnapshot().lanes.get(envId) : undefined;
      if (!chart || !lane?.activity) return null;
      const cell = [...lane.activity.cells].sort((a, b) => b.invokes - a.invokes)[0]!;
      const rect = chart.getBoundingClientRect();
      // The followed window: the last 7 days, with 5 % of room after now.
      const span = 7 * 24 * 3_600_000;
      const end = Date.now() + span * 0.05;
      const start = end - span;
      const mid = (cell.bucket + 0.5) * lane.activity.step;
      return {
        x: rect.left + ((mid - start) / (end - start)) * rect.width,
        y: rect.top + rect.height / 2,
        invokes: cell.invokes,
      };
    });
    expect(target).not.toBeNull();
    await page.mouse.move(target!.x, target!.y);
    const card = page.locator('.hover-card');
    await until(
      () => card.textContent({ timeout: 2000 }).catch(() => ''),
      (text) => (text ?? '').includes('Span') && (text ?? '').includes('Timeouts'),
      'the cell hover card',
    );
    const text = (await card.textContent()) ?? '';
    expect(text).toContain(`${target!.invokes} invokes in `);
    expect(text).toMatch(/Span\d{4}-\d\d-\d\d \d\d:\d\d – \d\d:\d\d UTC/);
    await page.screenshot({ path: join(IMAGES, 'timeline-7d-dense-light-1440.png') });

    // Zoom into the last hour while following: the range becomes 1h and is read invoke by invoke.
    await page.mouse.move(10, 10);
    await page.locator('.timeline').focus();
    for (let i = 0; i < 13; i++) await page.keyboard.press('+');
    await until(
      () => Promise.resolve(new URL(page.url()).searchParams.get('range')),
      (range) => range === '1h',
      'the 1-hour range in the URL',
    );
    const hour = await until(
      () => lanes(page),
      (all) => all.length > 0 && all.every((lane) => lane.step === null),
      'the hour, detailed',
    );
    expect(hour.map((lane) => lane.envId).sort()).toEqual(FUNCTIONS.map((f) => `now-${f}`).sort());
    expect(hour.every((lane) => lane.held === 24)).toBe(true);
    const invokes = await until(
      () => invokeNames(page),
      (names) => names.length >= 24,
      'invoke targets of the hour',
    );
    expect(invokes[0]).toMatch(/^Invoke /);
    await page.close();
  });
});
