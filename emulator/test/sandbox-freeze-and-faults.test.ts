import { describe, expect, it } from 'vitest';
import { extensionsDir, sandbox } from './helpers.ts';
import { events, overheadFromLog, processState, reachesState } from './sandbox-helpers.ts';

describe('Sandbox freeze and fault injection', () => {
  it('stops every process between invokes when freeze is on, so extension timers do not fire', async () => {
    const dir = extensionsDir({ ticker: { tickMs: 20 } });
    const box = sandbox({ extensionsDir: dir, freeze: true });
    await box.invoke();
    const pid = box.extensions[0]!.pid!;
    expect(await reachesState(pid, 'T')).toBe('T');
    await box.idle(800);
    await box.invoke();
    await box.shutdown('spindown');
    expect(box.log.filter((e) => e.kind === 'freeze').length).toBeGreaterThanOrEqual(2);
    expect(box.log.filter((e) => e.kind === 'thaw').length).toBeGreaterThanOrEqual(1);
    const [first, second] = events(box, 'ticker');
    // 800 ms idle at one tick per 20 ms would be ~40 ticks; frozen, at most the overdue one fires on thaw.
    expect((second!.ticks as number) - (first!.ticks as number)).toBeLessThanOrEqual(5);
  });

  it('lets extension timers run between invokes when freeze is off', async () => {
    const dir = extensionsDir({ ticker: { tickMs: 20 } });
    const box = sandbox({ extensionsDir: dir, freeze: false });
    await box.invoke();
    expect(processState(box.extensions[0]!.pid!)).not.toBe('T');
    await box.idle(800);
    await box.invoke();
    await box.shutdown('spindown');
    const [first, second] = events(box, 'ticker');
    expect((second!.ticks as number) - (first!.ticks as number)).toBeGreaterThan(5);
  });

  it('reports extensionOverhead when an extension works after the runtime finished', async () => {
    const dir = extensionsDir({ worker: { invokeWorkMs: 300 } });
    const box = sandbox({ extensionsDir: dir });
    const result = await box.invoke({ durationMs: 0 });
    expect(result.status).toBe('success');
    expect(result.durationMs).toBeGreaterThanOrEqual(300);
    expect(result.responseLatencyMs).toBeLessThan(result.durationMs);
    expect(result.extensionOverheadMs).toBeCloseTo(overheadFromLog(box, 'worker'), 0);
    expect(result.extensionOverheadMs).toBeGreaterThan(0);
  });

  it('times out the invoke when the INVOKE to an extension is withheld', async () => {
    const dir = extensionsDir({ starved: {} });
    const box = sandbox({ extensionsDir: dir, timeoutMs: 1000, shutdownBudgetMs: 300 });
    await box.init();
    box.withholdEvents('starved');
    const result = await box.invoke();
    expect(result).toMatchObject({ status: 'timeout', reset: true });
    box.releaseEvents('starved');
  });

  it('delays the INVOKE to an extension when asked', async () => {
    const dir = extensionsDir({ late: {} });
    const box = sandbox({ extensionsDir: dir });
    await box.init();
    box.delayEvents('late', 300);
    const result = await box.invoke();
    expect(result.status).toBe('success');
    expect(result.extensionOverheadMs).toBeCloseTo(overheadFromLog(box, 'late'), 0);
    const delivered = box.log.find((e) => e.kind === 'event.invoke')!;
    const started = box.log.find((e) => e.kind === 'invoke.start')!;
    expect(delivered.mono - started.mono).toBeGreaterThanOrEqual(290);
  });
});
