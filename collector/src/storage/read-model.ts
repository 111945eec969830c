import {
  type ActivityBuckets,
  type EnvironmentFacts,
  environmentState,
  type FunctionStats,
  type FunctionStatsItem,
  type InvocationFacts,
  initDurationOf,
  initKind,
  percentile,
  type SearchMatch,
  type SearchResult,
  type Series,
  type SeriesBucket,
  type ShutdownStats,
  shutdownKind,
  toShutdown,
  type WindowPage,
} from '@lifeline/protocol';
import { bucketStarts, figureStats, seriesStep } from './aggregates.ts';
import { decodeRowCursor, encodeRowCursor } from './cursor-codec.ts';
import { environmentFactsOf, invocationFactsOf } from './fact-rows.ts';
import { ROLLUP_MINUTE_MS } from './rollups.ts';
import type {
  QueryStore,
  RangeFilter,
  SeriesFilter,
  ShutdownStatsFilter,
  StateClock,
  WindowFilter,
} from './types.ts';

/**
 * The windowed reads and aggregates (`/v1/window`, `/v1/stats/*`, `/v1/series`, `/v1/search`), written once over
 * the few row selections a backend provides ({@link RangeRows}). Rules:
 *
 * - An environment is *in* a range [from, to] (event clock) when its first activity is ≤ to and its end ≥ from;
 *   its end is its last activity once it shut down or exited, else its last activity + lost-after (an idle
 *   environment is alive until it would be reported lost).
 * - An invocation overlaps a range when it starts ≤ to and ends ≥ from (start + its duration; a running one has
 *   not ended).
 * - Counts per bucket (invokes, errors, timeouts) go by the invocation's start; cold starts by the environment's
 *   first activity; shutdowns by the SHUTDOWN time.
 */

/** A stored environment row with its storage columns. */
export type StoredEnvironment = Record<string, unknown> & {
  rowId: number;
  lastCursor: number;
};

/** Invokes, errors and timeouts that started in one bucket (and how many environments had one). */
export interface InvokeBucket {
  bucket: number;
  functionName: string | null;
  invokes: number;
  errors: number;
  timeouts: number;
  environments: number;
}

/** One environment's invokes that started in one bucket of a density window (`bucket` = ⌊start / step⌋). */
export interface ActivityRow {
  envId: string;
  bucket: number;
  invokes: number;
  errors: number;
  timeouts: number;
  busyMs: number;
}

/** What {@link RangeRows.invokeBuckets} counts. */
export type InvokeBucketsFilter = RangeFilter & {
  step: number;
  byFunction: boolean;
  skip?: { from: number; to: number } | undefined;
};

/**
 * Whether invoke buckets count the whole fleet in one series (no function, no tenant): then nothing of the
 * environments is needed and each backend counts from the index of invocations by start alone.
 */
export function isWholeFleet(filter: InvokeBucketsFilter): boolean {
  return !filter.byFunction && !filter.functionName && !filter.tenant;
}

