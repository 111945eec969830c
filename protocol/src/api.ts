import { type Static, type TSchema, Type } from 'typebox';
import { ENVIRONMENT_STATES, INVOCATION_STATUSES } from './constants.ts';
import type { EnvironmentFacts, InvocationFacts } from './derive/facts.ts';
import { StoredEvent } from './live.ts';

/**
 * The collector's query API (`/v1/*`), as the dashboard reads it. Derived from the events; every duration is computed
 * on one clock (the extension's, or the platform's), never against the collector's receive time.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A page of results; pass `nextCursor` back as `?cursor=` for the next page. Null when there is no more. */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const Shutdown = Type.Object({
  envId: Type.String(),
  functionName: Type.String(),
  functionVersion: Type.String(),
  memorySizeMb: Type.Integer(),
  /** As received (spindown|timeout|failure in production). */
  reason: Type.String(),
  /** Extension clock: when SHUTDOWN arrived. */
  receivedAt: Type.Number(),
  deadlineMs: Type.Number(),
  /** deadlineMs − receivedAt. */
  budgetMs: Type.Number(),
  /** Extension clock: when its exit record was written; null until it arrives. */
  exitedAt: Nullable(Type.Number()),
  /** SHUTDOWN → exit record, measured by the extension. */
  shutdownDurationMs: Nullable(Type.Number()),
  /** shutdownDurationMs as a percentage of budgetMs. */
  budgetUsedPct: Nullable(Type.Number()),
  /**
   * Idle time before the shutdown, on the extension clock: SHUTDOWN received − (last invoke's `startedAt` + its
   * `durationMs`, from platform.report, else platform.runtimeDone; its `startedAt` alone when no duration is known).
   * Null without invokes.
   */
  idleMs: Nullable(Type.Number()),
  /** SHUTDOWN received − registration. */
  lifetimeMs: Type.Number(),
  invokes: Type.Integer(),
});
export type Shutdown = Static<typeof Shutdown>;

export const Environment = Type.Object({
  envId: Type.String(),
  sandboxId: Nullable(Type.String()),
  previousEnvId: Nullable(Type.String()),
  functionName: Type.String(),
  functionVersion: Type.String(),
  handler: Type.String(),
  memorySizeMb: Type.Integer(),
  runtime: Nullable(Type.String()),
  architecture: Type.String(),
  region: Nullable(Type.String()),
  accountId: Nullable(Type.String()),
  initializationType: Type.String(),
  /** Extension clock: the register event's time. */
  registeredAt: Type.Number(),
  startToRegisteredMs: Type.Number(),
  /** Platform clock, from platform.initStart / initRuntimeDone / initReport. */
  initStartAt: Nullable(Type.Number()),
  initRuntimeDoneAt: Nullable(Type.Number()),
  initDurationMs: Nullable(Type.Number()),
  /** success, error, failure, timeout (from initReport / initRuntimeDone). */
  initStatus: Nullable(Type.String()),
  /** init, or invoke for a suppressed init. */
  initPhase: Nullable(Type.String()),
  state: Type.Enum(ENVIRONMENT_STATES),
  invokeCount: Type.Integer(),
  errorCount: Type.Integer(),
  timeoutCount: Type.Integer(),
  /** Extension clock. */
  firstActivityAt: Type.Number(),
  lastActivityAt: Type.Number(),
  /** Highest seq seen; with `eventCount`, tells whether events are missing. */
  lastSeq: Type.Integer(),
  eventCount: Type.Integer(),
  /** Seq numbers neither received nor explained by a dropped record. */
  missingEvents: Type.Integer(),
  /** Sum of `dropped` records. */
  droppedEvents: Type.Integer(),
  shutdown: Nullable(Shutdown),
});
export type Environment = Static<typeof Environment>;

