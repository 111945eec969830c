import type { ServerResponse } from 'node:http';
import { monoNow } from './clock.ts';
import { type Generation, round } from './generation.ts';
import { type InvokeContext, responseTimes } from './invoke-phase.ts';
import { beginInvocation, handInvokeToRuntime, timeoutError } from './invoke-start.ts';
import { managedReportRecord, managedStartRecord, recordStatus } from './platform-records.ts';
import type { SandboxContext } from './sandbox-context.ts';
import type { InvokeOptions, InvokeResult } from './types.ts';

/**
 * Runs one invoke on a Lambda Managed Instances environment (README "Modes"), possibly beside others: no INVOKE to
 * extensions, no freeze; the event goes to the next free runtime worker and the invoke ends when the runtime answers,
 * or at the deadline. `platform.start` and `platform.report` are the only invoke records (no `runtimeDone`), and
 * both are delivered at once. A timeout ends this invoke only; the environment keeps serving the others.
 */
export async function runManagedInvokePhase(
  ctx: SandboxContext,
  generation: Generation,
  options: InvokeOptions,
  payload: string,
  context: InvokeContext,
): Promise<InvokeResult> {
  const settings = ctx.options;
  const started = beginInvocation(ctx, generation, options, context.deadlineMs);
  const { invocation, requestId, deadlineMs, tracing, arn } = started;
  generation.dispatcher.publish(
    'platform.start',
    managedStartRecord(invocation, settings.functionVersion, arn, tracing),
  );
  // A worker frees up when the runtime asks for its next invocation; wait for one (bounded by the deadline). The
  // worker is claimed inside the check, so invokes waiting together never take the same one.
  let runtimeRes: ServerResponse | undefined;
  await ctx.waitFor(() => {
    if (generation.failure !== undefined) return true;
    runtimeRes = generation.runtimeParked.shift();
    return runtimeRes !== undefined;
  }, deadlineMs);
  if (runtimeRes && !generation.failure) {
    handInvokeToRuntime(ctx, generation, runtimeRes, payload, started, options);
  }
  const inTime = await ctx.waitFor(
    () => generation.failure !== undefined || invocation.responded,
    deadlineMs,
  );
  generation.invocations.delete(requestId);
  const endMono = invocation.respondedMono ?? monoNow();
  const durationMs = round(endMono - invocation.startedMono);
  let status: InvokeResult['status'];
  let errorType = invocation.errorType;
  let errorMessage = invocation.errorMessage;
  if (invocation.responded) {
    status = invocation.errorType ? 'error' : 'success';
  } else if (generation.failure) {
    status = 'failure';
    errorType = generation.failure.errorType;
    errorMessage = generation.failure.errorMessage;
  } else {
    status = 'timeout';
    ({ errorType, errorMessage } = timeoutError(settings.timeoutMs));
  }
  const telemetryStatus = recordStatus(status, errorType);
  generation.dispatcher.publish(
    'platform.report',
    managedReportRecord(invocation, telemetryStatus, errorType, durationMs, tracing),
  );
  ctx.log({
    kind: 'invoke.end',
    requestId,
    deadlineMs,
    status,
    errorType,
    errorMessage,
    durationMs,
    data: { inTime },
  });
  return {
    requestId,
    sandboxId: ctx.id,
    status,
    durationMs,
    ...responseTimes(invocation),
    deadlineMs,
    response: invocation.response,
    errorType: status === 'success' ? undefined : errorType,
    errorMessage: status === 'success' ? undefined : errorMessage,
    coldStart: context.coldStart,
    init: context.init,
    reset: false,
  };
}
