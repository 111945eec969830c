import {
  type EnvironmentFacts,
  type InitKind,
  type InvocationDisplayStatus,
  type InvocationFacts,
  type InvocationStatus,
  initDurationOf,
  initKind,
  invocationDisplayStatus,
  type StoredEvent,
  toInvocation,
  toShutdown,
} from '@lifeline/protocol';
import type { LaneActivity } from './density.ts';

/**
 * What the timeline draws, as views of the shared derivation's rows (`EnvironmentFacts`, `InvocationFacts` from
 * '@lifeline/protocol'): this module holds no rule of its own, only the shapes the drawing code reads.
 */

/** One invoke as drawn on a lane. Times are epoch ms (INVOKE on the extension clock, the rest platform clock). */
export interface InvokeBar {
  readonly requestId: string;
  readonly envId: string;
  /** INVOKE arrival; the platform.start time when the INVOKE event is missing. */
  readonly startAt: number;
  readonly deadlineMs: number | null;
  readonly invokedFunctionArn: string | null;
  readonly traceId: string | null;
  readonly platformStartAt: number | null;
  readonly runtimeDoneAt: number | null;
  readonly durationMs: number | null;
  readonly billedDurationMs: number | null;
  readonly memorySizeMb: number | null;
  readonly maxMemoryUsedMb: number | null;
  readonly initDurationMs: number | null;
  readonly extensionOverheadMs: number | null;
  readonly status: InvocationStatus;
  readonly errorType: string | null;
  /** True until the late platform.report has arrived. */
  readonly reportPending: boolean;
  /** deadlineMs − end of the invoke; null while running. */
  readonly headroomMs: number | null;
  /** Response streaming: receive → first byte, first → last byte (null when not streamed). */
  readonly responseLatencyMs: number | null;
  readonly responseDurationMs: number | null;
  /** The shared derivation's row this bar is a view of. */
  readonly facts: InvocationFacts;
}

/**
 * An init phase from the platform records: the cold start (`init`, or `invoke` for a suppressed init), or a SnapStart
 * environment's RESTORE (`restore`).
 */
export interface InitSpan {
  readonly phase: string | null;
  readonly startAt: number | null;
  /** platform.initRuntimeDone: the runtime finished init; extensions may still be initialising. */
  readonly runtimeDoneAt: number | null;
  /** platform.initReport: the whole Init phase is over. */
  readonly reportAt: number | null;
  readonly durationMs: number | null;
  readonly status: string | null;
}

/** The SHUTDOWN event and the extension's exit after it. */
export interface ShutdownSpan {
  /** As received (spindown|timeout|failure in production; RIE spellings differ). */
  readonly reason: string;
  readonly receivedAt: number;
  readonly deadlineMs: number;
  readonly exitedAt: number | null;
  readonly shutdownMs: number | null;
}

/** Everything the dashboard knows about one execution environment. */
export interface EnvLane {
  readonly envId: string;
  /** False until the register event arrived (events can arrive out of order). */
  readonly registered: boolean;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly handler: string | null;
  readonly memorySizeMb: number | null;
  readonly runtime: string | null;
  readonly architecture: string | null;
  readonly region: string | null;
  readonly accountId: string | null;
  readonly initializationType: string | null;
  /** On-demand, proactive, provisioned, SnapStart restore or snapshot, Managed Instances. */
  readonly initKind: InitKind;
  readonly tenantId: string | null;
  readonly restoredFrom: string | null;
  readonly sandboxId: string | null;
  readonly previousEnvId: string | null;
  readonly registeredAt: number | null;
  readonly inits: readonly InitSpan[];
  /**
   * The invokes loaded for the shown range (plus the last one and any that arrived live), sorted by startAt. In a
   * dense range ({@link activity} set) only the ones live folding needs: the last, running ones, those awaiting
   * their report.
   */
  readonly invokes: readonly InvokeBar[];
  /** Dense range: the range's invokes counted per cell (see `density.ts`); null when every invoke is loaded. */
  readonly activity: LaneActivity | null;
  readonly shutdown: ShutdownSpan | null;
  /** Extension clock of the exit record (also set when it exits without SHUTDOWN). */
  readonly exitedAt: number | null;
  readonly firstActivityAt: number;
  readonly lastActivityAt: number;
  /** Over the environment's whole life, not only the loaded invokes. */
  readonly invokeCount: number;
  readonly errorCount: number;
  readonly timeoutCount: number;
  readonly droppedEvents: number;
  readonly lastSeq: number;
  /** Raw events that arrived live since the page loaded, newest last, at most {@link LIVE_EVENTS_KEPT}. */
  readonly events: readonly StoredEvent[];
  /** Every event the collector stored for this environment. */
  readonly eventCount: number;
  /** The shared derivation's row this lane is a view of. */
  readonly facts: EnvironmentFacts;
  /** The collector's lost-after setting (`/v1/settings`) the lane's state is judged by. */
  readonly lostAfterMs: number;
}

/** Raw events kept per lane for the details panel; older ones are read from `/v1/environments/:envId`. */
export const LIVE_EVENTS_KEPT = 200;

/** Name used for environments whose register event has not arrived. */
export const UNKNOWN_FUNCTION = '(unregistered)';

