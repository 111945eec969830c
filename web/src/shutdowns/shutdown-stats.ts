import { percentile } from '@lifeline/protocol';
import type { EnvLane } from '../timeline/lane-model.ts';
import { type ReasonKind, reasonKind } from '../timeline/lane-state.ts';
import { maxOf } from '../util/stats.ts';

/** One ended (or ending) environment, with the same figures the collector's `Shutdown` carries. */
export interface ShutdownRow {
  readonly envId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memorySizeMb: number | null;
  /** As received. */
  readonly reason: string;
  readonly reasonKind: ReasonKind;
  readonly receivedAt: number;
  readonly deadlineMs: number;
  /** deadlineMs − receivedAt. */
  readonly budgetMs: number;
  /** SHUTDOWN → exit record (extension clock); null until the exit record arrives. */
  readonly shutdownMs: number | null;
  /** shutdownMs as a percentage of budgetMs. */
  readonly budgetUsedPct: number | null;
  /** SHUTDOWN − end of the last invoke (its INVOKE time + its report/runtimeDone duration); null without invokes. */
  readonly idleMs: number | null;
  /** SHUTDOWN − registration; null when the register event is missing. */
  readonly lifetimeMs: number | null;
  readonly invokes: number;
}

/** Filters of the shutdown view (all optional, combined with AND). */
export interface ShutdownFilter {
  readonly functionName?: string | null;
  readonly version?: string | null;
  readonly reason?: string | null;
  /** SHUTDOWN received within [from, to], epoch ms. */
  readonly from?: number | null;
  readonly to?: number | null;
}

/** One row per environment that received SHUTDOWN, matching the filter, ordered by SHUTDOWN time. */
export function shutdownRows(lanes: Iterable<EnvLane>, filter: ShutdownFilter = {}): ShutdownRow[] {
  const rows: ShutdownRow[] = [];
  for (const lane of lanes) {
    const s = lane.shutdown;
    if (!s) continue;
    if (filter.functionName && lane.functionName !== filter.functionName) continue;
    if (filter.version && lane.functionVersion !== filter.version) continue;
    if (filter.reason && reasonKind(s.reason) !== reasonKind(filter.reason)) continue;
    if (filter.from != null && s.receivedAt < filter.from) continue;
    if (filter.to != null && s.receivedAt > filter.to) continue;
    const budgetMs = s.deadlineMs - s.receivedAt;
    const last = lane.invokes[lane.invokes.length - 1];
    // One clock, as the collector: INVOKE time (extension) + the clock-free duration, never runtimeDone's time.
    const lastEnd = last ? last.startAt + (last.durationMs ?? 0) : null;
    rows.push({
      envId: lane.envId,
      functionName: lane.functionName,
      functionVersion: lane.functionVersion,
      memorySizeMb: lane.memorySizeMb,
      reason: s.reason,
      reasonKind: reasonKind(s.reason),
      receivedAt: s.receivedAt,
      deadlineMs: s.deadlineMs,
      budgetMs,
      shutdownMs: s.shutdownMs,
      budgetUsedPct: s.shutdownMs !== null && budgetMs > 0 ? (s.shutdownMs / budgetMs) * 100 : null,
      idleMs: lastEnd !== null ? s.receivedAt - lastEnd : null,
      lifetimeMs: lane.registeredAt !== null ? s.receivedAt - lane.registeredAt : null,
      invokes: lane.invokes.length,
    });
  }
  rows.sort((a, b) => a.receivedAt - b.receivedAt || a.envId.localeCompare(b.envId));
  return rows;
}

/** p50 / p95 / max of one figure; nulls when no row has it. */
export interface Spread {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly max: number | null;
  readonly count: number;
}

function spread(values: readonly number[]): Spread {
  return {
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    max: values.length ? maxOf(values) : null,
    count: values.length,
  };
}

/** Aggregates for one reason (or for all rows). */
export interface ReasonSummary {
  readonly reason: ReasonKind | 'all';
  readonly count: number;
  /** Exit record received. */
  readonly exited: number;
  readonly budgetUsedPct: Spread;
  readonly shutdownMs: Spread;
  readonly idleMs: Spread;
  readonly lifetimeMs: Spread;
  readonly invokesPerEnv: Spread;
  /** Mean invokes per environment. */
  readonly meanInvokes: number;
}

function nonNull(values: readonly (number | null)[]): number[] {
  return values.filter((v): v is number => v !== null && Number.isFinite(v));
}

/** Summarises rows: one entry for 'all' then one per reason present, in spindown, timeout, failure, other order. */
export function summarizeShutdowns(rows: readonly ShutdownRow[]): ReasonSummary[] {
  const kinds: ReasonKind[] = ['spindown', 'timeout', 'failure', 'other'];
  const summarize = (
    reason: ReasonKind | 'all',
    subset: readonly ShutdownRow[],
  ): ReasonSummary => ({
    reason,
    count: subset.length,
    exited: subset.filter((r) => r.shutdownMs !== null).length,
    budgetUsedPct: spread(nonNull(subset.map((r) => r.budgetUsedPct))),
    shutdownMs: spread(nonNull(subset.map((r) => r.shutdownMs))),
    idleMs: spread(nonNull(subset.map((r) => r.idleMs))),
    lifetimeMs: spread(nonNull(subset.map((r) => r.lifetimeMs))),
    invokesPerEnv: spread(subset.map((r) => r.invokes)),
    meanInvokes: subset.length ? subset.reduce((n, r) => n + r.invokes, 0) / subset.length : 0,
  });
  const result = [summarize('all', rows)];
  for (const kind of kinds) {
    const subset = rows.filter((r) => r.reasonKind === kind);
    if (subset.length > 0) result.push(summarize(kind, subset));
  }
  return result;
}

/** Sortable columns of the shutdown table. */
export const SHUTDOWN_SORT_KEYS = [
  'receivedAt',
  'functionName',
  'reason',
  'shutdownMs',
  'budgetUsedPct',
  'idleMs',
  'lifetimeMs',
  'invokes',
] as const;
export type ShutdownSortKey = (typeof SHUTDOWN_SORT_KEYS)[number];

/** Sorts a copy; nulls always last, ties broken by envId so the order is stable. */
export function sortShutdownRows(
  rows: readonly ShutdownRow[],
  key: ShutdownSortKey,
  direction: 'asc' | 'desc',
): ShutdownRow[] {
  const sign = direction === 'asc' ? 1 : -1;
  return rows.slice().sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null && y === null) return a.envId.localeCompare(b.envId);
    if (x === null) return 1;
    if (y === null) return -1;
    const c = typeof x === 'string' ? x.localeCompare(y as string) : x - (y as number);
    return c !== 0 ? sign * c : a.envId.localeCompare(b.envId);
  });
}
