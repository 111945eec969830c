/**
 * Nearest-rank percentile (`p` in [0, 100]) of `values`, which need not be sorted; null for an empty list.
 * One definition for the collector and the dashboard, so their p50/p95 figures agree.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = values.slice().sort((a, b) => a - b);
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)] ?? null;
}
