import { createHash } from 'node:crypto';
import { monoNow } from './clock.ts';
import type { Agent } from './extension-registry.ts';
import { type Invocation, round } from './generation.ts';
import { spanIdOf } from './trace.ts';

/**
 * Builders of the Telemetry API's `platform.*` records (README "Telemetry"): one function per record type, pure, so
 * the phases only decide when a record is published and the record shapes live in one place.
 */

/** The `tracing` object of platform records for an X-Ray trace header. */
export type RecordTracing = { spanId: string | undefined; type: string; value: string };

export function recordTracing(trace: string | undefined): RecordTracing | undefined {
  return trace ? { spanId: spanIdOf(trace), type: 'X-Amzn-Trace-Id', value: trace } : undefined;
}

/** `nodejs22.x` → `nodejs:22.v1`, the runtimeVersion format of the platform records. */
export function runtimeVersionOf(runtime: string): string {
  const match = /^([a-z]+)(\d+(?:\.\d+)?)\.x$/.exec(runtime);
  return match ? `${match[1]}:${match[2]}.v1` : `${runtime}.v1`;
}

/** Init and invoke statuses as records carry them: `failure` only for platform (`Sandbox.*`) errors. */
export function recordStatus(
  status: 'success' | 'error' | 'timeout' | 'failure',
  errorType: string | undefined,
): string {
  if (status === 'success' || status === 'timeout') return status;
  return errorType?.startsWith('Sandbox.') ? 'failure' : 'error';
}

export interface InitIdentity {
  initializationType: string;
  phase: 'init' | 'invoke';
}

export function initStartRecord(
  init: InitIdentity,
  fn: {
    runtime: string;
    region: string;
    functionName: string;
    functionVersion: string;
    memoryMb: number;
  },
  instanceId?: string,
): Record<string, unknown> {
  const runtimeVersion = runtimeVersionOf(fn.runtime);
  return {
    initializationType: init.initializationType,
    phase: init.phase,
    ...(instanceId !== undefined ? { instanceId } : {}),
    runtimeVersion,
    runtimeVersionArn: `arn:aws:lambda:${fn.region}::runtime:${createHash('sha256').update(runtimeVersion).digest('hex')}`,
    functionName: fn.functionName,
    functionVersion: fn.functionVersion,
    instanceMaxMemory: fn.memoryMb,
  };
}

export function initRuntimeDoneRecord(
  init: InitIdentity,
  status: string,
  errorType: string | undefined,
): Record<string, unknown> {
  return { ...init, status, ...(errorType ? { errorType } : {}) };
}

export function extensionRecord(agent: Agent): Record<string, unknown> {
  return {
    name: agent.name,
    state: agent.state,
    events: [...agent.events],
    ...(agent.errorType ? { errorType: agent.errorType } : {}),
  };
}

export function initReportRecord(
  init: InitIdentity,
  status: string,
  errorType: string | undefined,
  durationMs: number,
): Record<string, unknown> {
  return { ...init, status, ...(errorType ? { errorType } : {}), metrics: { durationMs } };
}

/** `{tenantId}` for the invoke records of a tenant-isolated function, nothing otherwise. */
function tenantOf(tenantId: string | undefined): { tenantId?: string } {
  return tenantId ? { tenantId } : {};
}

export function restoreStartRecord(fn: {
  runtime: string;
  region: string;
  functionName: string;
  functionVersion: string;
  memoryMb: number;
}): Record<string, unknown> {
  const { runtimeVersion, runtimeVersionArn } = initStartRecord(
    { initializationType: 'snap-start', phase: 'init' },
    fn,
  );
  return {
    functionName: fn.functionName,
    functionVersion: fn.functionVersion,
    instanceMaxMemory: fn.memoryMb,
    runtimeVersion,
    runtimeVersionArn,
  };
}

export function restoreRuntimeDoneRecord(
  status: string,
  errorType: string | undefined,
): Record<string, unknown> {
  return { status, ...(errorType ? { errorType } : {}) };
}

export function restoreReportRecord(
  status: string,
  errorType: string | undefined,
  durationMs: number,
): Record<string, unknown> {
  return { status, ...(errorType ? { errorType } : {}), metrics: { durationMs } };
}

