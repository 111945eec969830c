import { describe, expect, it } from 'vitest';
import { extensionsDir, reports, sandbox } from './helpers.ts';
import { events, registrations } from './sandbox-helpers.ts';

describe('Sandbox reset', () => {
  it('resets with reason timeout and re-inits with new identifiers in the same tmpDir when an invoke times out', async () => {
    const dir = extensionsDir({ alpha: {} });
    const box = sandbox({ extensionsDir: dir, timeoutMs: 1500 });
    await box.init();
    const timedOut = await box.invoke({ outcome: 'timeout' });
    expect(timedOut).toMatchObject({
      status: 'timeout',
      errorType: 'Sandbox.Timeout',
      reset: true,
    });
    expect(timedOut.shutdown?.reason).toBe('timeout');
    const after = await box.invoke({ durationMs: 10 });
    await box.shutdown('spindown');
    expect(after).toMatchObject({
      status: 'success',
      coldStart: true,
      init: { phase: 'invoke', status: 'success' },
    });

    const regs = registrations(box, 'alpha');
    expect(regs).toHaveLength(2);
    expect(regs[0]!.registered).not.toBe(regs[1]!.registered);
    expect(regs[0]!.pid).not.toBe(regs[1]!.pid);
    // The second process found the first identifier in the kept /tmp.
    expect(regs[1]!.previous).toEqual([regs[0]!.registered]);
    const shutdownEvent = events(box, 'alpha').find((r) => r.event.eventType === 'SHUTDOWN')!;
    expect(shutdownEvent.event.shutdownReason).toBe('timeout');
    expect(box.generation).toBe(2);
  });

  it('resets with reason failure when the runtime crashes mid-invoke', async () => {
    const dir = extensionsDir({ alpha: {} });
    const box = sandbox({ extensionsDir: dir });
    const crashed = await box.invoke({ outcome: 'crash' });
    expect(crashed).toMatchObject({
      status: 'failure',
      errorType: 'Runtime.ExitError',
      reset: true,
      coldStart: true,
    });
    expect(crashed.shutdown?.reason).toBe('failure');
    expect(events(box, 'alpha').at(-1)!.event.shutdownReason).toBe('failure');
  });

  it('resets with failure and new identifiers when an extension crashes mid-invoke', async () => {
    const dir = extensionsDir({ crasher: { crashOnInvoke: 1 }, steady: {} });
    const box = sandbox({ extensionsDir: dir });
    await box.init();
    const first = await box.invoke({ durationMs: 200 });
    expect(first).toMatchObject({ status: 'failure', errorType: 'Extension.Crash', reset: true });
    expect(first.errorMessage).toContain('crasher: exit status 3');
    expect(events(box, 'steady').at(-1)!.event).toMatchObject({
      eventType: 'SHUTDOWN',
      shutdownReason: 'failure',
    });
    const crasherExit = first.shutdown!.extensions.find((e) => e.name === 'crasher')!;
    expect(crasherExit).toMatchObject({ exitCode: 3, state: 'ShutdownFailed' });
    const second = await box.invoke();
    await box.shutdown('spindown');
    // The new crasher process crashes again on its first invoke, which is still a fresh environment.
    expect(second.init).toMatchObject({ phase: 'invoke', status: 'success' });
    const crasherIds = registrations(box, 'crasher').map((r) => r.registered);
    const steadyIds = registrations(box, 'steady').map((r) => r.registered);
    expect(new Set(crasherIds).size).toBe(2);
    expect(new Set(steadyIds).size).toBe(2);
    expect(registrations(box, 'steady')[1]!.previous).toEqual([steadyIds[0]]);
  });

  it('fails the invoke with Extension.ExitError when an extension calls exit/error and exits', async () => {
    const dir = extensionsDir({ quitter: { exitErrorOnInvoke: 1 } });
    const box = sandbox({ extensionsDir: dir });
    const result = await box.invoke();
    expect(result).toMatchObject({
      status: 'failure',
      errorType: 'Extension.ExitError',
      reset: true,
    });
    expect(reports(box, 'quitter').find((r) => r.exitError)?.exitError).toBe(202);
  });

  it('crashes an extension on demand and resets on the next invoke', async () => {
    const dir = extensionsDir({ victim: {} });
    const box = sandbox({ extensionsDir: dir, freeze: true });
    await box.invoke();
    expect(box.killExtension('victim')).toBe(true);
    await new Promise<void>((resolve) => {
      const check = () =>
        box.log.some((e) => e.kind === 'process.exit' && e.extension === 'victim');
      if (check()) resolve();
      else {
        const stop = box.onLog(() => {
          if (check()) {
            stop();
            resolve();
          }
        });
      }
    });
    const failed = await box.invoke();
    const next = await box.invoke();
    await box.shutdown('spindown');
    // Production surfaces a crash while frozen at the next thaw: that invoke fails and the environment resets.
    expect(failed).toMatchObject({
      status: 'failure',
      errorType: 'Extension.Crash',
      reset: true,
      shutdown: { reason: 'failure' },
    });
    expect(failed.errorMessage).toContain('victim');
    expect(next).toMatchObject({ status: 'success', coldStart: true, init: { phase: 'invoke' } });
    expect(box.log.find((e) => e.kind === 'reset')?.shutdownReason).toBe('failure');
    expect(registrations(box, 'victim')).toHaveLength(2);
  });
});
