import { percentile } from '@lifeline/protocol';
import type { EnvLane } from '../timeline/lane-model.ts';
import { laneState, type ReasonKind, reasonKind } from '../timeline/lane-state.ts';
import { isAlive } from '../timeline/row-model.ts';
import { lowerBound } from '../timeline/time-scale.ts';

/** Per-function figures for the overview, derived from the lanes (same meaning as the collector's FunctionSummary). */
export interface FunctionOverview {
  readonly functionName: string;
  readonly versions: readonly string[];
  readonly alive: number;
  readonly environments: number;
  /** Registrations: every environment start is a cold start, re-inits included. */
  readonly coldStarts: number;
  readonly initDurationP50: number | null;
  readonly initDurationP95: number | null;
  readonly invokes: number;
  readonly running: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Invokes per minute over the last 5 minutes of this function's activity. */
  readonly invokesPerMinute: number;
  readonly shutdowns: Readonly<Record<ReasonKind, number>>;
  readonly lastActivityAt: number;
}

const RATE_WINDOW_MS = 5 * 60_000;

/** One overview per function, sorted by name. */
export function functionOverviews(lanes: Iterable<EnvLane>, now: number): FunctionOverview[] {
  const groups = new Map<string, EnvLane[]>();
  for (const lane of lanes) {
    const list = groups.get(lane.functionName);
    if (list) list.push(lane);
    else groups.set(lane.functionName, [lane]);
  }
  const result: FunctionOverview[] = [];
  for (const [functionName, list] of groups) {
    const versions = new Set<string>();
    const initDurations: number[] = [];
    const shutdowns: Record<ReasonKind, number> = { spindown: 0, timeout: 0, failure: 0, other: 0 };
    let alive = 0;
    let coldStarts = 0;
    let invokes = 0;
    let running = 0;
    let errors = 0;
    let timeouts = 0;
    let lastActivityAt = 0;
    for (const lane of list) {
      if (lane.functionVersion) versions.add(lane.functionVersion);
      if (isAlive(laneState(lane, now))) alive++;
      if (lane.registered) coldStarts++;
      // One figure per environment, as the collector computes it: platform.initReport's duration, else the
      // initDurationMs of the first report that carries one.
      const initDuration =
        lane.inits.find((init) => init.durationMs !== null)?.durationMs ??
        lane.invokes.find((bar) => bar.initDurationMs !== null)?.initDurationMs ??
        null;
      if (initDuration !== null) initDurations.push(initDuration);
      invokes += lane.invokes.length;
      errors += lane.errorCount;
      timeouts += lane.timeoutCount;
      const last = lane.invokes[lane.invokes.length - 1];
      if (last?.status === 'running') running++;
      if (lane.shutdown) shutdowns[reasonKind(lane.shutdown.reason)]++;
      lastActivityAt = Math.max(lastActivityAt, lane.lastActivityAt);
    }
    let recent = 0;
    const since = lastActivityAt - RATE_WINDOW_MS;
    for (const lane of list) {
      recent += lane.invokes.length - lowerBound(lane.invokes, since, (b) => b.startAt);
    }
    result.push({
      functionName,
      versions: [...versions].sort(),
      alive,
      environments: list.length,
      coldStarts,
      initDurationP50: percentile(initDurations, 50),
      initDurationP95: percentile(initDurations, 95),
      invokes,
      running,
      errors,
      timeouts,
      invokesPerMinute: recent / (RATE_WINDOW_MS / 60_000),
      shutdowns,
      lastActivityAt,
    });
  }
  return result.sort((a, b) => a.functionName.localeCompare(b.functionName));
}
