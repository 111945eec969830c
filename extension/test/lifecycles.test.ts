import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlatformEvent, RegisterEvent } from '@lifeline/protocol';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runExtension } from '../src/main.ts';
import { freshUuid, RestoreWatch } from '../src/restore.ts';
import { FakeRuntimeApi } from './helpers/fake-runtime-api.ts';
import { startReceiver } from './helpers/receiver.ts';

async function run(env: Record<string, string> = {}) {
  const api = new FakeRuntimeApi();
  await api.start();
  onTestFinished(() => api.stop());
  const receiver = await startReceiver(onTestFinished);
  const spoolDir = mkdtempSync(join(tmpdir(), 'lifeline-lifecycle-'));
  onTestFinished(() => rmSync(spoolDir, { recursive: true, force: true }));
  const exitCode = runExtension({
    env: {
      AWS_LAMBDA_RUNTIME_API: api.address,
      LIFELINE_COLLECTOR_URL: receiver.url,
      LIFELINE_TOKEN: 'token-1234',
      LIFELINE_TELEMETRY_PORT: '0',
      LIFELINE_TELEMETRY_HOST: '127.0.0.1',
      LIFELINE_SPOOL_DIR: spoolDir,
      ...env,
    },
    write: () => {},
  });
  await api.waitForCalls('event/next', 1);
  const post = async (type: string, record: Record<string, unknown>) => {
    const uri = api.subscription.destination.URI.replace('sandbox.localdomain', '127.0.0.1');
    const res = await fetch(uri, {
      method: 'POST',
      body: JSON.stringify([{ time: new Date().toISOString(), type, record }]),
    });
    await res.text();
  };
  const invoke = (requestId: string, deadlineMs = Date.now() + 3000) =>
    api.send({ eventType: 'INVOKE', deadlineMs, requestId, invokedFunctionArn: 'arn' });
  const shutdown = () =>
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'spindown' });
  return { api, receiver, exitCode, post, invoke, shutdown };
}

const platformOf = (events: readonly { type: string }[], recordType: string) =>
  (events as PlatformEvent[]).filter(
    (event) => event.type === 'platform' && event.recordType === recordType,
  );

describe('Lambda Managed Instances', () => {
  it('registers for SHUTDOWN only, subscribes with 2025-01-29 and delivers concurrent invokes live', async () => {
    const { api, receiver, exitCode, post, shutdown } = await run({
      AWS_LAMBDA_INITIALIZATION_TYPE: 'lambda-managed-instances',
    });
    expect(api.callsTo('register').map((call) => JSON.parse(call.body))).toEqual([
      { events: ['SHUTDOWN'] },
    ]);
    expect(api.subscription).toMatchObject({
      schemaVersion: '2025-01-29',
      buffering: { timeoutMs: 100 },
    });
    // Four invokes at once: their records interleave in the platform's batches.
    for (const id of ['a', 'b', 'c', 'd']) await post('platform.start', { requestId: id });
    for (const id of ['a', 'b', 'c'])
      await post('platform.report', {
        requestId: id,
        status: 'success',
        metrics: { durationMs: 5 },
      });
    // No event came from /event/next: the records went out on their own.
    await receiver.waitFor(
      () => platformOf(receiver.events, 'platform.report').length === 3,
      5000,
      'three reports',
    );
    expect(api.callsTo('event/next')).toHaveLength(1);
    shutdown();
    // The fourth invoke is still running at SHUTDOWN: its report is waited for.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await post('platform.report', {
      requestId: 'd',
      status: 'success',
      metrics: { durationMs: 9 },
    });
    expect(await exitCode).toBe(0);
    const reports = platformOf(receiver.events, 'platform.report');
    expect(
      reports.map((event) => (event.record as { requestId: string }).requestId).sort(),
    ).toEqual(['a', 'b', 'c', 'd']);
    const exit = receiver.ofType('exit')[0]!;
    expect(reports.every((event) => event.seq < exit.seq)).toBe(true);
    expect(receiver.ofType('register')[0]).toMatchObject({
      registeredEvents: ['SHUTDOWN'],
      initializationType: 'lambda-managed-instances',
    });
    expect(receiver.ofType('invoke')).toHaveLength(0);
  });
});

