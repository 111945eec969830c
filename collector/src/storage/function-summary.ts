import { type FunctionSummary, percentile } from '@lifeline/protocol';

/** One row of the function list as both backends select it. */
export interface FunctionRow {
  functionName: string;
  environments: number;
  coldStarts: number;
  invokes: number;
  errors: number;
  timeouts: number;
  lastActivityAt: number;
  alive: number;
}

/** Invokes per minute are counted over this much of the function's latest activity. */
export const RECENT_ACTIVITY_MS = 5 * 60 * 1000;

/** What a backend reads for one function beside its row. */
export interface FunctionDetails {
  versions: string[];
  initDurations: number[];
  shutdownReasons: { reason: string; n: number }[];
  /** Invokes since `lastActivityAt − RECENT_ACTIVITY_MS`. */
  recentInvokes: number;
}

/** A function's summary from its row and details: the one place both backends shape it. */
export function functionSummaryOf(row: FunctionRow, details: FunctionDetails): FunctionSummary {
  const shutdowns: Record<string, number> = {};
  for (const { reason, n } of details.shutdownReasons) shutdowns[reason] = n;
  return {
    functionName: row.functionName,
    versions: details.versions.slice(0, 100),
    alive: row.alive,
    environments: row.environments,
    coldStarts: row.coldStarts,
    initDurationP50: percentile(details.initDurations, 50),
    initDurationP95: percentile(details.initDurations, 95),
    invokes: row.invokes,
    errors: row.errors,
    timeouts: row.timeouts,
    invokesPerMinute: details.recentInvokes / (RECENT_ACTIVITY_MS / 60_000),
    shutdowns,
    lastActivityAt: row.lastActivityAt,
  };
}
