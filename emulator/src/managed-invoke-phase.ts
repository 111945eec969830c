import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { monoNow } from './clock.ts';
import { type Generation, type Invocation, round } from './generation.ts';
import { sendRaw } from './http-json.ts';
import { behaviourOf, type InvokeContext, responseTimes } from './invoke-phase.ts';
import {
  managedReportRecord,
  managedStartRecord,
  recordStatus,
  recordTracing,
} from './platform-records.ts';
import type { SandboxContext } from './sandbox-context.ts';
import { BEHAVIOUR_HEADER } from './simulated-runtime.ts';
import { newTraceHeader } from './trace.ts';
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
  const requestId = randomUUID();
  const { deadlineMs } = context;
  const trace = options.traceId ?? (settings.tracing ? newTraceHeader() : undefined);
  const tracing = recordTracing(trace);
  const invocation: Invocation = {
    requestId,
    deadlineMs,
    trace,
    tenantId: settings.tenantId,
    startedAt: Date.now(),
    startedMono: monoNow(),
    pending: new Set(),
    responded: false,
    responseBytes: 0,
    runtimeDone: false,
  };
  generation.invocations.set(requestId, invocation);
  ctx.log({
    kind: 'invoke.start',
    requestId,
    deadlineMs,
    data: { outcome: options.outcome ?? 'success', durationMs: options.durationMs ?? 0 },
  });
  const qualifier = settings.functionVersion === '$LATEST' ? '' : `:${settings.functionVersion}`;
  const arn = `arn:aws:lambda:${settings.region}:${settings.accountId}:function:${settings.functionName}${qualifier}`;
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
    const written = sendRaw(runtimeRes, 200, payload, {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': requestId,
      'Lambda-Runtime-Deadline-Ms': String(deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': arn,
      'Lambda-Runtime-Trace-Id': trace,
      'Lambda-Runtime-Aws-Tenant-Id': settings.tenantId,
      [BEHAVIOUR_HEADER]: behaviourOf(options, settings.responseStreaming),
    });
    if (!written) {
      generation.failure ??= {
        errorType: 'Runtime.ExitError',
        errorMessage: 'runtime is not waiting for an invocation',
      };
    }
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
    errorType = 'Sandbox.Timeout';
    errorMessage = `Task timed out after ${(settings.timeoutMs / 1000).toFixed(2)} seconds`;
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
