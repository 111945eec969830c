import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LifelineEvent } from '@lifeline/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ingest, invokeNames, laneNames, until } from './browser-helpers.ts';
import { launchChromium } from './chromium.ts';
import { type CollectorProcess, startCollectorProcess, tempDir } from './collector-process.ts';

const NOW = Date.now();
const IMAGES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/images');

/** Events of one environment, record by record, as the extension sends them. */
function environment(envId: string, functionName: string) {
  let seq = 0;
  const events: LifelineEvent[] = [];
  const envelope = (time: number) => ({ id: `${envId}:${seq}`, envId, seq: seq++, time });
  const platform = (time: number, recordType: string, record: Record<string, unknown>) =>
    events.push({ ...envelope(time), type: 'platform', recordType, recordTime: time, record });
  return {
    events,
    register(time: number, fields: Record<string, unknown> = {}) {
      events.push({
        ...envelope(time),
        type: 'register',
        functionName,
        functionVersion: '7',
        handler: 'index.handler',
        memorySizeMb: 1024,
        initializationType: 'on-demand',
        architecture: 'arm64',
        region: 'eu-west-1',
        accountId: '123456789012',
        extensionName: 'lifeline',
        extensionVersion: '0.1.0',
        startToRegisteredMs: 40,
        ...fields,
      } as LifelineEvent);
    },
    init(time: number, phase: 'init' | 'restore', durationMs = 300) {
      const prefix = phase === 'restore' ? 'platform.restore' : 'platform.init';
      platform(time, `${prefix}Start`, { phase: 'init', initializationType: 'on-demand' });
      platform(time + durationMs - 20, `${prefix}RuntimeDone`, { status: 'success' });
      platform(time + durationMs, `${prefix}Report`, {
        status: 'success',
        metrics: { durationMs },
      });
    },
    invoke(time: number, requestId: string, timeoutMs = 3000) {
      events.push({
        ...envelope(time),
        type: 'invoke',
        requestId,
        deadlineMs: time + timeoutMs,
        invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
      });
    },
    start(time: number, requestId: string, extra: Record<string, unknown> = {}) {
      platform(time, 'platform.start', { requestId, version: '7', ...extra });
    },
    done(time: number, requestId: string, durationMs: number, extra: Record<string, unknown> = {}) {
      platform(time, 'platform.runtimeDone', {
        requestId,
        status: 'success',
        metrics: { durationMs },
        ...extra,
      });
    },
    report(
      time: number,
      requestId: string,
      durationMs: number,
      extra: Record<string, unknown> = {},
    ) {
      platform(time, 'platform.report', {
        requestId,
        status: 'success',
        metrics: {
          durationMs,
          billedDurationMs: durationMs,
          memorySizeMB: 1024,
          maxMemoryUsedMB: 90,
        },
        ...extra,
      });
    },
  };
}

// Managed Instances: SHUTDOWN-only registration, invokes known from platform.start/report, four at once.
const lmi = environment('lmi-env-0001', 'orders-lmi');
lmi.register(NOW - 60_000, {
  initializationType: 'lambda-managed-instances',
  registeredEvents: ['SHUTDOWN'],
});
lmi.init(NOW - 59_800, 'init');
for (let i = 0; i < 4; i++) {
  const t = NOW - 40_000 + i * 300;
  lmi.start(t, `lmi-req-${i}`);
  lmi.report(t + 4000, `lmi-req-${i}`, 4000);
}

// SnapStart: two environments restored from one snapshot, each with a RESTORE phase and an invoke.
const restored = [1, 2].map((n) => {
  const env = environment(`snap-restored-${n}`, 'orders-snap');
  env.register(NOW - 50_000 + n * 1000, {
    initializationType: 'snap-start',
    restoredFrom: 'snap-snapshot-env',
    startToRegisteredMs: 0,
  });
  env.init(NOW - 50_000 + n * 1000 + 10, 'restore', 400);
  env.invoke(NOW - 49_000 + n * 1000, `snap-req-${n}`);
  env.start(NOW - 49_000 + n * 1000, `snap-req-${n}`);
  env.done(NOW - 48_800 + n * 1000, `snap-req-${n}`, 200);
  return env;
});