/** What a backend selects for the read model. Every range is on the event clock. */
export interface RangeRows {
  head(): Promise<number>;
  /**
   * Environments in the range (see the rules above), newest first by row id, with `rowId < before` when given,
   * at most `limit` (all when undefined).
   */
  environmentsInRange(
    filter: RangeFilter & { lostAfterMs: number; before?: number; limit?: number },
  ): Promise<StoredEnvironment[]>;
  countEnvironmentsInRange(filter: RangeFilter & { lostAfterMs: number }): Promise<number>;
  /**
   * Calls `visit` with each environment in the range, any order: only the {@link FUNCTION_STATS_FACTS}. The object
   * passed may be the same one refilled for every row (tens of thousands a week): read it, keep nothing of it.
   */
  eachFunctionStatsFacts(
    filter: RangeFilter & { lostAfterMs: number },
    visit: (facts: FunctionStatsFacts) => void,
  ): Promise<void>;
  /** Invocations of these environments overlapping [from, to], plus each environment's last invoke. */
  invocationsOf(
    envs: readonly EnvironmentFacts[],
    from: number,
    to: number,
  ): Promise<Record<string, unknown>[]>;
  /**
   * Density of a window: the invocations of these environments that started in [from, to], counted per
   * environment and bucket of `step` (see `ActivityBuckets` in the protocol), and the rows live folding needs one
   * by one: each environment's last invoke and its invokes that started by `to` and are still running or still
   * awaiting their platform.report (a late report must find its row, or it would count as a new invoke).
   */
  activityOf(
    envs: readonly EnvironmentFacts[],
    range: { from: number; to: number; step: number },
  ): Promise<{ buckets: ActivityRow[]; invocations: Record<string, unknown>[] }>;
  /**
   * Calls `visit` with each environment whose SHUTDOWN time is in the range, with the shutdown filters: only the
   * {@link SHUTDOWN_FACTS}, in an object that may be refilled for every row (as above).
   */
  eachShutdownFacts(
    filter: ShutdownStatsFilter,
    visit: (facts: ShutdownFacts) => void,
  ): Promise<void>;
  /**
   * Invocations that started in the range, counted per bucket of `step` aligned to multiples of it; with `skip`,
   * not those that started in [skip.from, skip.to) (the part read from the rollups).
   */
  invokeBuckets(filter: InvokeBucketsFilter): Promise<InvokeBucket[]>;
  /**
   * The same counts by function from the invoke rollups (rollups.ts), for the invocations that started in the
   * whole minutes [fromMinute, toMinute); `step` is a multiple of a minute. `environments` is 0 (not kept).
   */
  rolledUpInvokes(
    filter: RangeFilter & { step: number; fromMinute: number; toMinute: number },
  ): Promise<InvokeBucket[]>;
  /** Rows whose id equals `q`: environments by envId or sandboxId, invocations by requestId or trace id. */
  environmentsById(q: string): Promise<Record<string, unknown>[]>;
  invocationsById(q: string): Promise<(Record<string, unknown> & { fnName: string | null })[]>;
}

/**
 * The facts `toShutdown` reads: the Shutdowns view selects these columns only (a week holds tens of thousands of
 * shutdowns; whole rows would cost most of the read).
 */
export const SHUTDOWN_FACTS = [
  'envId',
  'functionName',
  'functionVersion',
  'memorySizeMb',
  'registeredAt',
  'firstActivityAt',
  'invokeCount',
  'lastInvokeEndAt',
  'shutdownReason',
  'shutdownAt',
  'shutdownDeadlineMs',
  'exitedAt',
  'exitShutdownMs',
] as const satisfies readonly (keyof EnvironmentFacts)[];

/** An environment row with the {@link SHUTDOWN_FACTS} columns only. */
export type ShutdownFacts = Pick<EnvironmentFacts, (typeof SHUTDOWN_FACTS)[number]>;

/**
 * The facts the Functions view reads of each environment in its range (environmentState, initKind, initDurationOf
 * and the counts below): it selects these columns only.
 */
export const FUNCTION_STATS_FACTS = [
  'functionName',
  'functionVersion',
  'firstActivityAt',
  'lastActivityAt',
  'lastReceivedAt',
  'invokeCount',
  'lastInvokeStatus',
  'lastInvokeExpiresAt',
  'initializationType',
  'initReportAt',
  'initRuntimeDoneAt',
  'initReportDurationMs',
  'reportInitDurationMs',
  'firstInvokeStartAt',
  'restoredFrom',
  'restoreStartAt',
  'restoreReportAt',
  'shutdownReason',
  'shutdownAt',
  'shutdownDeadlineMs',
  'shutdownReceivedAt',
  'exitedAt',
] as const satisfies readonly (keyof EnvironmentFacts)[];

/** An environment row with the {@link FUNCTION_STATS_FACTS} columns only. */
export type FunctionStatsFacts = Pick<EnvironmentFacts, (typeof FUNCTION_STATS_FACTS)[number]>;

export const WINDOW_PAGE_MAX = 500;
/** A density window's smallest step (ms) and most buckets over its range: a finer grid is the detailed window. */
export const WINDOW_STEP_MIN = 1000;
export const WINDOW_BUCKETS_MAX = 4000;
const SEARCH_MAX = 50;
const SPARKLINE_BUCKETS = 30;

