/**
 * Dashboard benchmark: headless Chromium (Debian's, or LIFELINE_CHROMIUM) loads the production build served by a real
 * collector; the fleet is injected through the dashboard's preload hook (an init script generates it in the page with
 * `exampleLifecycle`), not ingested, so the figures measure the dashboard, not ingest.
 *
 * Figures: time to first render (navigation start → first canvas frame with lanes, minus the in-page generation of
 * the synthetic events), and frame times while panning and zooming with scripted ctrl+wheel and drag input:
 * requestAnimationFrame intervals and the timeline's own draw time per frame. Baseline: a 10-environment fleet
 * measured the same way in the same run.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../web/test/browser/chromium.ts';
import { startCollectorProcess, tempDir } from '../web/test/browser/collector-process.ts';
import buildWebIfStale from '../web/test/browser/global-setup.ts';
import { percentile, runAlone } from './format.ts';
import type { BenchArea, BenchResult } from './result.ts';
import { historyFleet } from './web/history-fleet.ts';

const FULL = { environments: 1000, invokesPerEnvironment: 100 };
const SMALL = { environments: 10, invokesPerEnvironment: 10 };
const FIRST_RENDER_TARGET_MS = 1000;
const FRAME_TARGET_MS = 16;
const INTERACTION_ROUNDS = 3;
const SCREENSHOTS = join(import.meta.dirname, '../artifacts/screenshots');

/** The part of the dashboard's test hook (`window.__lifeline.store`) the benchmark reads. */
interface PageStore {
  getSnapshot(): { lanes: { size: number }; invokeCount: number };
}

interface Measured {
  firstRenderMs: number;
  generateMs: number;
  rafIntervals: number[];
  drawTimes: number[];
  lanes: number;
  invokes: number;
}

async function preloadScript(): Promise<string> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, 'web/fleet-preload.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

async function measure(
  browser: Browser,
  url: string,
  script: string,
  fleet: { environments: number; invokesPerEnvironment: number },
  screenshotDir?: string,
): Promise<Measured> {
  const page = await browser.newPage({
    viewport: { width: 1440, height: 900 },
    colorScheme: 'dark',
  });
  try {
    const params = { ...fleet, now: Date.now() };
    await page.addInitScript(
      `window.__LIFELINE_BENCH__ = ${JSON.stringify(params)}; window.__LIFELINE_PERF__ = [];`,
    );
    await page.addInitScript(script);
    // The whole hour in view, so every visible lane draws all its bars and accessible targets.
    const from = new Date(params.now - 61 * 60_000).toISOString();
    const to = new Date(params.now + 60_000).toISOString();
    await page.goto(`${url}/?live=0&from=${from}&to=${to}`);
    await page.waitForFunction(
      () => performance.getEntriesByName('lifeline:lanes-drawn').length > 0,
      null,
      {
        timeout: 120_000,
      },
    );
    const first = await page.evaluate(() => {
      const drawn = performance.getEntriesByName('lifeline:lanes-drawn')[0]!.startTime;
      const gen = performance.getEntriesByName('lifeline:bench-generate')[0]?.duration ?? 0;
      const hook = (window as unknown as { __lifeline: { store: PageStore } }).__lifeline;
      const snap = hook.store.getSnapshot();
      return { drawn, gen, lanes: snap.lanes.size, invokes: snap.invokeCount };
    });
    // Scripted input over the chart: zoom in and out (ctrl+wheel, as pinch arrives), then drag to pan.
    const box = (await page.locator('.lanes-scroll').boundingBox())!;
    const cx = box.x + box.width * 0.6;
    const cy = box.y + box.height * 0.4;
    await page.mouse.move(cx, cy);
    // A string, not a function: tsx's keepNames helpers do not exist in the page.
    await page.evaluate(`(() => {
      const intervals = [];
      window.__rafIntervals = intervals;
      window.__LIFELINE_PERF__.length = 0;
      let last = performance.now();
      const tick = (t) => {
        intervals.push(t - last);
        last = t;
        if (!window.__stopRaf) requestAnimationFrame(tick);
      };
      requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
    })()`);
    for (let round = 0; round < INTERACTION_ROUNDS; round++) {
      await page.keyboard.down('Control');
      for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -120);
      for (let i = 0; i < 12; i++) await page.mouse.wheel(0, 120);
      await page.keyboard.up('Control');
      await page.mouse.move(cx, cy);
      await page.mouse.down();
      await page.mouse.move(cx - 400, cy, { steps: 25 });
      await page.mouse.move(cx + 200, cy, { steps: 25 });
      await page.mouse.up();
    }
    const timings = await page.evaluate(() => {
      const w = window as unknown as {
        __stopRaf: boolean;
        __rafIntervals: number[];
        __LIFELINE_PERF__: number[];
      };
      w.__stopRaf = true;
      return { raf: w.__rafIntervals.slice(1), draw: w.__LIFELINE_PERF__.slice() };
    });
    if (screenshotDir) {
      mkdirSync(screenshotDir, { recursive: true });
      // Only the timeline: the injected fleet is not stored, and the Shutdowns view reads the collector's figures
      // (bench/history.ts measures that view against a stored history).
      await page.screenshot({ path: join(screenshotDir, 'timeline-1000-envs.png') });
    }
    return {
      firstRenderMs: first.drawn - first.gen,
      generateMs: first.gen,
      rafIntervals: timings.raf,
      drawTimes: timings.draw,
      lanes: first.lanes,
      invokes: first.invokes,
    };
  } finally {
    await page.close();
  }
}

/**
 * End to end: the fleet ingested into the real collector, the page loads its history over the live socket replay.
 * Returns navigation → first lanes drawn and navigation → every invoke in the store.
 */
