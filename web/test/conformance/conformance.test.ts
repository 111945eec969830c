import type {
  EnvironmentDetail,
  EnvironmentSnapshot,
  InvocationFacts,
  LifelineEvent,
  StoredEvent,
  WindowPage,
} from '@lifeline/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimelineBuilder, type TimelineSnapshot } from '../../src/timeline/timeline-builder.ts';
import {
  type CollectorProcess,
  startCollectorProcess,
  tempDir,
} from '../browser/collector-process.ts';
import {
  lifecycleSandbox,
  randomSandbox,
  seededRandom,
  shuffle,
  splitBatches,
  weirdStatusSequence,
} from './sequences.ts';

/**
 * The conformance test of the one derivation: the same events go through a real collector (HTTP ingest, SQLite,
 * its derived rows read back through `/v1/window`) and through the dashboard's container (window pages plus the shared
 * fold applied incrementally to the stored events, as the live client delivers them); both must hold identical
 * environment and invocation rows. Sequences are seeded: permutations, batch splits, late reports, unknown statuses, missing SHUTDOWN,
 * re-inits and clock skew.
 */

const T0 = Date.UTC(2026, 10, 20, 9, 0, 0);
const SEEDS = Array.from({ length: 10 }, (_, i) => 1000 + i);

let collector: CollectorProcess;
let removeDir: () => void;

beforeAll(async () => {
  const dir = tempDir('lifeline-conformance-');
  removeDir = dir.remove;
  collector = await startCollectorProcess({ dbPath: `${dir.dir}/conformance.db` });
});

afterAll(async () => {
  await collector?.stop();
  removeDir?.();
});

async function post(events: readonly LifelineEvent[]): Promise<void> {
  const res = await fetch(`${collector.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

async function storedEventsAfter(after: number): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  let cursor = after;
  for (;;) {
    const res = await fetch(`${collector.url}/v1/events?after=${cursor}&limit=5000`);
    const page = (await res.json()) as { items: StoredEvent[]; nextCursor: string | null };
    all.push(...page.items);
    if (page.nextCursor === null || page.items.length === 0) return all;
    cursor = page.items[page.items.length - 1]!.cursor;
  }
}

async function collectorDetail(envId: string): Promise<EnvironmentDetail> {
  const res = await fetch(`${collector.url}/v1/environments/${encodeURIComponent(envId)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as EnvironmentDetail;
}

/** Every environment of the collector's window over the whole test period, page by page. */
async function collectorWindow(): Promise<{ head: number; environments: EnvironmentSnapshot[] }> {
  const environments: EnvironmentSnapshot[] = [];
  let cursor: string | null = null;
  let head = 0;
  do {
    const query = new URLSearchParams({
      from: String(T0 - 86_400_000),
      to: String(T0 + 86_400_000),
    });
    if (cursor !== null) query.set('cursor', cursor);
    const res = await fetch(`${collector.url}/v1/window?${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    const page = (await res.json()) as WindowPage;
    if (cursor === null) head = page.head;
    environments.push(...page.environments);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return { head, environments };
}

async function head(): Promise<number> {
  return (await collectorWindow()).head;
}

const byRequestId = (a: InvocationFacts, b: InvocationFacts) =>
  a.requestId.localeCompare(b.requestId);

/** The dashboard's rows of `envId`: the lane's environment row and its bars' invocation rows. */
function dashboardRows(snapshot: TimelineSnapshot, envId: string) {
  const lane = snapshot.lanes.get(envId);
  expect(lane, `${envId} missing in the dashboard`).toBeDefined();
  return { env: lane!.facts, invocations: lane!.invokes.map((bar) => bar.facts).sort(byRequestId) };
}

/** Feeds stored events to the dashboard's container in live-sized frames, as the live client does. */
function foldLive(builder: TimelineBuilder, events: readonly StoredEvent[], random: () => number) {
  for (const frame of splitBatches(events, random, 40)) builder.apply(frame);
  return builder.snapshot;
}

async function expectSameRows(envIds: readonly string[], snapshot: TimelineSnapshot, seed: number) {
  const { environments } = await collectorWindow();
  const rows = new Map(environments.map((item) => [item.env.envId, item]));
  for (const envId of envIds) {
    const stored = rows.get(envId);
    expect(stored, `seed ${seed}: ${envId} missing in the collector's window`).toBeDefined();
    const mine = dashboardRows(snapshot, envId);
    expect(mine.env, `seed ${seed}: environment ${envId}`).toEqual(stored!.env);
    expect(mine.invocations, `seed ${seed}: invocations of ${envId}`).toEqual(
      [...stored!.invocations].sort(byRequestId),
    );
  }
}

describe('one derivation: collector and dashboard agree', () => {
  it('agrees on the issue sequence: an unknown status is an error, the interrupted invoke a timeout', async () => {
    const before = await head();
    const events = weirdStatusSequence('conf-weird', T0);
    // One event per request: every event its own commit.
    for (const event of events) await post([event]);
    const snapshot = foldLive(
      new TimelineBuilder(),
      await storedEventsAfter(before),
      seededRandom(1),
    );
    await expectSameRows(['conf-weird'], snapshot, 1);
    const detail = await collectorDetail('conf-weird');
    expect(
      detail.invocations
        .map((i) => [i.requestId, i.status])
        .sort(([a], [b]) => a!.localeCompare(b!)),
    ).toEqual([
      ['conf-weird-r0', 'error'],
      ['conf-weird-r1', 'timeout'],
    ]);
  });

  it.each(SEEDS)(
    'agrees on permuted, split histories with late reports, re-inits, missing shutdowns, skew and newer lifecycles (seed %i)',
    async (seed) => {
      const random = seededRandom(seed);
      const sandboxes = Array.from({ length: 3 }, (_, i) =>
        randomSandbox(`s${seed}x${i}`, T0 + seed * 60_000 + i * 5_000, random),
      );
      // A Managed Instances or SnapStart environment in every history.
      sandboxes.push(lifecycleSandbox(`l${seed}`, T0 + seed * 60_000 + 20_000, random));
      const all = sandboxes.flat();
      const envIds = [...new Set(all.map((event) => event.envId))];
      const batches = splitBatches(shuffle(all, random), random, 7);
      const half = Math.floor(batches.length / 2);
      const before = await head();
      for (const batch of batches.slice(0, half)) await post(batch);

      // The dashboard opens mid-way: a window page, then live from its head while the rest arrives.
      const page = await collectorWindow();
      const builder = new TimelineBuilder();
      builder.load(page.environments, page.head);
      for (const batch of batches.slice(half)) await post(batch);
      const live = await storedEventsAfter(page.head);
      await expectSameRows(envIds, foldLive(builder, live, seededRandom(seed * 7)), seed);

      // And a dashboard that saw every event live agrees too.
      const stored = await storedEventsAfter(before);
      expect(stored).toHaveLength(all.length);
      await expectSameRows(
        envIds,
        foldLive(new TimelineBuilder(), stored, seededRandom(seed * 11)),
        seed,
      );
    },
  );
});
