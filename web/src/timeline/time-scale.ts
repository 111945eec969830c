/**
 * Pure time ↔ pixel math for the timeline. A view window is a half-open range of epoch milliseconds; every function
 * returns a new window and never mutates its input.
 */

/** The visible time range, epoch ms. `end` > `start`. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** Narrowest window the user can zoom into (so a single bar never becomes infinitely wide). */
export const MIN_SPAN_MS = 20;
/** Widest window: 30 days. */
export const MAX_SPAN_MS = 30 * 24 * 3600_000;

/** Maps times to x pixels and back for one window drawn `width` pixels wide. */
export interface TimeScale {
  readonly window: TimeWindow;
  readonly width: number;
  /** Pixels per millisecond. */
  readonly pxPerMs: number;
  toX(time: number): number;
  toTime(x: number): number;
}

/** Builds a scale; a zero or negative width behaves as 1 px so callers never divide by zero. */
export function createTimeScale(window: TimeWindow, width: number): TimeScale {
  const span = Math.max(window.end - window.start, 1e-9);
  const w = Math.max(width, 1);
  const pxPerMs = w / span;
  return {
    window,
    width: w,
    pxPerMs,
    toX: (time) => (time - window.start) * pxPerMs,
    toTime: (x) => window.start + x / pxPerMs,
  };
}

function clampSpan(span: number): number {
  return Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, span));
}

/**
 * Zooms by `factor` (> 1 zooms in, < 1 zooms out) keeping `anchor` (a time) at the same place on screen.
 * @example zoomWindow({ start: 0, end: 1000 }, 2, 500) // → { start: 250, end: 750 }
 */
export function zoomWindow(window: TimeWindow, factor: number, anchor?: number): TimeWindow {
  if (!Number.isFinite(factor) || factor <= 0) return window;
  const span = window.end - window.start;
  const at = anchor ?? window.start + span / 2;
  const ratio = span > 0 ? (at - window.start) / span : 0.5;
  const next = clampSpan(span / factor);
  const start = at - ratio * next;
  return { start, end: start + next };
}

/** Moves the window by `deltaMs` (positive = later). */
export function panWindow(window: TimeWindow, deltaMs: number): TimeWindow {
  if (!Number.isFinite(deltaMs)) return window;
  return { start: window.start + deltaMs, end: window.end + deltaMs };
}

/** Moves the window so that it ends at `now` plus a small margin, keeping its span (follow live). */
export function followWindow(window: TimeWindow, now: number, marginRatio = 0.05): TimeWindow {
  const span = window.end - window.start;
  const end = now + span * marginRatio;
  return { start: end - span, end };
}

/** A window that shows `[from, to]` with `padRatio` of breathing room on each side. */
export function fitWindow(from: number, to: number, padRatio = 0.03): TimeWindow {
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    const now = Date.now();
    return { start: now - 60_000, end: now };
  }
  const lo = Math.min(from, to);
  const span = clampSpan(Math.max(to, from) - lo);
  const pad = span * padRatio;
  return { start: lo - pad, end: lo + span + pad };
}

/** Whether `[start, end]` overlaps the window. */
export function overlaps(window: TimeWindow, start: number, end: number): boolean {
  return end >= window.start && start <= window.end;
}

const TICK_STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000,
  300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000,
  86_400_000, 172_800_000, 604_800_000,
];

/** One axis tick: where, and the label to print there. */
export interface Tick {
  time: number;
  label: string;
}

/**
 * Picks a "nice" step so that about `maxTicks` ticks fit, aligned to multiples of the step in UTC, and labels them
 * with as much precision as the step needs.
 */
export function axisTicks(window: TimeWindow, maxTicks: number): { step: number; ticks: Tick[] } {
  const span = window.end - window.start;
  const wanted = span / Math.max(1, maxTicks);
  const step = TICK_STEPS_MS.find((s) => s >= wanted) ?? TICK_STEPS_MS[TICK_STEPS_MS.length - 1]!;
  const ticks: Tick[] = [];
  const first = Math.ceil(window.start / step) * step;
  for (let t = first, i = 0; t <= window.end && i < 1000; t += step, i++) {
    ticks.push({ time: t, label: formatClock(t, step) });
  }
  return { step, ticks };
}

/** hh:mm, hh:mm:ss or hh:mm:ss.mmm in UTC, depending on the step; the date is prepended for day steps. */
export function formatClock(time: number, step: number): string {
  const iso = new Date(time).toISOString();
  if (step >= 86_400_000) return iso.slice(5, 10);
  if (step >= 60_000) return iso.slice(11, 16);
  if (step >= 1000) return iso.slice(11, 19);
  return iso.slice(11, 23);
}

/** A duration for people: 840 ms, 1.24 s, 3 min 05 s, 2 h 10 min. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '−' : '';
  if (abs < 10) return `${sign}${abs.toFixed(abs < 1 && abs > 0 ? 2 : 1)} ms`;
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 2 : 1)} s`;
  if (abs < 3_600_000) {
    const min = Math.floor(abs / 60_000);
    const s = Math.floor((abs % 60_000) / 1000);
    return `${sign}${min} min ${String(s).padStart(2, '0')} s`;
  }
  const h = Math.floor(abs / 3_600_000);
  const min = Math.floor((abs % 3_600_000) / 60_000);
  return `${sign}${h} h ${String(min).padStart(2, '0')} min`;
}

/** The index of the first element of a sorted array whose key is ≥ `value` (binary search). */
export function lowerBound<T>(
  items: readonly T[],
  value: number,
  key: (item: T) => number,
): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(items[mid]!) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
