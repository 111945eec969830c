import { exampleLifecycle, type LifelineEvent } from '@lifeline/protocol';

/** A small seeded PRNG (mulberry32): every failure replays from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded shuffle (Fisher–Yates). */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Splits `items` into consecutive batches of 1..maxSize items. */
export function splitBatches<T>(items: readonly T[], random: () => number, maxSize: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = 1 + Math.floor(random() * maxSize);
    batches.push(items.slice(i, i + size));
    i += size;
  }
  return batches;
}

/** The sequence of the issue: an unknown platform status, then a timeout shutdown that interrupts r1. */
export function weirdStatusSequence(envId: string, startAt: number): LifelineEvent[] {
  let seq = 0;
  const envelope = (time: number) => ({ id: `${envId}:${seq}`, envId, seq: seq++, time });
  return [
    {
      ...envelope(startAt),
      type: 'register',
      functionName: 'conformance-fn',
      functionVersion: '1',
      handler: 'index.handler',
      memorySizeMb: 128,
      initializationType: 'on-demand',
      architecture: 'x86_64',
      extensionName: 'lifeline',
      extensionVersion: '0.1.0',
      startToRegisteredMs: 5,
    },
    {
      ...envelope(startAt + 100),
      type: 'invoke',
      requestId: `${envId}-r0`,
      deadlineMs: startAt + 3100,
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:conformance-fn',
    },
    {
      ...envelope(startAt + 200),
      type: 'platform',
      recordType: 'platform.runtimeDone',
      recordTime: startAt + 200,
      record: { requestId: `${envId}-r0`, status: 'Weird', metrics: { durationMs: 100 } },
    },
    {
      ...envelope(startAt + 300),
      type: 'invoke',
      requestId: `${envId}-r1`,
      deadlineMs: startAt + 3300,
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:conformance-fn',
    },
    {
      ...envelope(startAt + 3400),
      type: 'shutdown',
      shutdownReason: 'timeout',
      deadlineMs: startAt + 5400,
    },
  ];
}

/**
 * A random, valid history of one sandbox: one or two environments (a re-init registers a second envId with the
 * first as its previousEnvId), random invoke counts, statuses (including an unknown one), late or prompt reports,
 * a missing SHUTDOWN, and the platform clock skewed against the extension clock.
 */
export function randomSandbox(
  prefix: string,
  startAt: number,
  random: () => number,
): LifelineEvent[] {
  const reinit = random() < 0.4;
  const skewMs = Math.round((random() - 0.5) * 4000);
  const statuses = ['success', 'success', 'success', 'error', 'timeout'] as const;
  const first = `${prefix}-a`;
  const events: LifelineEvent[] = [];
  const lifecycles = reinit ? [first, `${prefix}-b`] : [first];
  let at = startAt;
  for (const [index, envId] of lifecycles.entries()) {
    const invokes = Math.floor(random() * 6);
    const interrupted = index < lifecycles.length - 1;
    const shutdownReason = interrupted
      ? random() < 0.5
        ? 'timeout'
        : 'failure'
      : random() < 0.3
        ? undefined
        : (['spindown', 'SandboxTerminated', 'timeout', 'failure'] as const)[
            Math.floor(random() * 4)
          ];
    const lifecycle = exampleLifecycle({
      envId,
      functionName: `conformance-${prefix.slice(0, 6)}`,
      startAt: at,
      invokes,
      durationMs: (i) => 20 + ((i * 37) % 200),
      gapMs: 50 + Math.floor(random() * 500),
      shutdownReason,
      statusOf: () => statuses[Math.floor(random() * statuses.length)]!,
      lateReports: random() < 0.7,
    });
    const weird = random() < 0.3;
    for (const event of lifecycle) {
      if (event.type === 'register' && index > 0) {
        events.push({ ...event, sandboxId: prefix, previousEnvId: lifecycles[index - 1] });
        continue;
      }
      if (event.type === 'register') {
        events.push({ ...event, sandboxId: prefix });
        continue;
      }
      if (event.type === 'platform') {
        const record = { ...(event.record as Record<string, unknown>) };
        if (weird && event.recordType === 'platform.runtimeDone') record.status = 'Weird';
        events.push({ ...event, recordTime: event.recordTime + skewMs, record });
        continue;
      }
      events.push(event);
    }
    at = lifecycle[lifecycle.length - 1]!.time + 1000;
  }
  return events;
}

