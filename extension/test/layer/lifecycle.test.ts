import type { LifelineEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { eventsOf, expectGapless, layerSandbox, logOf } from '../helpers/layer-sandbox.ts';

type Ending = 'spindown' | 'timeout' | 'failure';

async function lifecycle(ending: Ending) {
  const { sandbox, receiver } = await layerSandbox();
  const invokes = [];
  for (let i = 0; i < 3; i++) invokes.push(await sandbox.invoke({ durationMs: 20 }));
  let shutdown: Awaited<ReturnType<typeof sandbox.shutdown>> | undefined;
  if (ending === 'spindown') shutdown = await sandbox.shutdown('spindown');
  else {
    const last = await sandbox.invoke({ outcome: ending === 'timeout' ? 'timeout' : 'crash' });
    expect(last.reset).toBe(true);
    invokes.push(last);
    shutdown = last.shutdown;
  }
  expect(shutdown?.reason).toBe(ending);
  expect(shutdown?.extensions).toEqual([
    expect.objectContaining({ name: 'lifeline', exitCode: 0, state: 'Exited' }),
  ]);
  const envId = logOf(sandbox.log, 'extension.register')[0]?.extensionId;
  expect(envId).toBeTruthy();
  await receiver.waitFor(() => receiver.ofType('exit').length === 1, 10_000, 'exit record');
  const events = eventsOf(receiver.events, envId!);
  expectGapless(events);
  return { events, invokes, shutdown: shutdown!, sandbox };
}

function ofType<T extends LifelineEvent['type']>(events: LifelineEvent[], type: T) {
  return events.filter((event) => event.type === type) as Extract<LifelineEvent, { type: T }>[];
}

describe('the layer under the emulator', () => {
  for (const ending of ['spindown', 'timeout', 'failure'] as const) {
    it(`records register, invokes, platform records, shutdown and exit when the environment ends by ${ending}`, async () => {
      const { events, invokes, shutdown } = await lifecycle(ending);
      const [register] = events;
      expect(register).toMatchObject({
        type: 'register',
        seq: 0,
        functionName: 'fn',
        accountId: '123456789012',
        region: 'eu-west-1',
        memorySizeMb: 128,
        architecture: expect.stringMatching(/^(x86_64|arm64)$/),
        telemetry: 'subscribed',
        extensionName: 'lifeline',
      });
      const invokeEvents = ofType(events, 'invoke');
      expect(invokeEvents.map((event) => [event.requestId, event.deadlineMs])).toEqual(
        invokes.map((invoke) => [invoke.requestId, invoke.deadlineMs]),
      );
      expect(invokeEvents.every((event) => event.traceId?.startsWith('Root='))).toBe(true);
      const platform = ofType(events, 'platform');
      for (const invoke of invokes) {
        const forInvoke = platform.filter(
          (event) =>
            typeof event.record === 'object' && event.record.requestId === invoke.requestId,
        );
        expect(forInvoke.map((event) => event.recordType)).toEqual(
          expect.arrayContaining(['platform.start', 'platform.report']),
        );
      }
      expect(platform.some((event) => event.recordType === 'platform.initStart')).toBe(true);
      const [shutdownEvent] = ofType(events, 'shutdown');
      expect(shutdownEvent).toMatchObject({
        shutdownReason: ending,
        deadlineMs: shutdown.deadlineMs,
      });
      const exit = events.at(-1);
      expect(exit).toMatchObject({
        type: 'exit',
        dropped: 0,
        pending: 0,
        delivered: events.length - 1,
      });
      expect((exit as { shutdownMs: number }).shutdownMs).toBeLessThan(
        shutdown.deadlineMs - shutdownEvent!.time,
      );
    });
  }

  it('runs from the unpacked layer zip when Lambda extracts it', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, chmodSync, readFileSync, rmSync } = await import(
      'node:fs'
    );
    const { tmpdir } = await import('node:os');
    const { join, dirname } = await import('node:path');
    const { inject, onTestFinished } = await import('vitest');
    const { readZip } = await import('../helpers/zip-reader.ts');
    const opt = mkdtempSync(join(tmpdir(), 'lifeline-opt-'));
    onTestFinished(() => rmSync(opt, { recursive: true, force: true }));
    for (const entry of readZip(readFileSync(inject('layerZip')))) {
      const path = join(opt, entry.name);
      if (entry.name.endsWith('/')) mkdirSync(path, { recursive: true });
      else {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, entry.data);
        chmodSync(path, entry.mode & 0o777);
      }
    }
    const { sandbox, receiver } = await layerSandbox({ extensionsDir: join(opt, 'extensions') });
    const invoke = await sandbox.invoke({ durationMs: 5 });
    await sandbox.shutdown('spindown');
    await receiver.waitFor(() => receiver.ofType('exit').length === 1, 10_000, 'exit record');
    expect(receiver.ofType('invoke').map((event) => event.requestId)).toEqual([invoke.requestId]);
  });
});
