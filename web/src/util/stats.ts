/** One histogram bucket: [from, to), the last one closed. */
export interface Bin {
  from: number;
  to: number;
  count: number;
}

/**
 * Counts `values` into `bins` equal-width buckets between min and max (defaults: the data's range). Values outside
 * the range are clamped into the first/last bucket so every value is counted once.
 */
export function histogram(
  values: readonly number[],
  bins: number,
  range?: { min: number; max: number },
): Bin[] {
  const n = Math.max(1, Math.floor(bins));
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [];
  let min = range?.min ?? minOf(finite);
  let max = range?.max ?? maxOf(finite);
  if (max <= min) max = min + 1;
  if (!Number.isFinite(min)) min = 0;
  const width = (max - min) / n;
  const result: Bin[] = Array.from({ length: n }, (_, i) => ({
    from: min + i * width,
    to: i === n - 1 ? max : min + (i + 1) * width,
    count: 0,
  }));
  for (const v of finite) {
    const i = Math.min(n - 1, Math.max(0, Math.floor((v - min) / width)));
    result[i]!.count++;
  }
  return result;
}

/** Smallest value (a loop, not `Math.min(...values)`, which overflows the call stack on large arrays). */
export function minOf(values: readonly number[]): number {
  let m = Number.POSITIVE_INFINITY;
  for (const v of values) if (v < m) m = v;
  return m;
}

/** Largest value; -Infinity for an empty list. */
export function maxOf(values: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > m) m = v;
  return m;
}
