import {
  type ActivityBuckets,
  applyEvents,
  type EnvironmentSnapshot,
  type InvocationFacts,
  lastInvokeIdOf,
  type StoredEvent,
  toInvocation,
} from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import {
  type ActivityCell,
  activityOf,
  activitySince,
  cellAt,
  cellIntensity,
  densityStep,
  foldActivity,
  type LaneActivity,
} from './density.ts';
import { densityPeak, type PlacedRow } from './draw-lanes.ts';
import { cellHoverFacts } from './hover-facts.ts';
import type { EnvLane } from './lane-model.ts';
import { TimelineBuilder } from './timeline-builder.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const HOUR = 3_600_000;
const STEP = 2000;

/** Counts rows per bucket by hand, as the collector's GROUP BY does (start in [from, to]). */
function countByHand(rows: Iterable<InvocationFacts>, from: number, to: number): ActivityBuckets {
  const cells = new Map<number, ActivityCell>();
  for (const row of rows) {
    const view = toInvocation(row, null);
    if (view.startedAt < from || view.startedAt > to) continue;
    const bucket = Math.floor(view.startedAt / STEP);
    const cell = cells.get(bucket) ?? { bucket, invokes: 0, errors: 0, timeouts: 0, busyMs: 0 };
    cells.set(bucket, {
      bucket,
      invokes: cell.invokes + 1,
      errors: cell.errors + (view.status === 'error' || view.status === 'failure' ? 1 : 0),
      timeouts: cell.timeouts + (view.status === 'timeout' ? 1 : 0),
      busyMs: cell.busyMs + (view.durationMs ?? 0),
    });
  }
  const sorted = [...cells.values()].sort((a, b) => a.bucket - b.bucket);
  return {
    bucket: sorted.map((c) => c.bucket),
    invokes: sorted.map((c) => c.invokes),
    errors: sorted.map((c) => c.errors),
    timeouts: sorted.map((c) => c.timeouts),
    busyMs: sorted.map((c) => c.busyMs),
  };
}

/** What `/v1/window?step=` answers for one environment's events up to a cut (rows derived by the shared fold). */
function densePage(events: readonly StoredEvent[], from: number, to: number): EnvironmentSnapshot {
  const rows = applyEvents(
    undefined,
    events.map((e) => e.event),
    events.map((e) => e.receivedAt),
  );
  const last = lastInvokeIdOf(rows.env);
  const held = [...rows.invocations.values()].filter(
    (row) =>
      row.requestId === last ||
      ((row.status === 'running' || row.reportAt === null) &&
        toInvocation(row, null).startedAt <= to),
  );
  return {
    cursor: events[events.length - 1]!.cursor,
    env: rows.env,
    invocations: held,
    activity: countByHand(rows.invocations.values(), from, to),
  };
}

describe('densityStep', () => {
  it('keeps ranges up to about 4 h detailed on a 1,500 px lane and picks whole-unit cells of about 4 px beyond', () => {
    const now = T0;
    expect(densityStep(now - 15 * 60_000, now, 1500)).toBeNull();
    expect(densityStep(now - HOUR, now, 1500)).toBeNull();
    expect(densityStep(now - 4 * HOUR, now, 1500)).toBeNull();
    expect(densityStep(now - 6 * HOUR, now, 1500)).toBe(60_000);
    expect(densityStep(now - 24 * HOUR, now, 1500)).toBe(300_000);
    expect(densityStep(now - 7 * 24 * HOUR, now, 1500)).toBe(1_800_000);
    // A narrow lane turns dense sooner; a range never gets more cells than the collector allows.
    expect(densityStep(now - HOUR, now, 300)).toBe(60_000);
    const step = densityStep(now - 30 * 24 * HOUR, now, 100_000)!;
    expect((30 * 24 * HOUR) / step).toBeLessThanOrEqual(4000);
    expect(densityStep(now, now, 1500)).toBeNull();
  });
});

describe('foldActivity', () => {
  const empty: LaneActivity = { step: STEP, cells: [], invokes: 0 };
  const running = { bucket: 5, invokes: 1, errors: 0, timeouts: 0, busyMs: 0 };

  it('counts a new invoke once, then only the difference as it ends, moves or goes', () => {
    let activity = foldActivity(empty, null, running);
    expect(activity.cells).toEqual([running]);
    const failed = { ...running, errors: 1, busyMs: 300 };
    activity = foldActivity(activity, running, failed);
    expect(activity.cells).toEqual([failed]);
    expect(activity.invokes).toBe(1);
    activity = foldActivity(activity, null, {
      bucket: 2,
      invokes: 1,
      errors: 0,
      timeouts: 1,
      busyMs: 900,
    });
    expect(activity.cells.map((c) => c.bucket)).toEqual([2, 5]);
    const moved = { ...failed, bucket: 4 };
    activity = foldActivity(activity, failed, moved);
    expect(activity.cells.map((c) => [c.bucket, c.invokes, c.errors])).toEqual([
      [2, 1, 0],
      [4, 1, 1],
    ]);
    expect(activity.invokes).toBe(2);
    expect(foldActivity(activity, null, null)).toBe(activity);
  });

  it('forgets cells before a moving start and finds the cell under a time', () => {
    const activity = activityOf(STEP, {
      bucket: [1, 3, 7],
      invokes: [2, 1, 4],
      errors: [0, 1, 0],
      timeouts: [0, 0, 0],
      busyMs: [10, 20, 30],
    });
    expect(activity.invokes).toBe(7);
    expect(cellAt(activity, 3 * STEP + 5)).toMatchObject({ bucket: 3, errors: 1 });
    expect(cellAt(activity, 2 * STEP)).toBeNull();
    const later = activitySince(activity, 3 * STEP + 1);
    expect(later.cells.map((c) => c.bucket)).toEqual([3, 7]);
    expect(later.invokes).toBe(5);
    expect(activitySince(activity, 0)).toBe(activity);
  });
});

