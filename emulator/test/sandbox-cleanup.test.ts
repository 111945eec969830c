import { describe, expect, it } from 'vitest';
import { extensionsDir, raw, sandbox } from './helpers.ts';
import { leakyExtension, logged, vanishes } from './sandbox-helpers.ts';

describe('Sandbox cleanup', () => {
  it('kills every process and stops answering when it is closed, and closing twice is harmless', async () => {
    const dir = extensionsDir({ alpha: { ignoreShutdown: true } });
    const box = sandbox({ extensionsDir: dir, freeze: true });
    await box.invoke();
    const pids = [box.extensions[0]!.pid!];
    const address = box.runtimeApiAddress;
    await box.close();
    await box.close();
    expect(box.state).toBe('closed');
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await expect(raw(address, 'GET', '/2020-01-01/extension/event/next')).rejects.toThrow();
    await expect(box.invoke()).rejects.toThrow(/closed/);
  });

  it('kills a detached grandchild of an extension when it is closed', async () => {
    const { dir, grandchild } = leakyExtension();
    const box = sandbox({ extensionsDir: dir });
    expect((await box.init()).status).toBe('success');
    const pid = grandchild();
    expect(() => process.kill(pid, 0)).not.toThrow();
    await box.close();
    expect(await vanishes(pid)).toBe(true);
  });

  it('kills a detached grandchild when the extension exits cleanly on SHUTDOWN', async () => {
    const { dir, grandchild } = leakyExtension();
    const box = sandbox({ extensionsDir: dir, freeze: true });
    await box.invoke();
    const pid = grandchild();
    const shutdown = await box.shutdown('spindown');
    expect(shutdown.extensions).toMatchObject([{ name: 'leaky', state: 'Exited' }]);
    expect(await vanishes(pid)).toBe(true);
    expect(box.log.some((e) => e.kind === 'process.kill' && e.data?.pids)).toBe(true);
  });

  it('kills an orphaned grandchild at the reset when its extension died while idle', async () => {
    const { dir, grandchild } = leakyExtension();
    const box = sandbox({ extensionsDir: dir });
    await box.invoke();
    const pid = grandchild();
    expect(box.killExtension('leaky')).toBe(true);
    await logged(box, (e) => e.kind === 'process.exit' && e.extension === 'leaky');
    // Re-parented and in a session of its own: only the inherited AWS_LAMBDA_RUNTIME_API ties it to the sandbox.
    const failed = await box.invoke();
    expect(failed).toMatchObject({ status: 'failure', reset: true });
    expect(await vanishes(pid)).toBe(true);
  });
});
