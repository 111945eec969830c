import { readdirSync } from 'node:fs';
import type { RegisterEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { type FakeAnswer, FakeRuntimeApi } from './helpers/fake-runtime-api.ts';
import { runAgainstFake } from './helpers/run-against-fake.ts';

/** Every refusal the Extensions and Telemetry APIs are documented to answer, and what the extension does about it. */

/** Runs the extension against `api` with an ingest token (the refusals are the platform's, not the collector's). */
const run = (api: FakeRuntimeApi, env: Record<string, string> = {}) =>
  runAgainstFake(api, { LIFELINE_TOKEN: 'token-1234', ...env });

const refusal = (status: number, errorType: string, errorMessage: string): FakeAnswer => ({
  status,
  body: { errorType, errorMessage },
});

const shutdown = () => ({
  eventType: 'SHUTDOWN',
  deadlineMs: Date.now() + 2000,
  shutdownReason: 'spindown',
});

describe('register refusals that leave nothing to register as', () => {
  const cases: [string, FakeAnswer][] = [
    ['no name', refusal(403, 'Extension.InvalidExtensionName', 'Empty extension name')],
    [
      'a body that is not JSON',
      refusal(403, 'InvalidRequestFormat', "invalid character 'o' in literal null"),
    ],
    [
      'configurationKeys',
      refusal(
        403,
        'InvalidRequestFormat',
        'configurationKeys are deprecated; use environment variables instead',
      ),
    ],
    [
      'a second registration',
      refusal(
        403,
        'Extension.InvalidExtensionState',
        'State transition from Registered to Registered failed for extension lifeline. Error: State transition is not allowed',
      ),
    ],
    [
      'registration closed',
      refusal(403, 'Extension.RegistrationClosed', 'Extension registration closed already'),
    ],
    [
      'too many extensions',
      refusal(403, 'Extension.TooManyExtensions', 'Extension limit (10) reached'),
    ],
    ['a container error', refusal(500, 'InternalServerError', 'Internal Server Error')],
  ];
  for (const [name, answer] of cases) {
    it(`exits 1 at once, asking once, on ${name} (${answer.status})`, async () => {
      const fake = new FakeRuntimeApi();
      fake.registerAnswers = [answer];
      const { api, exitCode, lines } = await run(fake);
      expect(await exitCode).toBe(1);
      expect(api.callsTo('register')).toHaveLength(1);
      expect(api.callsTo('event/next')).toHaveLength(0);
      expect(lines.join('\n')).toContain('register failed; no registration is possible');
    });
  }
});

describe('register refusals of an event type', () => {
  it('registers for SHUTDOWN only when INVOKE is refused (Managed Instances without the variable)', async () => {
    const fake = new FakeRuntimeApi();
    fake.refusedEvents = ['INVOKE'];
    const { api, receiver, exitCode } = await run(fake);
    await api.waitForCalls('event/next', 1);
    expect(api.callsTo('register').map((call) => JSON.parse(call.body))).toEqual([
      { events: ['INVOKE', 'SHUTDOWN'] },
      { events: ['SHUTDOWN'] },
    ]);
    expect(api.subscription).toMatchObject({ schemaVersion: '2025-01-29' });
    api.send(shutdown());
    expect(await exitCode).toBe(0);
    expect(receiver.ofType('register')[0]).toMatchObject({
      registeredEvents: ['SHUTDOWN'],
      initializationType: 'lambda-managed-instances',
    });
  });

  it('registers for INVOKE only when SHUTDOWN is refused, and records invokes', async () => {
    const fake = new FakeRuntimeApi();
    fake.refusedEvents = ['SHUTDOWN'];
    const { api, receiver } = await run(fake);
    await api.waitForCalls('event/next', 1);
    api.send({
      eventType: 'INVOKE',
      deadlineMs: Date.now() + 3000,
      requestId: 'r1',
      invokedFunctionArn: 'a',
    });
    await api.waitForCalls('event/next', 2);
    await receiver.waitFor(() => receiver.ofType('invoke').length === 1, 5000, 'invoke');
    expect(receiver.ofType('register')[0]?.registeredEvents).toEqual(['INVOKE']);
  });

  it('stays registered for no events at all when both are refused, answering event/next', async () => {
    const fake = new FakeRuntimeApi();
    fake.refusedEvents = ['INVOKE', 'SHUTDOWN'];
    const { api, receiver } = await run(fake);
    await api.waitForCalls('event/next', 1);
    expect(api.callsTo('register').map((call) => JSON.parse(call.body).events)).toEqual([
      ['INVOKE', 'SHUTDOWN'],
      ['SHUTDOWN'],
      [],
    ]);
    await receiver.waitFor(() => receiver.ofType('register').length === 1, 5000, 'register');
    expect(receiver.ofType('register')[0]?.registeredEvents).toEqual([]);
  });
});

describe('telemetry subscription refusals', () => {
  const cases: [string, FakeAnswer[], RegisterEvent['telemetry']][] = [
    [
      'a schema version the platform does not take',
      [refusal(400, 'ValidationError', 'schemaVersion: value must be "2025-01-29"')],
      'subscribed',
    ],
    [
      'a validation error for every schema',
      [
        refusal(400, 'ValidationError', 'URI port is not provided; types should not be empty'),
        refusal(400, 'ValidationError', 'URI port is not provided; types should not be empty'),
      ],
      'failed',
    ],
    [
      'a closed subscription',
      [refusal(403, 'Telemetry.SubscriptionClosed', 'Telemetry API subscription is closed')],
      'failed',
    ],
    [
      'an unknown extension',
      [refusal(403, 'Extension.UnknownExtensionIdentifier', 'Unknown extension')],
      'failed',
    ],
    [
      'a local emulator without telemetry',
      [refusal(202, 'Telemetry.NotSupported', 'Telemetry API is not supported')],
      'unsupported',
    ],
    ['a service error', [refusal(500, 'InternalServerError', 'Internal Server Error')], 'failed'],
  ];
  for (const [name, answers, telemetry] of cases) {
    it(`keeps recording lifecycle events on ${name} (${answers[0]!.status})`, async () => {
      const fake = new FakeRuntimeApi();
      fake.telemetryAnswers = answers;
      const { api, receiver, exitCode } = await run(fake);
      await api.waitForCalls('event/next', 1);
      api.send({
        eventType: 'INVOKE',
        deadlineMs: Date.now() + 3000,
        requestId: 'r1',
        invokedFunctionArn: 'a',
      });
      await api.waitForCalls('event/next', 2);
      api.send(shutdown());
      expect(await exitCode).toBe(0);
      expect(receiver.ofType('register')[0]?.telemetry).toBe(telemetry);
      expect(receiver.ofType('invoke')).toHaveLength(1);
      expect(receiver.ofType('exit')).toHaveLength(1);
    });
  }

  it('tries the other schema version after a 400, and only then', async () => {
    const fake = new FakeRuntimeApi();
    fake.telemetryAnswers = [refusal(400, 'ValidationError', 'value must be "2025-01-29"')];
    const { api, exitCode } = await run(fake);
    await api.waitForCalls('event/next', 1);
    const schemas = api
      .callsTo('/2022-07-01/telemetry')
      .map((call) => JSON.parse(call.body).schemaVersion);
    expect(schemas).toEqual(['2022-12-13', '2025-01-29']);
    api.send(shutdown());
    expect(await exitCode).toBe(0);
  });
});

describe('event/next refusals', () => {
  const stayRegistered: [string, FakeAnswer][] = [
    [
      'a missing identifier',
      refusal(
        403,
        'Extension.MissingExtensionIdentifier',
        'Missing Lambda-Extension-Identifier header',
      ),
    ],
    [
      'an invalid identifier',
      refusal(403, 'Extension.InvalidExtensionIdentifier', 'Invalid Lambda-Extension-Identifier'),
    ],
    [
      'an unknown identifier',
      refusal(403, 'Extension.UnknownExtensionIdentifier', 'Unknown extension x'),
    ],
    [
      'a wrong state',
      refusal(
        403,
        'Extension.InvalidExtensionState',
        'State transition from Ready to Ready failed for extension x. Error: State transition is not allowed',
      ),
    ],
  ];
  for (const [name, answer] of stayRegistered) {
    it(`asks again and keeps recording on ${name} (403)`, async () => {
      const fake = new FakeRuntimeApi();
      fake.nextAnswers = [answer, answer];
      const { api, receiver, exitCode, lines } = await run(fake);
      await api.waitForCalls('event/next', 3);
      api.send({
        eventType: 'INVOKE',
        deadlineMs: Date.now() + 3000,
        requestId: 'r1',
        invokedFunctionArn: 'a',
      });
      await api.waitForCalls('event/next', 4);
      api.send(shutdown());
      expect(await exitCode).toBe(0);
      expect(receiver.ofType('invoke')).toHaveLength(1);
      expect(lines.filter((line) => line.includes('event/next failed'))).toHaveLength(1);
    });
  }

  it('spools what is pending and exits 1 on a container error (500), as Lambda asks', async () => {
    const fake = new FakeRuntimeApi();
    const { api, exitCode, spoolDir } = await run(fake, {
      LIFELINE_COLLECTOR_URL: 'http://127.0.0.1:9',
    });
    await api.waitForCalls('event/next', 1);
    fake.nextStatus = 500;
    api.send({
      eventType: 'INVOKE',
      deadlineMs: Date.now() + 3000,
      requestId: 'r1',
      invokedFunctionArn: 'a',
    });
    expect(await exitCode).toBe(1);
    expect(readdirSync(spoolDir).some((name) => name.startsWith('pending-'))).toBe(true);
  });
});