describe('dense lanes in the TimelineBuilder', () => {
  const lifecycles = storedLifecycles([
    {
      envId: 'env-dense',
      startAt: T0,
      invokes: 40,
      gapMs: 900,
      durationMs: (i) => 100 + ((i * 53) % 700),
      timeoutMs: 1500,
      lateReports: true,
      statusOf: (i) => (i % 6 === 2 ? 'error' : i % 9 === 4 ? 'timeout' : 'success'),
      shutdownReason: 'spindown',
    },
  ]);
  const from = T0 + 5000;
  const whole = applyEvents(
    undefined,
    lifecycles.map((e) => e.event),
    lifecycles.map((e) => e.receivedAt),
  );

  it('folds live events into the cells so they equal counting every invocation, wherever the page was cut', () => {
    const expected = activityOf(STEP, countByHand(whole.invocations.values(), from, Infinity));
    // Every cut whose read time is in the range (a page is read at `to`, so live invokes start after it).
    const first = lifecycles.findIndex((e) => e.event.time >= from);
    for (let cut = first + 1; cut < lifecycles.length; cut += 2) {
      const before = lifecycles.slice(0, cut);
      const to = Math.max(...before.map((e) => e.event.time));
      const builder = new TimelineBuilder();
      builder.load([densePage(before, from, to)], cut, { step: STEP, from, to });
      const snapshot = builder.apply(lifecycles.slice(cut));
      const lane = snapshot.lanes.get('env-dense')!;
      expect(lane.activity?.cells, `cut at ${cut}`).toEqual(expected.cells);
      expect(lane.activity?.invokes).toBe(expected.invokes);
      expect(snapshot.invokeCount).toBe(expected.invokes);
      expect(lane.facts).toEqual(whole.env);
      // Only the rows live folding needs are held: the last invoke (and none left running).
      expect(lane.invokes.map((bar) => bar.requestId)).toEqual([lastInvokeIdOf(whole.env)]);
    }
  });

  it('gives an environment that appears live cells on the same grid', () => {
    const builder = new TimelineBuilder();
    builder.load([], 0, { step: STEP, from, to: from });
    const lane = builder.apply(lifecycles).lanes.get('env-dense')!;
    expect(lane.activity?.cells).toEqual(
      activityOf(STEP, countByHand(whole.invocations.values(), 0, Infinity)).cells,
    );
    expect(lane.invokes.length).toBe(1);
  });

  it('describes a cell on hover and draws it against the busiest visible cell', () => {
    const builder = new TimelineBuilder();
    builder.load([], 0, { step: STEP, from, to: from });
    const lane = builder.apply(lifecycles).lanes.get('env-dense') as EnvLane;
    const cell = lane.activity!.cells.find((c) => c.errors > 0)!;
    const facts = cellHoverFacts(lane, cell, STEP);
    const line = (label: string) => facts.lines.find(([l]) => l === label)?.[1];
    expect(facts.title).toBe(`${cell.invokes} invoke${cell.invokes === 1 ? '' : 's'} in 2.00 s`);
    expect(line('Span')).toBe(`2026-11-25 ${spanText(cell.bucket * STEP, STEP)}`);
    expect(line('Errors')).toBe(String(cell.errors));
    expect(line('Timeouts')).toBe(String(cell.timeouts));
    const placed: PlacedRow[] = [
      { row: { kind: 'lane', lane } as PlacedRow['row'], index: 0, y: 0, height: 30 },
    ];
    const peak = densityPeak(placed, T0, T0 + HOUR);
    expect(peak).toBe(Math.max(...lane.activity!.cells.map((c) => c.invokes)));
    expect(densityPeak(placed, T0 - 2 * HOUR, T0 - HOUR)).toBe(0);
    expect(cellIntensity(peak, peak)).toBeCloseTo(1);
    expect(cellIntensity(1, 1000)).toBeGreaterThanOrEqual(0.2);
    expect(cellIntensity(1, 1000)).toBeLessThan(cellIntensity(10, 1000));
    expect(cellIntensity(0, 10)).toBe(0);
  });
});

function spanText(start: number, step: number): string {
  const hm = (t: number) => new Date(t).toISOString().slice(11, 19);
  return `${hm(start)} – ${hm(start + step)} UTC`;
}