/**
 * The raw scan's range of `invokeBuckets` as two index ranges, [from, lowTo) and [highFrom, to]: the whole range
 * when nothing is skipped, else the parts before and after `skip` (one range with a hole would read the hole).
 */
export function edges(filter: {
  from: number;
  to: number;
  skip?: { from: number; to: number } | undefined;
}): { lowTo: number; highFrom: number } {
  return filter.skip === undefined
    ? { lowTo: filter.to, highFrom: filter.to }
    : { lowTo: filter.skip.from, highFrom: filter.skip.to };
}

/** The end of an environment for range membership (see the module rules). */
export function environmentEnd(env: EnvironmentFacts, lostAfterMs: number): number {
  return env.shutdownAt !== null || env.exitedAt !== null
    ? env.lastActivityAt
    : env.lastActivityAt + lostAfterMs;
}

export async function readWindow(
  rows: RangeRows,
  filter: WindowFilter & StateClock,
): Promise<WindowPage> {
  const limit = Math.min(filter.limit, WINDOW_PAGE_MAX);
  // The head is read first: every row read after it holds at least the events up to it.
  const head = await rows.head();
  const before = filter.cursor === undefined ? undefined : decodeRowCursor(filter.cursor);
  const found = await rows.environmentsInRange({
    ...filter,
    lostAfterMs: filter.lostAfterMs,
    before,
    limit: limit + 1,
  });
  const page = found.slice(0, limit);
  const envs = page.map((row) => environmentFactsOf(row));
  const step = filter.step;
  const density =
    step === undefined
      ? null
      : await rows.activityOf(envs, { from: filter.from, to: filter.to, step });
  const invocations = new Map<string, InvocationFacts[]>();
  for (const row of density?.invocations ??
    (await rows.invocationsOf(envs, filter.from, filter.to))) {
    const facts = invocationFactsOf(row);
    const list = invocations.get(facts.envId);
    if (list) list.push(facts);
    else invocations.set(facts.envId, [facts]);
  }
  const activity = density === null ? null : activityByEnvironment(density.buckets);
  const total =
    before === undefined && found.length <= limit
      ? found.length
      : await rows.countEnvironmentsInRange({ ...filter, lostAfterMs: filter.lostAfterMs });
  const last = page[page.length - 1];
  return {
    head,
    ...(step === undefined ? {} : { step }),
    total,
    nextCursor: found.length > limit && last !== undefined ? encodeRowCursor(last.rowId) : null,
    environments: page.map((row, index) => {
      const env = envs[index] as EnvironmentFacts;
      return {
        cursor: Number(row.lastCursor),
        env,
        invocations: invocations.get(env.envId) ?? [],
        ...(activity === null ? {} : { activity: activity.get(env.envId) ?? emptyActivity() }),
      };
    }),
  };
}

function emptyActivity(): ActivityBuckets {
  return { bucket: [], invokes: [], errors: [], timeouts: [], busyMs: [] };
}

/** Bucket rows grouped per environment into the wire's parallel arrays, in bucket order. */
function activityByEnvironment(rows: readonly ActivityRow[]): Map<string, ActivityBuckets> {
  const sorted = [...rows].sort((a, b) => Number(a.bucket) - Number(b.bucket));
  const byEnv = new Map<string, ActivityBuckets>();
  for (const row of sorted) {
    let activity = byEnv.get(row.envId);
    if (activity === undefined) {
      activity = emptyActivity();
      byEnv.set(row.envId, activity);
    }
    // Drivers return counts as strings (PostgreSQL bigint) or numbers: the wire has numbers.
    activity.bucket.push(Number(row.bucket));
    activity.invokes.push(Number(row.invokes));
    activity.errors.push(Number(row.errors));
    activity.timeouts.push(Number(row.timeouts));
    activity.busyMs.push(Number(row.busyMs));
  }
  return byEnv;
}

