import { describe, expect, it, onTestFinished } from 'vitest';
import { LambdaFunction } from '../src/index.ts';
import { extensionsDir } from './helpers.ts';

describe('LambdaFunction', () => {
  it('scales out to new sandboxes when invokes overlap and reuses idle ones', async () => {
    const fn = new LambdaFunction({
      extensionsDir: extensionsDir({ alpha: {} }),
      maxConcurrency: 2,
      logOutput: false,
    });
    onTestFinished(async () => {
      await fn.close();
    });
    const results = await Promise.all([
      fn.invoke({ durationMs: 300 }),
      fn.invoke({ durationMs: 300 }),
      fn.invoke({ durationMs: 10 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success']);
    expect(fn.sandboxes).toHaveLength(2);
    expect(new Set(results.map((r) => r.sandboxId)).size).toBe(2);
    expect(results.filter((r) => r.coldStart)).toHaveLength(2);
    const again = await fn.invoke();
    expect(again.coldStart).toBe(false);
    const shutdowns = await fn.close('spindown');
    expect(shutdowns.map((s) => s.reason)).toEqual(['spindown', 'spindown']);
    expect(shutdowns.flatMap((s) => s.extensions.map((e) => e.state))).toEqual([
      'Exited',
      'Exited',
    ]);
    expect(fn.log.some((e) => e.kind === 'shutdown.end')).toBe(true);
  });

  it('spins an idle sandbox down when idleShutdownMs passes without an invoke', async () => {
    const fn = new LambdaFunction({ maxConcurrency: 1, idleShutdownMs: 200, logOutput: false });
    onTestFinished(async () => {
      await fn.close();
    });
    const first = await fn.invoke();
    await new Promise<void>((resolve) => {
      const check = () => (fn.shutdowns.length > 0 ? resolve() : setTimeout(check, 20));
      check();
    });
    expect(fn.shutdowns[0]?.reason).toBe('spindown');
    expect(fn.sandboxes).toHaveLength(0);
    const second = await fn.invoke();
    expect(second.coldStart).toBe(true);
    expect(second.sandboxId).not.toBe(first.sandboxId);
  });

  it('fails the next invoke with Extension.Crash and then re-inits when an extension died while idle', async () => {
    const fn = new LambdaFunction({
      extensionsDir: extensionsDir({ victim: {} }),
      maxConcurrency: 1,
      logOutput: false,
    });
    onTestFinished(async () => {
      await fn.close();
    });
    await fn.invoke();
    const box = fn.sandboxes[0]!;
    const exited = new Promise<void>((resolve) => {
      const stop = box.onLog((entry) => {
        if (entry.kind === 'process.exit' && entry.extension === 'victim') {
          stop();
          resolve();
        }
      });
    });
    expect(box.killExtension('victim', 'SIGKILL')).toBe(true);
    await exited;
    const failed = await fn.invoke();
    expect(failed).toMatchObject({
      status: 'failure',
      errorType: 'Extension.Crash',
      errorMessage: 'victim: signal SIGKILL',
      reset: true,
      shutdown: { reason: 'failure' },
    });
    expect(fn.log.find((e) => e.kind === 'reset')).toMatchObject({
      shutdownReason: 'failure',
      errorType: 'Extension.Crash',
    });
    const next = await fn.invoke();
    expect(next).toMatchObject({ status: 'success', coldStart: true, sandboxId: failed.sandboxId });
  });

  it('rejects a bad maxConcurrency with a clear error', () => {
    expect(() => new LambdaFunction({ maxConcurrency: 0 })).toThrow(/maxConcurrency/);
  });
});
