import { describe, expect, it } from 'vitest';
import { LambdaFunction } from '../src/index.ts';
import {
  errorBody,
  extensionsDir,
  raw,
  rawRegister,
  reports,
  sandbox,
  sleeperExtension,
} from './helpers.ts';
import { registrations } from './sandbox-helpers.ts';

type TelemetryEvent = { type: string; time: string; record: Record<string, unknown> };

function telemetry(box: { output(name: string): string }, name: string): TelemetryEvent[] {
  return reports(box as never, name)
    .filter((r) => r.telemetry)
    .flatMap((r) => r.telemetry as TelemetryEvent[]);
}

/** A Managed Instances extension that does what Lifeline must: SHUTDOWN only, schema 2025-01-29. */
const shutdownOnly = {
  events: ['SHUTDOWN'],
  telemetry: {
    types: ['platform'],
    buffering: { timeoutMs: 25 },
    schemaVersion: '2025-01-29',
  },
  shutdownWorkMs: 200,
};

describe('Sandbox in Managed Instances mode (lmi)', () => {
  it('refuses an external INVOKE registration with 403 Extension.InvalidEventType and accepts SHUTDOWN only', async () => {
    const dir = extensionsDir({});
    sleeperExtension(dir, 'both');
    sleeperExtension(dir, 'shutdown');
    const box = sandbox({ extensionsDir: dir, mode: 'lmi', initTimeoutMs: 3000 });
    void box.init();
    await box.ready();
    const address = box.runtimeApiAddress;
    const refused = await rawRegister(address, 'both', ['INVOKE', 'SHUTDOWN']);
    expect(refused.status).toBe(403);
    expect(refused.body).toBe(
      errorBody('Extension.InvalidEventType', 'INVOKE: ErrorInvalidEventType'),
    );
    expect(refused.id).toBe('');
    const invokeOnly = await rawRegister(address, 'both', ['INVOKE']);
    expect(invokeOnly.body).toBe(
      errorBody('Extension.InvalidEventType', 'INVOKE: ErrorInvalidEventType'),
    );
    const accepted = await rawRegister(address, 'shutdown', ['SHUTDOWN']);
    expect(accepted.status).toBe(200);
    const retried = await rawRegister(address, 'both', ['SHUTDOWN']);
    expect(retried.status).toBe(200);
  });

  it('refuses any event of an internal extension with 403 and accepts it without events', async () => {
    const box = sandbox({ mode: 'lmi', functionInitMs: 400 });
    void box.init();
    await box.ready();
    const address = box.runtimeApiAddress;
    const refused = await rawRegister(address, 'in-process', ['INVOKE']);
    expect(refused.status).toBe(403);
    expect(refused.body).toBe(
      errorBody('Extension.InvalidEventType', 'No events allowed for internal extensions'),
    );
    expect((await rawRegister(address, 'in-process', [])).status).toBe(200);
  });

  it('fails Init with Extension.Crash when an extension exits after its INVOKE registration was refused', async () => {
    const dir = extensionsDir({ classic: {} });
    const box = sandbox({ extensionsDir: dir, mode: 'lmi' });
    const init = await box.init();
    expect(init).toMatchObject({ status: 'error', errorType: 'Extension.Crash' });
    expect(box.output('classic')).toContain('register failed 403');
  });

  it('answers every Telemetry schema but 2025-01-29 with 400 ValidationError, and 404 for the Logs API', async () => {
    const dir = extensionsDir({});
    sleeperExtension(dir, 'probe');
    const box = sandbox({ extensionsDir: dir, mode: 'lmi', initTimeoutMs: 3000 });
    void box.init();
    await box.ready();
    const address = box.runtimeApiAddress;
    const { id } = await rawRegister(address, 'probe', ['SHUTDOWN']);
    const subscribe = (body: Record<string, unknown>, path = '/2022-07-01/telemetry') =>
      raw(address, 'PUT', path, {
        headers: { 'Lambda-Extension-Identifier': id, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          types: ['platform'],
          destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/' },
          ...body,
        }),
      });
    for (const schemaVersion of ['2022-07-01', '2022-12-13']) {
      const res = await subscribe({ schemaVersion });
      expect(res.status).toBe(400);
      expect(res.body).toBe(
        errorBody(
          'ValidationError',
          `schema validation error: jsonschema: '/schemaVersion' does not validate with telemetry-subscription-schema.json#/properties/schemaVersion/enum: value must be "2025-01-29"`,
        ),
      );
    }
    const missing = await subscribe({});
    expect(missing.status).toBe(400);
    expect(missing.body).toContain("missing properties: 'schemaVersion'");
    const loopback = await subscribe({
      schemaVersion: '2025-01-29',
      destination: { protocol: 'HTTP', URI: 'http://127.0.0.1:4243/' },
    });
    expect(loopback.status).toBe(400);
    expect(loopback.body).toContain('URI host must be sandbox.localdomain');
    const logs = await subscribe({ schemaVersion: '2020-08-15' }, '/2020-08-15/logs');
    expect(logs.status).toBe(404);
    const ok = await subscribe({ schemaVersion: '2025-01-29' });
    expect(ok.status).toBe(200);
  });

  it('runs N invokes at once in one environment, never frozen, telling subscribers by start and report only', async () => {
    const dir = extensionsDir({ lifeline: { ...shutdownOnly, reportEnv: true } });
    const box = sandbox({ extensionsDir: dir, mode: 'lmi', concurrency: 4, freeze: false });
    expect((await box.init()).status).toBe('success');
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) => box.invoke({ payload: { n }, durationMs: 300 })),
    );
    expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success', 'success']);
    expect(results.map((r) => (r.response as { echo: { n: number } }).echo.n)).toEqual([
      1, 2, 3, 4,
    ]);
    expect(box.generation).toBe(1);
    // All four ran at once: every invoke started before the first one ended.
    const kinds = box.log.map((e) => e.kind);
    expect(kinds.lastIndexOf('invoke.start')).toBeLessThan(kinds.indexOf('invoke.end'));
    expect(kinds).not.toContain('freeze');
    expect(kinds).not.toContain('event.invoke');
    // The reports reach the subscriber while the environment lives, not at the next thaw or at SHUTDOWN.
    await box.telemetryDrained(5000);
    const live = telemetry(box, 'lifeline');
    const shutdown = await box.shutdown('spindown');
    expect(shutdown.reason).toBe('spindown');
    const types = live.map((e) => e.type);
    expect(types).not.toContain('platform.runtimeDone');
    expect(types.filter((t) => t === 'platform.start')).toHaveLength(4);
    expect(types.filter((t) => t === 'platform.report')).toHaveLength(4);
    const initStart = live.find((e) => e.type === 'platform.initStart')!;
    expect(initStart.record).toMatchObject({
      initializationType: 'lambda-managed-instances',
      instanceId: box.id,
      instanceMaxMemory: 128,
    });
    const start = live.find((e) => e.type === 'platform.start')!;
    expect(start.record).toMatchObject({
      version: '$LATEST',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn',
    });
    const report = live.find(
      (e) => e.type === 'platform.report' && e.record.requestId === results[0]!.requestId,
    )!;
    expect(report.record).toMatchObject({ status: 'success', metrics: {} });
    expect(Object.keys(report.record.metrics as object)).toEqual(['durationMs']);
    expect((report.record.metrics as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(
      300,
    );
    expect((report.record.spans as { name: string }[]).map((s) => s.name)).toEqual([
      'responseLatency',
      'responseDuration',
    ]);
    const events = reports(box, 'lifeline').filter((r) => r.event);
    expect(events.map((r) => (r.event as { eventType: string }).eventType)).toEqual(['SHUTDOWN']);
    const env = registrations(box, 'lifeline')[0]!.env as Record<string, string>;
    expect(env.AWS_LAMBDA_INITIALIZATION_TYPE).toBe('lambda-managed-instances');
    expect(env.AWS_LAMBDA_MAX_CONCURRENCY).toBeUndefined();
  });

  it('refuses one invoke more than its concurrency at once with Runtime.Unavailable', async () => {
    const box = sandbox({ mode: 'lmi', concurrency: 2 });
    await box.init();
    const running = [box.invoke({ durationMs: 300 }), box.invoke({ durationMs: 300 })];
    await expect(box.invoke()).rejects.toThrow(/^Runtime\.Unavailable/);
    expect((await Promise.all(running)).map((r) => r.status)).toEqual(['success', 'success']);
    expect((await box.invoke()).status).toBe('success');
  });

  it('lets running invokes end before its Shutdown phase when it is shut down', async () => {
    const box = sandbox({ mode: 'lmi', concurrency: 2 });
    await box.init();
    const running = [box.invoke({ durationMs: 400 }), box.invoke({ durationMs: 400 })];
    await new Promise((resolve) => setTimeout(resolve, 50));
    const shutdown = await box.shutdown('spindown');
    const results = await Promise.all(running);
    expect(results.map((r) => r.status)).toEqual(['success', 'success']);
    const ends = box.log.filter((e) => e.kind === 'invoke.end').map((e) => e.mono);
    const start = box.log.find((e) => e.kind === 'shutdown.start')!;
    expect(Math.max(...ends)).toBeLessThan(start.mono);
    expect(shutdown.reason).toBe('spindown');
  });

  it('ends only the timed-out invoke and keeps the environment when an invoke times out', async () => {
    const box = sandbox({ mode: 'lmi', concurrency: 2, timeoutMs: 800 });
    const [timedOut, fine] = await Promise.all([
      box.invoke({ outcome: 'timeout' }),
      box.invoke({ durationMs: 100 }),
    ]);
    expect(timedOut).toMatchObject({
      status: 'timeout',
      errorType: 'Sandbox.Timeout',
      reset: false,
    });
    expect(fine.status).toBe('success');
    expect((await box.invoke()).status).toBe('success');
    expect(box.generation).toBe(1);
    expect(box.log.some((e) => e.kind === 'reset')).toBe(false);
  });

  it('fails every running invoke and replaces the environment with reason failure when the runtime crashes', async () => {
    const dir = extensionsDir({ lifeline: shutdownOnly });
    const box = sandbox({ extensionsDir: dir, mode: 'lmi', concurrency: 2 });
    await box.init();
    const [crashed, victim] = await Promise.all([
      box.invoke({ outcome: 'crash', durationMs: 50 }),
      box.invoke({ durationMs: 2000 }),
    ]);
    expect(crashed).toMatchObject({
      status: 'failure',
      errorType: 'Runtime.ExitError',
      reset: true,
    });
    expect(victim).toMatchObject({ status: 'failure', reset: true });
    expect(crashed.shutdown).toBe(victim.shutdown);
    expect(crashed.shutdown?.reason).toBe('failure');
    const after = await box.invoke();
    expect(after).toMatchObject({ status: 'success', coldStart: true });
    expect(box.generation).toBe(2);
  });

  it('gives each environment of a function up to its concurrency before starting another', async () => {
    const fn = new LambdaFunction({ mode: 'lmi', concurrency: 2, logOutput: false });
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => fn.invoke({ durationMs: 300 })));
      expect(results.every((r) => r.status === 'success')).toBe(true);
      expect(new Set(results.map((r) => r.sandboxId)).size).toBe(2);
      expect(fn.sandboxes).toHaveLength(2);
    } finally {
      await fn.close();
    }
  });

  it.each([
    [{ mode: 'lmi', freeze: true }, /freeze contradicts mode lmi/],
    [{ mode: 'lmi', concurrency: 0 }, /concurrency must be an integer from 1 to 1600/],
    [{ mode: 'lmi', concurrency: 1601 }, /concurrency must be an integer from 1 to 1600/],
    [{ concurrency: 2 }, /concurrency needs mode lmi/],
    [
      { mode: 'lmi', initializationType: 'provisioned-concurrency' },
      /initializationType provisioned-concurrency contradicts mode lmi/,
    ],
    [{ initializationType: 'lambda-managed-instances' }, /needs mode lmi/],
    [{ mode: 'managed' }, /mode must be standard or lmi/],
  ])('refuses the options %j with a clear error', (options, message) => {
    expect(() => sandbox(options as never)).toThrow(message);
  });
});
