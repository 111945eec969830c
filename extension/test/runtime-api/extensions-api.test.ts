import { describe, expect, it, onTestFinished } from 'vitest';
import { ExtensionsApi, parseNextEvent } from '../../src/runtime-api/extensions-api.ts';
import { subscribeTelemetry, TELEMETRY_BUFFERING } from '../../src/runtime-api/telemetry-api.ts';
import { FakeRuntimeApi } from '../helpers/fake-runtime-api.ts';

async function fake() {
  const api = new FakeRuntimeApi();
  await api.start();
  onTestFinished(() => api.stop());
  const client = new ExtensionsApi(api.address);
  onTestFinished(() => client.close());
  return { api, client };
}

describe('ExtensionsApi', () => {
  it('registers with the name, the accountId feature and both events', async () => {
    const { api, client } = await fake();
    const registration = await client.register('lifeline');
    expect(registration).toEqual({
      extensionId: api.extensionId,
      functionName: 'fake-fn',
      functionVersion: '$LATEST',
      handler: 'index.handler',
      accountId: '123456789012',
    });
    const call = api.callsTo('register')[0]!;
    expect(call.headers['lambda-extension-name']).toBe('lifeline');
    expect(call.headers['lambda-extension-accept-feature']).toBe('accountId');
  });

  it('waits on event/next as long as it takes when the event comes late', async () => {
    const { api, client } = await fake();
    await client.register('lifeline');
    const next = client.next();
    await api.waitForCalls('event/next', 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    api.send({ eventType: 'SHUTDOWN', deadlineMs: 5, shutdownReason: 'spindown' });
    expect(await next).toEqual({
      eventType: 'SHUTDOWN',
      deadlineMs: 5,
      shutdownReason: 'spindown',
    });
    expect(api.callsTo('event/next')[0]?.headers['lambda-extension-identifier']).toBe(
      api.extensionId,
    );
  });

  it('throws with the status when event/next is refused', async () => {
    const { api, client } = await fake();
    await client.register('lifeline');
    api.nextStatus = 500;
    await expect(client.next()).rejects.toMatchObject({ code: 'EXT_ERR_NEXT', status: 500 });
  });
});

describe('subscribeTelemetry', () => {
  it('subscribes to platform records only with bounded buffering', async () => {
    const { api, client } = await fake();
    await client.register('lifeline');
    expect(await subscribeTelemetry(client, { port: 4243 })).toEqual({
      state: 'subscribed',
      schemaVersion: '2022-12-13',
    });
    expect(api.subscription).toMatchObject({
      types: ['platform'],
      buffering: TELEMETRY_BUFFERING,
      destination: { URI: 'http://sandbox.localdomain:4243/' },
    });
    expect(TELEMETRY_BUFFERING.timeoutMs).toBeGreaterThanOrEqual(25);
    expect(TELEMETRY_BUFFERING.timeoutMs).toBeLessThanOrEqual(1000);
  });

  it('reports unsupported on 202 and failed on other answers', async () => {
    const { api, client } = await fake();
    await client.register('lifeline');
    api.telemetryStatus = 202;
    expect((await subscribeTelemetry(client, { port: 1 })).state).toBe('unsupported');
    api.telemetryStatus = 500;
    expect((await subscribeTelemetry(client, { port: 1 })).state).toBe('failed');
  });
});

describe('parseNextEvent', () => {
  it('accepts any casing and fills gaps when the payload is odd', () => {
    expect(
      parseNextEvent('{"eventType":"shutdown","shutdownReason":"Timeout","deadlineMs":9}'),
    ).toEqual({
      eventType: 'SHUTDOWN',
      deadlineMs: 9,
      shutdownReason: 'Timeout',
    });
    expect(parseNextEvent('{"eventType":"INVOKE"}')).toEqual({
      eventType: 'INVOKE',
      deadlineMs: 0,
      requestId: 'unknown',
      invokedFunctionArn: '',
      traceId: undefined,
    });
    expect(parseNextEvent('not json').eventType).toBe('UNKNOWN');
    expect(parseNextEvent('{"eventType":"RESTORE"}').eventType).toBe('UNKNOWN');
  });
});
