import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exampleLifecycle } from '@lifeline/protocol';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ingest, invokeNames, laneNames, until } from './browser-helpers.ts';
import { launchChromium } from './chromium.ts';
import { startCollectorProcess, tempDir } from './collector-process.ts';

const SCREENSHOTS = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../artifacts/screenshots',
);

let browser: Browser;
beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('dashboard against a real collector', () => {
  it('shows events posted to the ingest API without a reload', async () => {
    const tmp = tempDir();
    onTestFinished(() => tmp.remove());
    const collector = await startCollectorProcess({ dbPath: `${tmp.dir}/lifeline.db` });
    onTestFinished(() => collector.stop());
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    onTestFinished(() => page.close());
    await page.goto(`${collector.url}/`);
    await page.getByText('No execution environments yet').waitFor({ timeout: 30_000 });
    await until(
      () => page.locator('.conn').getAttribute('data-status'),
      (s) => s === 'open',
      'live socket open',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'empty-state.png') });

    const now = Date.now();
    await ingest(collector.url, [
      ...exampleLifecycle({
        envId: 'live-env-1',
        functionName: 'orders',
        startAt: now - 20_000,
        invokes: 4,
      }),
      ...exampleLifecycle({
        envId: 'live-env-2',
        functionName: 'orders',
        startAt: now - 15_000,
        invokes: 2,
        shutdownReason: 'spindown',
      }),
    ]);

    const lanes = await until(
      () => laneNames(page),
      (n) => n.length === 2,
      'two lanes',
    );
    expect(lanes.sort()).toEqual(
      [
        'Environment live-env… orders idle, 4 invokes',
        'Environment live-env… orders ended, 2 invokes, shutdown spindown',
      ].sort(),
    );
    await until(
      () => invokeNames(page),
      (n) => n.length === 6,
      'six invokes',
    );
    expect(await invokeNames(page)).toContain('Invoke live-env… 120 ms success');

    // A later invoke arrives live, still running (no platform records yet).
    await ingest(collector.url, [
      {
        id: 'live-env-1:999',
        envId: 'live-env-1',
        seq: 999,
        time: Date.now(),
        type: 'invoke',
        requestId: 'req-running-1',
        deadlineMs: Date.now() + 3000,
        invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders',
      },
    ]);
    await until(
      () => invokeNames(page),
      (n) => n.includes('Invoke req-runn… running'),
      'running invoke',
    );
    expect(
      await page.getByRole('button', { name: /^Environment live-env… orders active/ }).count(),
    ).toBe(1);
  });

  it('survives a collector restart and resumes without duplicates', async () => {
    const tmp = tempDir();
    onTestFinished(() => tmp.remove());
    const dbPath = `${tmp.dir}/lifeline.db`;
    let collector = await startCollectorProcess({ dbPath });
    onTestFinished(() => collector.stop());
    const now = Date.now();
    await ingest(
      collector.url,
      exampleLifecycle({ envId: 'restart-a', startAt: now - 30_000, invokes: 5 }),
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    onTestFinished(() => page.close());
    await page.goto(`${collector.url}/`);
    await until(
      () => invokeNames(page),
      (n) => n.length === 5,
      'five invokes before restart',
    );

    const port = collector.port;
    await collector.kill();
    await until(
      () => page.locator('.conn').getAttribute('data-status'),
      (s) => s === 'connecting',
      'reconnecting',
    );
    collector = await startCollectorProcess({ dbPath, port });
    // Same ids again (a retry) plus new environments and invokes.
    await ingest(collector.url, [
      ...exampleLifecycle({ envId: 'restart-a', startAt: now - 30_000, invokes: 5 }),
      ...exampleLifecycle({ envId: 'restart-b', startAt: now - 10_000, invokes: 3 }),
    ]);
    await until(
      () => page.locator('.conn').getAttribute('data-status'),
      (s) => s === 'open',
      'open again',
      60_000,
    );
    const names = await until(
      () => invokeNames(page),
      (n) => n.length >= 8,
      'invokes after restart',
      60_000,
    );
    // Settle: nothing more should arrive.
    await page.waitForFunction(
      () => document.querySelectorAll('[aria-label^="Invoke "]').length === 8,
    );
    expect(names).toHaveLength(8);
    const lanes = await laneNames(page);
    expect(lanes).toHaveLength(2);
    expect(lanes.find((l) => l.startsWith('Environment restart-a'))).toMatch(/5 invokes$/);
    const eventCount = await page.evaluate(() => window.__lifeline!.store.getSnapshot().eventCount);
    const expected =
      exampleLifecycle({ envId: 'restart-a', startAt: now - 30_000, invokes: 5 }).length +
      exampleLifecycle({ envId: 'restart-b', startAt: now - 10_000, invokes: 3 }).length;
    expect(eventCount).toBe(expected);
  });

  it('asks for the read token and connects with it when the collector requires one', async () => {
    const tmp = tempDir();
    onTestFinished(() => tmp.remove());
    const collector = await startCollectorProcess({
      dbPath: `${tmp.dir}/lifeline.db`,
      readToken: 'read-secret-1',
    });
    onTestFinished(() => collector.stop());
    await ingest(
      collector.url,
      exampleLifecycle({ envId: 'token-env', startAt: Date.now() - 10_000, invokes: 2 }),
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    onTestFinished(() => page.close());
    await page.goto(`${collector.url}/`);
    const input = page.getByRole('textbox', { name: 'Read token' });
    await input.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'token-prompt.png') });
    await input.fill('wrong');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByText('That token was not accepted.').waitFor({ timeout: 30_000 });
    await input.fill('read-secret-1');
    await page.getByRole('button', { name: 'Connect' }).click();
    await until(
      () => invokeNames(page),
      (n) => n.length === 2,
      'invokes with token',
    );
    // This tab's session only (docs/adr/0008), never localStorage.
    expect(await page.evaluate(() => sessionStorage.getItem('lifeline.token'))).toBe(
      'read-secret-1',
    );
    expect(await page.evaluate(() => localStorage.getItem('lifeline.token'))).toBeNull();
  });

  it('zooms, pans and follows live from the keyboard and keeps the range in the URL', async () => {
    const tmp = tempDir();
    onTestFinished(() => tmp.remove());
    const collector = await startCollectorProcess({ dbPath: `${tmp.dir}/lifeline.db` });
    onTestFinished(() => collector.stop());
    await ingest(
      collector.url,
      exampleLifecycle({ envId: 'keys-env', startAt: Date.now() - 30_000, invokes: 3 }),
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    onTestFinished(() => page.close());
    await page.goto(`${collector.url}/`);
    await until(
      () => invokeNames(page),
      (n) => n.length === 3,
      'three invokes',
    );
    const range = async () => {
      const q = new URL(page.url()).searchParams;
      const from = q.get('from');
      const to = q.get('to');
      return from && to ? Date.parse(to) - Date.parse(from) : null;
    };
    expect(await range()).toBeNull();
    await page.getByRole('region', { name: /^Timeline/ }).focus();
    await page.keyboard.press('ArrowLeft');
    const span = await until(range, (r) => r !== null, 'range in the URL after panning');
    expect(
      await page.getByRole('button', { name: /Follow live/ }).getAttribute('aria-pressed'),
    ).toBe('false');
    await page.keyboard.press('+');
    const zoomed = await until(
      range,
      (r) => r !== null && r < span!,
      'narrower range after zooming in',
    );
    expect(zoomed! / span!).toBeCloseTo(1 / 1.5, 2);
    await page.keyboard.press('f');
    await until(range, (r) => r === null, 'range cleared when following live');
    // Keyboard selection: Enter on a lane opens its details; Escape closes them.
    await page.getByRole('button', { name: /^Environment keys-env/ }).press('Enter');
    await page.getByRole('complementary', { name: 'Details' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('complementary', { name: 'Details' }).waitFor({ state: 'detached' });
  });
});