async function measureFromCollector(
  browser: Browser,
  url: string,
): Promise<{ firstLanesMs: number; allLoadedMs: number }> {
  const events = historyFleet(FULL.environments, FULL.invokesPerEnvironment, Date.now());
  for (let i = 0; i < events.length; i += 1500) {
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: events.slice(i, i + 1500) }),
    });
    if (!res.ok) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  }
  const page = await browser.newPage({
    viewport: { width: 1440, height: 900 },
    colorScheme: 'dark',
  });
  try {
    // The fleet spans the last hour; a 6-hour range loads all of it through /v1/window (`/` shows 15 minutes).
    await page.goto(`${url}/?range=6h`);
    const total = FULL.environments * FULL.invokesPerEnvironment;
    // A function, not a string: a string predicate is eval'ed in the page, which the collector's CSP forbids.
    await page.waitForFunction(
      (expected) =>
        (window as unknown as { __lifeline?: { store: PageStore } }).__lifeline?.store.getSnapshot()
          .invokeCount === expected,
      total,
      {
        timeout: 120_000,
        polling: 50,
      },
    );
    const loaded = await page.evaluate(() => performance.now());
    const first = await page.evaluate(
      () => performance.getEntriesByName('lifeline:lanes-drawn')[0]?.startTime ?? Number.NaN,
    );
    return { firstLanesMs: first, allLoadedMs: loaded };
  } finally {
    await page.close();
  }
}

/** Runs the dashboard benchmark and returns its rows. */
export const run: BenchArea = async () => {
  buildWebIfStale();
  const tmp = tempDir('lifeline-bench-web-');
  const collector = await startCollectorProcess({ dbPath: join(tmp.dir, 'lifeline.db') });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const script = await preloadScript();
    // Warm-up: first page load pays for browser start-up caches; not measured.
    await measure(browser, collector.url, script, SMALL);
    const small = await measure(browser, collector.url, script, SMALL);
    const full = await measure(browser, collector.url, script, FULL, SCREENSHOTS);
    if (
      full.lanes !== FULL.environments ||
      full.invokes !== FULL.environments * FULL.invokesPerEnvironment
    ) {
      throw new Error(
        `expected ${FULL.environments} lanes and ${FULL.environments * FULL.invokesPerEnvironment} invokes, got ${full.lanes} / ${full.invokes}`,
      );
    }
    const label = `${FULL.environments.toLocaleString('en-US')} envs, ${(FULL.environments * FULL.invokesPerEnvironment).toLocaleString('en-US')} invokes`;
    const base = 'same dashboard, 10 envs / 100 invokes';
    const rows: BenchResult[] = [
      {
        figure: `web first render: navigation → lanes drawn (${label})`,
        value: full.firstRenderMs,
        unit: 'ms',
        baselineName: base,
        baseline: small.firstRenderMs,
        ratio: full.firstRenderMs / small.firstRenderMs,
        target: `≤ ${FIRST_RENDER_TARGET_MS} ms`,
        met: full.firstRenderMs <= FIRST_RENDER_TARGET_MS,
      },
      {
        figure: 'web synthetic fleet generation in the page (excluded above)',
        value: full.generateMs,
        unit: 'ms',
      },
    ];
    for (const [name, p] of [
      ['p50', 50],
      ['p95', 95],
      ['max', 100],
    ] as const) {
      const v = percentile(full.drawTimes, p);
      const b = percentile(small.drawTimes, p);
      rows.push({
        figure: `web timeline draw per frame while panning/zooming, ${name} (${full.drawTimes.length} frames)`,
        value: v,
        unit: 'ms',
        baselineName: base,
        baseline: b,
        ratio: v / b,
        target: `≤ ${FRAME_TARGET_MS} ms`,
        met: v <= FRAME_TARGET_MS,
      });
    }
    for (const [name, p] of [
      ['p50', 50],
      ['p95', 95],
      ['max', 100],
    ] as const) {
      const v = percentile(full.rafIntervals, p);
      const b = percentile(small.rafIntervals, p);
      rows.push({
        figure: `web frame interval (rAF) while panning/zooming, ${name} (${full.rafIntervals.length} frames)`,
        value: v,
        unit: 'ms',
        baselineName: base,
        baseline: b,
        ratio: v / b,
        target: name === 'p50' ? `≤ ${FRAME_TARGET_MS + 1} ms (60 Hz vsync = 16.7)` : undefined,
        met: name === 'p50' ? v <= FRAME_TARGET_MS + 1 : undefined,
      });
    }
    const long = (xs: number[]) => xs.filter((x) => x > 1.5 * (1000 / 60)).length;
    rows.push({
      figure: 'web frames longer than 1.5 vsync (25 ms) while panning/zooming',
      value: long(full.rafIntervals),
      unit: `of ${full.rafIntervals.length}`,
      baselineName: base,
      baseline: long(small.rafIntervals),
    });
    const e2e = await measureFromCollector(browser, collector.url);
    rows.push(
      {
        figure: `web end to end: navigation → first lanes drawn, history from the collector's /v1/window (${label})`,
        value: e2e.firstLanesMs,
        unit: 'ms',
        target: `≤ ${FIRST_RENDER_TARGET_MS} ms`,
        met: e2e.firstLanesMs <= FIRST_RENDER_TARGET_MS,
      },
      {
        figure: `web end to end: navigation → whole range loaded (${label}, derived rows from /v1/window)`,
        value: e2e.allLoadedMs,
        unit: 'ms',
      },
    );
    return rows;
  } finally {
    await browser?.close();
    await collector.stop();
    tmp.remove();
  }
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAlone(run);
}
