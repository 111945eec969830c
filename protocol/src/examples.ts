import type { LifelineEvent } from './events.ts';

/** Options for {@link exampleLifecycle}. */
export interface ExampleLifecycleOptions {
  envId: string;
  functionName?: string;
  functionVersion?: string;
  memorySizeMb?: number;
  /** Extension clock at registration (epoch ms). */
  startAt: number;
  invokes?: number;
  /** Runtime duration of each invoke, ms. */
  durationMs?: number | ((index: number) => number);
  /** Gap between the end of one invoke and the start of the next, ms. */
  gapMs?: number;
  timeoutMs?: number;
  /** Reason sent with SHUTDOWN; omit for an environment that is still alive. */
  shutdownReason?: string;
  /** Per-invoke status override (e.g. 'timeout' on the last one). */
  statusOf?: (index: number) => 'success' | 'error' | 'timeout';
  /** Deliver platform.report of invoke N during N+1 (as production does). Default true. */
  lateReports?: boolean;
}

/**
 * A realistic, valid event sequence for one execution environment, in the order an extension observes it
 * (platform.report of invoke N arrives after invoke N+1 starts, or at shutdown). For tests, benchmarks and docs.
 */
export function exampleLifecycle(options: ExampleLifecycleOptions): LifelineEvent[] {
  const {
    envId,
    functionName = 'example-fn',
    functionVersion = '$LATEST',
    memorySizeMb = 128,
    startAt,
    invokes = 3,
    gapMs = 1000,
    timeoutMs = 3000,
    shutdownReason,
    statusOf = () => 'success',
    lateReports = true,
  } = options;
  const durationOf = (i: number) =>
    typeof options.durationMs === 'function' ? options.durationMs(i) : (options.durationMs ?? 120);
  const events: LifelineEvent[] = [];
  let seq = 0;
  const envelope = (time: number) => ({ id: `${envId}:${seq}`, envId, seq: seq++, time });
  const platform = (time: number, recordType: string, record: Record<string, unknown>) =>
    events.push({ ...envelope(time), type: 'platform', recordType, recordTime: time, record });

  events.push({
    ...envelope(startAt),
    type: 'register',
    functionName,
    functionVersion,
    handler: 'index.handler',
    region: 'eu-west-1',
    memorySizeMb,
    runtime: 'AWS_Lambda_nodejs22.x',
    initializationType: 'on-demand',
    architecture: 'x86_64',
    extensionName: 'lifeline',
    extensionVersion: '0.1.0',
    startToRegisteredMs: 42,
    telemetry: 'subscribed',
  });
  const initDuration = 180;
  platform(startAt - 30, 'platform.initStart', {
    initializationType: 'on-demand',
    phase: 'init',
    functionName,
    functionVersion,
  });
  platform(startAt + initDuration - 40, 'platform.initRuntimeDone', {
    initializationType: 'on-demand',
    phase: 'init',
    status: 'success',
  });
  platform(startAt + initDuration - 30, 'platform.initReport', {
    initializationType: 'on-demand',
    phase: 'init',
    status: 'success',
    metrics: { durationMs: initDuration },
  });

  let clock = startAt + initDuration;
  let pendingReport: (() => void) | undefined;
  for (let i = 0; i < invokes; i++) {
    const requestId = `${envId.slice(0, 8)}-req-${i}`;
    const start = clock + gapMs;
    const status = statusOf(i);
    const duration = status === 'timeout' ? timeoutMs : durationOf(i);
    const deadlineMs = start + timeoutMs;
    events.push({
      ...envelope(start),
      type: 'invoke',
      requestId,
      deadlineMs,
      invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
      traceId: `Root=1-00000000-${String(i).padStart(24, '0')};Sampled=0`,
    });
    pendingReport?.();
    pendingReport = undefined;
    platform(start, 'platform.start', { requestId, version: functionVersion });
    const end = start + duration;
    const errorType =
      status === 'success'
        ? undefined
        : status === 'timeout'
          ? 'Sandbox.Timeout'
          : 'Runtime.Unknown';
    platform(end, 'platform.runtimeDone', {
      requestId,
      status,
      ...(errorType ? { errorType } : {}),
      metrics: { durationMs: duration },
    });
    const report = () =>
      platform(end + 2, 'platform.report', {
        requestId,
        status,
        ...(errorType ? { errorType } : {}),
        metrics: {
          durationMs: duration + 1.5,
          billedDurationMs: Math.ceil(duration + 1.5),
          memorySizeMB: memorySizeMb,
          maxMemoryUsedMB: 64 + i,
          ...(i === 0 ? { initDurationMs: initDuration } : {}),
        },
        spans: [{ name: 'extensionOverhead', start: new Date(end).toISOString(), durationMs: 1.2 }],
      });
    if (lateReports) pendingReport = report;
    else report();
    clock = end;
  }
  if (shutdownReason !== undefined) {
    const at = clock + gapMs;
    events.push({ ...envelope(at), type: 'shutdown', shutdownReason, deadlineMs: at + 2000 });
    pendingReport?.();
    const delivered = seq;
    events.push({
      ...envelope(at + 35),
      type: 'exit',
      shutdownMs: 35,
      delivered,
      dropped: 0,
      pending: 0,
    });
  }
  return events;
}
