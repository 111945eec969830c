import type { ActivityBuckets, InvocationFacts } from '@lifeline/protocol';

/**
 * Density: at coarse zoom a lane shows its invokes as cells of `step` ms (counts per cell) instead of one bar per
 * invoke, and the window is read with `/v1/window?step=` so the tab holds environments × cells, not invocations.
 *
 * When: a pixel of the lane covers more than {@link DENSITY_MS_PER_PX} ms. Invokes last tens of ms to seconds, so
 * past that scale a busy environment puts several invokes into each pixel: bars merge into a smear that costs one
 * row per invoke to transfer and hold, and shows nothing a count per cell does not. With a 1,500 px lane this is
 * any range longer than about 4 hours (15 min and 1 h ranges stay detailed; 6 h, 24 h, 7 d and 30 d are dense).
 * Zooming into a shorter range reads it again, detailed.
 */
const DENSITY_MS_PER_PX = 10_000;
/** Width of one cell, px: wide enough to see and to hover, narrow enough to show when a lane was busy. */
const CELL_PX = 4;
/** The collector's limits on a density window (`/v1/window?step=`). */
const STEP_MIN_MS = 1000;
const BUCKETS_MAX = 4000;

/** Cell sizes on whole, familiar units, so cells line up with the axis and keep their place while panning. */
const NICE_STEPS_MS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
].map((seconds) => seconds * 1000);

/** The invokes of one environment that started in one cell [bucket·step, (bucket+1)·step). */
export interface ActivityCell {
  readonly bucket: number;
  readonly invokes: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Sum of the known durations of those invokes (0 for one still running). */
  readonly busyMs: number;
}

/** A lane's cells, sorted by bucket, with their total. */
export interface LaneActivity {
  readonly step: number;
  readonly cells: readonly ActivityCell[];
  readonly invokes: number;
}

/**
 * The cell size for showing [from, to] on a lane `laneWidthPx` wide, or null when the range is short enough to show
 * every invoke (see {@link DENSITY_MS_PER_PX}).
 */
export function densityStep(from: number, to: number, laneWidthPx: number): number | null {
  const span = to - from;
  if (!(span > 0) || span / Math.max(1, laneWidthPx) <= DENSITY_MS_PER_PX) return null;
  const wanted = Math.max(
    STEP_MIN_MS,
    (span / Math.max(1, laneWidthPx)) * CELL_PX,
    span / BUCKETS_MAX,
  );
  return (
    NICE_STEPS_MS.find((step) => step >= wanted) ?? Math.ceil(wanted / 86_400_000) * 86_400_000
  );
}

/** The wire's parallel arrays as cells. */
export function activityOf(step: number, buckets: ActivityBuckets): LaneActivity {
  const cells: ActivityCell[] = buckets.bucket.map((bucket, i) => ({
    bucket,
    invokes: buckets.invokes[i] ?? 0,
    errors: buckets.errors[i] ?? 0,
    timeouts: buckets.timeouts[i] ?? 0,
    busyMs: buckets.busyMs[i] ?? 0,
  }));
  return { step, cells, invokes: cells.reduce((sum, cell) => sum + cell.invokes, 0) };
}

/**
 * What one invocation row adds to its cell, by the rules of the collector's count (`ActivityBuckets` in the
 * protocol): the bucket of its start (INVOKE, else its first platform time), error or failure, timeout, and its
 * known duration.
 */
export function contributionOf(row: InvocationFacts, step: number): ActivityCell {
  const start = row.startedAt ?? row.platformStartAt ?? row.runtimeDoneAt ?? row.reportAt ?? 0;
  return {
    bucket: Math.floor(start / step),
    invokes: 1,
    errors: row.status === 'error' || row.status === 'failure' ? 1 : 0,
    timeouts: row.status === 'timeout' ? 1 : 0,
    busyMs: row.reportDurationMs ?? row.runtimeDoneDurationMs ?? 0,
  };
}

/**
 * The cells after one row changed: `before` is what the row already added (null if nothing), `after` what it adds
 * now. A live event can start an invoke (nothing → running), end it (running → error, adding its duration), or
 * move it (a late INVOKE gives an earlier start); the difference is applied, so nothing counts twice.
 */
export function foldActivity(
  activity: LaneActivity,
  before: ActivityCell | null,
  after: ActivityCell | null,
): LaneActivity {
  let cells = activity.cells;
  if (before) cells = addTo(cells, before, -1);
  if (after) cells = addTo(cells, after, 1);
  if (cells === activity.cells) return activity;
  return {
    step: activity.step,
    cells,
    invokes: activity.invokes - (before?.invokes ?? 0) + (after?.invokes ?? 0),
  };
}

function addTo(
  cells: readonly ActivityCell[],
  delta: ActivityCell,
  sign: 1 | -1,
): readonly ActivityCell[] {
  const at = bucketIndex(cells, delta.bucket);
  const held = cells[at];
  const base =
    held?.bucket === delta.bucket
      ? held
      : { bucket: delta.bucket, invokes: 0, errors: 0, timeouts: 0, busyMs: 0 };
  const next: ActivityCell = {
    bucket: delta.bucket,
    invokes: base.invokes + sign * delta.invokes,
    errors: base.errors + sign * delta.errors,
    timeouts: base.timeouts + sign * delta.timeouts,
    busyMs: base.busyMs + sign * delta.busyMs,
  };
  const copy = cells.slice();
  if (held?.bucket === delta.bucket) {
    if (next.invokes <= 0) copy.splice(at, 1);
    else copy[at] = next;
  } else if (next.invokes > 0) copy.splice(at, 0, next);
  return copy;
}

/** The first position whose bucket is ≥ `bucket`. */
function bucketIndex(cells: readonly ActivityCell[], bucket: number): number {
  let lo = 0;
  let hi = cells.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cells[mid]!.bucket < bucket) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The activity without the cells that ended before `from` (a following range moved on). */
export function activitySince(activity: LaneActivity, from: number): LaneActivity {
  const first = bucketIndex(activity.cells, Math.floor(from / activity.step));
  if (first === 0) return activity;
  const cells = activity.cells.slice(first);
  return {
    step: activity.step,
    cells,
    invokes: cells.reduce((sum, cell) => sum + cell.invokes, 0),
  };
}

/** The cell holding `time`, or null. */
export function cellAt(activity: LaneActivity, time: number): ActivityCell | null {
  const bucket = Math.floor(time / activity.step);
  const cell = activity.cells[bucketIndex(activity.cells, bucket)];
  return cell?.bucket === bucket ? cell : null;
}

/**
 * How strongly to draw a cell (0.2–1): its invokes against the busiest visible cell, on a log scale so one invoke
 * stays visible next to a thousand.
 */
export function cellIntensity(invokes: number, peak: number): number {
  if (invokes <= 0) return 0;
  if (peak <= 1) return 1;
  return 0.2 + (0.8 * Math.log1p(invokes)) / Math.log1p(peak);
}
