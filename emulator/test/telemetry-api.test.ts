import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.ts';
import { validateSubscription } from '../src/telemetry-api.ts';
import {
  errorBody,
  extensionsDir,
  logEntry,
  raw,
  rawRegister,
  reports,
  sandbox,
  sleeperExtension,
  tempDir,
} from './helpers.ts';

const TELEMETRY = '/2022-07-01/telemetry';
const LOGS = '/2020-08-15/logs';

function body(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schemaVersion: '2022-12-13',
    types: ['platform'],
    destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/telemetry' },
    ...overrides,
  });
}

/** A sandbox in Init with an external `holder` registered through raw HTTP (subscriptions are open). */
async function inInit(
  options: { telemetry?: boolean } = {},
): Promise<{ box: Sandbox; address: string; id: string }> {
  const dir = join(tempDir(), 'extensions');
  mkdirSync(dir);
  sleeperExtension(dir, 'holder');
  const box = sandbox({
    extensionsDir: dir,
    initTimeoutMs: 25_000,
    shutdownBudgetMs: 200,
    ...options,
  });
  void box.init();
  await logEntry(box, (entry) => entry.kind === 'extension.launch');
  const { id } = await rawRegister(box.runtimeApiAddress, 'holder', ['INVOKE', 'SHUTDOWN']);
  return { box, address: box.runtimeApiAddress, id };
}

function put(address: string, path: string, id: string, payload: string) {
  return raw(address, 'PUT', path, {
    headers: { 'Lambda-Extension-Identifier': id, 'Content-Type': 'application/json' },
    body: payload,
  });
}

/** Whether a telemetry.deliver log entry's batch held a platform.report. */
function carriesReport(data: Record<string, unknown> | undefined): boolean {
  const types = (data?.types ?? {}) as Record<string, number>;
  return (types['platform.report'] ?? 0) > 0;
}

type Batch = { type: string; time: string; record: Record<string, unknown> }[];

function telemetryTypes(box: Sandbox, name: string): string[] {
  return reports(box, name)
    .filter((r) => r.telemetry)
    .flatMap((r) => (r.telemetry as Batch).map((e) => e.type));
}

