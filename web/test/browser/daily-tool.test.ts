import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LifelineEvent, SearchResult, Series } from '@lifeline/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { summarizeSeries } from '../../src/timeline/series-scale.ts';
import { ingest, laneNames, until } from './browser-helpers.ts';
import { launchChromium } from './chromium.ts';
import { type CollectorProcess, startCollectorProcess, tempDir } from './collector-process.ts';
import { demoFleet } from './demo-data.ts';

/** Screenshots of every view, light and dark, wide and narrow, for the README. */
const IMAGES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/images');

const NOW = Date.now();
const TRACE_ROOT = '1-6766a1b2-0123456789abcdef01234567';
/** One invoke with a trace id of its own, so a trace search has exactly one match. */
const TRACED: LifelineEvent[] = [
  {
    id: 'c0ffee2a-4b1d-4c2e-9f00-000000000002:9001',
    envId: 'c0ffee2a-4b1d-4c2e-9f00-000000000002',
    seq: 9001,
    time: NOW - 30_000,
    type: 'invoke',
    requestId: 'traced-request-0001',
    deadlineMs: NOW - 27_000,
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:checkout-api',
    traceId: `Root=${TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1`,
  },
];
const EVENTS = [...demoFleet(NOW), ...TRACED];

let browser: Browser;
let collector: CollectorProcess;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  mkdirSync(IMAGES, { recursive: true });
  tmp = tempDir();
  browser = await launchChromium();
  collector = await startCollectorProcess({ dbPath: join(tmp.dir, 'lifeline.db') });
  await ingest(collector.url, EVENTS);
});
afterAll(async () => {
  await browser?.close();
  await collector?.stop();
  tmp?.remove();
});

/** A page in a fresh browser context: no storage, no history (an "empty tab"). */
async function freshPage(width = 1440, height = 900): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  onTestFinished(() => context.close());
  return context.newPage();
}

async function search(page: Page, id: string): Promise<void> {
  const box = page.getByRole('searchbox', { name: /Find a request/ });
  await box.fill(id);
  await box.press('Enter');
}

function details(page: Page) {
  return page.getByRole('complementary', { name: 'Details' });
}

