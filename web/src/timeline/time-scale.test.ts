import { describe, expect, it } from 'vitest';
import {
  axisTicks,
  createTimeScale,
  fitWindow,
  followWindow,
  formatDuration,
  lowerBound,
  MIN_SPAN_MS,
  panWindow,
  zoomWindow,
} from './time-scale.ts';

describe('createTimeScale', () => {
  it('maps the window edges to 0 and width when converting times', () => {
    const scale = createTimeScale({ start: 1000, end: 2000 }, 500);
    expect(scale.toX(1000)).toBe(0);
    expect(scale.toX(2000)).toBe(500);
    expect(scale.toX(1500)).toBe(250);
    expect(scale.toTime(250)).toBe(1500);
  });

  it('does not divide by zero when the width is zero', () => {
    const scale = createTimeScale({ start: 0, end: 100 }, 0);
    expect(Number.isFinite(scale.toX(50))).toBe(true);
  });
});

describe('zoomWindow', () => {
  it('keeps the anchor at the same screen position when zooming in', () => {
    const w = zoomWindow({ start: 0, end: 1000 }, 2, 250);
    expect(w).toEqual({ start: 125, end: 625 });
    const before = createTimeScale({ start: 0, end: 1000 }, 100).toX(250);
    expect(createTimeScale(w, 100).toX(250)).toBeCloseTo(before);
  });

  it('stops at the minimum span when zooming in too far', () => {
    const w = zoomWindow({ start: 0, end: 100 }, 1000);
    expect(w.end - w.start).toBe(MIN_SPAN_MS);
  });

  it('ignores a non-positive factor when given bad input', () => {
    const w = { start: 0, end: 100 };
    expect(zoomWindow(w, 0)).toBe(w);
    expect(zoomWindow(w, Number.NaN)).toBe(w);
  });
});

describe('panWindow', () => {
  it('moves both edges by the delta when panning', () => {
    expect(panWindow({ start: 0, end: 10 }, 5)).toEqual({ start: 5, end: 15 });
  });
});

describe('followWindow', () => {
  it('ends just after now and keeps the span when following live', () => {
    const w = followWindow({ start: 0, end: 1000 }, 10_000, 0.1);
    expect(w.end).toBe(10_100);
    expect(w.end - w.start).toBe(1000);
  });
});

describe('fitWindow', () => {
  it('pads both sides when fitting a range', () => {
    expect(fitWindow(1000, 2000, 0.1)).toEqual({ start: 900, end: 2100 });
  });

  it('falls back to the last minute when the range is not finite', () => {
    const w = fitWindow(Number.NaN, Number.NaN);
    expect(w.end - w.start).toBe(60_000);
  });
});

describe('axisTicks', () => {
  it('chooses a nice step and aligns ticks to it when the span is ten seconds', () => {
    const { step, ticks } = axisTicks({ start: 1_000_500, end: 1_010_500 }, 10);
    expect(step).toBe(1000);
    expect(ticks[0]!.time).toBe(1_001_000);
    expect(ticks.every((t) => t.time % 1000 === 0)).toBe(true);
    expect(ticks[0]!.label).toBe('00:16:41');
  });

  it('shows milliseconds when the step is below a second', () => {
    const { ticks } = axisTicks({ start: 0, end: 100 }, 5);
    expect(ticks[1]!.label).toBe('00:00:00.020');
  });
});

describe('formatDuration', () => {
  it('picks a unit that reads well when given durations of any size', () => {
    expect(formatDuration(120)).toBe('120 ms');
    expect(formatDuration(1240)).toBe('1.24 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(7_800_000)).toBe('2 h 10 min');
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(-50)).toBe('−50 ms');
  });
});

describe('lowerBound', () => {
  it('finds the first index at or above the value when the array is sorted', () => {
    const xs = [1, 3, 3, 7];
    expect(lowerBound(xs, 3, (x) => x)).toBe(1);
    expect(lowerBound(xs, 0, (x) => x)).toBe(0);
    expect(lowerBound(xs, 8, (x) => x)).toBe(4);
  });
});
