import { randomUUID } from 'node:crypto';
import { monoNow } from './clock.ts';
import type { Generation, Invocation } from './generation.ts';
import { round } from './generation.ts';
import { beginInvocation, handInvokeToRuntime, timeoutError } from './invoke-start.ts';
import { peakMemoryMb } from './memory.ts';
import {
  type RecordTracing,
  recordStatus,
  reportRecord,
  runtimeDoneRecord,
  startRecord,
} from './platform-records.ts';
import type { SandboxContext } from './sandbox-context.ts';
import type { InitResult, InvokeOptions, InvokeResult, RestoreResult } from './types.ts';

/** Where an invoke stands when its Invoke phase starts. */
export interface InvokeContext {
  deadlineMs: number;
  coldStart: boolean;
  init: InitResult | undefined;
  restore?: RestoreResult;
}

/**
 * Runs one Invoke phase on an initialised generation (README "Lifecycle"): INVOKE to every subscriber, then the
 * event to the runtime; the invoke ends when the runtime and every subscriber called /next, or at the deadline. The
 * report is published with delivery paused, so it reaches subscribers at the next thaw or SHUTDOWN. Whether the
 * sandbox then freezes or resets is the caller's decision (`result.status`).
 */
export async function runInvokePhase(
  ctx: SandboxContext,
  generation: Generation,
  options: InvokeOptions,
  payload: string,
  context: InvokeContext,
): Promise<InvokeResult> {
  const settings = ctx.options;
  // Processes thaw first; buffered telemetry (the previous report) follows once INVOKE went out, below.
  ctx.supervisor.thaw(generation, false);
  ctx.state = 'invoking';
  const started = beginInvocation(ctx, generation, options, context.deadlineMs);
  const { invocation, requestId, deadlineMs, trace, tracing, arn } = started;
  generation.dispatcher.publish(
    'platform.start',
    startRecord(invocation, settings.functionVersion, tracing),
  );
  const eventBody = JSON.stringify({
    eventType: 'INVOKE',
    deadlineMs,
    requestId,
    invokedFunctionArn: arn,
    ...(trace ? { tracing: { type: 'X-Amzn-Trace-Id', value: trace } } : {}),
  });
  // Agents first, then the runtime, like RAPID.
  for (const agent of generation.registry.registered()) {
    if (!agent.subscribes('INVOKE')) continue;
    invocation.pending.add(agent);
    ctx.delivery.release(agent, {
      eventType: 'INVOKE',
      body: eventBody,
      eventId: randomUUID(),
      requestId,
      deadlineMs,
    });
  }
  handInvokeToRuntime(ctx, generation, generation.runtimeParked.shift(), payload, started, options);
  generation.dispatcher.thaw();
  const done = () =>
    generation.failure !== undefined || (invocation.runtimeDone && invocation.pending.size === 0);
  const inTime = await ctx.waitFor(done, deadlineMs);
  generation.invocations.delete(requestId);
  const endMono = monoNow();
  const durationMs = round(endMono - invocation.startedMono);
  let status: InvokeResult['status'];
  let errorType = invocation.errorType;
  let errorMessage = invocation.errorMessage;
  if (generation.failure) {
    status = 'failure';
    errorType = generation.failure.errorType;
    errorMessage = generation.failure.errorMessage;
  } else if (!inTime) {
    status = 'timeout';
    ({ errorType, errorMessage } = timeoutError(settings.timeoutMs));
  } else {
    status = invocation.errorType ? 'error' : 'success';
  }
  const telemetryStatus = recordStatus(status, errorType);
  if (!invocation.runtimeDone) {
    publishRuntimeDone(generation, invocation, telemetryStatus, errorType, tracing);
  }
  const extensionOverheadMs =
    invocation.runtimeDoneMono !== undefined && status !== 'timeout' && status !== 'failure'
      ? round(
          Math.max(
            0,
            (invocation.lastExtensionMono ?? invocation.runtimeDoneMono) -
              invocation.runtimeDoneMono,
          ),
        )
      : undefined;
  const pids = [
    generation.runtime?.pid,
    ...generation.registry.all().map((agent) => agent.process?.pid),
  ].filter((pid): pid is number => pid !== undefined);
  const initDurationMs = generation.pendingInitDurationMs;
  const restoreDurationMs = generation.pendingRestoreDurationMs;
  generation.pendingInitDurationMs = undefined;
  generation.pendingRestoreDurationMs = undefined;
  // The report exists only now that every extension is done. Delivery pauses first (the environment freezes or
  // resets next), so the report reaches subscribers during the next invoke or once SHUTDOWN went out.
  generation.dispatcher.freeze();
  generation.dispatcher.publish(
    'platform.report',
    reportRecord({
      requestId,
      tenantId: invocation.tenantId,
      status: telemetryStatus,
      errorType,
      durationMs,
      memoryMb: settings.memoryMb,
      maxMemoryUsedMB: Math.min(settings.memoryMb, peakMemoryMb(pids) ?? 0),
      initDurationMs,
      restoreDurationMs,
      extensionOverhead:
        invocation.runtimeDoneAt !== undefined && extensionOverheadMs !== undefined
          ? { start: invocation.runtimeDoneAt, durationMs: extensionOverheadMs }
          : undefined,
      tracing,
    }),
  );
  ctx.log({
    kind: 'invoke.end',
    requestId,
    deadlineMs,
    status,
    errorType,
    errorMessage,
    durationMs,
    data: { extensionOverheadMs },
  });
  return {
    requestId,
    sandboxId: ctx.id,
    status,
    durationMs,
    ...responseTimes(invocation),
    extensionOverheadMs,
    deadlineMs,
    response: invocation.response,
    errorType: status === 'success' ? undefined : errorType,
    errorMessage: status === 'success' ? undefined : errorMessage,
    coldStart: context.coldStart,
    init: context.init,
    ...(context.restore ? { restore: context.restore } : {}),
    reset: false,
  };
}

/** The caller's view of the answer: time to its first byte, and how long it streamed after that. */
export function responseTimes(
  invocation: Invocation,
): Pick<InvokeResult, 'responseLatencyMs' | 'responseDurationMs'> {
  if (invocation.respondedMono === undefined) return {};
  const firstByteMono = invocation.firstByteMono ?? invocation.respondedMono;
  return {
    responseLatencyMs: round(firstByteMono - invocation.startedMono),
    responseDurationMs: round(invocation.respondedMono - firstByteMono),
  };
}

/** The runtime is done with `invocation` (answered and asked for the next one, or the invoke ended without it). */
export function publishRuntimeDone(
  generation: Generation,
  invocation: Invocation,
  status: string,
  errorType: string | undefined,
  tracing: RecordTracing | undefined,
): void {
  const now = Date.now();
  generation.dispatcher.publish(
    'platform.runtimeDone',
    runtimeDoneRecord(invocation, status, errorType, tracing, monoNow()),
    now,
  );
}