export const Invocation = Type.Object({
  requestId: Type.String(),
  envId: Type.String(),
  functionName: Type.String(),
  /** Extension clock: when INVOKE arrived. */
  startedAt: Type.Number(),
  deadlineMs: Type.Number(),
  invokedFunctionArn: Type.String(),
  traceId: Nullable(Type.String()),
  /** Platform clock (platform.start / platform.runtimeDone). */
  platformStartAt: Nullable(Type.Number()),
  runtimeDoneAt: Nullable(Type.Number()),
  durationMs: Nullable(Type.Number()),
  billedDurationMs: Nullable(Type.Number()),
  memorySizeMb: Nullable(Type.Number()),
  maxMemoryUsedMb: Nullable(Type.Number()),
  /** initDurationMs of the report (first invoke after a cold start). */
  initDurationMs: Nullable(Type.Number()),
  /** Post-runtime extension time (report span extensionOverhead). */
  extensionOverheadMs: Nullable(Type.Number()),
  status: Type.Enum(INVOCATION_STATUSES),
  errorType: Nullable(Type.String()),
  /** True until the late platform.report has arrived. */
  reportPending: Type.Boolean(),
  /** deadlineMs − end of the invoke; small means a near-timeout. Null while running. */
  headroomMs: Nullable(Type.Number()),
});
export type Invocation = Static<typeof Invocation>;

export const FunctionSummary = Type.Object({
  functionName: Type.String(),
  versions: Type.Array(Type.String()),
  /** Environments not ended or lost. */
  alive: Type.Integer(),
  environments: Type.Integer(),
  /** Registrations (every environment start is a cold start, including re-inits after a reset). */
  coldStarts: Type.Integer(),
  initDurationP50: Nullable(Type.Number()),
  initDurationP95: Nullable(Type.Number()),
  invokes: Type.Integer(),
  errors: Type.Integer(),
  timeouts: Type.Integer(),
  /** Invokes per minute over the last 5 minutes of this function's activity. */
  invokesPerMinute: Type.Number(),
  shutdowns: Type.Record(Type.String(), Type.Integer()),
  lastActivityAt: Type.Number(),
});
export type FunctionSummary = Static<typeof FunctionSummary>;

/** `GET /v1/environments/:envId`. */
export const EnvironmentDetail = Type.Object({
  environment: Environment,
  invocations: Type.Array(Invocation),
  events: Type.Array(StoredEvent),
});
export type EnvironmentDetail = Static<typeof EnvironmentDetail>;

// ---------------------------------------------------------------------------------------------------------------
// Windowed reads and aggregates (`/v1/settings`, `/v1/window`, `/v1/stats/*`, `/v1/series`, `/v1/search`). Times
// in `from`/`to` are epoch ms on the event (extension) clock; every aggregate is computed by the collector with the
// shared derivation, never recomputed by the dashboard.
// ---------------------------------------------------------------------------------------------------------------

/** `GET /v1/settings`: the collector settings the shared derivation rules need. */
export const Settings = Type.Object({
  /** An environment silent (collector clock) for longer than this without a shutdown is `lost`. */
  lostAfterMs: Type.Number(),
  /** Stored history is kept this long (days, may be fractional), then deleted. */
  retentionDays: Type.Number(),
  protocolVersion: Type.Integer(),
});
export type Settings = Static<typeof Settings>;

const FactValue = Type.Union([Type.String(), Type.Number(), Type.Null()]);

/**
 * A derived environment row (`EnvironmentFacts` of the shared derivation, field names as stored). Typed loosely
 * on the wire so a new fact needs no schema change; the TypeScript type is the derivation's.
 */
export const EnvironmentFactsRow = Type.Unsafe<EnvironmentFacts>(
  Type.Record(Type.String(), FactValue),
);
/** A derived invocation row (`InvocationFacts` of the shared derivation). */
export const InvocationFactsRow = Type.Unsafe<InvocationFacts>(
  Type.Record(Type.String(), FactValue),
);

/**
 * The invocation activity of one environment in buckets of the window's `step` (sent when the window was asked with
 * `step`), as parallel arrays over the buckets that hold at least one invoke, in bucket order. Bucket `bucket[i]`
 * covers [bucket[i]·step, (bucket[i]+1)·step) on the event clock. Every invocation that started in [from, to]
 * counts in the bucket of its start (the INVOKE time, else the first platform time, as in {@link Invocation}):
 * `invokes` all of them, `errors` those with status error or failure, `timeouts` those with status timeout,
 * `busyMs` the sum of their known durations (platform.report's, else platform.runtimeDone's; 0 while running).
 */
