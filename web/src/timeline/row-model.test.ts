import type { RegisterEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { buildRows, type LaneRow, rowCounts } from './row-model.ts';
import { TimelineBuilder } from './timeline-builder.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function lanesWithSandbox() {
  const events = storedLifecycles([
    { envId: 'b-late', functionName: 'beta', startAt: T0 + 50_000, invokes: 1 },
    { envId: 'a-1', functionName: 'alpha', startAt: T0, invokes: 2, shutdownReason: 'timeout' },
    { envId: 'a-other', functionName: 'alpha', startAt: T0 + 1000, invokes: 1 },
    { envId: 'a-2', functionName: 'alpha', startAt: T0 + 20_000, invokes: 1 },
  ]);
  for (const e of events) {
    if (e.event.type !== 'register') continue;
    const reg = e.event as RegisterEvent;
    if (reg.envId === 'a-1') reg.sandboxId = 'sb-1';
    if (reg.envId === 'a-2') Object.assign(reg, { sandboxId: 'sb-1', previousEnvId: 'a-1' });
  }
  return new TimelineBuilder().apply(events).lanes.values();
}

describe('buildRows', () => {
  it('groups lanes by function and keeps a re-initialised environment under its predecessor', () => {
    const rows = buildRows(lanesWithSandbox(), { now: T0 + 60_000 });
    expect(rows.map((r) => r.key)).toEqual([
      'fn:alpha',
      'a-1',
      'a-2',
      'a-other',
      'fn:beta',
      'b-late',
    ]);
    const a2 = rows[2] as LaneRow;
    expect(a2.reinitOf).toBe('a-1');
    expect(a2.chainIndex).toBe(1);
    expect(a2.chainLength).toBe(2);
    expect((rows[3] as LaneRow).reinitOf).toBeNull();
    expect(rows[0]).toMatchObject({ kind: 'group', laneCount: 3, invokes: 4, alive: 2 });
  });

  it('hides the lanes of a collapsed function but keeps its header', () => {
    const rows = buildRows(lanesWithSandbox(), { now: T0, collapsed: new Set(['alpha']) });
    expect(rows.map((r) => r.key)).toEqual(['fn:alpha', 'fn:beta', 'b-late']);
    expect(rows[0]).toMatchObject({ collapsed: true, laneCount: 3 });
  });

  it('filters by function, state and time range when options are set', () => {
    const lanes = [...lanesWithSandbox()];
    expect(buildRows(lanes, { now: T0 + 60_000, functionName: 'beta' }).map((r) => r.key)).toEqual([
      'fn:beta',
      'b-late',
    ]);
    const ended = buildRows(lanes, { now: T0 + 60_000, states: new Set(['ended'] as const) });
    expect(ended.map((r) => r.key)).toEqual(['fn:alpha', 'a-1']);
    const late = buildRows(lanes, { now: T0 + 60_000, from: T0 + 45_000 });
    expect(late.map((r) => r.key)).toEqual(['fn:beta', 'b-late']);
  });

  it('puts the most recently active function and chain first when ordered newest first', () => {
    const rows = buildRows(lanesWithSandbox(), { now: T0 + 60_000, order: 'newest' });
    expect(rows.map((r) => r.key)).toEqual([
      'fn:beta',
      'b-late',
      'fn:alpha',
      'a-1',
      'a-2',
      'a-other',
    ]);
  });

  it('counts what the filters leave, collapsed groups included, for the toolbar', () => {
    const lanes = [...lanesWithSandbox()];
    expect(rowCounts(buildRows(lanes, { now: T0 + 60_000 }))).toEqual({
      environments: 4,
      alive: 3,
      invokes: 5,
    });
    const beta = buildRows(lanes, {
      now: T0 + 60_000,
      functionName: 'beta',
      collapsed: new Set(['beta']),
    });
    expect(rowCounts(beta)).toEqual({ environments: 1, alive: 1, invokes: 1 });
  });

  it('returns no rows when there are no lanes', () => {
    expect(buildRows([], { now: T0 })).toEqual([]);
  });
});
