import { describe, expect, it } from 'vitest';
import { runExtension } from '../src/main.ts';
import { FakeRuntimeApi } from './helpers/fake-runtime-api.ts';
import { runAgainstFake } from './helpers/run-against-fake.ts';

const setUp = (env: Record<string, string> = {}, withReceiver = true) =>
  runAgainstFake(new FakeRuntimeApi(), {
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_REGION: 'eu-west-1',
    LIFELINE_TOKEN: 'secret-token',
    ...(withReceiver ? {} : { LIFELINE_COLLECTOR_URL: undefined }),
    ...env,
  });

async function postTelemetry(api: FakeRuntimeApi, records: unknown[]): Promise<number> {
  const uri = api.subscription.destination.URI.replace('sandbox.localdomain', '127.0.0.1');
  const res = await fetch(uri, { method: 'POST', body: JSON.stringify(records) });
  await res.text();
  return res.status;
}

describe('runExtension', () => {
  it('records a whole lifecycle in order when the collector is up', async () => {
    const { api, receiver, exitCode, lines } = await setUp();
    await api.waitForCalls('event/next', 1);
    expect(api.callsTo('register')[0]?.headers['lambda-extension-name']).toBe('lifeline');
    expect(JSON.parse(api.callsTo('register')[0]?.body ?? '')).toEqual({
      events: ['INVOKE', 'SHUTDOWN'],
    });
    expect(api.subscription.types).toEqual(['platform']);
    const deadlineMs = Date.now() + 3000;
    api.send({
      eventType: 'INVOKE',
      deadlineMs,
      requestId: 'req-1',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fake-fn',
      tracing: { type: 'X-Amzn-Trace-Id', value: 'Root=1-abc;Sampled=0' },
    });
    await api.waitForCalls('event/next', 2);
    expect(
      await postTelemetry(api, [
        {
          time: '2026-11-25T10:00:00.000Z',
          type: 'platform.start',
          record: { requestId: 'req-1' },
        },
        { time: '2026-11-25T10:00:00.010Z', type: 'function', record: 'log line' },
      ]),
    ).toBe(200);
    await receiver.waitFor(
      () => receiver.ofType('platform').length === 1,
      10_000,
      'platform.start',
    );
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'spindown' });
    await postTelemetry(api, [
      { time: '2026-11-25T10:00:00.020Z', type: 'platform.report', record: { requestId: 'req-1' } },
    ]).catch(() => 0);
    expect(await exitCode).toBe(0);

    const events = receiver.events;
    expect(events.map((event) => event.type)).toEqual([
      'register',
      'invoke',
      'platform',
      'shutdown',
      'platform',
      'exit',
    ]);
    expect(events.map((event) => event.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(events.every((event) => event.id === `${api.extensionId}:${event.seq}`)).toBe(true);
    const [register, invoke, start] = events;
    expect(register).toMatchObject({
      functionName: 'fake-fn',
      accountId: '123456789012',
      region: 'eu-west-1',
      memorySizeMb: 256,
      telemetry: 'subscribed',
      extensionName: 'lifeline',
      registeredEvents: ['INVOKE', 'SHUTDOWN'],
    });
    expect(register?.type === 'register' && register.startToReadyMs).toBeGreaterThanOrEqual(
      register?.type === 'register' ? register.startToRegisteredMs : Number.POSITIVE_INFINITY,
    );
    expect(invoke).toMatchObject({
      requestId: 'req-1',
      deadlineMs,
      traceId: 'Root=1-abc;Sampled=0',
    });
    expect(start).toMatchObject({
      recordType: 'platform.start',
      recordTime: Date.parse('2026-11-25T10:00:00.000Z'),
    });
    expect(receiver.ofType('exit')[0]).toMatchObject({ delivered: 5, dropped: 0, pending: 0 });
    expect(receiver.batches.every((batch) => batch.authorization === 'Bearer secret-token')).toBe(
      true,
    );
    expect(lines.join('')).not.toContain('secret-token');
  });

  it('passes every event through and exits 0 when no collector URL is set', async () => {
    const { api, exitCode, lines } = await setUp({}, false);
    await api.waitForCalls('event/next', 1);
    for (let i = 0; i < 3; i++) {
      api.send({
        eventType: 'INVOKE',
        deadlineMs: Date.now() + 1000,
        requestId: `r${i}`,
        invokedFunctionArn: 'a',
      });
      await api.waitForCalls('event/next', i + 2);
    }
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'spindown' });
    expect(await exitCode).toBe(0);
    expect(api.callsTo('telemetry')).toHaveLength(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('LIFELINE_COLLECTOR_URL');
  });

  it('keeps running and says why when the Telemetry API is not supported', async () => {
    const api0 = new FakeRuntimeApi();
    api0.telemetryStatus = 202;
    const { api, receiver, exitCode, lines } = await setUpWith(api0);
    await api.waitForCalls('event/next', 1);
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'timeout' });
    expect(await exitCode).toBe(0);
    expect(receiver.ofType('register')[0]?.telemetry).toBe('unsupported');
    expect(receiver.ofType('shutdown')[0]?.shutdownReason).toBe('timeout');
    expect(lines.filter((line) => line.includes('telemetry'))).toHaveLength(1);
  });

  it('persists and exits 1 when event/next answers 500, as Lambda asks', async () => {
    const api0 = new FakeRuntimeApi();
    api0.nextStatus = 500;
    const { api, exitCode } = await setUpWith(api0);
    expect(await exitCode).toBe(1);
    expect(api.callsTo('exit/error')).toHaveLength(0);
  });

  it('asks again when event/next answers 403 and keeps recording', async () => {
    const api0 = new FakeRuntimeApi();
    api0.nextAnswers = [
      {
        status: 403,
        body: {
          errorType: 'Extension.InvalidExtensionState',
          errorMessage: 'State transition from Ready to Ready failed',
        },
      },
    ];
    const { api, exitCode, receiver } = await setUpWith(api0);
    await api.waitForCalls('event/next', 2);
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'spindown' });
    expect(await exitCode).toBe(0);
    expect(api.callsTo('exit/error')).toHaveLength(0);
    expect(receiver.ofType('exit')).toHaveLength(1);
  });

  it('exits 1 when registration is refused', async () => {
    const api0 = new FakeRuntimeApi();
    api0.registerStatus = 403;
    const { exitCode, lines } = await setUpWith(api0);
    expect(await exitCode).toBe(1);
    expect(lines.join('')).toContain('register failed; no registration is possible');
  });

  it('exits 1 and says why when AWS_LAMBDA_RUNTIME_API is missing', async () => {
    const lines: string[] = [];
    const code = await runExtension({ env: {}, write: (line) => lines.push(line) });
    expect(code).toBe(1);
    expect(lines.join('')).toContain('AWS_LAMBDA_RUNTIME_API');
  });
});

const setUpWith = (api: FakeRuntimeApi) => runAgainstFake(api);
