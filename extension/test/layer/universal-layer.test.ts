import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCollector } from '@lifeline/collector';
import type { EnvironmentDetail } from '@lifeline/protocol';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { buildUniversalLayers, type UniversalLayerBuild } from '../../build-universal.ts';
import { STANDALONE_FILE } from '../../launchers.ts';
import { runWithoutNode } from '../helpers/no-node.ts';

const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'x86_64';

let layer: UniversalLayerBuild;
let outDir: string;
beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'lifeline-universal-'));
  layer = (await buildUniversalLayers({ layerDir: inject('layerDir') }, outDir, [HOST_ARCH]))[0]!;
}, 300_000);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

async function realCollector() {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-universal-db-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const collector = await startCollector({
    host: '127.0.0.1',
    port: 0,
    dbPath: join(dir, 'events.db'),
    token: 'ingest-token',
    logLevel: 'silent',
  });
  onTestFinished(() => collector.close());
  return collector;
}

describe('the universal layer on a Python function without Node.js', () => {
  for (const reason of ['spindown', 'timeout', 'failure'] as const) {
    it(`runs its bundled executable and records a whole environment ending in ${reason} on the real collector`, async () => {
      const collector = await realCollector();
      const result = await runWithoutNode({
        layerDir: layer.layerDir,
        env: {
          LIFELINE_COLLECTOR_URL: collector.url,
          LIFELINE_TOKEN: 'ingest-token',
          LIFELINE_TELEMETRY_PORT: '0',
          LIFELINE_LOG_LEVEL: 'debug',
        },
        invokes: 2,
        reason,
      });
      // No node anywhere on the function's PATH (the extension's is the same), and the extension is the bundled file.
      expect(result.invokes[0]?.response).toMatchObject({ runtime: 'python', node: null });
      expect(result.executable).toBe(join(layer.layerDir, 'lifeline', STANDALONE_FILE));
      const launcherLines = result.output
        .split('\n')
        .filter((line) => line.includes('"msg":"launcher: '));
      expect(launcherLines).toHaveLength(1);
      expect(launcherLines[0]).toContain('launcher: the bundled executable');

      const statuses = result.invokes.map((invoke) => invoke.status);
      expect(statuses).toEqual(
        reason === 'spindown'
          ? ['success', 'success']
          : ['success', 'success', reason === 'timeout' ? 'timeout' : 'failure'],
      );
      expect(result.shutdown).toMatchObject({ reason });
      expect(result.shutdown?.extensions).toEqual([
        expect.objectContaining({ name: 'lifeline', exitCode: 0, state: 'Exited' }),
      ]);

      const envId = result.extensionIds[0]!;
      const res = await fetch(`${collector.url}/v1/environments/${envId}`);
      expect(res.status).toBe(200);
      const detail = (await res.json()) as EnvironmentDetail;
      expect(detail.environment).toMatchObject({
        envId,
        state: 'ended',
        invokeCount: result.invokes.length,
        missingEvents: 0,
        droppedEvents: 0,
        functionName: 'fn',
      });
      expect(detail.environment.shutdown).toMatchObject({ reason });
      expect(detail.invocations.map((invocation) => invocation.requestId).sort()).toEqual(
        result.invokes.map((invoke) => invoke.requestId).sort(),
      );
      const types = new Set(detail.events.map((stored) => stored.event.type));
      expect([...types].sort()).toEqual(['exit', 'invoke', 'platform', 'register', 'shutdown']);
      const records = new Set(
        detail.events.flatMap((stored) =>
          stored.event.type === 'platform' ? [stored.event.recordType] : [],
        ),
      );
      for (const record of ['platform.initStart', 'platform.start', 'platform.runtimeDone'])
        expect(records).toContain(record);
    }, 180_000);
  }
});

describe('the universal layer where Lambda provides Node.js', () => {
  it("runs the JS bundle on the function's own /var/lang/bin/node instead of its executable", async () => {
    const collector = await realCollector();
    const result = await runWithoutNode({
      layerDir: layer.layerDir,
      env: {
        LIFELINE_COLLECTOR_URL: collector.url,
        LIFELINE_TOKEN: 'ingest-token',
        LIFELINE_TELEMETRY_PORT: '0',
        LIFELINE_LOG_LEVEL: 'debug',
      },
      invokes: 2,
      reason: 'spindown',
      lambdaNode: true,
    });
    expect(result.executable).toBe('/var/lang/bin/node');
    expect(result.invokes[0]?.response).toMatchObject({ node: null });
    const launcherLines = result.output
      .split('\n')
      .filter((line) => line.includes('"msg":"launcher: '));
    expect(launcherLines).toEqual([expect.stringContaining("the function's own Node.js")]);
    expect(result.shutdown?.extensions).toEqual([
      expect.objectContaining({ name: 'lifeline', exitCode: 0, state: 'Exited' }),
    ]);
    const res = await fetch(`${collector.url}/v1/environments/${result.extensionIds[0]}`);
    const detail = (await res.json()) as EnvironmentDetail;
    expect(detail.environment).toMatchObject({ state: 'ended', invokeCount: 2 });
  }, 180_000);
});
