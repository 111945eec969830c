import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { monoNow } from './clock.ts';
import type { Generation, Invocation } from './generation.ts';
import { sendRaw } from './http-json.ts';
import { type RecordTracing, recordTracing } from './platform-records.ts';
import type { SandboxContext } from './sandbox-context.ts';
import { BEHAVIOUR_HEADER } from './simulated-runtime.ts';
import { newTraceHeader } from './trace.ts';
import type { InvokeOptions } from './types.ts';

/** An invoke as both invoke phases (on-demand and Managed Instances) begin it. */
export interface StartedInvoke {
  invocation: Invocation;
  requestId: string;
  deadlineMs: number;
  trace: string | undefined;
  tracing: RecordTracing | undefined;
  /** The ARN the invoke came through: qualified for a published version, unqualified for $LATEST. */
  arn: string;
}

/** Creates the invoke's record in `generation` and logs its start; nothing is sent yet. */
export function beginInvocation(
  ctx: SandboxContext,
  generation: Generation,
  options: InvokeOptions,
  deadlineMs: number,
): StartedInvoke {
  const settings = ctx.options;
  const requestId = randomUUID();
  const trace = options.traceId ?? (settings.tracing ? newTraceHeader() : undefined);
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
  return { invocation, requestId, deadlineMs, trace, tracing: recordTracing(trace), arn };
}

/**
 * Answers the runtime's parked `/invocation/next` with the event and the Runtime API headers. A runtime that is
 * not waiting fails the generation (Runtime.ExitError), as Lambda does.
 */
export function handInvokeToRuntime(
  ctx: SandboxContext,
  generation: Generation,
  runtimeRes: ServerResponse | undefined,
  payload: string,
  started: StartedInvoke,
  options: InvokeOptions,
): void {
  const settings = ctx.options;
  const written =
    runtimeRes !== undefined &&
    sendRaw(runtimeRes, 200, payload, {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': started.requestId,
      'Lambda-Runtime-Deadline-Ms': String(started.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': started.arn,
      'Lambda-Runtime-Trace-Id': started.trace,
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

/** The error of an invoke that ran past its deadline. */
export function timeoutError(timeoutMs: number): { errorType: string; errorMessage: string } {
  return {
    errorType: 'Sandbox.Timeout',
    errorMessage: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
  };
}

/** What the simulated function does with this invoke (it reads it from the behaviour header). */
export function behaviourOf(options: InvokeOptions, streaming: boolean): string {
  return JSON.stringify({
    durationMs: options.durationMs ?? 0,
    outcome: options.outcome ?? 'success',
    ...(streaming ? { streamMs: options.streamDurationMs ?? 0 } : {}),
  });
}
