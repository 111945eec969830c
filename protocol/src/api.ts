import { type Static, type TSchema, Type } from 'typebox';
import { ENVIRONMENT_STATES, INVOCATION_STATUSES } from './constants.ts';
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
