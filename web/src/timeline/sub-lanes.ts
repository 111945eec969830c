import { concurrencySlots, runsConcurrently } from '@lifeline/protocol';
import { type EnvLane, type InvokeBar, invokeEnd } from './lane-model.ts';

/** Height of one sub-lane (one concurrent invoke) in px. */
export const SUB_LANE_H = 6;
/** Sub-lanes drawn at most; invokes beyond share the last one. */
export const MAX_SUB_LANES = 12;
const LANE_H = 30;
const LANE_PAD = 12;

/** Concurrent invokes of one environment stacked into sub-lanes: the slot of each invoke and the peak. */
export interface SubLanes {
  /** Slot per invoke, in the order of `lane.invokes`. */
  readonly slots: readonly number[];
  /** Most invokes running at once. */
  readonly peak: number;
}

const cache = new WeakMap<readonly InvokeBar[], SubLanes>();

/**
 * The sub-lanes of an environment whose invokes may overlap (Managed Instances), by the shared stacking rule; null
 * for an environment that runs one invoke at a time. Cached per invoke list (lanes are immutable snapshots).
 */
export function subLanesOf(lane: EnvLane): SubLanes | null {
  if (!runsConcurrently(lane.facts)) return null;
  let found = cache.get(lane.invokes);
  if (!found) {
    found = concurrencySlots(lane.invokes.map((b) => ({ start: b.startAt, end: invokeEnd(b) })));
    cache.set(lane.invokes, found);
  }
  return found;
}

/** The row height of a lane: one bar high, or tall enough for its sub-lanes. */
export function laneHeight(lane: EnvLane): number {
  const sub = subLanesOf(lane);
  if (!sub || sub.peak <= 1) return LANE_H;
  return Math.max(LANE_H, LANE_PAD + Math.min(sub.peak, MAX_SUB_LANES) * SUB_LANE_H);
}

/** The slot an invoke is drawn in (0 for a lane without sub-lanes). */
export function slotOf(sub: SubLanes | null, index: number): number {
  return sub ? Math.min(sub.slots[index] ?? 0, MAX_SUB_LANES - 1) : 0;
}
