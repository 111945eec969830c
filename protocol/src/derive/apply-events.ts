import type { LifelineEvent, PlatformEvent } from '../events.ts';
import {
  type EnvironmentFacts,
  type EnvironmentModel,
  type InvocationFacts,
  newEnvironmentFacts,
  newInvocationFacts,
} from './facts.ts';
import { invocationStatus, lastInvokeIdOf } from './invocation-status.ts';
import { metricsOf, numberField, recordObject, spanDuration, textField } from './record-fields.ts';

/**
 * The requestIds whose invocation rows `events` touch: the caller loads these (and the environment's last invoke)
 * into the model before {@link applyEvents}.
 */
export function requestIdsOf(events: readonly LifelineEvent[]): Set<string> {
  const ids = new Set<string>();
  for (const event of events) {
    const id = requestIdOf(event);
    if (id !== null) ids.add(id);
  }
  return ids;
}

/**
 * Folds new events of ONE environment into its derived model and returns the new model; the input is not modified.
 *
 * Order does not matter: every field is either a fact set by exactly one kind of event, a min/max/sum, or recomputed
 * from such facts, so applying the same set of events in any order, in any split into batches, gives the same
 * result. The caller guarantees each event is applied once (the events table's unique id does that) and that the
 * model holds the stored invocations of {@link requestIdsOf}(events) and of {@link lastInvokeIdOf}(env).
 *
 * `receivedAt` is the collector's commit time of the events: one number for one committed batch, or one per event
 * (a client folding events of several commits at once), with the same result as folding each commit in turn.
 */
export function applyEvents(
  model: EnvironmentModel | undefined,
  events: readonly LifelineEvent[],
  receivedAt: number | readonly number[],
): EnvironmentModel {
  const first = events[0];
  if (first === undefined) {
    if (model === undefined) throw new Error('applyEvents needs a model or at least one event');
    return model;
  }
  if (typeof receivedAt !== 'number' && receivedAt.length !== events.length) {
    throw new Error('applyEvents needs one receivedAt per event');
  }
  const receivedAtOf = (index: number): number =>
    typeof receivedAt === 'number' ? receivedAt : receivedAt[index]!;
  const env: EnvironmentFacts = model
    ? { ...model.env }
    : newEnvironmentFacts(first.envId, first.time, first.seq, receivedAtOf(0));
  const invocations = new Map<string, InvocationFacts>();
  for (const [id, invocation] of model?.invocations ?? []) invocations.set(id, { ...invocation });
  const touched = new Set<string>();
  const previousLast = lastInvokeIdOf(env);

  const invocation = (requestId: string): InvocationFacts => {
    touched.add(requestId);
    let found = invocations.get(requestId);
    if (found === undefined) {
      found = newInvocationFacts(env.envId, requestId);
      invocations.set(requestId, found);
    }
    return found;
  };

  for (const [index, event] of events.entries()) {
    const eventReceivedAt = receivedAtOf(index);
    env.eventCount += 1;
    env.firstActivityAt = Math.min(env.firstActivityAt, event.time);
    env.lastActivityAt = Math.max(env.lastActivityAt, event.time);
    env.lastSeq = Math.max(env.lastSeq, event.seq);
    env.firstReceivedAt = Math.min(env.firstReceivedAt, eventReceivedAt);
    env.lastReceivedAt = Math.max(env.lastReceivedAt, eventReceivedAt);
    switch (event.type) {
      case 'register':
        env.functionName = event.functionName;
        env.functionVersion = event.functionVersion;
        env.handler = event.handler;
        env.memorySizeMb = event.memorySizeMb;
        // The register's runtime (AWS_EXECUTION_ENV) wins; without it, initStart's runtimeVersion stays.
        env.runtime = event.runtime ?? env.runtime;
        env.architecture = event.architecture;
        env.region = event.region ?? null;
        env.accountId = event.accountId ?? null;
        env.initializationType = event.initializationType;
        env.sandboxId = event.sandboxId ?? null;
        env.previousEnvId = event.previousEnvId ?? null;
        env.telemetry = event.telemetry ?? null;
        env.registeredEvents = event.registeredEvents?.join(',') ?? null;
        env.restoredFrom = event.restoredFrom ?? null;
        env.registeredAt = event.time;
        env.startToRegisteredMs = event.startToRegisteredMs;
        break;
      case 'invoke': {
        const target = invocation(event.requestId);
        countStart(env, target, eventReceivedAt);
        target.seq = event.seq;
        target.startedAt = event.time;
        target.deadlineMs = event.deadlineMs;
        target.invokedFunctionArn = event.invokedFunctionArn;
        target.traceId = event.traceId ?? null;
        if (env.lastInvokeSeq === null || event.seq > env.lastInvokeSeq) {
          env.lastInvokeSeq = event.seq;
          env.lastInvokeRequestId = event.requestId;
        }
        break;
      }
      case 'shutdown':
        if (env.shutdownAt === null || event.time < env.shutdownAt) {
          env.shutdownReason = event.shutdownReason;
          env.shutdownAt = event.time;
          env.shutdownDeadlineMs = event.deadlineMs;
          env.shutdownReceivedAt = eventReceivedAt;
        }
        break;
      case 'exit':
        env.exitedAt = event.time;
        env.exitShutdownMs = event.shutdownMs ?? null;
        break;
      case 'dropped':
        env.droppedEvents = Math.min(env.droppedEvents + event.count, Number.MAX_SAFE_INTEGER);
        break;
      case 'platform':
        applyPlatform(env, event, invocation, eventReceivedAt);
        break;
    }
  }

  const recompute = new Set(touched);
  const last = lastInvokeIdOf(env);
  if (previousLast !== null) recompute.add(previousLast);
  if (last !== null) recompute.add(last);
  for (const requestId of recompute) {
    const target = invocations.get(requestId);
    if (target === undefined) continue;
    const status = invocationStatus(target, env);
    if (status !== target.status) {
      env.errorCount += isError(status) - isError(target.status);
      env.timeoutCount += isTimeout(status) - isTimeout(target.status);
      target.status = status;
      touched.add(requestId);
    }
    if (requestId === last) {
      env.lastInvokeStatus = status;
      // One clock: the INVOKE time (extension) plus a clock-free duration, never a platform timestamp.
      const durationMs = target.reportDurationMs ?? target.runtimeDoneDurationMs;
      env.lastInvokeEndAt = target.startedAt === null ? null : target.startedAt + (durationMs ?? 0);
      env.lastInvokeExpiresAt = expiresAt(target);
    }
  }

  return { env, invocations };
}

