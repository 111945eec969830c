import type { Shutdown } from '@lifeline/protocol';
import { reasonKind } from '../timeline/lane-state.ts';

/** Columns the shutdown table sorts by. */
export type ShutdownSortKey =
  | 'receivedAt'
  | 'functionName'
  | 'reason'
  | 'shutdownDurationMs'
  | 'budgetUsedPct'
  | 'idleMs'
  | 'lifetimeMs'
  | 'invokes';

/** Sorts a copy; nulls last in either direction. */
export function sortShutdowns(
  rows: readonly Shutdown[],
  key: ShutdownSortKey,
  dir: 'asc' | 'desc',
): Shutdown[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null && y === null) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    if (typeof x === 'string' || typeof y === 'string')
      return sign * String(x).localeCompare(String(y));
    return sign * (x - y);
  });
}

/** Idle before a shutdown means something only for a spindown: a timeout or failure ends an environment mid-work. */
export function meaningfulIdle(row: Shutdown): number | null {
  return reasonKind(row.reason) === 'spindown' && row.idleMs !== null
    ? Math.max(0, row.idleMs)
    : null;
}

/** The environment's life as a time range to show on the timeline: registration → exit (or the deadline). */
export function lifeRange(row: Shutdown): { from: number; to: number } {
  const from = row.receivedAt - row.lifetimeMs;
  const to = row.exitedAt ?? row.deadlineMs;
  const pad = Math.max((to - from) * 0.05, 1000);
  return { from: Math.round(from - pad), to: Math.round(to + pad) };
}
