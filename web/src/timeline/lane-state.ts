import type { EnvironmentState } from '@lifeline/protocol';
import type { EnvLane } from './lane-model.ts';

/**
 * An environment silent this long with no SHUTDOWN is shown as lost: the collector's default (`--lost-after-ms`,
 * 15 min). Idle environments are normally spun down, with a recorded SHUTDOWN, well before that.
 */
export const LOST_AFTER_MS = 15 * 60_000;

/** The lane's state at `now` (extension clock ≈ wall clock). Pure: the timeline re-evaluates it as time passes. */
export function laneState(lane: EnvLane, now: number): EnvironmentState {
  if (lane.exitedAt !== null) return 'ended';
  if (lane.shutdown) return now > lane.shutdown.deadlineMs ? 'ended' : 'shutting-down';
  if (now - lane.lastActivityAt > LOST_AFTER_MS) return 'lost';
  const last = lane.invokes[lane.invokes.length - 1];
  if (last && last.status === 'running') return 'active';
  if (!last && !lane.inits.some((i) => i.reportAt !== null)) return 'initializing';
  return 'idle';
}

/** Shutdown reasons folded to the three production values (RIE spellings mapped), else 'other'. */
export type ReasonKind = 'spindown' | 'timeout' | 'failure' | 'other';

/** Compares case-insensitively and maps the RIE's SandboxTerminated/Timeout/ReleaseFail (ADR 0001). */
export function reasonKind(reason: string): ReasonKind {
  const r = reason.toLowerCase();
  if (r === 'spindown' || r === 'sandboxterminated') return 'spindown';
  if (r === 'timeout') return 'timeout';
  if (r === 'failure' || r === 'releasefail') return 'failure';
  return 'other';
}