export async function readShutdownStats(
  rows: RangeRows,
  filter: ShutdownStatsFilter,
): Promise<ShutdownStats> {
  const byReason: Record<string, number> = {};
  const figures = {
    budgetUsedPct: [] as number[],
    idleMs: [] as number[],
    lifetimeMs: [] as number[],
    shutdownDurationMs: [] as number[],
    invokes: [] as number[],
  };
  let total = 0;
  await rows.eachShutdownFacts(filter, (facts) => {
    // toShutdown reads the SHUTDOWN_FACTS only (the backend selected no other column).
    const shutdown = toShutdown(facts as EnvironmentFacts);
    if (shutdown === null) return;
    total += 1;
    byReason[shutdown.reason] = (byReason[shutdown.reason] ?? 0) + 1;
    if (shutdown.budgetUsedPct !== null) figures.budgetUsedPct.push(shutdown.budgetUsedPct);
    // Idle before a shutdown means something only when the platform ended an idle environment.
    if (shutdown.idleMs !== null && shutdownKind(shutdown.reason) === 'spindown') {
      figures.idleMs.push(shutdown.idleMs);
    }
    figures.lifetimeMs.push(shutdown.lifetimeMs);
    if (shutdown.shutdownDurationMs !== null) {
      figures.shutdownDurationMs.push(shutdown.shutdownDurationMs);
    }
    figures.invokes.push(shutdown.invokes);
  });
  return {
    total,
    byReason,
    figures: {
      budgetUsedPct: figureStats(figures.budgetUsedPct),
      idleMs: figureStats(figures.idleMs),
      lifetimeMs: figureStats(figures.lifetimeMs),
      shutdownDurationMs: figureStats(figures.shutdownDurationMs),
      invokes: figureStats(figures.invokes),
    },
  };
}

/**
 * The sparkline's bucket: about a thirtieth of the range, at least a second, and a whole number of minutes once
 * it is longer than one, so that every whole minute of the range falls in one bucket and the rollups serve it.
 */
export function sparklineStep(from: number, to: number): number {
  const step = Math.max(1000, Math.ceil((to - from) / SPARKLINE_BUCKETS));
  return step > ROLLUP_MINUTE_MS ? Math.ceil(step / ROLLUP_MINUTE_MS) * ROLLUP_MINUTE_MS : step;
}

/** The minutes wholly inside [from, to] (inclusive bounds, as the raw scan's), as [from, to) minute numbers. */
export function wholeMinutes(from: number, to: number): { from: number; to: number } | null {
  const first = Math.ceil(from / ROLLUP_MINUTE_MS);
  const end = Math.floor(to / ROLLUP_MINUTE_MS);
  return first < end ? { from: first, to: end } : null;
}