export const ActivityBuckets = Type.Object({
  bucket: Type.Array(Type.Integer()),
  invokes: Type.Array(Type.Integer({ minimum: 0 })),
  errors: Type.Array(Type.Integer({ minimum: 0 })),
  timeouts: Type.Array(Type.Integer({ minimum: 0 })),
  busyMs: Type.Array(Type.Number({ minimum: 0 })),
});
export type ActivityBuckets = Static<typeof ActivityBuckets>;

/**
 * One environment of a window: its facts, the invocations overlapping the range plus its last invoke, and
 * `cursor`, the highest event cursor applied to these rows. A client following live from the page's `head`
 * ignores this environment's live events with a cursor ≤ `cursor` (already in the facts).
 *
 * In a window asked with `step` (density), `invocations` holds only the rows live folding needs one by one (the
 * environment's last invoke and every invoke that started by `to` and is still running or awaiting its
 * platform.report) and `activity` counts all of the range's invokes per bucket (those ones included).
 */
export const EnvironmentSnapshot = Type.Object({
  cursor: Type.Integer({ minimum: 0 }),
  env: EnvironmentFactsRow,
  invocations: Type.Array(InvocationFactsRow),
  activity: Type.Optional(ActivityBuckets),
});
export type EnvironmentSnapshot = Static<typeof EnvironmentSnapshot>;

/**
 * `GET /v1/window?from=&to=[&function=][&tenant=][&limit=][&cursor=][&step=]`: environments active in [from, to]
 * (first activity ≤ to, and not ended or ended ≥ from), newest activity first, at most 500 per page. `head` is
 * the event-log head when the page was read (follow live from page 1's head); `total` counts every environment of
 * the window (all pages).
 *
 * `step` (ms, an integer ≥ 1000, at most 4000 buckets over the range, else 400) asks for density: each environment
 * then carries its `activity` in buckets of `step` instead of every invocation (see {@link EnvironmentSnapshot}),
 * so a long range costs environments × buckets, not invocations. The page repeats `step`; without it the answer
 * is the detailed one.
 */
export const WindowPage = Type.Object({
  head: Type.Integer({ minimum: 0 }),
  step: Type.Optional(Type.Integer({ minimum: 1 })),
  environments: Type.Array(EnvironmentSnapshot),
  nextCursor: Nullable(Type.String()),
  total: Type.Integer({ minimum: 0 }),
});
export type WindowPage = Static<typeof WindowPage>;

/** A histogram: `counts[i]` values fall in [edges[i], edges[i+1]) (the last bin includes its upper edge). */
export const Histogram = Type.Object({
  edges: Type.Array(Type.Number()),
  counts: Type.Array(Type.Integer()),
});
export type Histogram = Static<typeof Histogram>;

/** Distribution of one figure; min/max/percentiles are null when `count` is 0. Bins fit the data's range. */
export const FigureStats = Type.Object({
  count: Type.Integer(),
  min: Nullable(Type.Number()),
  max: Nullable(Type.Number()),
  p50: Nullable(Type.Number()),
  p95: Nullable(Type.Number()),
  p99: Nullable(Type.Number()),
  histogram: Histogram,
});
export type FigureStats = Static<typeof FigureStats>;

/** The figures of {@link ShutdownStats}, as in {@link Shutdown}. `idleMs` counts spindown shutdowns only. */
export const SHUTDOWN_FIGURES = [
  'budgetUsedPct',
  'idleMs',
  'lifetimeMs',
  'shutdownDurationMs',
  'invokes',
] as const;
export type ShutdownFigure = (typeof SHUTDOWN_FIGURES)[number];

/**
 * `GET /v1/stats/shutdowns?from=&to=[&function=][&version=][&reason=][&tenant=]`: shutdowns whose SHUTDOWN time
 * (extension clock) lies in [from, to].
 */
