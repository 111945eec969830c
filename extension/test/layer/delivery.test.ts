import { describe, expect, it } from 'vitest';
import {
  eventsOf,
  expectGapless,
  holdTimes,
  layerSandbox,
  logOf,
} from '../helpers/layer-sandbox.ts';

describe('delivery from the layer under the emulator', () => {
  it('delivers every event exactly once after dedup when the collector is down for several invokes', async () => {
    const { sandbox, receiver } = await layerSandbox();
    await sandbox.invoke({ durationMs: 10 });
    await receiver.down();
    for (let i = 0; i < 4; i++) await sandbox.invoke({ durationMs: 10 });
    await receiver.up();
    await sandbox.invoke({ durationMs: 10 });
    await sandbox.invoke({ durationMs: 10 });
    await sandbox.shutdown('spindown');
    await receiver.waitFor(() => receiver.ofType('exit').length === 1, 10_000, 'exit record');
    const envId = logOf(sandbox.log, 'extension.register')[0]!.extensionId!;
    const events = eventsOf(receiver.events, envId);
    expectGapless(events);
    expect(events.filter((event) => event.type === 'invoke')).toHaveLength(7);
    expect(events.at(-1)).toMatchObject({ type: 'exit', dropped: 0 });
    expect(events.filter((event) => event.type === 'dropped')).toEqual([]);
    // Every id arrived; some may have arrived twice, but only as re-sends of unacknowledged batches.
    const receipts = [...receiver.receipts.values()];
    expect(receipts.every((count) => count >= 1)).toBe(true);
    expect(receiver.byId.size).toBe(events.length);
  });

  it('never holds an invoke much longer than the bound when the collector answers after 2 s', async () => {
    const bound = 50;
    const { sandbox, receiver } = await layerSandbox({
      env: { LIFELINE_INVOKE_WAIT_MS: String(bound) },
    });
    await sandbox.invoke({ durationMs: 5 });
    receiver.mode = { kind: 'slow', delayMs: 2000 };
    for (let i = 0; i < 4; i++) await sandbox.invoke({ durationMs: 5 });
    receiver.mode = { kind: 'ok' };
    await sandbox.shutdown('spindown');
    const holds = holdTimes(sandbox.log);
    expect(holds).toHaveLength(5);
    // Behavioural bound: bound + generous slack for a loaded machine, far below the 2 s the collector takes.
    for (const hold of holds) expect(hold).toBeLessThan(bound + 750);
    await receiver.waitFor(() => receiver.ofType('exit').length === 1, 10_000, 'exit record');
    expectGapless(
      eventsOf(receiver.events, logOf(sandbox.log, 'extension.register')[0]!.extensionId!),
    );
  });

  it('hands the old environment’s leftovers to the new one when the sandbox resets after a timeout', async () => {
    const { sandbox, receiver } = await layerSandbox();
    await sandbox.invoke({ durationMs: 5 });
    await receiver.down();
    await sandbox.invoke({ durationMs: 5 });
    const timedOut = await sandbox.invoke({ outcome: 'timeout' });
    expect(timedOut.reset).toBe(true);
    expect(timedOut.shutdown?.extensions[0]).toMatchObject({ exitCode: 0, state: 'Exited' });
    await receiver.up();
    await sandbox.invoke({ durationMs: 5 });
    await sandbox.shutdown('spindown');

    const [oldEnv, newEnv] = logOf(sandbox.log, 'extension.register').map(
      (entry) => entry.extensionId!,
    );
    expect(oldEnv).toBeTruthy();
    expect(newEnv).toBeTruthy();
    expect(newEnv).not.toBe(oldEnv);
    await receiver.waitFor(() => receiver.ofType('exit').length === 2, 10_000, 'both exit records');
    const oldEvents = eventsOf(receiver.events, oldEnv!);
    const newEvents = eventsOf(receiver.events, newEnv!);
    expectGapless(oldEvents);
    expectGapless(newEvents);
    expect(oldEvents.map((event) => event.type)).toEqual(
      expect.arrayContaining(['register', 'shutdown', 'exit']),
    );
    expect(oldEvents.filter((event) => event.type === 'invoke')).toHaveLength(3);
    const oldRegister = oldEvents[0] as { sandboxId: string };
    expect(newEvents[0]).toMatchObject({
      type: 'register',
      previousEnvId: oldEnv,
      sandboxId: oldRegister.sandboxId,
    });
    expect(oldEvents.at(-1)).toMatchObject({ type: 'exit', dropped: 0 });
    // The old environment's leftovers went out through the new process, before its own events.
    const firstAcked = (id: string) =>
      receiver.batches.findIndex(
        (batch) => batch.status === 200 && batch.events.some((event) => event.id === id),
      );
    const oldExitBatch = firstAcked(`${oldEnv}:${oldEvents.length - 1}`);
    const newRegisterBatch = firstAcked(`${newEnv}:0`);
    expect(oldExitBatch).toBeGreaterThanOrEqual(0);
    expect(oldExitBatch).toBeLessThanOrEqual(newRegisterBatch);
  });

  it('keeps the long poll open when no event comes for longer than a client timeout would allow', async () => {
    const { sandbox, receiver } = await layerSandbox({
      sandbox: { freeze: false, timeoutMs: 20_000 },
    });
    await sandbox.invoke({ durationMs: 5 });
    sandbox.withholdEvents('lifeline');
    const held = sandbox.invoke({ durationMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    sandbox.releaseEvents('lifeline');
    const second = await held;
    expect(second.status).toBe('success');
    await sandbox.invoke({ durationMs: 5 });
    await sandbox.shutdown('spindown');
    await receiver.waitFor(() => receiver.ofType('exit').length === 1, 10_000, 'exit record');
    expect(receiver.ofType('invoke').map((event) => event.requestId)).toContain(second.requestId);
    expect(
      logOf(sandbox.log, 'extension.next').filter((entry) => entry.statusCode === 403),
    ).toEqual([]);
  });
});
