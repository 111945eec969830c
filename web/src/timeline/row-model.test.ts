import type { RegisterEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { laneLabel } from './invoke-labels.ts';
import { buildRows, type LaneRow, NO_TENANT, rowCounts } from './row-model.ts';
import { TimelineBuilder } from './timeline-builder.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** Environments of two tenants across two functions, and two without a tenant. */
function lanesWithTenants() {
  const tenantOf: Record<string, string> = { 'p-1': 'zeta', 'p-2': 'acme', 'q-1': 'acme' };
  const events = storedLifecycles([
    { envId: 'p-1', functionName: 'pay', startAt: T0, invokes: 1 },
    { envId: 'p-2', functionName: 'pay', startAt: T0 + 1000, invokes: 2 },
    { envId: 'p-3', functionName: 'pay', startAt: T0 + 2000, invokes: 1 },
    { envId: 'q-1', functionName: 'quote', startAt: T0 + 3000, invokes: 1 },
    { envId: 'q-2', functionName: 'quote', startAt: T0 + 40_000, invokes: 3 },
  ]);
  for (const e of events) {
    const tenantId = tenantOf[e.event.envId];
    if (tenantId && e.event.type === 'platform' && e.event.recordType === 'platform.start')
      Object.assign(e.event.record as object, { tenantId });
  }
  return [...new TimelineBuilder().apply(events).lanes.values()];
}

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
  it('counts a dense lane by its cells, not by the few invokes it holds one by one', () => {
    const lanes = [...lanesWithSandbox()].map((lane) =>
      lane.envId === 'b-late'
        ? { ...lane, activity: { step: 60_000, cells: [], invokes: 40 } }
        : lane,
    );
    const rows = buildRows(lanes, { now: T0 + 60_000 });
    expect(rows.find((r) => r.key === 'fn:beta')).toMatchObject({ kind: 'group', invokes: 40 });
    const lane = rows.find((r) => r.key === 'b-late') as LaneRow;
    expect(laneLabel(lane.lane, lane.state)).toContain('40 invokes');
  });
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
    const rows = buildRows(lanesWithSandbox(), { now: T0, collapsed: new Set(['fn:alpha']) });
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
      collapsed: new Set(['fn:beta']),
    });
    expect(rowCounts(beta)).toEqual({ environments: 1, alive: 1, invokes: 1 });
  });

  it('groups by tenant when asked: tenants by id, environments without one last under "no tenant"', () => {
    const rows = buildRows(lanesWithTenants(), { now: T0 + 60_000, group: 'tenant' });
    expect(rows.map((r) => r.key)).toEqual([
      'tenant:acme',
      'p-2',
      'q-1',
      'tenant:zeta',
      'p-1',
      'tenant:',
      'p-3',
      'q-2',
    ]);
    expect(rows[0]).toMatchObject({ by: 'tenant', label: 'acme', laneCount: 2, invokes: 3 });
    expect(rows[5]).toMatchObject({ by: 'tenant', label: NO_TENANT, laneCount: 2, invokes: 4 });
    // Tenant groups mix functions, so their lanes name theirs; function groups already do.
    expect(rows[1]).toMatchObject({ kind: 'lane', showFunction: true });
    const byFunction = buildRows(lanesWithTenants(), { now: T0 + 60_000 });
    expect(byFunction[1]).toMatchObject({ kind: 'lane', showFunction: false });
    expect(byFunction.filter((r) => r.kind === 'group')).toMatchObject([
      { by: 'function', label: 'pay', key: 'fn:pay' },
      { by: 'function', label: 'quote', key: 'fn:quote' },
    ]);
  });

  it('keeps the tenant group without a tenant last when ordered newest first', () => {
    const rows = buildRows(lanesWithTenants(), {
      now: T0 + 60_000,
      group: 'tenant',
      order: 'newest',
    });
    // q-2 (no tenant) is the newest lane of all, yet its group stays last; acme (q-1) is newer than zeta (p-1).
    expect(rows.filter((r) => r.kind === 'group').map((r) => r.key)).toEqual([
      'tenant:acme',
      'tenant:zeta',
      'tenant:',
    ]);
    expect(rows.slice(-3).map((r) => r.key)).toEqual(['tenant:', 'q-2', 'p-3']);
  });

  it('combines tenant groups with the function filter, collapsing and the toolbar counts', () => {
    const lanes = lanesWithTenants();
    const quote = buildRows(lanes, { now: T0 + 60_000, group: 'tenant', functionName: 'quote' });
    expect(quote.map((r) => r.key)).toEqual(['tenant:acme', 'q-1', 'tenant:', 'q-2']);
    const collapsed = buildRows(lanes, {
      now: T0 + 60_000,
      group: 'tenant',
      collapsed: new Set(['tenant:', 'fn:pay']),
    });
    // A collapsed function does not collapse a tenant of the same lanes: keys name the grouping.
    expect(collapsed.map((r) => r.key)).toEqual([
      'tenant:acme',
      'p-2',
      'q-1',
      'tenant:zeta',
      'p-1',
      'tenant:',
    ]);
    expect(collapsed.at(-1)).toMatchObject({ collapsed: true, laneCount: 2 });
    expect(rowCounts(collapsed)).toEqual(rowCounts(buildRows(lanes, { now: T0 + 60_000 })));
  });

  it('returns no rows when there are no lanes', () => {
    expect(buildRows([], { now: T0 })).toEqual([]);
  });
});