export const ShutdownStats = Type.Object({
  total: Type.Integer(),
  byReason: Type.Record(Type.String(), Type.Integer()),
  figures: Type.Object({
    budgetUsedPct: FigureStats,
    idleMs: FigureStats,
    lifetimeMs: FigureStats,
    shutdownDurationMs: FigureStats,
    invokes: FigureStats,
  }),
});
export type ShutdownStats = Static<typeof ShutdownStats>;

/** A short series (sparkline): `invokes[i]`/`errors[i]` counted over [start + i·step, start + (i+1)·step). */
export const Sparkline = Type.Object({
  start: Type.Number(),
  step: Type.Number(),
  invokes: Type.Array(Type.Integer()),
  errors: Type.Array(Type.Integer()),
});
export type Sparkline = Static<typeof Sparkline>;

/** One function of {@link FunctionStats}, over the stated range. */
export const FunctionStatsItem = Type.Object({
  functionName: Type.String(),
  versions: Type.Array(Type.String()),
  /** Environments active in the range. */
  environments: Type.Integer(),
  /** Of those, not ended or lost now. */
  alive: Type.Integer(),
  /** Environments that started in the range, by init kind. */
  coldStarts: Type.Record(Type.String(), Type.Integer()),
  initDurationP50: Nullable(Type.Number()),
  initDurationP95: Nullable(Type.Number()),
  /** Invokes that started in the range. */
  invokes: Type.Integer(),
  errors: Type.Integer(),
  timeouts: Type.Integer(),
  /** invokes / the range's length in minutes. */
  invokesPerMinute: Type.Number(),
  /** Shutdowns in the range, by reason. */
  shutdowns: Type.Record(Type.String(), Type.Integer()),
  lastActivityAt: Nullable(Type.Number()),
  series: Sparkline,
});
export type FunctionStatsItem = Static<typeof FunctionStatsItem>;

/** `GET /v1/stats/functions?from=&to=[&tenant=]`: every function active in [from, to], by name. */
export const FunctionStats = Type.Object({
  from: Type.Number(),
  to: Type.Number(),
  functions: Type.Array(FunctionStatsItem),
});
export type FunctionStats = Static<typeof FunctionStats>;

/**
 * One bucket of {@link Series}, [start, start + step). `alive` counts the environments alive during the bucket by
 * what they did in it: `initializing` (started, init not done), `active` (at least one invoke in the bucket),
 * `shutting-down` (SHUTDOWN in or before the bucket), else `idle`. `coldStarts` counts environments that started
 * in the bucket, by init kind; invokes, errors and timeouts count invokes that started in it.
 */
export const SeriesBucket = Type.Object({
  start: Type.Number(),
  alive: Type.Record(Type.String(), Type.Integer()),
  coldStarts: Type.Record(Type.String(), Type.Integer()),
  invokes: Type.Integer(),
  errors: Type.Integer(),
  timeouts: Type.Integer(),
});
export type SeriesBucket = Static<typeof SeriesBucket>;

/** `GET /v1/series?from=&to=[&step=][&function=][&tenant=]`; without `step` the server picks one (60–120 buckets). */
export const Series = Type.Object({
  from: Type.Number(),
  to: Type.Number(),
  step: Type.Number(),
  buckets: Type.Array(SeriesBucket),
});
export type Series = Static<typeof Series>;

export const SEARCH_MATCH_KINDS = ['request', 'environment', 'sandbox', 'trace'] as const;
export type SearchMatchKind = (typeof SEARCH_MATCH_KINDS)[number];

/** One hit of {@link SearchResult}: `from`/`to` is the time range to show (event clock). */
export const SearchMatch = Type.Object({
  kind: Type.Union([
    Type.Literal('request'),
    Type.Literal('environment'),
    Type.Literal('sandbox'),
    Type.Literal('trace'),
  ]),
  envId: Type.String(),
  requestId: Type.Optional(Type.String()),
  functionName: Type.String(),
  from: Type.Number(),
  to: Type.Number(),
});
export type SearchMatch = Static<typeof SearchMatch>;

/** `GET /v1/search?q=`: exact id matches (request, environment, sandbox or trace id), at most 50. */
export const SearchResult = Type.Object({ matches: Type.Array(SearchMatch) });
export type SearchResult = Static<typeof SearchResult>;