export async function readFunctionStats(
  rows: RangeRows,
  filter: RangeFilter & StateClock,
): Promise<FunctionStats> {
  const step = sparklineStep(filter.from, filter.to);
  const first = Math.floor(filter.from / step) * step;
  const buckets = Math.floor(filter.to / step) - Math.floor(filter.from / step) + 1;
  const byName = new Map<string, FunctionStatsItem & { initDurations: number[] }>();
  const itemOf = (functionName: string) => {
    let item = byName.get(functionName);
    if (item === undefined) {
      item = {
        functionName,
        versions: [],
        environments: 0,
        alive: 0,
        coldStarts: {},
        initDurationP50: null,
        initDurationP95: null,
        invokes: 0,
        errors: 0,
        timeouts: 0,
        invokesPerMinute: 0,
        shutdowns: {},
        lastActivityAt: null,
        series: {
          start: first,
          step,
          invokes: new Array<number>(buckets).fill(0),
          errors: new Array<number>(buckets).fill(0),
        },
        initDurations: [],
      };
      byName.set(functionName, item);
    }
    return item;
  };
  await rows.eachFunctionStatsFacts(filter, (facts) => {
    // The protocol's rules read the FUNCTION_STATS_FACTS only (the backend selected no other column).
    const env = facts as EnvironmentFacts;
    if (env.functionName === null) return;
    const item = itemOf(env.functionName);
    item.environments += 1;
    const state = environmentState(env, filter.now, filter.lostAfterMs);
    if (state !== 'ended' && state !== 'lost') item.alive += 1;
    if (env.functionVersion !== null && !item.versions.includes(env.functionVersion)) {
      item.versions.push(env.functionVersion);
    }
    if (env.firstActivityAt >= filter.from && env.firstActivityAt <= filter.to) {
      const kind = initKind(env);
      item.coldStarts[kind] = (item.coldStarts[kind] ?? 0) + 1;
      const init = initDurationOf(env);
      if (init !== null) item.initDurations.push(init);
    }
    if (env.shutdownAt !== null && env.shutdownReason !== null) {
      if (env.shutdownAt >= filter.from && env.shutdownAt <= filter.to) {
        item.shutdowns[env.shutdownReason] = (item.shutdowns[env.shutdownReason] ?? 0) + 1;
      }
    }
    item.lastActivityAt = Math.max(item.lastActivityAt ?? env.lastActivityAt, env.lastActivityAt);
  });
  // Whole minutes inside the range come from the rollups, the partial minutes at its edges from the invocations.
  const whole = step % ROLLUP_MINUTE_MS === 0 ? wholeMinutes(filter.from, filter.to) : null;
  const counted = [
    ...(await rows.invokeBuckets({
      ...filter,
      step,
      byFunction: true,
      skip:
        whole === null
          ? undefined
          : { from: whole.from * ROLLUP_MINUTE_MS, to: whole.to * ROLLUP_MINUTE_MS },
    })),
    ...(whole === null
      ? []
      : await rows.rolledUpInvokes({
          ...filter,
          step,
          fromMinute: whole.from,
          toMinute: whole.to,
        })),
  ];
  for (const bucket of counted) {
    if (bucket.functionName === null) continue;
    const item = itemOf(bucket.functionName);
    item.invokes += bucket.invokes;
    item.errors += bucket.errors;
    item.timeouts += bucket.timeouts;
    const index = bucket.bucket - Math.floor(filter.from / step);
    if (index >= 0 && index < buckets) {
      item.series.invokes[index] = (item.series.invokes[index] ?? 0) + bucket.invokes;
      item.series.errors[index] = (item.series.errors[index] ?? 0) + bucket.errors;
    }
  }
  const minutes = Math.max(1, filter.to - filter.from) / 60_000;
  const functions = [...byName.values()]
    .sort((a, b) =>
      a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : 0,
    )
    .map(({ initDurations, ...item }) => ({
      ...item,
      versions: item.versions.sort().slice(0, 100),
      initDurationP50: percentile(initDurations, 50),
      initDurationP95: percentile(initDurations, 95),
      invokesPerMinute: item.invokes / minutes,
    }));
  return { from: filter.from, to: filter.to, functions };
}

export async function readSeries(
  rows: RangeRows,
  filter: SeriesFilter & StateClock,
): Promise<Series> {
  const step = filter.step ?? seriesStep(filter.from, filter.to);
  const starts = bucketStarts(filter.from, filter.to, step);
  const firstBucket = Math.floor(filter.from / step);
  const buckets: SeriesBucket[] = starts.map((start) => ({
    start,
    alive: {},
    coldStarts: {},
    invokes: 0,
    errors: 0,
    timeouts: 0,
  }));
  const active = new Array<number>(buckets.length).fill(0);
  for (const counted of await rows.invokeBuckets({ ...filter, step, byFunction: false })) {
    const bucket = buckets[counted.bucket - firstBucket];
    if (bucket === undefined) continue;
    bucket.invokes += counted.invokes;
    bucket.errors += counted.errors;
    bucket.timeouts += counted.timeouts;
    active[counted.bucket - firstBucket] = counted.environments;
  }
  const add = (counts: Record<string, number>, key: string) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const envs = await rows.environmentsInRange({ ...filter, lostAfterMs: filter.lostAfterMs });
  const busy = new Array<number>(buckets.length).fill(0);
  for (const row of envs) {
    const env = environmentFactsOf(row);
    const end = environmentEnd(env, filter.lostAfterMs);
    const stillInitializing =
      env.invokeCount === 0 && env.initReportAt === null && env.initRuntimeDoneAt === null;
    const lo = Math.max(0, Math.floor(env.firstActivityAt / step) - firstBucket);
    const hi = Math.min(buckets.length - 1, Math.floor(end / step) - firstBucket);
    for (let index = lo; index <= hi; index++) {
      const bucket = buckets[index] as SeriesBucket;
      if (env.shutdownAt !== null && env.shutdownAt < bucket.start + step) {
        add(bucket.alive, 'shutting-down');
      } else if (stillInitializing) add(bucket.alive, 'initializing');
      else busy[index] = (busy[index] ?? 0) + 1;
    }
    const born = Math.floor(env.firstActivityAt / step) - firstBucket;
    const bornBucket = buckets[born];
    if (bornBucket !== undefined && env.firstActivityAt >= filter.from) {
      add(bornBucket.coldStarts, initKind(env));
    }
  }
  buckets.forEach((bucket, index) => {
    const running = Math.min(busy[index] ?? 0, active[index] ?? 0);
    if (running > 0) bucket.alive.active = running;
    const idle = (busy[index] ?? 0) - running;
    if (idle > 0) bucket.alive.idle = idle;
  });
  return { from: filter.from, to: filter.to, step, buckets };
}

