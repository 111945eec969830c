import type { FigureStats, Histogram } from '@lifeline/protocol';
import { percentile } from '@lifeline/protocol';

/**
 * Bucketing, percentiles and histograms of the read API: pure functions over values the stores select, the same
 * for every backend.
 */

const MAX_BINS = 20;

/** count/min/max/p50/p95/p99 and a histogram whose bins span the values' own range. */
export function figureStats(values: readonly number[]): FigureStats {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (first === undefined || last === undefined) {
    return {
      count: 0,
      min: null,
      max: null,
      p50: null,
      p95: null,
      p99: null,
      histogram: { edges: [], counts: [] },
    };
  }
  return {
    count: sorted.length,
    min: first,
    max: last,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    histogram: histogramOf(sorted, first, last),
  };
}

/** Bins with "nice" edges (1, 2 or 5 × a power of ten) covering [min, max]; about √n bins, at most 20. */
export function histogramOf(sorted: readonly number[], min: number, max: number): Histogram {
  if (min === max) return { edges: [min, max], counts: [sorted.length] };
  const wanted = Math.min(MAX_BINS, Math.max(1, Math.ceil(Math.sqrt(sorted.length))));
  const width = niceStep((max - min) / wanted);
  const start = Math.floor(min / width) * width;
  const bins = Math.max(1, Math.ceil((max - start) / width + 1e-9));
  const edges = Array.from({ length: bins + 1 }, (_, i) => roundTo(start + i * width, width));
  const counts = new Array<number>(bins).fill(0);
  for (const value of sorted) {
    const index = Math.min(bins - 1, Math.floor((value - start) / width));
    counts[index] = (counts[index] ?? 0) + 1;
  }
  return { edges, counts };
}

/** The smallest 1, 2 or 5 × 10^k at or above `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= raw) return factor * power;
  return 10 * power;
}

/** Removes floating-point noise from a multiple of `step` (0.30000000000000004 → 0.3). */
function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(Math.min(20, decimals)));
}

const STEPS_MS = [
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
  1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** A round step giving about 60–120 buckets over [from, to] (fewer for very short ranges). */
export function seriesStep(from: number, to: number, buckets = 90): number {
  const raw = (to - from) / buckets;
  for (const step of STEPS_MS) if (step >= raw * 0.75) return step;
  return Math.ceil(raw / 86_400_000) * 86_400_000;
}

/** Bucket starts of [from, to] with `step`: aligned to multiples of the step (so ranges that overlap agree). */
export function bucketStarts(from: number, to: number, step: number): number[] {
  const first = Math.floor(from / step) * step;
  const starts: number[] = [];
  for (let start = first; start <= to; start += step) starts.push(start);
  return starts;
}
