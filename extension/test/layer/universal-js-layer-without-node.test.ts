import { describe, expect, inject, it } from 'vitest';
import { runWithoutNode } from '../helpers/no-node.ts';

describe('the JS layer on a function without Node.js', () => {
  it('keeps the function working: the bash pass-through registers, answers SHUTDOWN, exits 0 and says so once', async () => {
    const result = await runWithoutNode({
      layerDir: inject('layerDir'),
      env: { LIFELINE_COLLECTOR_URL: 'http://127.0.0.1:9', LIFELINE_TOKEN: 'test-token' },
      invokes: 3,
      reason: 'spindown',
    });
    // The function's own environment has no node: the same PATH the extension gets.
    expect(result.invokes.map((invoke) => invoke.status)).toEqual([
      'success',
      'success',
      'success',
    ]);
    expect(result.invokes[0]?.response).toMatchObject({ runtime: 'python', node: null });
    expect(result.invokes[0]?.init).toMatchObject({ status: 'success' });
    expect(result.executable).toBe('/usr/bin/bash');
    expect(result.extensionIds).toHaveLength(1);
    expect(result.shutdown?.extensions).toEqual([
      expect.objectContaining({ name: 'lifeline', exitCode: 0, state: 'Exited' }),
    ]);
    const lines = result.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'warn',
      msg: expect.stringContaining('pass-through, recording nothing: no Node.js found'),
    });
    expect(lines[0]).toContain('universal layer');
  });

  it('is not involved in invokes: it registers for SHUTDOWN only, so an invoke that times out still resets cleanly', async () => {
    const result = await runWithoutNode({
      layerDir: inject('layerDir'),
      env: { LIFELINE_COLLECTOR_URL: 'http://127.0.0.1:9', LIFELINE_TOKEN: 'test-token' },
      invokes: 1,
      reason: 'timeout',
    });
    expect(result.invokes.map((invoke) => invoke.status)).toEqual(['success', 'timeout']);
    expect(result.invokes[0]?.extensionOverheadMs ?? 0).toBeLessThan(result.invokes[0]!.deadlineMs);
    expect(result.shutdown).toMatchObject({ reason: 'timeout' });
    expect(result.shutdown?.extensions).toEqual([
      expect.objectContaining({ name: 'lifeline', exitCode: 0, state: 'Exited' }),
    ]);
  });
});
