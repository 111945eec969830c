import { describe, expect, it } from 'vitest';
import { deriveEvents } from '../../src/derive/derive-events.ts';
import { environmentState } from '../../src/derive/environment-state.ts';
import type { EnvironmentModel } from '../../src/derive/facts.ts';
import {
  concurrencySlots,
  initBilling,
  initKind,
  invocationDisplayStatus,
  PROACTIVE_INIT_GAP_MS,
} from '../../src/derive/lifecycle.ts';
import { toShutdown } from '../../src/derive/views.ts';
import type { LifelineEvent } from '../../src/events.ts';
import { lifecycle } from './lifecycle.ts';

const T0 = Date.UTC(2026, 0, 10, 8);
const RECEIVED = T0 + 50;

/** Events of one environment built record by record. */
function builder(envId: string) {
  let seq = 0;
  const events: LifelineEvent[] = [];
  const envelope = (time: number) => ({ id: `${envId}:${seq}`, envId, seq: seq++, time });
  return {
    events,
    register(time: number, fields: Record<string, unknown> = {}) {
      events.push({
        ...envelope(time),
        type: 'register',
        functionName: 'fn',
        functionVersion: '1',
        handler: 'h',
        memorySizeMb: 512,
        initializationType: 'on-demand',
        architecture: 'arm64',
        extensionName: 'lifeline',
        extensionVersion: '0.1.0',
        startToRegisteredMs: 40,
        ...fields,
      } as LifelineEvent);
    },
    invoke(time: number, requestId: string, timeoutMs = 3000) {
      events.push({
        ...envelope(time),
        type: 'invoke',
        requestId,
        deadlineMs: time + timeoutMs,
        invokedFunctionArn: 'arn',
      });
    },
    platform(time: number, recordType: string, record: Record<string, unknown>) {
      events.push({ ...envelope(time), type: 'platform', recordType, recordTime: time, record });
    },
    shutdown(time: number, reason: string) {
      events.push({
        ...envelope(time),
        type: 'shutdown',
        shutdownReason: reason,
        deadlineMs: time + 2000,
      });
    },
  };
}

function derive(events: LifelineEvent[]): EnvironmentModel {
  const [model] = deriveEvents([events], RECEIVED).values();
  if (!model) throw new Error('no model');
  return model;
}

/** Deterministic permutations of `events` in batches, each batch one commit. */
function permutations(events: readonly LifelineEvent[], count: number): LifelineEvent[][][] {
  let state = 7;
  const next = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const copy = [...events];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    const batches: LifelineEvent[][] = [];
    while (copy.length > 0) batches.push(copy.splice(0, 1 + Math.floor(next() * 3)));
    return batches;
  });
}

function expectOrderFree(events: LifelineEvent[]): void {
  const reference = derive(events);
  for (const batches of permutations(events, 40)) {
    const [model] = deriveEvents(batches, RECEIVED).values();
    expect(model!.env).toEqual(reference.env);
    expect(model!.invocations).toEqual(reference.invocations);
  }
}

function managedInstances() {
  const b = builder('lmi');
  b.register(T0, {
    initializationType: 'lambda-managed-instances',
    registeredEvents: ['SHUTDOWN'],
  });
  b.platform(T0 + 10, 'platform.initReport', { status: 'success', metrics: { durationMs: 300 } });
  // Four invokes at once, known only from telemetry; r3 has no report yet.
  for (let i = 0; i < 4; i++) {
    b.platform(T0 + 1000 + i * 10, 'platform.start', { requestId: `r${i}`, tenantId: 'tenant-a' });
  }
  for (let i = 0; i < 3; i++) {
    b.platform(T0 + 1500 + i * 10, 'platform.report', {
      requestId: `r${i}`,
      status: i === 1 ? 'error' : 'success',
      metrics: { durationMs: 490 },
      spans: [
        { name: 'responseLatency', durationMs: 40 },
        { name: 'responseDuration', durationMs: 450 },
      ],
    });
  }
  return b.events;
}