/**
 * Counts an invocation once, at its first start (its INVOKE event or its platform.start: Managed Instances send no
 * INVOKE), whichever arrives first; remembers the commit time of that start.
 */
function countStart(env: EnvironmentFacts, target: InvocationFacts, receivedAt: number): void {
  if (target.startedAt === null && target.platformStartAt === null) env.invokeCount += 1;
  target.receivedAt =
    target.receivedAt === null ? receivedAt : Math.min(target.receivedAt, receivedAt);
}

function applyPlatform(
  env: EnvironmentFacts,
  event: PlatformEvent,
  invocation: (requestId: string) => InvocationFacts,
  receivedAt: number,
): void {
  const record = recordObject(event.record);
  const at = event.recordTime;
  switch (event.recordType) {
    case 'platform.restoreStart':
      if (env.restoreStartAt === null || at >= env.restoreStartAt) env.restoreStartAt = at;
      return;
    case 'platform.restoreRuntimeDone':
      if (env.restoreRuntimeDoneAt === null || at >= env.restoreRuntimeDoneAt) {
        env.restoreRuntimeDoneAt = at;
        // The report's status wins over runtimeDone's, in any order.
        if (env.restoreReportAt === null) env.restoreStatus = textField(record, 'status');
        else env.restoreStatus ??= textField(record, 'status');
      }
      return;
    case 'platform.restoreReport':
      if (env.restoreReportAt === null || at >= env.restoreReportAt) {
        env.restoreReportAt = at;
        env.restoreStatus = textField(record, 'status') ?? env.restoreStatus;
        env.restoreDurationMs =
          numberField(metricsOf(record), 'durationMs') ?? env.restoreDurationMs;
      }
      return;
    case 'platform.initStart':
      if (env.initStartAt === null || at >= env.initStartAt) {
        env.initStartAt = at;
        env.initPhase = textField(record, 'phase') ?? env.initPhase;
      }
      // Production hides AWS_EXECUTION_ENV from extensions; initStart names the runtime (a register's wins).
      env.runtime ??= textField(record, 'runtimeVersion');
      return;
    case 'platform.initRuntimeDone':
      if (env.initRuntimeDoneAt === null || at >= env.initRuntimeDoneAt) {
        env.initRuntimeDoneAt = at;
        env.initRuntimeDoneStatus = textField(record, 'status');
      }
      return;
    case 'platform.initReport':
      if (env.initReportAt === null || at >= env.initReportAt) {
        env.initReportAt = at;
        env.initReportStatus = textField(record, 'status');
        env.initReportDurationMs = numberField(metricsOf(record), 'durationMs');
        env.initPhase = textField(record, 'phase') ?? env.initPhase;
      }
      return;
  }
  const requestId = textField(record, 'requestId');
  if (requestId === null || requestId === '') return;
  const tenantId = textField(record, 'tenantId');
  // An environment serves one tenant; the smallest id keeps the fold order-free should records ever disagree.
  if (tenantId !== null && tenantId !== '' && (env.tenantId === null || tenantId < env.tenantId)) {
    env.tenantId = tenantId;
  }
  switch (event.recordType) {
    case 'platform.start': {
      const target = invocation(requestId);
      countStart(env, target, receivedAt);
      target.platformStartAt = at;
      if (env.firstInvokeStartAt === null || at < env.firstInvokeStartAt)
        env.firstInvokeStartAt = at;
      if (env.lastStartSeq === null || event.seq > env.lastStartSeq) {
        env.lastStartSeq = event.seq;
        env.lastStartRequestId = requestId;
      }
      return;
    }
    case 'platform.runtimeDone': {
      const target = invocation(requestId);
      const metrics = metricsOf(record);
      target.runtimeDoneAt = at;
      target.runtimeDoneStatus = textField(record, 'status') ?? 'error';
      target.runtimeDoneDurationMs = numberField(metrics, 'durationMs');
      target.runtimeDoneErrorType = textField(record, 'errorType');
      // runtimeDone's streaming figures win over the report's (Managed Instances have only the report).
      target.responseLatencyMs =
        spanDuration(record, 'responseLatency') ?? target.responseLatencyMs;
      target.responseDurationMs =
        spanDuration(record, 'responseDuration') ?? target.responseDurationMs;
      target.producedBytes = numberField(metrics, 'producedBytes') ?? target.producedBytes;
      return;
    }
    case 'platform.report': {
      const target = invocation(requestId);
      const metrics = metricsOf(record);
      target.reportAt = at;
      target.reportStatus = textField(record, 'status') ?? 'error';
      target.reportDurationMs = numberField(metrics, 'durationMs');
      target.billedDurationMs = numberField(metrics, 'billedDurationMs');
      target.memorySizeMb = numberField(metrics, 'memorySizeMB');
      target.maxMemoryUsedMb = numberField(metrics, 'maxMemoryUsedMB');
      target.initDurationMs = numberField(metrics, 'initDurationMs');
      target.extensionOverheadMs = spanDuration(record, 'extensionOverhead');
      target.reportErrorType = textField(record, 'errorType');
      // Filling only what runtimeDone left empty gives runtimeDone's figure, else the report's, in any order.
      target.responseLatencyMs ??= spanDuration(record, 'responseLatency');
      target.responseDurationMs ??= spanDuration(record, 'responseDuration');
      target.producedBytes ??= numberField(metrics, 'producedBytes');
      if (target.initDurationMs !== null) env.reportInitDurationMs = target.initDurationMs;
      env.restoreDurationMs ??= numberField(metrics, 'restoreDurationMs');
      return;
    }
  }
}

function requestIdOf(event: LifelineEvent): string | null {
  if (event.type === 'invoke') return event.requestId;
  if (event.type !== 'platform') return null;
  if (
    event.recordType !== 'platform.start' &&
    event.recordType !== 'platform.runtimeDone' &&
    event.recordType !== 'platform.report'
  ) {
    return null;
  }
  const requestId = textField(recordObject(event.record), 'requestId');
  return requestId === null || requestId === '' ? null : requestId;
}

/** Collector clock: the invoke's start commit time plus its own timeout, measured on the extension clock. */
export function expiresAt(invocation: InvocationFacts): number | null {
  if (
    invocation.receivedAt === null ||
    invocation.deadlineMs === null ||
    invocation.startedAt === null
  ) {
    return null;
  }
  return invocation.receivedAt + Math.max(0, invocation.deadlineMs - invocation.startedAt);
}

function isError(status: string): number {
  return status === 'error' || status === 'failure' ? 1 : 0;
}

function isTimeout(status: string): number {
  return status === 'timeout' ? 1 : 0;
}