export function startRecord(
  invocation: Invocation,
  version: string,
  tracing: RecordTracing | undefined,
): Record<string, unknown> {
  return {
    requestId: invocation.requestId,
    version,
    ...tenantOf(invocation.tenantId),
    ...(tracing ? { tracing } : {}),
  };
}

/** `platform.runtimeDone` at `nowMono`: the runtime is done with `invocation` (answered, failed or gave up). */
export function runtimeDoneRecord(
  invocation: Invocation,
  status: string,
  errorType: string | undefined,
  tracing: RecordTracing | undefined,
  nowMono: number,
): Record<string, unknown> {
  return {
    requestId: invocation.requestId,
    status,
    ...(errorType && status !== 'success' ? { errorType } : {}),
    metrics: {
      durationMs: round(nowMono - invocation.startedMono),
      producedBytes: invocation.responseBytes,
    },
    spans: responseSpans(invocation, nowMono),
    ...tenantOf(invocation.tenantId),
    ...(tracing ? { tracing } : {}),
  };
}

export interface ReportInput {
  requestId: string;
  tenantId: string | undefined;
  status: string;
  errorType: string | undefined;
  durationMs: number;
  memoryMb: number;
  maxMemoryUsedMB: number;
  initDurationMs: number | undefined;
  restoreDurationMs: number | undefined;
  /** Runtime done (epoch ms) and the extensions' time after it, when the invoke ended normally. */
  extensionOverhead: { start: number; durationMs: number } | undefined;
  tracing: RecordTracing | undefined;
}

export function reportRecord(input: ReportInput): Record<string, unknown> {
  return {
    requestId: input.requestId,
    status: input.status,
    ...(input.errorType && input.status !== 'success' ? { errorType: input.errorType } : {}),
    metrics: {
      durationMs: input.durationMs,
      billedDurationMs: Math.max(1, Math.ceil(input.durationMs)),
      memorySizeMB: input.memoryMb,
      maxMemoryUsedMB: input.maxMemoryUsedMB,
      ...(input.initDurationMs !== undefined ? { initDurationMs: input.initDurationMs } : {}),
      ...(input.restoreDurationMs !== undefined
        ? { restoreDurationMs: input.restoreDurationMs }
        : {}),
    },
    ...(input.extensionOverhead
      ? {
          spans: [
            {
              name: 'extensionOverhead',
              start: new Date(input.extensionOverhead.start).toISOString(),
              durationMs: input.extensionOverhead.durationMs,
            },
          ],
        }
      : {}),
    ...tenantOf(input.tenantId),
    ...(input.tracing ? { tracing: input.tracing } : {}),
  };
}

/** `platform.start` on Managed Instances: the invoked ARN too. */
export function managedStartRecord(
  invocation: Invocation,
  version: string,
  functionArn: string,
  tracing: RecordTracing | undefined,
): Record<string, unknown> {
  return {
    requestId: invocation.requestId,
    version,
    functionArn,
    ...tenantOf(invocation.tenantId),
    ...(tracing ? { tracing } : {}),
  };
}

/**
 * `platform.report` on Managed Instances, the only record of an invoke's end there: duration from the event to the
 * runtime's answer, and the response spans (none when the runtime never answered).
 */
export function managedReportRecord(
  invocation: Invocation,
  status: string,
  errorType: string | undefined,
  durationMs: number,
  tracing: RecordTracing | undefined,
): Record<string, unknown> {
  return {
    requestId: invocation.requestId,
    status,
    ...(errorType && status !== 'success' ? { errorType } : {}),
    metrics: { durationMs },
    ...(invocation.respondedMono !== undefined ? { spans: responseSpans(invocation) } : {}),
    ...tenantOf(invocation.tenantId),
    ...(tracing ? { tracing } : {}),
  };
}

/** responseLatency (event → first byte of the answer) and responseDuration (first → last byte). */
export function responseSpans(
  invocation: Invocation,
  nowMono = monoNow(),
): Record<string, unknown>[] {
  const lastByteMono = invocation.respondedMono ?? nowMono;
  const firstByteMono = invocation.firstByteMono ?? lastByteMono;
  const latency = round(firstByteMono - invocation.startedMono);
  return [
    {
      name: 'responseLatency',
      start: new Date(invocation.startedAt).toISOString(),
      durationMs: latency,
    },
    {
      name: 'responseDuration',
      start: new Date(invocation.startedAt + latency).toISOString(),
      durationMs: round(lastByteMono - firstByteMono),
    },
  ];
}
