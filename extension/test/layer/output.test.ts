import { describe, expect, it } from 'vitest';
import { layerSandbox, logOf } from '../helpers/layer-sandbox.ts';

const linesOf = (output: string) => output.split('\n').filter((line) => line.trim() !== '');

describe('the layer’s own output under the emulator', () => {
  it('passes every event through, says once why and exits 0 when no collector URL is set', async () => {
    const { sandbox, receiver } = await layerSandbox({ env: { LIFELINE_COLLECTOR_URL: '' } });
    for (let i = 0; i < 3; i++)
      expect((await sandbox.invoke({ durationMs: 5 })).status).toBe('success');
    const shutdown = await sandbox.shutdown('spindown');
    expect(shutdown.extensions[0]).toMatchObject({
      name: 'lifeline',
      exitCode: 0,
      state: 'Exited',
    });
    expect(logOf(sandbox.log, 'extension.register')[0]?.events).toEqual(['INVOKE', 'SHUTDOWN']);
    expect(logOf(sandbox.log, 'telemetry.subscribe')).toEqual([]);
    const lines = linesOf(sandbox.output('lifeline'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('LIFELINE_COLLECTOR_URL');
    expect(receiver.batches).toEqual([]);
  });

  it('writes no line per event, even at debug level and with the collector down', async () => {
    const { sandbox, receiver } = await layerSandbox({ env: { LIFELINE_LOG_LEVEL: 'debug' } });
    for (let i = 0; i < 5; i++) await sandbox.invoke({ durationMs: 2 });
    const healthy = linesOf(sandbox.output('lifeline')).length;
    for (let i = 0; i < 25; i++) await sandbox.invoke({ durationMs: 2 });
    expect(linesOf(sandbox.output('lifeline'))).toHaveLength(healthy);

    await receiver.down();
    for (let i = 0; i < 5; i++) await sandbox.invoke({ durationMs: 2 });
    const failing = linesOf(sandbox.output('lifeline')).length;
    expect(failing).toBeGreaterThan(healthy);
    for (let i = 0; i < 25; i++) await sandbox.invoke({ durationMs: 2 });
    expect(linesOf(sandbox.output('lifeline'))).toHaveLength(failing);
    expect(sandbox.output('lifeline')).not.toContain('test-token');
    await receiver.up();
    await sandbox.shutdown('spindown');
  });
});