async function collectorJson<T>(path: string): Promise<T> {
  const res = await fetch(`${collector.url}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

describe('search', () => {
  it('opens a request id from an empty tab, in view, with q= in the URL', async () => {
    const page = await freshPage();
    await page.goto(`${collector.url}/`);
    await search(page, 'a11ce001-req-6');
    await details(page).getByRole('heading', { name: 'Invoke a11ce001-req-6' }).waitFor();
    const url = new URL(page.url());
    expect(url.searchParams.get('q')).toBe('a11ce001-req-6');
    expect(url.searchParams.get('env')).toBe('a11ce001-77aa-4d3e-8c1b-000000000001');
    // The match's environment has a lane and the invoke is one of the drawn targets.
    await page
      .getByRole('button', { name: /^Invoke a11ce001… .* timeout$/ })
      .first()
      .waitFor();
  });

  it('opens an environment id from an empty tab', async () => {
    const page = await freshPage();
    await page.goto(`${collector.url}/`);
    await search(page, 'beef0001-1234-4abc-8def-000000000009');
    await details(page)
      .getByRole('heading', { name: 'Environment beef0001-1234-4abc-8def-000000000009' })
      .waitFor();
    await page.getByRole('button', { name: /^Environment beef0001… nightly-report/ }).waitFor();
  });

  it('lists both environments of a sandbox id and opens the one chosen', async () => {
    const page = await freshPage();
    await page.goto(`${collector.url}/`);
    await search(page, 'sandbox-7f3a');
    const results = page.getByRole('status').filter({ hasText: '2 matches' });
    await results.waitFor();
    await results.getByRole('button', { name: /a11ce002/ }).click();
    await details(page)
      .getByRole('heading', { name: 'Environment a11ce002-77aa-4d3e-8c1b-000000000002' })
      .waitFor();
    // "Replaces" names the environment the sandbox ran before.
    await details(page)
      .getByRole('button', { name: 'a11ce001-77aa-4d3e-8c1b-000000000001' })
      .waitFor();
  });

  it('opens a trace id from a shared link', async () => {
    const page = await freshPage();
    await page.goto(
      `${collector.url}/?q=${encodeURIComponent(`Root=${TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1`)}`,
    );
    const panel = details(page);
    await panel.getByRole('heading', { name: 'Invoke traced-request-0001' }).waitFor();
    const xray = await panel.getByRole('link', { name: /X-Ray trace/ }).getAttribute('href');
    expect(xray).toBe(
      `https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#xray:traces/${TRACE_ROOT}`,
    );
    const logs = await panel.getByRole('link', { name: /Logs Insights/ }).getAttribute('href');
    expect(logs).toContain('*2faws*2flambda*2fcheckout-api');
    expect(logs).toContain('traced-request-0001');
    // The bare root id, as users copy it from X-Ray, finds the same invoke.
    const fresh = await freshPage();
    await fresh.goto(`${collector.url}/`);
    await search(fresh, TRACE_ROOT);
    await details(fresh).getByRole('heading', { name: 'Invoke traced-request-0001' }).waitFor();
  });

  it('asks the collector, not the tab: the answer equals /v1/search', async () => {
    const answer = await collectorJson<SearchResult>('/v1/search?q=sandbox-7f3a');
    expect(answer.matches.map((m) => m.envId).sort()).toEqual([
      'a11ce001-77aa-4d3e-8c1b-000000000001',
      'a11ce002-77aa-4d3e-8c1b-000000000002',
    ]);
  });
});