export async function readSearch(rows: RangeRows, q: string): Promise<SearchResult> {
  const matches: SearchMatch[] = [];
  for (const row of await rows.environmentsById(q)) {
    const env = environmentFactsOf(row);
    matches.push({
      kind: env.envId === q ? 'environment' : 'sandbox',
      envId: env.envId,
      functionName: env.functionName ?? '',
      from: env.firstActivityAt,
      to: env.lastActivityAt,
    });
  }
  for (const row of await rows.invocationsById(q)) {
    const invocation = invocationFactsOf(row);
    const start = invocation.startedAt ?? invocation.platformStartAt ?? invocation.reportAt ?? 0;
    const duration = invocation.reportDurationMs ?? invocation.runtimeDoneDurationMs ?? 0;
    matches.push({
      kind: invocation.requestId === q ? 'request' : 'trace',
      envId: invocation.envId,
      requestId: invocation.requestId,
      functionName: row.fnName ?? '',
      from: start,
      to: start + duration,
    });
  }
  return { matches: matches.slice(0, SEARCH_MAX) };
}

/** The read model's part of a {@link QueryStore}: the heavy reads, each a plain-data answer. */
export type ReadModel = Pick<
  QueryStore,
  'window' | 'shutdownStats' | 'functionStats' | 'series' | 'search'
>;

/** The read model over a backend's row selections, with no scheduling (see {@link readModelQueries}). */
export function readModel(rows: RangeRows): ReadModel {
  return {
    window: (filter) => readWindow(rows, filter),
    shutdownStats: (filter) => readShutdownStats(rows, filter),
    functionStats: (filter) => readFunctionStats(rows, filter),
    series: (filter) => readSeries(rows, filter),
    search: (q) => readSearch(rows, q),
  };
}

/** Heavy reads running at once at most; more wait their turn, so ingest is never queued behind a crowd of them. */
const MAX_HEAVY_READS = 2;

/**
 * The read model run on the caller's event loop, taking turns with ingest: each read first yields to the event
 * loop (queued ingest requests run before it) and at most {@link MAX_HEAVY_READS} run at once. PostgreSQL's reads
 * wait on the network, so this is all they need; SQLite serves them from a worker thread instead
 * (sqlite/read-worker-client.ts) and uses this only for a database no second connection can open (`:memory:`).
 */
export function readModelQueries(rows: RangeRows): ReadModel {
  const reads = readModel(rows);
  let running = 0;
  const waiting: (() => void)[] = [];
  const gated = async <T>(read: () => Promise<T>): Promise<T> => {
    if (running >= MAX_HEAVY_READS) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await read();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
  return {
    window: (filter) => gated(() => reads.window(filter)),
    shutdownStats: (filter) => gated(() => reads.shutdownStats(filter)),
    functionStats: (filter) => gated(() => reads.functionStats(filter)),
    series: (filter) => gated(() => reads.series(filter)),
    search: (q) => gated(() => reads.search(q)),
  };
}
