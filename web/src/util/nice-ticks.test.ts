import { describe, expect, it } from 'vitest';
import { countTicks, niceStep, niceTicks } from './nice-ticks.ts';

describe('niceTicks', () => {
  it('covers the range with round steps when the data is small', () => {
    expect(niceTicks(1.2, 6.1, 5)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('uses 1, 2 or 5 × 10ⁿ steps when the span is large', () => {
    expect(niceStep(3700, 4)).toBe(1000);
    expect(niceStep(900, 4)).toBe(500);
    expect(niceTicks(0, 37, 4)).toEqual([0, 10, 20, 30, 40]);
  });

  it('prints float steps without rounding noise when the span is below one', () => {
    expect(niceTicks(0.1, 0.35, 3)).toEqual([0.1, 0.2, 0.3, 0.4]);
  });

  it('returns one tick when min equals max', () => {
    expect(niceTicks(5, 5, 4)).toEqual([5]);
  });
});

describe('countTicks', () => {
  it('gives integer ticks from zero past the maximum when counts are small', () => {
    expect(countTicks(3, 4)).toEqual([0, 1, 2, 3]);
    expect(countTicks(37, 4)).toEqual([0, 10, 20, 30, 40]);
  });
});
