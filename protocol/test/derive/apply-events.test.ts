import { describe, expect, it } from 'vitest';
import { applyEvents } from '../../src/derive/apply-events.ts';
import { deriveEvents } from '../../src/derive/derive-events.ts';
import type { EnvironmentModel } from '../../src/derive/facts.ts';
import { toEnvironment, toInvocation, toShutdown } from '../../src/derive/views.ts';
import type { LifelineEvent, PlatformEvent } from '../../src/events.ts';
import { lifecycle } from './lifecycle.ts';

const LOST_AFTER = 15 * 60 * 1000;

function only(models: Map<string, EnvironmentModel>): EnvironmentModel {
  expect(models.size).toBe(1);
  const [model] = models.values();
  if (model === undefined) throw new Error('no model');
  return model;
}

function invocationsOf(model: EnvironmentModel) {
  return [...model.invocations.values()]
    .map((invocation) => toInvocation(invocation, model.env.functionName))
    .sort((a, b) => a.startedAt - b.startedAt);
}

/** Deterministic PRNG so a failing permutation can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function shuffledBatches(events: LifelineEvent[], seed: number): LifelineEvent[][] {
  const next = random(seed);
  const copy = [...events];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as LifelineEvent, copy[i] as LifelineEvent];
  }
  const batches: LifelineEvent[][] = [];
  while (copy.length > 0) batches.push(copy.splice(0, 1 + Math.floor(next() * 5)));
  return batches;
}

function platform(events: LifelineEvent[], recordType: string, requestId?: string) {
  return events.filter(
    (event): event is PlatformEvent =>
      event.type === 'platform' &&
      event.recordType === recordType &&
      (requestId === undefined || (event.record as { requestId?: string }).requestId === requestId),
  );
}

describe('applyEvents', () => {
  it('derives environment, invocations and shutdown when given a whole exampleLifecycle', () => {
    const events = lifecycle('env-one', { invokes: 3, shutdownReason: 'spindown' });
    const model = only(deriveEvents([events]));
    const environment = toEnvironment(model.env, 0, LOST_AFTER);
    expect(environment).toMatchObject({
      envId: 'env-one',
      functionName: 'example-fn',
      functionVersion: '$LATEST',
      memorySizeMb: 128,
      registeredAt: 1_700_000_000_000,
      initDurationMs: 180,
      initStatus: 'success',
      initPhase: 'init',
      state: 'ended',
      invokeCount: 3,
      errorCount: 0,
      timeoutCount: 0,
      eventCount: events.length,
      lastSeq: events.length - 1,
      missingEvents: 0,
    });
    const invocations = invocationsOf(model);
    expect(invocations.map((invocation) => invocation.status)).toEqual([
      'success',
      'success',
      'success',
    ]);
    expect(invocations.every((invocation) => !invocation.reportPending)).toBe(true);
    expect(invocations[0]?.initDurationMs).toBe(180);
    expect(invocations[0]?.billedDurationMs).toBe(122);
    expect(invocations[0]?.extensionOverheadMs).toBe(1.2);
  });

  it('gives shutdown timings equal to what the events say when the environment shuts down', () => {
    const events = lifecycle('env-timing', {
      invokes: 4,
      gapMs: 700,
      durationMs: (i) => 50 + i * 10,
      shutdownReason: 'spindown',
    });
    const register = events.find((event) => event.type === 'register');
    const shutdown = events.find((event) => event.type === 'shutdown');
    const exit = events.find((event) => event.type === 'exit');
    const lastInvoke = events.filter((event) => event.type === 'invoke').at(-1);
    if (!register || shutdown?.type !== 'shutdown' || exit?.type !== 'exit') throw new Error();
    if (lastInvoke?.type !== 'invoke') throw new Error('no invoke');
    const lastReport = platform(events, 'platform.report', lastInvoke.requestId)[0];
    const reportMetrics = lastReport?.record as { metrics: { durationMs: number } } | undefined;
    const lastDurationMs = reportMetrics?.metrics.durationMs ?? 0;
    const result = toShutdown(only(deriveEvents([events])).env);
    expect(result).toEqual({
      envId: 'env-timing',
      functionName: 'example-fn',
      functionVersion: '$LATEST',
      memorySizeMb: 128,
      reason: 'spindown',
      receivedAt: shutdown.time,
      deadlineMs: shutdown.deadlineMs,
      budgetMs: shutdown.deadlineMs - shutdown.time,
      exitedAt: exit.time,
      shutdownDurationMs: exit.shutdownMs,
      budgetUsedPct: ((exit.shutdownMs ?? 0) / (shutdown.deadlineMs - shutdown.time)) * 100,
      idleMs: shutdown.time - (lastInvoke.time + lastDurationMs),
      lifetimeMs: shutdown.time - register.time,
      invokes: 4,
    });
    // The example's report duration is the runtime duration + 1.5 ms.
    expect(result?.idleMs).toBe(698.5);
  });

  it('computes idle time on the extension clock when the platform clock is skewed', () => {
    const events = lifecycle('env-skew', {
      invokes: 2,
      gapMs: 700,
      shutdownReason: 'spindown',
    }).map(
      (event): LifelineEvent =>
        event.type === 'platform' ? { ...event, recordTime: event.recordTime + 60_000 } : event,
    );
    const result = toShutdown(only(deriveEvents([events])).env);
    expect(result?.idleMs).toBe(698.5);
  });

  it('takes the runtime from platform.initStart when the register lacks it, in any order', () => {
    const withVersion = (events: LifelineEvent[], registerRuntime: string | undefined) =>
      events.map((event): LifelineEvent => {
        if (event.type === 'register') {
          const { runtime: _hidden, ...rest } = event;
          return registerRuntime === undefined ? rest : { ...rest, runtime: registerRuntime };
        }
        if (event.type === 'platform' && event.recordType === 'platform.initStart') {
          const record = event.record as Record<string, unknown>;
          return { ...event, record: { ...record, runtimeVersion: 'python:3.13.v31' } };
        }
        return event;
      });
    const hidden = withVersion(lifecycle('env-runtime'), undefined);
    const shown = withVersion(lifecycle('env-runtime'), 'AWS_Lambda_python3.13');
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(only(deriveEvents(shuffledBatches(hidden, seed))).env.runtime).toBe('python:3.13.v31');
      expect(only(deriveEvents(shuffledBatches(shown, seed))).env.runtime).toBe(
        'AWS_Lambda_python3.13',
      );
    }
  });

  it('takes the runtimeDone duration when the report is missing, else the invoke start', () => {
    const events = lifecycle('env-partial', { invokes: 2, gapMs: 700, shutdownReason: 'spindown' });
    const lastInvoke = events.filter((event) => event.type === 'invoke').at(-1);
    if (lastInvoke?.type !== 'invoke') throw new Error('no invoke');
    const isLast = (type: string) => (event: LifelineEvent) =>
      event.type === 'platform' &&
      event.recordType === type &&
      (event.record as { requestId?: string }).requestId === lastInvoke.requestId;
    const withoutReport = events.filter((event) => !isLast('platform.report')(event));
    expect(toShutdown(only(deriveEvents([withoutReport])).env)?.idleMs).toBe(700);
    const withoutPlatform = withoutReport.filter((event) => !isLast('platform.runtimeDone')(event));
    expect(toShutdown(only(deriveEvents([withoutPlatform])).env)?.idleMs).toBe(700 + 120);
  });

  it('gives the same result when events arrive in any order and any split into batches', () => {
    const events = lifecycle('env-order', {
      invokes: 6,
      shutdownReason: 'timeout',
      statusOf: (i) => (i === 2 ? 'error' : i === 5 ? 'timeout' : 'success'),
    });
    const reference = only(deriveEvents([events]));
    for (let seed = 1; seed <= 40; seed++) {
      const model = only(deriveEvents(shuffledBatches(events, seed)));
      expect(model.env, `seed ${seed}`).toEqual(reference.env);
      expect(new Map([...model.invocations].sort()), `seed ${seed}`).toEqual(
        new Map([...reference.invocations].sort()),
      );
    }
    expect(reference.env.errorCount).toBe(1);
    expect(reference.env.timeoutCount).toBe(1);
  });

  it('keeps an invocation report-pending until its late platform.report arrives after the next invoke', () => {
    const events = lifecycle('env-late', { invokes: 2 });
    const firstReport = platform(events, 'platform.report')[0];
    if (!firstReport) throw new Error('no report');
    const cut = events.indexOf(firstReport);
    expect(events[cut - 1]?.type).toBe('invoke');
    const before = only(deriveEvents([events.slice(0, cut)]));
    expect(invocationsOf(before).map((invocation) => invocation.reportPending)).toEqual([
      true,
      true,
    ]);
    expect(invocationsOf(before)[0]?.status).toBe('success');
    const after = only(deriveEvents([events.slice(0, cut), events.slice(cut)]));
    const invocations = invocationsOf(after);
    expect(invocations[0]).toMatchObject({ reportPending: false, billedDurationMs: 122 });
    expect(invocations[1]?.reportPending).toBe(true);
    expect(toEnvironment(after.env, 0, LOST_AFTER).state).toBe('idle');
  });

  it('fills the same rows when a later batch is committed before an earlier one', () => {
    const events = lifecycle('env-swap', { invokes: 3, shutdownReason: 'spindown' });
    const middle = Math.floor(events.length / 2);
    const inOrder = only(deriveEvents([events.slice(0, middle), events.slice(middle)]));
    const swapped = only(deriveEvents([events.slice(middle), events.slice(0, middle)]));
    expect(swapped.env).toEqual(inOrder.env);
    expect(invocationsOf(swapped)).toEqual(invocationsOf(inOrder));
  });

  it('counts nothing twice when batches are delivered again', () => {
    const events = lifecycle('env-dup', { invokes: 2 });
    const once = only(deriveEvents([events]));
    const twice = only(deriveEvents([events, events.slice(2, 7), events]));
    expect(twice.env).toEqual(once.env);
    expect(twice.env.invokeCount).toBe(2);
  });

  it('marks the running last invoke as timeout when the shutdown reason is timeout', () => {
    const events = lifecycle('env-timeout', { invokes: 2, shutdownReason: 'timeout' });
    const lastInvoke = events.filter((event) => event.type === 'invoke').at(-1);
    if (lastInvoke?.type !== 'invoke') throw new Error('no invoke');
    const withoutTelemetry = events.filter(
      (event) =>
        !(
          event.type === 'platform' &&
          (event.record as { requestId?: string }).requestId === lastInvoke.requestId
        ),
    );
    const shutdownIndex = withoutTelemetry.findIndex((event) => event.type === 'shutdown');
    const running = only(deriveEvents([withoutTelemetry.slice(0, shutdownIndex)]));
    expect(invocationsOf(running)[1]?.status).toBe('running');
    expect(toEnvironment(running.env, 0, LOST_AFTER).state).toBe('active');

    const model = only(deriveEvents([withoutTelemetry]));
    expect(invocationsOf(model).map((invocation) => invocation.status)).toEqual([
      'success',
      'timeout',
    ]);
    expect(model.env.timeoutCount).toBe(1);
    // Shutdown first, the invoke afterwards: same verdict.
    const reversed = only(
      deriveEvents([
        withoutTelemetry.slice(shutdownIndex),
        withoutTelemetry.slice(0, shutdownIndex),
      ]),
    );
    expect(reversed.env).toEqual(model.env);
  });

  it('marks the running last invoke as failure when the RIE reason ReleaseFail arrives', () => {
    const events = lifecycle('env-fail', { invokes: 1, shutdownReason: 'ReleaseFail' }).filter(
      (event) => event.type !== 'platform' || !event.recordType.startsWith('platform.r'),
    );
    const model = only(deriveEvents([events]));
    expect(invocationsOf(model)[0]?.status).toBe('failure');
    expect(model.env.errorCount).toBe(1);
  });

  it('leaves earlier invokes alone when a timeout shutdown interrupts the last one', () => {
    const events = lifecycle('env-early', { invokes: 2, shutdownReason: 'timeout' }).filter(
      (event) => event.type !== 'platform' || !event.recordType.startsWith('platform.r'),
    );
    const model = only(deriveEvents([events]));
    expect(invocationsOf(model).map((invocation) => invocation.status)).toEqual([
      'running',
      'timeout',
    ]);
  });

  it('reports missing and dropped events when seq numbers have gaps', () => {
    const events = lifecycle('env-gap', { invokes: 2 });
    const withGap = events.filter((event) => event.seq !== 3 && event.seq !== 4);
    const dropped: LifelineEvent = {
      id: 'env-gap:drop',
      envId: 'env-gap',
      seq: events.length,
      time: 1_700_000_100_000,
      type: 'dropped',
      count: 1,
      reason: 'buffer-full',
      fromSeq: 3,
      toSeq: 3,
    };
    const environment = toEnvironment(
      only(deriveEvents([[...withGap, dropped]])).env,
      0,
      LOST_AFTER,
    );
    expect(environment.droppedEvents).toBe(1);
    expect(environment.missingEvents).toBe(1);
  });

  it('does not modify the model it is given', () => {
    const events = lifecycle('env-pure', { invokes: 1 });
    const first = applyEvents(undefined, events.slice(0, 5), 1);
    const snapshot = structuredClone(first);
    applyEvents(first, events.slice(5), 2);
    expect(first).toEqual(snapshot);
  });

  it('ignores telemetry records it cannot read when a record is a string or lacks a requestId', () => {
    const events = lifecycle('env-odd', { invokes: 1 });
    const odd: LifelineEvent[] = [
      {
        id: 'odd-1',
        envId: 'env-odd',
        seq: 100,
        time: 1,
        type: 'platform',
        recordType: 'platform.report',
        recordTime: 1,
        record: 'just text',
      },
      {
        id: 'odd-2',
        envId: 'env-odd',
        seq: 101,
        time: 2,
        type: 'platform',
        recordType: 'platform.runtimeDone',
        recordTime: 2,
        record: { requestId: 42, status: ['x'] },
      },
    ];
    const model = only(deriveEvents([[...events, ...odd]]));
    expect(model.invocations.size).toBe(1);
    expect(model.env.eventCount).toBe(events.length + 2);
  });
});