describe('SnapStart', () => {
  /** One copy of the snapshot process: Init (snapshot) → restore → invokes → shutdown. */
  async function restoredCopy(env: Record<string, string>, restoreRecord: boolean) {
    const copy = await run({
      AWS_LAMBDA_INITIALIZATION_TYPE: 'snap-start',
      LIFELINE_LIVE_INVOKE_END: 'off',
      ...env,
    });
    const { api, receiver, exitCode, post, invoke, shutdown } = copy;
    if (env.LIFELINE_TELEMETRY !== 'off') {
      await post('platform.initStart', { initializationType: 'snap-start', phase: 'init' });
      await receiver.waitFor(() => receiver.events.length >= 2, 5000, 'init records');
    } else await receiver.waitFor(() => receiver.events.length >= 1, 5000, 'register');
    if (restoreRecord)
      await post('platform.restoreStart', { functionName: 'fake-fn', functionVersion: '1' });
    invoke('r1');
    await api.waitForCalls('event/next', 2);
    // Telemetry may bring the restore's record after the first INVOKE: still the same restore.
    if (!restoreRecord && env.LIFELINE_TELEMETRY !== 'off')
      await post('platform.restoreStart', { functionName: 'fake-fn', functionVersion: '1' });
    invoke('r2');
    await api.waitForCalls('event/next', 3);
    shutdown();
    expect(await exitCode).toBe(0);
    return copy;
  }

  for (const [sign, env, restoreRecord] of [
    ['platform.restoreStart', {}, true],
    ['the first INVOKE (restoreStart after it)', {}, false],
    ['the first INVOKE, without telemetry', { LIFELINE_TELEMETRY: 'off' }, false],
  ] as const) {
    it(`mints one fresh envId at ${sign}, linked to the snapshot, and keeps the INIT in the snapshot`, async () => {
      const { api, receiver } = await restoredCopy(env, restoreRecord);
      const snapshot = api.extensionId;
      const registers = receiver.ofType('register') as RegisterEvent[];
      expect(registers).toHaveLength(2);
      const [original, restored] = registers as [RegisterEvent, RegisterEvent];
      expect(original).toMatchObject({ envId: snapshot, seq: 0 });
      expect(original.restoredFrom).toBeUndefined();
      expect(restored.envId).not.toBe(snapshot);
      expect(restored).toMatchObject({
        seq: 0,
        restoredFrom: snapshot,
        initializationType: 'snap-start',
        startToRegisteredMs: 0,
      });
      expect(restored.startToReadyMs).toBeUndefined();
      expect(restored.sandboxId).not.toBe(original.sandboxId);
      for (const initRecord of platformOf(receiver.events, 'platform.initStart'))
        expect(initRecord.envId).toBe(snapshot);
      for (const restoreStart of platformOf(receiver.events, 'platform.restoreStart'))
        expect(restoreStart.envId).toBe(restored.envId);
      const invokes = receiver.ofType('invoke');
      expect(invokes.map((event) => event.envId)).toEqual([restored.envId, restored.envId]);
      // Each environment's seqs are gapless from 0, the shutdown and exit in the restored one.
      for (const envId of [snapshot, restored.envId]) {
        const seqs = receiver.events
          .filter((event) => event.envId === envId)
          .map((event) => event.seq)
          .sort((a, b) => a - b);
        expect(seqs).toEqual(seqs.map((_, index) => index));
      }
      expect(receiver.ofType('exit')[0]?.envId).toBe(restored.envId);
    });
  }

  it('gives two copies of one snapshot distinct envIds', async () => {
    const copies = await Promise.all([restoredCopy({}, true), restoredCopy({}, false)]);
    const restoredIds = copies.map(
      ({ receiver }) => (receiver.ofType('register') as RegisterEvent[])[1]?.envId,
    );
    expect(new Set(restoredIds).size).toBe(2);
  });

  it('does not mint anything on a function that is not SnapStart', async () => {
    const { receiver, exitCode, post, invoke, api, shutdown } = await run();
    await post('platform.restoreStart', { functionName: 'fake-fn', functionVersion: '1' });
    invoke('r1');
    await api.waitForCalls('event/next', 2);
    shutdown();
    expect(await exitCode).toBe(0);
    expect(receiver.ofType('register')).toHaveLength(1);
  });
});