describe('hover card', () => {
  it('shows status, duration and deadline headroom of the invoke under the pointer', async () => {
    const page = await freshPage();
    await page.goto(`${collector.url}/`);
    const target = page
      .getByRole('button', { name: /^Invoke a11ce001… [\d.]+ s timeout$/ })
      .first();
    await target.waitFor();
    const box = (await target.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const card = page.getByRole('tooltip');
    await card.waitFor();
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('Invoke a11ce001');
    expect(text).toMatch(/Status\s*timeout/);
    expect(text).toMatch(/Duration\s*5\.00 s/);
    expect(text).toMatch(/Headroom/);
    // Off the bars, the lane's card: its state and how it started.
    const label = page.getByRole('button', { name: /^Environment beef0001…/ });
    const lb = (await label.boundingBox())!;
    await page.mouse.move(lb.x + lb.width / 2, lb.y + lb.height / 2);
    await until(
      async () => (await card.textContent()) ?? '',
      (t) => t.includes('Environment beef0001') && t.includes('Started by'),
      'lane card',
    );
  });
});

describe('time-series strip', () => {
  it('shows the figures the collector computes for the visible range', async () => {
    const page = await freshPage();
    await page.goto(`${collector.url}/`);
    const strip = page.locator('section.series-strip');
    const from = await until(
      () => strip.getAttribute('data-from'),
      (v) => v !== null && v !== '',
      'series loaded',
    );
    const to = await strip.getAttribute('data-to');
    const series = await collectorJson<Series>(`/v1/series?from=${from}&to=${to}`);
    const expected = summarizeSeries(series.buckets);
    expect(expected.invokes).toBeGreaterThan(0);
    const shown = async () => ({
      peakAlive: Number(await strip.getAttribute('data-peak-alive')),
      coldStarts: Number(await strip.getAttribute('data-cold-starts')),
      invokes: Number(await strip.getAttribute('data-invokes')),
      errors: Number(await strip.getAttribute('data-errors')),
      timeouts: Number(await strip.getAttribute('data-timeouts')),
    });
    // The page may have asked again since (following live): compare against the same range.
    expect(await shown()).toEqual(expected);
  });
});

describe('show on timeline', () => {
  it('goes from a shutdown row to the environment on the timeline', async () => {
    const page = await freshPage();
    await page.goto(`${collector.url}/?view=shutdowns&range=1h`);
    const envId = 'beef0001-1234-4abc-8def-000000000009';
    await page.getByRole('button', { name: `Show environment ${envId} on the timeline` }).click();
    await details(page)
      .getByRole('heading', { name: `Environment ${envId}` })
      .waitFor();
    const url = new URL(page.url());
    expect(url.searchParams.get('view')).toBeNull();
    expect(url.searchParams.get('env')).toBe(envId);
    expect(url.searchParams.get('from')).not.toBeNull();
    const lane = page.locator('li.row[data-selected="true"]');
    await lane.waitFor();
    expect(await lane.getByRole('button', { name: /^Environment beef0001/ }).count()).toBe(1);
  });

  it('goes from a function row to its environments on the timeline', async () => {
    const page = await freshPage();
    await page.goto(`${collector.url}/?view=functions`);
    await page.getByRole('button', { name: 'Show image-resizer on the timeline' }).click();
    await until(
      () => laneNames(page),
      (n) => n.length === 2 && n.every((l) => l.includes('image-resizer')),
      'image-resizer lanes',
    );
    expect(new URL(page.url()).searchParams.get('fn')).toBe('image-resizer');
  });
});

describe('narrow screens', () => {
  it('fits every view in 800 × 800 without sideways scrolling, details panel included', async () => {
    const page = await freshPage(800, 800);
    const overflow = () =>
      page.evaluate(() => {
        const wide: string[] = [];
        for (const el of [
          document.documentElement,
          ...document.querySelectorAll('.scroll, .view, main, header'),
        ]) {
          if (el.scrollWidth > el.clientWidth + 1)
            wide.push(`${el.className || el.tagName} ${el.scrollWidth}>${el.clientWidth}`);
        }
        return wide;
      });
    for (const view of ['timeline', 'shutdowns', 'functions']) {
      await page.goto(`${collector.url}/?view=${view}`);
      await page.waitForSelector(
        view === 'timeline' ? '.timeline[data-drawn-lanes]' : 'table.data tbody tr',
      );
      expect(await overflow(), view).toEqual([]);
    }
    await page.goto(`${collector.url}/`);
    await page.getByRole('button', { name: /^Environment beef0001…/ }).click();
    await details(page).waitFor();
    expect(await overflow(), 'timeline with details').toEqual([]);
    // The lanes keep most of the width: the panel floats over them instead of squeezing them.
    const canvas = await page.locator('.lanes-canvas').boundingBox();
    expect(canvas!.width).toBeGreaterThan(500);
  });
});

describe('screenshots', () => {
  it('saves every view in light and dark, 1440 and 800 wide', async () => {
    for (const width of [1440, 800]) {
      for (const scheme of ['light', 'dark'] as const) {
        const context = await browser.newContext({
          viewport: { width, height: 860 },
          colorScheme: scheme,
        });
        const page = await context.newPage();
        for (const view of ['timeline', 'shutdowns', 'functions']) {
          await page.goto(`${collector.url}/?view=${view}`);
          await page.waitForSelector(
            view === 'timeline' ? '.timeline[data-drawn-lanes]' : 'table.data tbody tr',
          );
          await page.waitForSelector('.progress:not(:has-text("Loading"))');
          await page.screenshot({ path: join(IMAGES, `${view}-${scheme}-${width}.png`) });
        }
        await page.goto(`${collector.url}/?q=a11ce001-req-2`);
        await details(page).getByRole('heading', { name: 'Invoke a11ce001-req-2' }).waitFor();
        await page.screenshot({ path: join(IMAGES, `details-${scheme}-${width}.png`) });
        await context.close();
      }
    }
  }, 300_000);
});
