import { DEFAULT_RANGE, RANGES, type RangeName } from './url-state.ts';

/**
 * The shortest relative range that holds `spanMs` (the longest one when none does). Zooming a timeline that
 * follows live changes the range it loads to this one, so zooming a 7-day view into an hour reads that hour
 * invoke by invoke instead of keeping a week of cells.
 */
export function rangeCovering(spanMs: number): RangeName {
  const names = (Object.keys(RANGES) as RangeName[]).sort((a, b) => RANGES[a] - RANGES[b]);
  return (
    names.find((name) => RANGES[name] >= spanMs * 0.999) ?? names[names.length - 1] ?? DEFAULT_RANGE
  );
}
