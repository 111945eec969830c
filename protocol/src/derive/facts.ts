/**
 * What the collector stores per environment and per invocation: facts taken from events, nothing computed against
 * the collector's clock except the receive times. Field names are the column names of the derived rows in every storage backend.
 */

/** Derived row of one execution environment. Null fields are facts no event has told yet. */
export interface EnvironmentFacts {
  envId: string;
  functionName: string | null;
  functionVersion: string | null;
  handler: string | null;
  memorySizeMb: number | null;
  runtime: string | null;
  architecture: string | null;
  region: string | null;
  accountId: string | null;
  initializationType: string | null;
  sandboxId: string | null;
  previousEnvId: string | null;
  telemetry: string | null;
  /** The Extensions API events the registration got, comma-separated (null: an older extension, both). */
  registeredEvents: string | null;
  /** SnapStart: the envId of the snapshot's own environment this one was restored from. */
  restoredFrom: string | null;
  /** Tenant isolation: the tenant this environment serves (from platform.start/runtimeDone/report). */
  tenantId: string | null;
  /** Extension clock. */
  registeredAt: number | null;
  startToRegisteredMs: number | null;
  /** Platform clock. */
  initStartAt: number | null;
  initRuntimeDoneAt: number | null;
  initRuntimeDoneStatus: string | null;
  initReportAt: number | null;
  initReportStatus: string | null;
  initReportDurationMs: number | null;
  /** initDurationMs of the first invoke's platform.report, used when no initReport arrived. */
  reportInitDurationMs: number | null;
  initPhase: string | null;
  /** Platform clock: SnapStart restore phase (platform.restoreStart / restoreRuntimeDone / restoreReport). */
  restoreStartAt: number | null;
  restoreRuntimeDoneAt: number | null;
  restoreReportAt: number | null;
  restoreStatus: string | null;
  /** restoreReport's durationMs, else the first invoke's report `restoreDurationMs`. */
  restoreDurationMs: number | null;
  /** Platform clock: the earliest platform.start (the first invoke), to tell a proactive init. */
  firstInvokeStartAt: number | null;
  /** Invocations seen (by an INVOKE event or a platform.start: Managed Instances send no INVOKE). */
  invokeCount: number;
  /** Invocations whose status is error or failure. */
  errorCount: number;
  timeoutCount: number;
  /** Extension clock: min and max event time. */
  firstActivityAt: number;
  lastActivityAt: number;
  lastSeq: number;
  eventCount: number;
  droppedEvents: number;
  /** The invoke with the highest seq: the one a timeout or failure shutdown interrupts. */
  lastInvokeSeq: number | null;
  lastInvokeRequestId: string | null;
  /**
   * The platform.start with the highest seq: the last invoke of an environment without INVOKE events (Managed
   * Instances). Kept apart because platform records of classic environments arrive after the next INVOKE.
   */
  lastStartSeq: number | null;
  lastStartRequestId: string | null;
  lastInvokeStatus: string | null;
  /**
   * Extension clock: end of the last invoke, its INVOKE time + its duration (platform.report's, else
   * platform.runtimeDone's), else its INVOKE time (for idle time before shutdown).
   */
  lastInvokeEndAt: number | null;
  /**
   * Collector clock: when the last invoke's own timeout runs out, its start's commit time + (deadline − INVOKE time);
   * past it an invoke without an end is no longer "running" but awaiting its report. Null when unknown.
   */
  lastInvokeExpiresAt: number | null;
  shutdownReason: string | null;
  /** Extension clock. */
  shutdownAt: number | null;
  shutdownDeadlineMs: number | null;
  /** Collector clock: commit time of the shutdown event. */
  shutdownReceivedAt: number | null;
  exitedAt: number | null;
  exitShutdownMs: number | null;
  /** Collector clock. */
  firstReceivedAt: number;
  lastReceivedAt: number;
}

