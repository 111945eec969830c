import { describe, expect, it } from 'vitest';
import { formatUrlState, parseUrlState } from './url-state.ts';

describe('url state', () => {
  it('round-trips every field through the query string', () => {
    const state = parseUrlState(
      '?view=shutdowns&fn=orders&version=7&reason=timeout&states=idle,active&from=2026-11-25T12:00:00.000Z&to=1795608000000&env=e1&req=r1',
    );
    expect(state).toEqual({
      view: 'shutdowns',
      fn: 'orders',
      version: '7',
      reason: 'timeout',
      states: 'idle,active',
      from: Date.UTC(2026, 10, 25, 12),
      to: 1795608000000,
      env: 'e1',
      req: 'r1',
    });
    expect(parseUrlState(formatUrlState(state))).toEqual(state);
  });

  it('falls back to defaults when values are unknown or malformed', () => {
    expect(parseUrlState('?view=nope&from=yesterday')).toMatchObject({
      view: 'timeline',
      from: null,
    });
    expect(formatUrlState(parseUrlState(''))).toBe('');
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
