import type { Environment, Invocation, Shutdown } from '../api.ts';
import type { InvocationStatus } from '../constants.ts';
import { environmentState } from './environment-state.ts';
import type { EnvironmentFacts, InvocationFacts } from './facts.ts';
import { shutdownKind } from './invocation-status.ts';

/** The API shape of an environment at collector time `now`. */
export function toEnvironment(
  env: EnvironmentFacts,
  now: number,
  lostAfterMs: number,
): Environment {
  return {
    envId: env.envId,
    sandboxId: env.sandboxId,
    previousEnvId: env.previousEnvId,
    functionName: env.functionName ?? '',
    functionVersion: env.functionVersion ?? '',
    handler: env.handler ?? '',
    memorySizeMb: env.memorySizeMb ?? 0,
    runtime: env.runtime,
    architecture: env.architecture ?? '',
    region: env.region,
    accountId: env.accountId,
    initializationType: env.initializationType ?? '',
    registeredAt: env.registeredAt ?? env.firstActivityAt,
    startToRegisteredMs: env.startToRegisteredMs ?? 0,
    initStartAt: env.initStartAt,
    initRuntimeDoneAt: env.initRuntimeDoneAt,
    initDurationMs: initDurationOf(env),
    initStatus: env.initReportStatus ?? env.initRuntimeDoneStatus,
    initPhase: env.initPhase,
    state: environmentState(env, now, lostAfterMs),
    invokeCount: env.invokeCount,
    errorCount: env.errorCount,
    timeoutCount: env.timeoutCount,
    firstActivityAt: env.firstActivityAt,
    lastActivityAt: env.lastActivityAt,
    lastSeq: env.lastSeq,
    eventCount: env.eventCount,
    missingEvents: Math.max(0, env.lastSeq + 1 - env.eventCount - env.droppedEvents),
    droppedEvents: env.droppedEvents,
    shutdown: toShutdown(env),
  };
}

/** Init duration: platform.initReport's, else the first invoke's report `initDurationMs`. */
export function initDurationOf(env: EnvironmentFacts): number | null {
  return env.initReportDurationMs ?? env.reportInitDurationMs;
}

/**
 * The shutdown of an environment, or null before its SHUTDOWN arrived. Every difference is taken on the extension
 * clock; `idleMs` ends the last invoke at its INVOKE time plus its (clock-free) duration.
 */
export function toShutdown(env: EnvironmentFacts): Shutdown | null {
  if (env.shutdownAt === null || env.shutdownReason === null) return null;
  const receivedAt = env.shutdownAt;
  const deadlineMs = env.shutdownDeadlineMs ?? receivedAt;
  const budgetMs = deadlineMs - receivedAt;
  const shutdownDurationMs =
    env.exitShutdownMs ?? (env.exitedAt !== null ? env.exitedAt - receivedAt : null);
  return {
    envId: env.envId,
    functionName: env.functionName ?? '',
    functionVersion: env.functionVersion ?? '',
    memorySizeMb: env.memorySizeMb ?? 0,
    reason: env.shutdownReason,
    receivedAt,
    deadlineMs,
    budgetMs,
    exitedAt: env.exitedAt,
    shutdownDurationMs,
    budgetUsedPct:
      shutdownDurationMs !== null && budgetMs > 0 ? (shutdownDurationMs / budgetMs) * 100 : null,
    idleMs: idleBeforeShutdownMs(env),
    lifetimeMs: receivedAt - (env.registeredAt ?? env.firstActivityAt),
    invokes: env.invokeCount,
  };
}

/**
 * Idle time before a spindown, on the extension clock: SHUTDOWN time − the last invoke's end (INVOKE time + its
 * clock-free duration). Only a spindown ends an idle environment (a timeout or failure interrupts a running invoke),
 * and never negative (a duration measured on the platform may overrun the extension's SHUTDOWN time by a little).
 */
export function idleBeforeShutdownMs(env: EnvironmentFacts): number | null {
  if (env.shutdownAt === null || env.shutdownReason === null || env.lastInvokeEndAt === null)
    return null;
  if (shutdownKind(env.shutdownReason) !== 'spindown') return null;
  return Math.max(0, env.shutdownAt - env.lastInvokeEndAt);
}

/** The API shape of an invocation. */
export function toInvocation(invocation: InvocationFacts, functionName: string | null): Invocation {
  const durationMs = invocation.reportDurationMs ?? invocation.runtimeDoneDurationMs;
  const status = invocation.status as InvocationStatus;
  const end =
    invocation.runtimeDoneAt ??
    (invocation.platformStartAt !== null && durationMs !== null
      ? invocation.platformStartAt + durationMs
      : null);
  return {
    requestId: invocation.requestId,
    envId: invocation.envId,
    functionName: functionName ?? '',
    startedAt:
      invocation.startedAt ??
      invocation.platformStartAt ??
      invocation.runtimeDoneAt ??
      invocation.reportAt ??
      0,
    deadlineMs: invocation.deadlineMs ?? 0,
    invokedFunctionArn: invocation.invokedFunctionArn ?? '',
    traceId: invocation.traceId,
    platformStartAt: invocation.platformStartAt,
    runtimeDoneAt: invocation.runtimeDoneAt,
    durationMs,
    billedDurationMs: invocation.billedDurationMs,
    memorySizeMb: invocation.memorySizeMb,
    maxMemoryUsedMb: invocation.maxMemoryUsedMb,
    initDurationMs: invocation.initDurationMs,
    extensionOverheadMs: invocation.extensionOverheadMs,
    status,
    errorType: invocation.reportErrorType ?? invocation.runtimeDoneErrorType,
    reportPending: invocation.reportAt === null,
    headroomMs:
      status === 'running' || end === null || invocation.deadlineMs === null
        ? null
        : invocation.deadlineMs - end,
  };
}