/** Derived row of one invocation, keyed by (envId, requestId). */
export interface InvocationFacts {
  envId: string;
  requestId: string;
  /** Seq of the invoke event. */
  seq: number | null;
  /** Collector clock: commit time of its first start (INVOKE or platform.start), for "awaiting report". */
  receivedAt: number | null;
  /** Extension clock. */
  startedAt: number | null;
  deadlineMs: number | null;
  invokedFunctionArn: string | null;
  traceId: string | null;
  /** Platform clock. */
  platformStartAt: number | null;
  runtimeDoneAt: number | null;
  runtimeDoneStatus: string | null;
  runtimeDoneDurationMs: number | null;
  runtimeDoneErrorType: string | null;
  reportAt: number | null;
  reportStatus: string | null;
  reportDurationMs: number | null;
  billedDurationMs: number | null;
  memorySizeMb: number | null;
  maxMemoryUsedMb: number | null;
  initDurationMs: number | null;
  extensionOverheadMs: number | null;
  /** Response streaming: receive → first byte, and first → last byte (spans of runtimeDone or report). */
  responseLatencyMs: number | null;
  responseDurationMs: number | null;
  producedBytes: number | null;
  reportErrorType: string | null;
  /** Last computed InvocationStatus (see invocationStatus). */
  status: string;
}

/** An environment with the invocations a batch touches (plus its last invoke), as the derivation works on it. */
export interface EnvironmentModel {
  env: EnvironmentFacts;
  invocations: Map<string, InvocationFacts>;
}

/**
 * Every column of the environment row, in row order: the storage maps rows generically over this list, so a new
 * fact needs only its field here, in {@link newEnvironmentFacts} and a migration per backend.
 */
export const ENVIRONMENT_FACT_FIELDS = Object.freeze(
  Object.keys(newEnvironmentFacts('', 0, 0, 0)),
) as readonly (keyof EnvironmentFacts)[];

/** Every column of the invocation row, in row order (see {@link ENVIRONMENT_FACT_FIELDS}). */
export const INVOCATION_FACT_FIELDS = Object.freeze(
  Object.keys(newInvocationFacts('', '')),
) as readonly (keyof InvocationFacts)[];

/** A fresh environment row for the first event seen of `envId`. */
export function newEnvironmentFacts(
  envId: string,
  firstTime: number,
  firstSeq: number,
  receivedAt: number,
): EnvironmentFacts {
  return {
    envId,
    functionName: null,
    functionVersion: null,
    handler: null,
    memorySizeMb: null,
    runtime: null,
    architecture: null,
    region: null,
    accountId: null,
    initializationType: null,
    sandboxId: null,
    previousEnvId: null,
    telemetry: null,
    registeredEvents: null,
    restoredFrom: null,
    tenantId: null,
    registeredAt: null,
    startToRegisteredMs: null,
    initStartAt: null,
    initRuntimeDoneAt: null,
    initRuntimeDoneStatus: null,
    initReportAt: null,
    initReportStatus: null,
    initReportDurationMs: null,
    reportInitDurationMs: null,
    initPhase: null,
    restoreStartAt: null,
    restoreRuntimeDoneAt: null,
    restoreReportAt: null,
    restoreStatus: null,
    restoreDurationMs: null,
    firstInvokeStartAt: null,
    invokeCount: 0,
    errorCount: 0,
    timeoutCount: 0,
    firstActivityAt: firstTime,
    lastActivityAt: firstTime,
    lastSeq: firstSeq,
    eventCount: 0,
    droppedEvents: 0,
    lastInvokeSeq: null,
    lastInvokeRequestId: null,
    lastStartSeq: null,
    lastStartRequestId: null,
    lastInvokeStatus: null,
    lastInvokeEndAt: null,
    lastInvokeExpiresAt: null,
    shutdownReason: null,
    shutdownAt: null,
    shutdownDeadlineMs: null,
    shutdownReceivedAt: null,
    exitedAt: null,
    exitShutdownMs: null,
    firstReceivedAt: receivedAt,
    lastReceivedAt: receivedAt,
  };
}

/** A fresh invocation row for the first event seen of `requestId`. */
export function newInvocationFacts(envId: string, requestId: string): InvocationFacts {
  return {
    envId,
    requestId,
    seq: null,
    receivedAt: null,
    startedAt: null,
    deadlineMs: null,
    invokedFunctionArn: null,
    traceId: null,
    platformStartAt: null,
    runtimeDoneAt: null,
    runtimeDoneStatus: null,
    runtimeDoneDurationMs: null,
    runtimeDoneErrorType: null,
    reportAt: null,
    reportStatus: null,
    reportDurationMs: null,
    billedDurationMs: null,
    memorySizeMb: null,
    maxMemoryUsedMb: null,
    initDurationMs: null,
    extensionOverheadMs: null,
    responseLatencyMs: null,
    responseDurationMs: null,
    producedBytes: null,
    reportErrorType: null,
    status: 'running',
  };
}