/** The bar of one invocation row: the API's invocation view, with the deadline left null when unknown. */
export function invokeBarOf(facts: InvocationFacts): InvokeBar {
  const view = toInvocation(facts, null);
  return {
    requestId: view.requestId,
    envId: view.envId,
    startAt: view.startedAt,
    deadlineMs: facts.deadlineMs,
    invokedFunctionArn: facts.invokedFunctionArn,
    traceId: view.traceId,
    platformStartAt: view.platformStartAt,
    runtimeDoneAt: view.runtimeDoneAt,
    durationMs: view.durationMs,
    billedDurationMs: view.billedDurationMs,
    memorySizeMb: view.memorySizeMb,
    maxMemoryUsedMb: view.maxMemoryUsedMb,
    initDurationMs: view.initDurationMs,
    extensionOverheadMs: view.extensionOverheadMs,
    status: view.status,
    errorType: view.errorType,
    reportPending: view.reportPending,
    headroomMs: view.headroomMs,
    responseLatencyMs: facts.responseLatencyMs,
    responseDurationMs: facts.responseDurationMs,
    facts,
  };
}

/**
 * The status to draw at collector time `now`: the shared rule, which says `awaiting-report` for an invoke without an
 * end that can no longer be running (never "running" past its own timeout).
 */
export function barStatus(bar: InvokeBar, lane: EnvLane, now: number): InvocationDisplayStatus {
  return invocationDisplayStatus(bar.facts, lane.facts, now);
}

/** The lane of an environment row with its (sorted) invoke bars. */
export function laneOf(
  env: EnvironmentFacts,
  invokes: readonly InvokeBar[],
  events: readonly StoredEvent[],
  lostAfterMs: number,
  activity: LaneActivity | null = null,
): EnvLane {
  const shutdown = toShutdown(env);
  return {
    envId: env.envId,
    registered: env.registeredAt !== null,
    functionName: env.functionName ?? UNKNOWN_FUNCTION,
    functionVersion: env.functionVersion ?? '',
    handler: env.handler,
    memorySizeMb: env.memorySizeMb,
    runtime: env.runtime,
    architecture: env.architecture,
    region: env.region,
    accountId: env.accountId,
    initializationType: env.initializationType,
    initKind: initKind(env),
    tenantId: env.tenantId,
    restoredFrom: env.restoredFrom,
    sandboxId: env.sandboxId,
    previousEnvId: env.previousEnvId,
    registeredAt: env.registeredAt,
    inits: initSpansOf(env),
    invokes,
    activity,
    shutdown:
      shutdown === null
        ? null
        : {
            reason: shutdown.reason,
            receivedAt: shutdown.receivedAt,
            deadlineMs: shutdown.deadlineMs,
            exitedAt: shutdown.exitedAt,
            shutdownMs: shutdown.shutdownDurationMs,
          },
    exitedAt: env.exitedAt,
    firstActivityAt: env.firstActivityAt,
    lastActivityAt: env.lastActivityAt,
    invokeCount: env.invokeCount,
    errorCount: env.errorCount,
    timeoutCount: env.timeoutCount,
    droppedEvents: env.droppedEvents,
    lastSeq: env.lastSeq,
    events,
    eventCount: env.eventCount,
    facts: env,
    lostAfterMs,
  };
}

function initSpansOf(env: EnvironmentFacts): InitSpan[] {
  const spans: InitSpan[] = [];
  if (env.initStartAt !== null || env.initRuntimeDoneAt !== null || env.initReportAt !== null) {
    spans.push({
      phase: env.initPhase,
      startAt: env.initStartAt,
      runtimeDoneAt: env.initRuntimeDoneAt,
      reportAt: env.initReportAt,
      durationMs: initDurationOf(env),
      status: env.initReportStatus ?? env.initRuntimeDoneStatus,
    });
  }
  if (
    env.restoreStartAt !== null ||
    env.restoreRuntimeDoneAt !== null ||
    env.restoreReportAt !== null
  ) {
    spans.push({
      phase: 'restore',
      startAt: env.restoreStartAt,
      runtimeDoneAt: env.restoreRuntimeDoneAt,
      reportAt: env.restoreReportAt,
      durationMs: env.restoreDurationMs,
      status: env.restoreStatus,
    });
  }
  return spans;
}

/** Invokes the lane shows for its range: counted in its cells when dense, else its bars. */
export function laneInvokeCount(lane: EnvLane): number {
  return lane.activity ? lane.activity.invokes : lane.invokes.length;
}

/** The end of an invoke bar: runtimeDone, else start + duration when only the report is known, else null. */
export function invokeEnd(bar: InvokeBar): number | null {
  if (bar.runtimeDoneAt !== null) return bar.runtimeDoneAt;
  if (bar.durationMs !== null) return (bar.platformStartAt ?? bar.startAt) + bar.durationMs;
  return null;
}

/**
 * The invoke drawn at `time`, with `tolerance` ms of slack on both sides for thin bars; the closest one wins.
 * Bars without an end count as ending at the next start.
 */
export function invokeAt(
  bars: readonly InvokeBar[],
  time: number,
  tolerance: number,
): InvokeBar | null {
  let best: InvokeBar | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  let lo = 0;
  let hi = bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bars[mid]!.startAt <= time + tolerance) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0 && i >= lo - 3; i--) {
    const bar = bars[i]!;
    const end = invokeEnd(bar) ?? bars[i + 1]?.startAt ?? Number.POSITIVE_INFINITY;
    const distance = time < bar.startAt ? bar.startAt - time : time > end ? time - end : 0;
    if (distance <= tolerance && distance < bestDistance) {
      best = bar;
      bestDistance = distance;
    }
  }
  return best;
}