describe('Managed Instances', () => {
  it('counts invokes from platform.start without INVOKE events and takes status and streaming from the report', () => {
    const { env, invocations } = derive(managedInstances());
    expect(env.invokeCount).toBe(4);
    expect(env.errorCount).toBe(1);
    expect(env.lastStartRequestId).toBe('r3');
    expect(env.tenantId).toBe('tenant-a');
    expect(invocations.get('r0')).toMatchObject({
      status: 'success',
      responseLatencyMs: 40,
      responseDurationMs: 450,
    });
    expect(invocations.get('r3')!.status).toBe('running');
    expect(initKind(env)).toBe('lambda-managed-instances');
    // Concurrent: an earlier invoke without an end is still running while a later one started.
    expect(invocationDisplayStatus(invocations.get('r3')!, env, RECEIVED)).toBe('running');
  });

  it('stacks concurrent invokes into sub-lanes and reports the peak', () => {
    const { invocations } = derive(managedInstances());
    const intervals = [...invocations.values()].map((row) => ({
      start: row.platformStartAt!,
      end: row.reportDurationMs === null ? null : row.platformStartAt! + row.reportDurationMs,
    }));
    const { slots, peak } = concurrencySlots(intervals);
    expect(peak).toBe(4);
    expect(new Set(slots).size).toBe(4);
    expect(
      concurrencySlots([
        { start: 0, end: 10 },
        { start: 10, end: 20 },
        { start: 5, end: null },
      ]),
    ).toEqual({ slots: [0, 0, 1], peak: 2 });
  });

  it('derives the same rows in any order and batch split', () => {
    expectOrderFree(managedInstances());
  });
});

function snapStartRestore() {
  const b = builder('snap');
  b.register(T0, {
    initializationType: 'snap-start',
    restoredFrom: 'snapshot-env',
    startToRegisteredMs: 0,
  });
  b.platform(T0 - 200, 'platform.restoreStart', { functionName: 'fn', functionVersion: '1' });
  b.platform(T0 - 50, 'platform.restoreRuntimeDone', { status: 'success' });
  b.platform(T0 - 40, 'platform.restoreReport', {
    status: 'success',
    metrics: { durationMs: 160 },
  });
  b.invoke(T0 + 100, 'r0');
  b.platform(T0 + 100, 'platform.start', { requestId: 'r0' });
  b.platform(T0 + 200, 'platform.runtimeDone', {
    requestId: 'r0',
    status: 'success',
    metrics: { durationMs: 100 },
  });
  b.platform(T0 + 210, 'platform.report', {
    requestId: 'r0',
    status: 'success',
    metrics: { durationMs: 101, restoreDurationMs: 170 },
  });
  return b.events;
}

describe('SnapStart', () => {
  it('records the RESTORE phase and calls the environment a restore', () => {
    const { env } = derive(snapStartRestore());
    expect(env).toMatchObject({
      restoredFrom: 'snapshot-env',
      restoreStartAt: T0 - 200,
      restoreRuntimeDoneAt: T0 - 50,
      restoreReportAt: T0 - 40,
      restoreStatus: 'success',
      restoreDurationMs: 160,
    });
    expect(initKind(env)).toBe('snap-start-restore');
    expect(initBilling(env).billedMs).toBeNull();
  });

  it("takes the report's restoreDurationMs when no restoreReport arrived, in any order", () => {
    const events = snapStartRestore().filter(
      (event) => !(event.type === 'platform' && event.recordType === 'platform.restoreReport'),
    );
    expect(derive(events).env.restoreDurationMs).toBe(170);
    expectOrderFree(snapStartRestore());
  });

  it("calls the publish-time INIT the snapshot's", () => {
    const b = builder('snapshot');
    b.register(T0, { initializationType: 'snap-start' });
    expect(initKind(derive(b.events).env)).toBe('snap-start-snapshot');
  });
});

describe('init kinds and billing', () => {
  function onDemand(gapMs: number) {
    const b = builder('od');
    b.register(T0);
    b.platform(T0 - 30, 'platform.initStart', { phase: 'init' });
    b.platform(T0 + 150, 'platform.initReport', {
      status: 'success',
      metrics: { durationMs: 180 },
    });
    b.invoke(T0 + 150 + gapMs, 'r0');
    b.platform(T0 + 150 + gapMs, 'platform.start', { requestId: 'r0' });
    return b.events;
  }

  it('tells a proactive init from a user-facing cold start by the gap before the first invoke', () => {
    expect(initKind(derive(onDemand(5)).env)).toBe('on-demand');
    expect(initKind(derive(onDemand(PROACTIVE_INIT_GAP_MS)).env)).toBe('on-demand');
    expect(initKind(derive(onDemand(PROACTIVE_INIT_GAP_MS + 1)).env)).toBe('proactive');
    expectOrderFree(onDemand(60_000));
  });

  it('calls provisioned environments provisioned', () => {
    const b = builder('pc');
    b.register(T0, { initializationType: 'provisioned-concurrency' });
    expect(initKind(derive(b.events).env)).toBe('provisioned-concurrency');
  });

  it('bills on-demand INIT since August 2025 and shows the extension share', () => {
    expect(initBilling(derive(onDemand(5)).env)).toEqual({
      billedMs: 180,
      extensionMs: 40,
      extensionSharePct: (40 / 180) * 100,
    });
    const old = lifecycle('old', { startAt: Date.UTC(2025, 6, 31) });
    expect(initBilling(derive(old).env).billedMs).toBeNull();
  });
});