describe('validateSubscription', () => {
  it('applies the documented buffering defaults when buffering is omitted', () => {
    const result = validateSubscription(JSON.parse(body()), 'telemetry');
    expect(result).toMatchObject({
      ok: true,
      subscription: {
        buffering: { maxItems: 10_000, maxBytes: 262_144, timeoutMs: 1000 },
        types: ['platform'],
      },
    });
  });

  it('maps sandbox.localdomain to loopback and keeps the path when the URI is valid', () => {
    const result = validateSubscription(JSON.parse(body()), 'telemetry');
    expect(result.ok && result.subscription.destination).toMatchObject({ protocol: 'HTTP' });
    if (result.ok && result.subscription.destination.protocol === 'HTTP') {
      expect(result.subscription.destination.url.href).toBe('http://127.0.0.1:4243/telemetry');
    }
  });

  it.each([
    [
      { buffering: { maxItems: 999 } },
      'buffering.maxItems must be an integer between 1000 and 10000',
    ],
    [
      { buffering: { maxItems: 10_001 } },
      'buffering.maxItems must be an integer between 1000 and 10000',
    ],
    [
      { buffering: { maxBytes: 262_143 } },
      'buffering.maxBytes must be an integer between 262144 and 1048576',
    ],
    [
      { buffering: { timeoutMs: 24 } },
      'buffering.timeoutMs must be an integer between 25 and 30000',
    ],
    [
      { buffering: { timeoutMs: 30_001 } },
      'buffering.timeoutMs must be an integer between 25 and 30000',
    ],
    [
      { schemaVersion: '2020-01-01' },
      'schemaVersion must be one of 2022-07-01, 2022-12-13, 2025-01-29',
    ],
    [{ types: [] }, 'types should not be empty'],
    [{ types: ['platform', 'bogus'] }, 'types contains an invalid value: "bogus"'],
    [
      { destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain/x' } },
      'URI port is not provided',
    ],
    [
      { destination: { protocol: 'HTTP', URI: 'https://sandbox.localdomain:1/' } },
      'URI scheme must be http',
    ],
    [
      { destination: { protocol: 'HTTP', URI: 'http://example.com:80/' } },
      'URI host must be sandbox.localdomain',
    ],
    [{ destination: { protocol: 'UDP' } }, 'destination protocol must be HTTP or TCP'],
  ])('rejects %j', (overrides, message) => {
    const result = validateSubscription(JSON.parse(body(overrides)), 'telemetry');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(message);
  });

  it('joins every problem when several fields are wrong', () => {
    const result = validateSubscription(
      {
        schemaVersion: '2022-07-01',
        types: [],
        destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain' },
      },
      'telemetry',
    );
    expect(!result.ok && result.message).toBe(
      'types should not be empty; URI port is not provided',
    );
  });
});

describe('Telemetry API', () => {
  it('accepts a subscription during Init with 200 "OK"', async () => {
    const { address, id } = await inInit();
    const res = await put(address, TELEMETRY, id, body());
    expect(res.status).toBe(200);
    expect(res.body).toBe('"OK"\n');
  });

  it('answers 400 ValidationError when the body is invalid', async () => {
    const { address, id } = await inInit();
    const res = await put(address, TELEMETRY, id, body({ types: [], buffering: { timeoutMs: 5 } }));
    expect(res.status).toBe(400);
    expect(res.body).toBe(
      errorBody(
        'ValidationError',
        'types should not be empty; buffering.timeoutMs must be an integer between 25 and 30000',
      ),
    );
    const notJson = await put(address, TELEMETRY, id, '{');
    expect(notJson.status).toBe(400);
  });

  it('answers 403 with the §2.6 identifier errors when the identifier is missing, invalid or unknown', async () => {
    const { address } = await inInit();
    const missing = await raw(address, 'PUT', TELEMETRY, { body: body() });
    expect(missing.body).toBe(
      errorBody(
        'Extension.MissingExtensionIdentifier',
        'Missing Lambda-Extension-Identifier header',
      ),
    );
    const unknown = await put(address, TELEMETRY, '0b6f2c1e-4a3b-4c5d-8e9f-0a1b2c3d4e5f', body());
    expect(unknown.body).toBe(
      errorBody(
        'Extension.UnknownExtensionIdentifier',
        'Unknown extension 0b6f2c1e-4a3b-4c5d-8e9f-0a1b2c3d4e5f',
      ),
    );
  });

  it('refuses the Telemetry API after the Logs API for the same extension, and the other way round', async () => {
    const { address, id } = await inInit();
    const logs = await put(address, LOGS, id, body({ schemaVersion: '2021-03-18' }));
    expect(logs.status).toBe(200);
    const telemetry = await put(address, TELEMETRY, id, body());
    expect(telemetry.status).toBe(403);
    expect(JSON.parse(telemetry.body)).toMatchObject({
      errorType: 'Telemetry.SubscriptionConflict',
    });

    const { id: other } = await rawRegister(address, 'internal-one');
    expect((await put(address, TELEMETRY, other, body())).status).toBe(200);
    const back = await put(address, LOGS, other, body({ schemaVersion: '2021-03-18' }));
    expect(JSON.parse(back.body)).toMatchObject({ errorType: 'Logs.SubscriptionConflict' });
  });

  it('answers 403 SubscriptionClosed when Init is over', async () => {
    const box = sandbox({ functionInitMs: 200 });
    void box.init();
    await box.ready();
    const address = box.runtimeApiAddress;
    const { id } = await rawRegister(address, 'internal');
    void raw(address, 'GET', '/2020-01-01/extension/event/next', {
      headers: { 'Lambda-Extension-Identifier': id },
    }).catch(() => undefined);
    await logEntry(box, (entry) => entry.kind === 'init.end');
    const res = await put(address, TELEMETRY, id, body());
    expect(res.status).toBe(403);
    expect(res.body).toBe(
      errorBody('Telemetry.SubscriptionClosed', 'Telemetry API subscription is closed'),
    );
  });

  it('answers the RIE 202 stub when telemetry is off', async () => {
    const { address, id } = await inInit({ telemetry: false });
    const res = await put(address, TELEMETRY, id, body());
    expect(res.status).toBe(202);
    expect(res.body).toBe(errorBody('Telemetry.NotSupported', 'Telemetry API is not supported'));
  });

  it.each([true, false])(
    'delivers Init, invoke and report records in order, each report after the next INVOKE or at SHUTDOWN (freeze %s)',
    async (freeze) => {
      const dir = extensionsDir({
        listener: {
          telemetry: { types: ['platform'], buffering: { timeoutMs: 25 } },
          shutdownWorkMs: 300,
        },
      });
      const box = sandbox({ extensionsDir: dir, freeze });
      await box.init();
      const first = await box.invoke({ durationMs: 20 });
      const second = await box.invoke({ durationMs: 20 });
      await box.shutdown('spindown');

      expect(telemetryTypes(box, 'listener')).toEqual([
        'platform.initStart',
        'platform.telemetrySubscription',
        'platform.initRuntimeDone',
        'platform.extension',
        'platform.initReport',
        'platform.start',
        'platform.runtimeDone',
        'platform.report',
        'platform.start',
        'platform.runtimeDone',
        'platform.report',
      ]);
      const lines = reports(box, 'listener');
      const indexOf = (predicate: (r: Record<string, unknown>) => boolean) =>
        lines.findIndex(predicate);
      const reportOf = (requestId: string) =>
        indexOf((r) =>
          Boolean(
            r.telemetry &&
              (r.telemetry as Batch).some(
                (e) => e.type === 'platform.report' && e.record.requestId === requestId,
              ),
          ),
        );
      const eventOf = (predicate: (e: Record<string, unknown>) => boolean) =>
        indexOf((r) => Boolean(r.event && predicate(r.event as Record<string, unknown>)));
      // On the emulator's side: report N leaves only after INVOKE N+1 was written, the last one after SHUTDOWN.
      const log = box.log;
      const firstReportSent = log.findIndex(
        (e) => e.kind === 'telemetry.deliver' && carriesReport(e.data),
      );
      const secondInvoke = log.findIndex(
        (e) => e.kind === 'event.invoke' && e.requestId === second.requestId,
      );
      expect(firstReportSent).toBeGreaterThan(secondInvoke);
      const lastReportSent = log.findLastIndex(
        (e) => e.kind === 'telemetry.deliver' && carriesReport(e.data),
      );
      expect(lastReportSent).toBeGreaterThan(log.findIndex((e) => e.kind === 'event.shutdown'));
      // And as the extension saw it.
      expect(reportOf(first.requestId)).toBeGreaterThan(
        eventOf((e) => e.requestId === second.requestId),
      );
      expect(reportOf(second.requestId)).toBeGreaterThan(
        eventOf((e) => e.eventType === 'SHUTDOWN'),
      );

      const records = lines.filter((r) => r.telemetry).flatMap((r) => r.telemetry as Batch);
      const firstReport = records.find(
        (e) => e.type === 'platform.report' && e.record.requestId === first.requestId,
      )!;
      expect(firstReport.record).toMatchObject({
        status: 'success',
        metrics: { memorySizeMB: 128, initDurationMs: expect.any(Number) },
        spans: [{ name: 'extensionOverhead' }],
      });
      const secondReport = records.find(
        (e) => e.type === 'platform.report' && e.record.requestId === second.requestId,
      )!;
      expect(secondReport.record.metrics).not.toHaveProperty('initDurationMs');
      expect(records.find((e) => e.type === 'platform.extension')!.record).toEqual({
        name: 'listener',
        state: 'Ready',
        events: ['INVOKE', 'SHUTDOWN'],
      });
    },
  );

  it('reports a suppressed init with phase invoke after a reset', async () => {
    const dir = extensionsDir({
      listener: {
        telemetry: { types: ['platform'], buffering: { timeoutMs: 25 } },
        shutdownWorkMs: 300,
      },
    });
    const box = sandbox({ extensionsDir: dir, timeoutMs: 1000 });
    await box.invoke({ outcome: 'timeout' });
    await box.invoke();
    await box.shutdown('spindown');
    const records = reports(box, 'listener')
      .filter((r) => r.telemetry)
      .flatMap((r) => r.telemetry as Batch);
    const phases = records
      .filter((e) => e.type === 'platform.initStart')
      .map((e) => e.record.phase);
    expect(phases).toEqual(['init', 'invoke']);
    const timeoutReport = records.find(
      (e) => e.type === 'platform.report' && e.record.status === 'timeout',
    );
    expect(timeoutReport?.record).toMatchObject({
      status: 'timeout',
      errorType: 'Sandbox.Timeout',
    });
  });

  it('redelivers a batch when the listener answered 500', async () => {
    const dir = extensionsDir({
      listener: {
        telemetry: { types: ['platform'], buffering: { timeoutMs: 25 }, statuses: [500] },
        shutdownWorkMs: 300,
      },
    });
    const box = sandbox({ extensionsDir: dir, telemetryRetryBaseMs: 20 });
    await box.init();
    await box.invoke();
    await box.shutdown('spindown');
    const batches = reports(box, 'listener').filter((r) => r.telemetry);
    expect(batches[0]!.status).toBe(500);
    expect(batches[1]!.status).toBe(200);
    expect(batches[1]!.telemetry).toEqual(batches[0]!.telemetry);
  });

  it('delivers function log lines as function records when subscribed', async () => {
    const dir = extensionsDir({
      listener: {
        telemetry: { types: ['function'], buffering: { timeoutMs: 25 } },
        shutdownWorkMs: 300,
      },
    });
    const box = sandbox({ extensionsDir: dir });
    const result = await box.invoke();
    await box.shutdown('spindown');
    const records = reports(box, 'listener')
      .filter((r) => r.telemetry)
      .flatMap((r) => r.telemetry as unknown as { type: string; record: string }[]);
    expect(records.every((e) => e.type === 'function')).toBe(true);
    expect(records.map((e) => e.record)).toContain(`[runtime] invoked ${result.requestId}`);
  });
});
