import { describe, expect, it } from 'vitest';
import { LambdaFunction, type Sandbox } from '../src/index.ts';
import { extensionsDir, raw, reports, sandbox } from './helpers.ts';
import { events, reachesState, registrations } from './sandbox-helpers.ts';

type TelemetryEvent = { type: string; record: Record<string, unknown> };

function telemetry(box: Sandbox, name: string): TelemetryEvent[] {
  return reports(box, name)
    .filter((r) => r.telemetry)
    .flatMap((r) => r.telemetry as TelemetryEvent[]);
}

const lifeline = {
  telemetry: { types: ['platform'], buffering: { timeoutMs: 25 } },
  shutdownWorkMs: 200,
  tickMs: 20,
  reportEnv: true,
};

describe('Sandbox with SnapStart', () => {
  it('ends Init in a snapshot and restores it at the first invoke, the extension resuming where it stopped', async () => {
    const dir = extensionsDir({ lifeline });
    const box = sandbox({ extensionsDir: dir, snapStart: true });
    const init = await box.init();
    expect(init.status).toBe('success');
    expect(box.state).toBe('snapshotted');
    const [extension] = box.extensions;
    expect(await reachesState(extension!.pid!, 'T')).toBe('T');
    expect(box.snapshot).toEqual({ extensionIdentifiers: { lifeline: extension!.id } });
    expect(box.log.some((e) => e.kind === 'runtime.restore-next')).toBe(true);
    await box.idle(600);
    const first = await box.invoke();
    const second = await box.invoke();
    await box.shutdown('spindown');

    expect(first).toMatchObject({
      status: 'success',
      coldStart: true,
      restore: { status: 'success' },
    });
    expect(first.init).toBeUndefined();
    expect(second).toMatchObject({ coldStart: false });
    expect(second.restore).toBeUndefined();
    // The same process, registered once: it resumed, it was not launched again.
    const [registration] = registrations(box, 'lifeline');
    expect(registrations(box, 'lifeline')).toHaveLength(1);
    expect(registration!.pid).toBe(extension!.pid);
    expect((registration!.env as Record<string, string>).AWS_LAMBDA_INITIALIZATION_TYPE).toBe(
      'snap-start',
    );
    // No event at the restore: the next thing out of its Init's /event/next is the first INVOKE.
    const [invoke] = events(box, 'lifeline');
    expect(invoke!.event).toMatchObject({ eventType: 'INVOKE', requestId: first.requestId });
    // Its monotonic clock jumped over the snapshot while its timers did not run: the 20 ms ticker (counting since the
    // process started) ran for at most the time the process was not stopped, i.e. without the 600 ms snapshot wait.
    const gap = (invoke!.mono as number) - (registration!.mono as number);
    expect(gap).toBeGreaterThanOrEqual(600);
    const running = (registration!.startedToRegisteredMs as number) + gap - 600;
    expect((invoke!.ticks as number) * 20).toBeLessThanOrEqual(running + 40);

    const records = telemetry(box, 'lifeline');
    const types = records.map((e) => e.type);
    expect(types.indexOf('platform.initReport')).toBeLessThan(
      types.indexOf('platform.restoreStart'),
    );
    expect(types.indexOf('platform.restoreStart')).toBeLessThan(
      types.indexOf('platform.restoreRuntimeDone'),
    );
    expect(types.indexOf('platform.restoreReport')).toBeLessThan(types.indexOf('platform.start'));
    expect(records.find((e) => e.type === 'platform.initStart')!.record).toMatchObject({
      initializationType: 'snap-start',
      phase: 'init',
    });
    expect(records.find((e) => e.type === 'platform.restoreStart')!.record).toMatchObject({
      functionName: 'fn',
      functionVersion: '$LATEST',
      instanceMaxMemory: 128,
      runtimeVersion: 'nodejs:22.v1',
    });
    expect(records.find((e) => e.type === 'platform.restoreRuntimeDone')!.record).toEqual({
      status: 'success',
    });
    const restoreReport = records.find((e) => e.type === 'platform.restoreReport')!;
    expect(restoreReport.record).toMatchObject({ status: 'success' });
    expect((restoreReport.record.metrics as { durationMs: number }).durationMs).toBeCloseTo(
      first.restore!.durationMs,
      0,
    );
    const [firstReport, secondReport] = records.filter((e) => e.type === 'platform.report');
    expect(firstReport!.record.metrics).toHaveProperty(
      'restoreDurationMs',
      first.restore!.durationMs,
    );
    expect(firstReport!.record.metrics).not.toHaveProperty('initDurationMs');
    expect(secondReport!.record.metrics).not.toHaveProperty('restoreDurationMs');
  });

  it('presents the same extension identifier in two environments restored from one snapshot', async () => {
    const dir = extensionsDir({ lifeline });
    const publisher = sandbox({ extensionsDir: dir, snapStart: true });
    await publisher.init();
    const replica = sandbox({ extensionsDir: dir, snapStart: publisher.snapshot! });
    await replica.init();
    const [a, b] = await Promise.all([publisher.invoke(), replica.invoke()]);
    expect(a.restore?.status).toBe('success');
    expect(b.restore?.status).toBe('success');
    const idA = registrations(publisher, 'lifeline')[0]!.registered;
    const idB = registrations(replica, 'lifeline')[0]!.registered;
    expect(idB).toBe(idA);
    expect(replica.snapshot).toEqual(publisher.snapshot);
    expect(events(publisher, 'lifeline')[0]!.event.requestId).toBe(a.requestId);
    expect(events(replica, 'lifeline')[0]!.event.requestId).toBe(b.requestId);
  });

  it('restores one snapshot into several environments of a function and invokes them at once', async () => {
    const dir = extensionsDir({ lifeline: { ...lifeline, tickMs: undefined } });
    const fn = new LambdaFunction({ extensionsDir: dir, snapStart: true, logOutput: false });
    try {
      expect((await fn.publish(2)).status).toBe('success');
      expect(fn.sandboxes.map((s) => s.state)).toEqual(['snapshotted', 'snapshotted']);
      const results = await Promise.all([fn.invoke(), fn.invoke()]);
      expect(results.map((r) => r.restore?.status)).toEqual(['success', 'success']);
      expect(new Set(results.map((r) => r.sandboxId)).size).toBe(2);
      const ids = fn.sandboxes.map((s) => registrations(s, 'lifeline')[0]!.registered);
      expect(new Set(ids).size).toBe(1);
      // A third environment, beyond what was published, is restored from the same snapshot too.
      const [, , third] = await Promise.all([
        fn.invoke({ durationMs: 200 }),
        fn.invoke({ durationMs: 200 }),
        fn.invoke(),
      ]);
      expect(third!.restore?.status).toBe('success');
      expect(fn.sandboxes).toHaveLength(3);
      expect(registrations(fn.sandboxes[2]!, 'lifeline')[0]!.registered).toBe(ids[0]);
    } finally {
      await fn.close();
    }
  });

  it('shuts a snapshot down that was never restored', async () => {
    const dir = extensionsDir({ lifeline });
    const box = sandbox({ extensionsDir: dir, snapStart: true });
    await box.init();
    const shutdown = await box.shutdown('spindown');
    expect(shutdown.extensions).toMatchObject([{ name: 'lifeline', state: 'Exited' }]);
    expect(events(box, 'lifeline').map((r) => r.event.eventType)).toEqual(['SHUTDOWN']);
  });

  it('answers 403 to /runtime/restore/next when the function has no SnapStart', async () => {
    const box = sandbox({});
    await box.init();
    const res = await raw(box.runtimeApiAddress, 'GET', '/2018-06-01/runtime/restore/next');
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ errorType: 'Runtime.InvalidState' });
  });

  it.each([
    [{ snapStart: true, mode: 'lmi' }, /snapStart contradicts mode lmi/],
    [{ initializationType: 'snap-start' }, /snap-start needs snapStart/],
    [{ snapStart: true, initializationType: 'provisioned-concurrency' }, /contradicts snapStart/],
    [{ snapStart: { extensionIdentifiers: { a: 1 } } }, /snapshot identity/],
  ])('refuses the options %j with a clear error', (options, message) => {
    expect(() => sandbox(options as never)).toThrow(message);
  });

  it('refuses restore() without SnapStart', async () => {
    const box = sandbox({});
    await expect(box.restore()).rejects.toThrow(/not a SnapStart sandbox/);
  });
});