describe('tenants and streaming', () => {
  it('records the tenant of an environment from any per-invoke record', () => {
    const b = builder('tenant');
    b.register(T0);
    b.invoke(T0 + 10, 'r0');
    b.platform(T0 + 20, 'platform.runtimeDone', {
      requestId: 'r0',
      status: 'success',
      tenantId: 'blue',
    });
    expect(derive(b.events).env.tenantId).toBe('blue');
  });

  it("prefers runtimeDone's streaming spans to the report's, in any order", () => {
    const b = builder('stream');
    b.register(T0);
    b.invoke(T0 + 10, 'r0');
    b.platform(T0 + 900, 'platform.runtimeDone', {
      requestId: 'r0',
      status: 'success',
      metrics: { durationMs: 890, producedBytes: 4096 },
      spans: [
        { name: 'responseLatency', durationMs: 90 },
        { name: 'responseDuration', durationMs: 800 },
      ],
    });
    b.platform(T0 + 910, 'platform.report', {
      requestId: 'r0',
      status: 'success',
      metrics: { durationMs: 891 },
      spans: [{ name: 'responseLatency', durationMs: 99 }],
    });
    expect(derive(b.events).invocations.get('r0')).toMatchObject({
      responseLatencyMs: 90,
      responseDurationMs: 800,
      producedBytes: 4096,
    });
    expectOrderFree(b.events);
  });
});

describe('awaiting report', () => {
  function warm() {
    const b = builder('warm');
    b.register(T0);
    b.invoke(T0 + 10, 'r0', 3000);
    return b;
  }

  it('is running within its own timeout on the collector clock, awaiting its report after', () => {
    const { env, invocations } = derive(warm().events);
    const r0 = invocations.get('r0')!;
    expect(r0.receivedAt).toBe(RECEIVED);
    expect(invocationDisplayStatus(r0, env, RECEIVED + 3000)).toBe('running');
    expect(invocationDisplayStatus(r0, env, RECEIVED + 3001)).toBe('awaiting-report');
    expect(environmentState(env, RECEIVED + 3001, 60_000)).toBe('idle');
  });

  it('is awaiting its report once a later invoke started or the environment shut down', () => {
    const b = warm();
    b.invoke(T0 + 500, 'r1');
    let model = derive(b.events);
    expect(invocationDisplayStatus(model.invocations.get('r0')!, model.env, RECEIVED)).toBe(
      'awaiting-report',
    );
    expect(invocationDisplayStatus(model.invocations.get('r1')!, model.env, RECEIVED)).toBe(
      'running',
    );
    b.shutdown(T0 + 800, 'spindown');
    model = derive(b.events);
    expect(invocationDisplayStatus(model.invocations.get('r1')!, model.env, RECEIVED)).toBe(
      'awaiting-report',
    );
  });
});

describe('idle before shutdown', () => {
  it('is measured for spindowns only and never negative', () => {
    const spindown = derive(
      lifecycle('idle', { invokes: 2, gapMs: 700, shutdownReason: 'spindown' }),
    );
    expect(toShutdown(spindown.env)!.idleMs).toBe(700 - 1.5);
    const timeout = derive(lifecycle('idle-t', { invokes: 2, shutdownReason: 'timeout' }));
    expect(toShutdown(timeout.env)!.idleMs).toBeNull();
    const b = builder('overrun');
    b.register(T0);
    b.invoke(T0 + 10, 'r0');
    b.platform(T0 + 20, 'platform.runtimeDone', {
      requestId: 'r0',
      status: 'success',
      metrics: { durationMs: 5000 },
    });
    b.shutdown(T0 + 1000, 'spindown');
    expect(toShutdown(derive(b.events).env)!.idleMs).toBe(0);
  });
});
