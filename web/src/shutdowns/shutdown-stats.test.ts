import { percentile } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { TimelineBuilder } from '../timeline/timeline-builder.ts';
import { histogram } from '../util/stats.ts';
import { shutdownRows, sortShutdownRows, summarizeShutdowns } from './shutdown-stats.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function lanes() {
  return new TimelineBuilder()
    .apply(
      storedLifecycles([
        {
          envId: 'a',
          functionName: 'f',
          startAt: T0,
          invokes: 2,
          durationMs: 100,
          gapMs: 1000,
          shutdownReason: 'spindown',
        },
        {
          envId: 'b',
          functionName: 'f',
          functionVersion: '7',
          startAt: T0,
          invokes: 1,
          shutdownReason: 'timeout',
        },
        {
          envId: 'c',
          functionName: 'g',
          startAt: T0,
          invokes: 4,
          shutdownReason: 'SandboxTerminated',
        },
        { envId: 'alive', functionName: 'f', startAt: T0, invokes: 1 },
      ]),
    )
    .lanes.values();
}

describe('shutdownRows', () => {
  it('computes budget, idle time and lifetime from the events when an environment shut down', () => {
    const rows = shutdownRows(lanes());
    expect(rows.map((r) => r.envId).sort()).toEqual(['a', 'b', 'c']);
    const a = rows.find((r) => r.envId === 'a')!;
    // register T0, init 180, invokes at +1180 and +2280 (100 ms each), SHUTDOWN 1000 ms after the last end;
    // idle ends the last invoke at its start + the report's duration (100 + 1.5 ms).
    expect(a.budgetMs).toBe(2000);
    expect(a.shutdownMs).toBe(35);
    expect(a.budgetUsedPct).toBeCloseTo(1.75);
    expect(a.idleMs).toBe(998.5);
    expect(a.lifetimeMs).toBe(180 + 1000 + 100 + 1000 + 100 + 1000);
    expect(a.invokes).toBe(2);
  });

  it('computes idle time on the extension clock when the platform clock is skewed', () => {
    const skewed = storedLifecycles([
      {
        envId: 's',
        functionName: 'f',
        startAt: T0,
        invokes: 2,
        gapMs: 700,
        shutdownReason: 'spindown',
      },
    ]).map((stored) =>
      stored.event.type === 'platform'
        ? { ...stored, event: { ...stored.event, recordTime: stored.event.recordTime + 60_000 } }
        : stored,
    );
    const [row] = shutdownRows(new TimelineBuilder().apply(skewed).lanes.values());
    // Last INVOKE + report duration (120 + 1.5 ms), SHUTDOWN 700 ms after the runtime finished.
    expect(row?.idleMs).toBe(698.5);
  });

  it('filters by function, version, reason and time when a filter is given', () => {
    expect(shutdownRows(lanes(), { functionName: 'f' }).map((r) => r.envId)).toEqual(['b', 'a']);
    expect(shutdownRows(lanes(), { version: '7' }).map((r) => r.envId)).toEqual(['b']);
    expect(
      shutdownRows(lanes(), { reason: 'spindown' })
        .map((r) => r.envId)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(shutdownRows(lanes(), { from: T0 + 10_000_000 })).toEqual([]);
  });
});

describe('summarizeShutdowns', () => {
  it('counts per reason and spreads figures when rows are given', () => {
    const summary = summarizeShutdowns(shutdownRows(lanes()));
    expect(summary.map((s) => [s.reason, s.count])).toEqual([
      ['all', 3],
      ['spindown', 2],
      ['timeout', 1],
    ]);
    expect(summary[0]!.invokesPerEnv).toMatchObject({ p50: 2, max: 4, count: 3 });
    expect(summary[0]!.meanInvokes).toBeCloseTo(7 / 3);
    expect(summary[0]!.exited).toBe(3);
  });

  it('returns only an empty total when there are no rows', () => {
    expect(summarizeShutdowns([])).toMatchObject([{ reason: 'all', count: 0, meanInvokes: 0 }]);
  });
});

describe('sortShutdownRows', () => {
  it('orders by the key in both directions and keeps nulls last', () => {
    const rows = shutdownRows(lanes());
    const withNull = [...rows, { ...rows[0]!, envId: 'z', idleMs: null }];
    expect(
      sortShutdownRows(withNull, 'invokes', 'desc')
        .map((r) => r.invokes)
        .slice(0, 3),
    ).toEqual([4, 2, 1]);
    const asc = sortShutdownRows(withNull, 'idleMs', 'asc');
    const desc = sortShutdownRows(withNull, 'idleMs', 'desc');
    expect(asc.at(-1)!.envId).toBe('z');
    expect(desc.at(-1)!.envId).toBe('z');
  });
});

describe('percentile', () => {
  it('uses the nearest rank when given unsorted values', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 95)).toBe(5);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('histogram', () => {
  it('counts every value exactly once including the maximum', () => {
    const bins = histogram([0, 1, 2, 3, 4, 10], 5);
    expect(bins).toHaveLength(5);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(6);
    expect(bins.at(-1)!.count).toBe(1);
    expect(bins[0]!.count).toBe(2);
  });

  it('clamps out-of-range values into the edge bins when a range is fixed', () => {
    const bins = histogram([-5, 50, 500], 2, { min: 0, max: 100 });
    expect(bins.map((b) => b.count)).toEqual([1, 2]);
  });

  it('returns no bins when there are no finite values', () => {
    expect(histogram([Number.NaN], 3)).toEqual([]);
  });
});

describe('histogram at scale', () => {
  it('handles 300,000 values without overflowing the call stack', () => {
    const values = Array.from({ length: 300_000 }, (_, i) => i % 1000);
    const bins = histogram(values, 10);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(300_000);
    expect(bins[0]!.from).toBe(0);
    expect(bins.at(-1)!.to).toBe(999);
  });
});