// Tenant isolation: one environment per tenant, and one of the same function whose records name no tenant.
const tenants = ['tenant-a', 'tenant-b', null].map((tenantId, n) => {
  const env = environment(`tenant-env-${n}`, 'orders-tenants');
  const named = tenantId ? { tenantId } : {};
  env.register(NOW - 45_000 + n * 500);
  env.init(NOW - 44_900 + n * 500, 'init');
  env.invoke(NOW - 44_000 + n * 500, `tenant-req-${n}`);
  env.start(NOW - 44_000 + n * 500, `tenant-req-${n}`, named);
  env.done(NOW - 43_900 + n * 500, `tenant-req-${n}`, 100, named);
  return env;
});
const LANES = 7;

// Provisioned concurrency, with a streamed response, and an invoke past its own timeout with no end yet.
const provisioned = environment('pc-env-0001', 'orders-pc');
provisioned.register(NOW - 30_000, { initializationType: 'provisioned-concurrency' });
provisioned.init(NOW - 29_900, 'init');
provisioned.invoke(NOW - 20_000, 'pc-streamed');
provisioned.start(NOW - 20_000, 'pc-streamed');
provisioned.done(NOW - 18_500, 'pc-streamed', 1500, {
  spans: [
    { name: 'responseLatency', start: new Date(NOW - 19_900).toISOString(), durationMs: 100 },
    { name: 'responseDuration', start: new Date(NOW - 19_800).toISOString(), durationMs: 1300 },
  ],
});
provisioned.invoke(NOW - 2_000, 'pc-silent', 1000);

const EVENTS = [lmi, ...restored, ...tenants, provisioned].flatMap((e) => e.events);

let browser: Browser;
let collector: CollectorProcess;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
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

async function open(query = '', colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme });
  onTestFinished(() => page.close());
  await page.goto(`${collector.url}/${query}`);
  await until(
    () => laneNames(page),
    (n) => n.length === LANES,
    'every lane',
  );
  return page;
}

/** Accessible names of the group headers, top to bottom. */
function groupNames(page: Page): Promise<string[]> {
  return page
    .locator('li.row-group button')
    .evaluateAll((els) =>
      els
        .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
        .map((e) => e.getAttribute('aria-label') ?? ''),
    );
}