/**
 * A random environment of a newer lifecycle: Managed Instances (no INVOKE events, invokes from platform.start and
 * platform.report, several at once, streaming spans on the report) or a SnapStart restore (RESTORE phase records,
 * `restoredFrom`, restoreDurationMs on the first report), with a tenant, clock skew and a missing report or two.
 */
export function lifecycleSandbox(
  envId: string,
  startAt: number,
  random: () => number,
): LifelineEvent[] {
  const managed = random() < 0.5;
  const skewMs = Math.round((random() - 0.5) * 2000);
  const tenantId = random() < 0.5 ? `tenant-${Math.floor(random() * 3)}` : undefined;
  let seq = 0;
  const events: LifelineEvent[] = [];
  const envelope = (time: number) => ({ id: `${envId}:${seq}`, envId, seq: seq++, time });
  const platform = (time: number, recordType: string, record: Record<string, unknown>) =>
    events.push({
      ...envelope(time),
      type: 'platform',
      recordType,
      recordTime: time + skewMs,
      record,
    });
  events.push({
    ...envelope(startAt),
    type: 'register',
    functionName: managed ? 'conformance-lmi' : 'conformance-snap',
    functionVersion: '3',
    handler: 'index.handler',
    memorySizeMb: 1024,
    initializationType: managed ? 'lambda-managed-instances' : 'snap-start',
    architecture: 'arm64',
    extensionName: 'lifeline',
    extensionVersion: '0.1.0',
    startToRegisteredMs: managed ? 35 : 0,
    ...(managed
      ? { registeredEvents: ['SHUTDOWN' as const] }
      : { restoredFrom: `${envId}-snapshot` }),
  });
  if (managed) {
    platform(startAt - 400, 'platform.initStart', {
      initializationType: 'lambda-managed-instances',
    });
    platform(startAt - 20, 'platform.initReport', {
      status: 'success',
      metrics: { durationMs: 380 },
    });
  } else {
    platform(startAt - 200, 'platform.restoreStart', { functionName: 'conformance-snap' });
    platform(startAt - 60, 'platform.restoreRuntimeDone', { status: 'success' });
    if (random() < 0.7) {
      platform(startAt - 50, 'platform.restoreReport', {
        status: 'success',
        metrics: { durationMs: 150 },
      });
    }
  }
  const invokes = 1 + Math.floor(random() * 6);
  for (let i = 0; i < invokes; i++) {
    const requestId = `${envId}-r${i}`;
    // Managed Instances overlap their invokes; SnapStart runs one at a time.
    const start = startAt + (managed ? i * 30 : i * 400) + 10;
    const duration = 40 + Math.floor(random() * 200);
    const tenant = tenantId === undefined ? {} : { tenantId };
    if (!managed) {
      events.push({
        ...envelope(start),
        type: 'invoke',
        requestId,
        deadlineMs: start + 3000,
        invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:conformance-snap',
      });
    }
    platform(start, 'platform.start', { requestId, ...tenant });
    const status = (['success', 'success', 'error', 'Weird'] as const)[Math.floor(random() * 4)];
    const spans = [
      { name: 'responseLatency', durationMs: Math.round(duration / 4) },
      { name: 'responseDuration', durationMs: duration - Math.round(duration / 4) },
    ];
    if (!managed) {
      platform(start + duration, 'platform.runtimeDone', {
        requestId,
        status,
        metrics: { durationMs: duration, producedBytes: 100 * i },
        ...tenant,
        ...(random() < 0.5 ? { spans } : {}),
      });
    }
    if (random() < 0.85) {
      platform(start + duration + 2, 'platform.report', {
        requestId,
        status,
        metrics: {
          durationMs: duration + 1,
          ...(i === 0 && !managed ? { restoreDurationMs: 160 } : {}),
        },
        spans,
        ...tenant,
      });
    }
  }
  if (random() < 0.6) {
    const at = startAt + 5000;
    events.push({
      ...envelope(at),
      type: 'shutdown',
      shutdownReason: 'spindown',
      deadlineMs: at + 2000,
    });
  }
  return events;
}
