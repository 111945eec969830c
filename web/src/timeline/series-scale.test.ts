import type { SeriesBucket } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { bucketAt, seriesRange, summarizeSeries } from './series-scale.ts';

const bucket = (start: number, patch: Partial<SeriesBucket>): SeriesBucket => ({
  start,
  alive: {},
  coldStarts: {},
  invokes: 0,
  errors: 0,
  timeouts: 0,
  ...patch,
});

describe('summarizeSeries', () => {
  it('sums counts and takes the peak of alive environments across buckets', () => {
    const s = summarizeSeries([
      bucket(0, { alive: { idle: 2, active: 1 }, coldStarts: { 'on-demand': 3 }, invokes: 5 }),
      bucket(10, { alive: { idle: 1 }, coldStarts: { provisioned: 1 }, invokes: 4, errors: 2 }),
      bucket(20, { alive: { active: 4 }, timeouts: 1 }),
    ]);
    expect(s).toEqual({ peakAlive: 4, coldStarts: 4, invokes: 9, errors: 2, timeouts: 1 });
  });
});

describe('seriesRange', () => {
  it('asks the same range for windows a few pixels apart', () => {
    const a = seriesRange({ start: 1_000_123, end: 1_900_456 });
    const b = seriesRange({ start: 1_000_901, end: 1_900_001 });
    expect(a).toEqual(b);
    expect(a.from).toBeLessThanOrEqual(1_000_123);
    expect(a.to).toBeGreaterThanOrEqual(1_900_456);
  });
});

describe('bucketAt', () => {
  it('finds the bucket of a time and -1 outside the series', () => {
    const buckets = [bucket(100, {}), bucket(110, {}), bucket(120, {})];
    expect(bucketAt(buckets, 10, 115)).toBe(1);
    expect(bucketAt(buckets, 10, 99)).toBe(-1);
    expect(bucketAt(buckets, 10, 130)).toBe(-1);
  });
});
