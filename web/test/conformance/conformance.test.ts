import {
  type Environment,
  type EnvironmentDetail,
  type Invocation,
  type LifelineEvent,
  type StoredEvent,
  toEnvironment,
} from '@lifeline/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvokeBar } from '../../src/timeline/lane-model.ts';
import { TimelineBuilder } from '../../src/timeline/timeline-builder.ts';
import {
  type CollectorProcess,
  startCollectorProcess,
  tempDir,
} from '../browser/collector-process.ts';
import {
  randomSandbox,
  seededRandom,
  shuffle,
  splitBatches,
  weirdStatusSequence,
} from './sequences.ts';

/**
 * The conformance test of the one derivation: the same events go through a real collector (HTTP ingest, SQLite,
 * its derived rows read back through the query API) and through the dashboard's container (the shared fold applied
 * incrementally to the stored events, as the live client delivers them); both must show identical environments and
 * invocations. Sequences are seeded: permutations, batch splits, late reports, unknown statuses, missing SHUTDOWN,
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

async function head(): Promise<number> {
  const events = await storedEventsAfter(0);
  return events.length === 0 ? 0 : events[events.length - 1]!.cursor;
}

/** The environment without its state, which depends on the moment it is asked. */
function timeless(env: Environment): Omit<Environment, 'state'> {
  const { state: _state, ...rest } = env;
  return rest;
}

/** What a bar and the API's invocation have in common, for comparison. */
function barFacts(bar: InvokeBar | Invocation) {
  return {
    requestId: bar.requestId,
    envId: bar.envId,
    startAt: 'startAt' in bar ? bar.startAt : bar.startedAt,
    traceId: bar.traceId,
    platformStartAt: bar.platformStartAt,
    runtimeDoneAt: bar.runtimeDoneAt,
    durationMs: bar.durationMs,
    billedDurationMs: bar.billedDurationMs,
    memorySizeMb: bar.memorySizeMb,
    maxMemoryUsedMb: bar.maxMemoryUsedMb,
    initDurationMs: bar.initDurationMs,
    extensionOverheadMs: bar.extensionOverheadMs,
    status: bar.status,
    errorType: bar.errorType,
    reportPending: bar.reportPending,
    headroomMs: bar.headroomMs,
  };
}

/** Feeds the stored events to the dashboard's container in live-sized frames, as the live client does. */
function foldAsTheDashboard(events: readonly StoredEvent[], random: () => number) {
  const builder = new TimelineBuilder();
  for (const frame of splitBatches(events, random, 40)) builder.apply(frame);
  return builder.snapshot;
}

async function expectSameViews(
  envIds: readonly string[],
  events: readonly StoredEvent[],
  seed: number,
) {
  const snapshot = foldAsTheDashboard(events, seededRandom(seed * 7));
  for (const envId of envIds) {
    const detail = await collectorDetail(envId);
    const lane = snapshot.lanes.get(envId);
    expect(lane, `seed ${seed}: ${envId} missing in the dashboard`).toBeDefined();
    const webEnvironment = toEnvironment(lane!.facts, Date.now(), Number.POSITIVE_INFINITY);
    expect(timeless(webEnvironment), `seed ${seed}: ${envId}`).toEqual(
      timeless(detail.environment),
    );
    const byId = (a: { requestId: string }, b: { requestId: string }) =>
      a.requestId.localeCompare(b.requestId);
    expect(lane!.invokes.map(barFacts).sort(byId), `seed ${seed}: invocations of ${envId}`).toEqual(
      detail.invocations.map(barFacts).sort(byId),
    );
  }
}

describe('one derivation: collector and dashboard agree', () => {
  it('agrees on the issue sequence: an unknown status is an error, the interrupted invoke a timeout', async () => {
    const before = await head();
    const events = weirdStatusSequence('conf-weird', T0);
    // One event per request: every event its own commit.
    for (const event of events) await post([event]);
    const stored = await storedEventsAfter(before);
    await expectSameViews(['conf-weird'], stored, 1);
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
    'agrees on permuted, split histories with late reports, re-inits, missing shutdowns and skew (seed %i)',
    async (seed) => {
      const random = seededRandom(seed);
      const sandboxes = Array.from({ length: 3 }, (_, i) =>
        randomSandbox(`s${seed}x${i}`, T0 + seed * 60_000 + i * 5_000, random),
      );
      const all = sandboxes.flat();
      const envIds = [...new Set(all.map((event) => event.envId))];
      const before = await head();
      for (const batch of splitBatches(shuffle(all, random), random, 7)) await post(batch);
      const stored = await storedEventsAfter(before);
      expect(stored).toHaveLength(all.length);
      await expectSameViews(envIds, stored, seed);
    },
  );
});
