import { describe, expect, it } from 'vitest';
import { formatUrlState, parseUrlState, resolveRange } from './url-state.ts';

describe('url state', () => {
  it('round-trips every field through the query string', () => {
    const state = parseUrlState(
      '?view=shutdowns&fn=orders&version=7&reason=timeout&states=idle,active&from=2026-11-25T12:00:00.000Z&to=1795608000000&env=e1&req=r1&q=r1&tenant=t1&group=tenant',
    );
    expect(state).toEqual({
      view: 'shutdowns',
      fn: 'orders',
      version: '7',
      reason: 'timeout',
      states: 'idle,active',
      range: null,
      from: Date.UTC(2026, 10, 25, 12),
      to: 1795608000000,
      env: 'e1',
      req: 'r1',
      q: 'r1',
      tenant: 't1',
      group: 'tenant',
    });
    expect(parseUrlState(formatUrlState(state))).toEqual(state);
  });

  it('falls back to defaults when values are unknown or malformed', () => {
    expect(parseUrlState('?view=nope&from=yesterday&group=region')).toMatchObject({
      view: 'timeline',
      from: null,
      group: 'function',
    });
    // The default grouping stays out of the link.
    expect(formatUrlState(parseUrlState('?group=function'))).toBe('');
    expect(formatUrlState(parseUrlState(''))).toBe('');
  });

  it('keeps a relative range relative and lets an absolute from win over it', () => {
    const now = Date.UTC(2026, 10, 25, 12);
    const relative = parseUrlState('?range=6h');
    expect(formatUrlState(relative)).toBe('?range=6h');
    expect(resolveRange(relative, now)).toEqual({
      from: now - 6 * 3_600_000,
      to: now,
      following: true,
    });
    expect(resolveRange(parseUrlState(''), now)).toEqual({
      from: now - 15 * 60_000,
      to: now,
      following: true,
    });
    expect(parseUrlState('?range=2w').range).toBeNull();
    const absolute = parseUrlState('?range=6h&from=1795600000000&to=2026-11-25T12:00:00Z');
    expect(resolveRange(absolute, now)).toEqual({ from: 1795600000000, to: now, following: false });
    expect(formatUrlState(absolute)).not.toContain('range=');
    expect(resolveRange(parseUrlState('?from=1795600000000'), now)).toEqual({
      from: 1795600000000,
      to: now,
      following: false,
    });
  });

  it('ignores times a Date cannot hold, so a bad link cannot break the page', () => {
    for (const bad of ['99999999999999999', '8640000000000001']) {
      const state = parseUrlState(`?from=${bad}&to=${bad}`);
      expect(state).toMatchObject({ from: null, to: null });
      expect(() => formatUrlState(state)).not.toThrow();
    }
    expect(parseUrlState('?from=8640000000000000').from).toBe(8.64e15);
  });
});
