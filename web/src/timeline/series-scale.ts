import type { SeriesBucket } from '@lifeline/protocol';
import type { TimeWindow } from './time-scale.ts';

/** Environment states stacked in the strip's "alive" band, bottom up. */
export const ALIVE_STATES = ['idle', 'active', 'initializing', 'shutting-down'] as const;

/** The sum of a record of counts. */
export function total(counts: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(counts)) n += v;
  return n;
}

/** What the strip states for the whole visible range (its accessible summary; the browser test compares it). */
export interface SeriesSummary {
  /** Most environments alive in one bucket. */
  readonly peakAlive: number;
  readonly coldStarts: number;
  readonly invokes: number;
  readonly errors: number;
  readonly timeouts: number;
}

/** Sums the buckets; `peakAlive` is the largest bucket's alive count. */
export function summarizeSeries(buckets: readonly SeriesBucket[]): SeriesSummary {
  let peakAlive = 0;
  let coldStarts = 0;
  let invokes = 0;
  let errors = 0;
  let timeouts = 0;
  for (const b of buckets) {
    peakAlive = Math.max(peakAlive, total(b.alive));
    coldStarts += total(b.coldStarts);
    invokes += b.invokes;
    errors += b.errors;
    timeouts += b.timeouts;
  }
  return { peakAlive, coldStarts, invokes, errors, timeouts };
}

/**
 * The range to ask the collector for: the window widened to whole 1/100ths of its span, so a window that moved a
 * few pixels asks the same question (and the answer covers the edges).
 */
export function seriesRange(window: TimeWindow): { from: number; to: number } {
  const span = Math.max(1, window.end - window.start);
  const grain = 10 ** Math.floor(Math.log10(span / 100));
  return {
    from: Math.floor(window.start / grain) * grain,
    to: Math.ceil(window.end / grain) * grain,
  };
}

/** Index of the bucket holding `time`, or -1 outside the series. */
export function bucketAt(buckets: readonly SeriesBucket[], step: number, time: number): number {
  const first = buckets[0];
  if (!first || !(step > 0)) return -1;
  const i = Math.floor((time - first.start) / step);
  return i >= 0 && i < buckets.length ? i : -1;
}