describe('restore identities', () => {
  it('sees one restore per process, on SnapStart functions only', () => {
    const watch = new RestoreWatch(true);
    expect(watch.sign()).toBe(true);
    expect(watch.sign()).toBe(false);
    expect(new RestoreWatch(false).sign()).toBe(false);
  });

  it('mints well-formed, distinct v4 UUIDs', () => {
    const ids = new Set(Array.from({ length: 100 }, () => freshUuid()));
    expect(ids.size).toBe(100);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('tenant isolation', () => {
  it('passes tenantId through in platform.start, runtimeDone and report', async () => {
    const { api, receiver, exitCode, post, invoke, shutdown } = await run({
      LIFELINE_LIVE_INVOKE_END: 'off',
    });
    invoke('r1');
    await api.waitForCalls('event/next', 2);
    await post('platform.start', { requestId: 'r1', tenantId: 'tenant-blue' });
    await post('platform.runtimeDone', {
      requestId: 'r1',
      status: 'success',
      tenantId: 'tenant-blue',
    });
    shutdown();
    await post('platform.report', { requestId: 'r1', status: 'success', tenantId: 'tenant-blue' });
    expect(await exitCode).toBe(0);
    const records = (receiver.ofType('platform') as PlatformEvent[]).map(
      (event) => event.record as Record<string, unknown>,
    );
    expect(records).toHaveLength(3);
    expect(records.every((record) => record.tenantId === 'tenant-blue')).toBe(true);
  });
});

describe('the live invoke end', () => {
  it('waits for platform.runtimeDone and its delivery before event/next when invokes are rare', async () => {
    const { api, receiver, exitCode, post, invoke, shutdown } = await run();
    await post('platform.initStart', { initializationType: 'on-demand', phase: 'init' });
    invoke('r1');
    await post('platform.start', { requestId: 'r1' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(api.callsTo('event/next')).toHaveLength(1);
    const postedAt = Date.now();
    await post('platform.runtimeDone', { requestId: 'r1', status: 'success' });
    const [, next] = await api.waitForCalls('event/next', 2);
    const runtimeDone = platformOf(receiver.events, 'platform.runtimeDone')[0];
    expect(runtimeDone).toBeDefined();
    const acked = receiver.batches.find((batch) => batch.events.includes(runtimeDone!));
    expect(acked!.at).toBeLessThanOrEqual(next!.at);
    expect(next!.at).toBeGreaterThanOrEqual(postedAt);
    shutdown();
    expect(await exitCode).toBe(0);
  });

  it('does not wait for a hot function (auto: the next invoke came within a second)', async () => {
    const { api, exitCode, post, invoke, shutdown } = await run();
    await post('platform.initStart', { initializationType: 'on-demand', phase: 'init' });
    invoke('r1');
    await post('platform.runtimeDone', { requestId: 'r1', status: 'success' });
    await api.waitForCalls('event/next', 2);
    invoke('r2');
    // No runtimeDone for r2: the extension goes back to event/next anyway.
    await api.waitForCalls('event/next', 3, 2000);
    shutdown();
    expect(await exitCode).toBe(0);
  });

  it('never waits when off', async () => {
    const { api, exitCode, post, invoke, shutdown } = await run({
      LIFELINE_LIVE_INVOKE_END: 'off',
    });
    await post('platform.initStart', { initializationType: 'on-demand', phase: 'init' });
    invoke('r1');
    await api.waitForCalls('event/next', 2, 2000);
    expect(api.subscription.buffering.timeoutMs).toBe(100);
    shutdown();
    expect(await exitCode).toBe(0);
  });

  it('gives up before the deadline when runtimeDone never comes, and stops waiting from then on', async () => {
    const { api, exitCode, post, invoke, shutdown } = await run({ LIFELINE_LIVE_INVOKE_END: 'on' });
    expect(api.subscription.buffering.timeoutMs).toBe(25);
    await post('platform.initStart', { initializationType: 'on-demand', phase: 'init' });
    const deadline = Date.now() + 600;
    invoke('r1', deadline);
    const [, next] = await api.waitForCalls('event/next', 2);
    // It waited up to the guard before the deadline (not the 10 s cap); slack for a loaded machine after it.
    expect(next!.at).toBeGreaterThanOrEqual(deadline - 150);
    expect(next!.at).toBeLessThan(deadline + 2000);
    invoke('r2', Date.now() + 60_000);
    await api.waitForCalls('event/next', 3, 2000);
    // The missed record turns up after all: the pipe works, the live end is back.
    await post('platform.runtimeDone', { requestId: 'r1', status: 'success' });
    invoke('r3', Date.now() + 60_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(api.callsTo('event/next')).toHaveLength(3);
    await post('platform.runtimeDone', { requestId: 'r3', status: 'success' });
    await api.waitForCalls('event/next', 4);
    shutdown();
    expect(await exitCode).toBe(0);
  });
});