/** The envIds of the lanes between the group header named `group…` and the next header, top to bottom. */
function lanesUnder(page: Page, group: string): Promise<string[]> {
  return page.locator('li.row').evaluateAll((items, prefix) => {
    const ordered = [...items].sort(
      (a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top,
    );
    const envIds: string[] = [];
    let inside = false;
    for (const item of ordered) {
      const header = item.querySelector('.group-toggle');
      if (header) {
        inside = (header.getAttribute('aria-label') ?? '').startsWith(`${prefix}:`);
        continue;
      }
      const envId = item.querySelector<HTMLElement>('.lane-chart')?.dataset.env;
      if (inside && envId) envIds.push(envId);
    }
    return envIds;
  }, group);
}

function row(page: Page, envPrefix: string) {
  return page.locator('li.row').filter({
    has: page.getByRole('button', { name: new RegExp(`^Environment ${envPrefix}`) }),
  });
}

describe('lifecycles on the timeline', () => {
  it('stacks the concurrent invokes of a Managed Instances environment in sub-lanes', async () => {
    const page = await open();
    const lane = row(page, 'lmi-env-');
    expect(await lane.locator('.kind-tag').textContent()).toBe('LMI ×4');
    const tops = await lane
      .locator('.invoke-hit[data-sub]')
      .evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
    expect(tops).toHaveLength(4);
    expect(new Set(tops).size).toBe(4);
    // The lane is tall enough for four sub-lanes.
    const height = (await lane.boundingBox())!.height;
    expect(height).toBeGreaterThan(30);
  });

  it('shows SnapStart environments as restores, each with its own identity', async () => {
    const page = await open();
    for (const n of [1, 2]) {
      expect(
        await row(page, `snap-res`)
          .nth(n - 1)
          .locator('.kind-tag')
          .textContent(),
      ).toBe('restore');
    }
    await row(page, 'snap-res')
      .first()
      .getByRole('button', { name: /^Environment/ })
      .click();
    const details = page.getByRole('complementary', { name: 'Details' });
    expect(
      await details.getByText('Started by').locator('xpath=following-sibling::dd[1]').textContent(),
    ).toBe('SnapStart restore');
  });

  it('filters by tenant', async () => {
    const page = await open();
    await page.getByRole('combobox', { name: 'Tenant', exact: true }).selectOption('tenant-a');
    await until(
      () => laneNames(page),
      (n) => n.length === 1,
      'one tenant lane',
    );
    expect((await laneNames(page))[0]).toMatch(/^Environment tenant-e… orders-tenants/);
    expect(new URL(page.url()).searchParams.get('tenant')).toBe('tenant-a');
  });

  it('groups lanes by tenant, environments without one last, and keeps the grouping over a reload', async () => {
    const page = await open();
    await page.getByRole('button', { name: 'By tenant' }).click();
    expect(new URL(page.url()).searchParams.get('group')).toBe('tenant');
    const expected = [
      'Tenant tenant-a: 1 environments, 1 alive',
      'Tenant tenant-b: 1 environments, 1 alive',
      // The other lifecycles of this fleet are not tenant-isolated.
      `Tenant no tenant: ${LANES - 2} environments, ${LANES - 2} alive`,
    ];
    await until(
      () => groupNames(page),
      (g) => g.join() === expected.join(),
      'three tenant groups',
    );
    expect(await lanesUnder(page, 'Tenant tenant-a')).toEqual(['tenant-env-0']);
    expect(await lanesUnder(page, 'Tenant tenant-b')).toEqual(['tenant-env-1']);
    expect(await lanesUnder(page, 'Tenant no tenant')).toContain('tenant-env-2');
    // A tenant's lanes may belong to several functions: each lane names its own.
    const tenantA = page
      .locator('li.row')
      .filter({ has: page.locator('.lane-chart[data-env="tenant-env-0"]') });
    expect(await tenantA.locator('.env-id').textContent()).toContain('orders-tenants');

    // With the function filter: only this function's lanes, still grouped by tenant; a reload keeps both.
    await page
      .getByRole('combobox', { name: 'Function', exact: true })
      .selectOption('orders-tenants');
    await page.reload();
    await until(
      () => groupNames(page),
      (g) =>
        g.join() ===
        [
          'Tenant tenant-a: 1 environments, 1 alive',
          'Tenant tenant-b: 1 environments, 1 alive',
          'Tenant no tenant: 1 environments, 1 alive',
        ].join(),
      'three tenant groups of orders-tenants after the reload',
    );
    expect(await lanesUnder(page, 'Tenant no tenant')).toEqual(['tenant-env-2']);
    expect(await page.getByRole('button', { name: 'By tenant' }).getAttribute('aria-pressed')).toBe(
      'true',
    );
    await page.waitForFunction(
      () => Number(document.querySelector('.timeline')?.getAttribute('data-drawn-lanes')) === 3,
    );
    mkdirSync(IMAGES, { recursive: true });
    await page.screenshot({ path: join(IMAGES, 'lifecycles-by-tenant-light-1440.png') });

    // Collapsing a tenant hides its lanes and keeps its header.
    await page.getByRole('button', { name: /^Tenant tenant-a:/ }).click();
    await until(
      () => laneNames(page),
      (n) => n.length === 2,
      'tenant-a collapsed',
    );
    expect(await lanesUnder(page, 'Tenant tenant-a')).toEqual([]);

    // Back to functions: one group, and the link no longer names a grouping.
    await page.getByRole('button', { name: 'By function' }).click();
    await until(
      () => groupNames(page),
      (g) => g.join() === 'Function orders-tenants: 3 environments, 3 alive',
      'one function group',
    );
    expect(new URL(page.url()).searchParams.has('group')).toBe(false);
  });

  it('tags provisioned concurrency, splits a streamed response and never calls an overdue invoke running', async () => {
    const page = await open();
    expect(await row(page, 'pc-env-').locator('.kind-tag').textContent()).toBe('PC');
    await until(
      () => invokeNames(page),
      (n) => n.includes('Invoke pc-silent awaiting report'),
      'the overdue invoke awaiting its report',
    );
    const streamed = page.getByRole('button', { name: /^Invoke pc-strea…/ });
    const box = (await streamed.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const card = page.getByRole('tooltip');
    await until(
      async () => (await card.textContent()) ?? '',
      (t) => t.includes('Streamedfirst byte after 100 ms, then 1.30 s'),
      'streaming split in the hover card',
    );
  });

  it('saves a screenshot of every lifecycle, light and dark', async () => {
    mkdirSync(IMAGES, { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      const page = await open('?range=1h', scheme);
      await page.waitForFunction(
        (lanes) =>
          Number(document.querySelector('.timeline')?.getAttribute('data-drawn-lanes')) === lanes,
        LANES,
      );
      await page.screenshot({ path: join(IMAGES, `lifecycles-${scheme}-1440.png`) });
    }
  });
});
