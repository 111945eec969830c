/**
 * Round tick values for a numeric axis (1, 2, 5 × 10ⁿ steps), so chart labels read as 0, 20, 40 rather than
 * 0, 17.3, 34.6.
 */

/** A step of 1, 2 or 5 × 10ⁿ near `span / count`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * magnitude;
}

/**
 * About `count` round ticks covering [min, max]: the first at or below min, the last at or above max.
 * @example niceTicks(0, 37, 4) // → [0, 10, 20, 30, 40]
 */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max <= min) return [min];
  const step = niceStep(max - min, Math.max(1, count));
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last && ticks.length < 50; i++) {
    // Multiply, not accumulate: 0.1 + 0.2 would print as 0.30000000000000004.
    ticks.push(Number((i * step).toPrecision(12)));
  }
  return ticks;
}

/** Integer ticks for counts: 0 … the smallest round value ≥ max, at most about `count` of them. */
export function countTicks(max: number, count: number): number[] {
  const top = Math.max(1, Math.ceil(max));
  const step = Math.max(1, niceStep(top, count));
  const ticks: number[] = [];
  for (let t = 0; t < top + step; t += step) ticks.push(t);
  return ticks;
}
