import { type EnvironmentState, environmentState, shutdownKind } from '@lifeline/protocol';
import type { EnvLane } from './lane-model.ts';

/**
 * The lane's state at `now`, by the shared derivation's rule. `now` is on the COLLECTOR clock (the dashboard's
 * estimate of it, see live/collector-clock.ts): the rule compares it only with the collector's receive times, never
 * with extension-clock times. Pure: the timeline re-evaluates it as time passes.
 */
export function laneState(lane: EnvLane, now: number): EnvironmentState {
  return environmentState(lane.facts, now, lane.lostAfterMs);
}

/** Shutdown reasons folded to the three production values (RIE spellings mapped), else 'other'. */
export type ReasonKind = ReturnType<typeof shutdownKind>;

/** The shared derivation's reason rule, under the name the views use. */
export const reasonKind = shutdownKind;
