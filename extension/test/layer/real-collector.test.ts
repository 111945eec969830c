import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCollector } from '@lifeline/collector';
import { Sandbox } from '@lifeline/emulator';
import type { EnvironmentDetail } from '@lifeline/protocol';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { logOf } from '../helpers/layer-sandbox.ts';

describe('the layer against the real collector', () => {
  it('has every event accepted and derived into an ended environment with its invocations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-real-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const collector = await startCollector({
      host: '127.0.0.1',
      port: 0,
      dbPath: join(dir, 'events.db'),
      token: 'ingest-token',
      logLevel: 'silent',
    });
    onTestFinished(() => collector.close());
    const sandbox = new Sandbox({
      extensionsDir: join(inject('layerDir'), 'extensions'),
      freeze: true,
      tmpDir: join(dir, 'tmp'),
      env: {
        LIFELINE_COLLECTOR_URL: collector.url,
        LIFELINE_TOKEN: 'ingest-token',
        LIFELINE_TELEMETRY_PORT: '0',
      },
    });
    onTestFinished(() => sandbox.close());
    const invokes = [];
    for (let i = 0; i < 3; i++) invokes.push(await sandbox.invoke({ durationMs: 10 }));
    const shutdown = await sandbox.shutdown('spindown');
    expect(shutdown.extensions[0]).toMatchObject({ exitCode: 0, state: 'Exited' });
    expect(sandbox.output('lifeline')).toBe('');

    const envId = logOf(sandbox.log, 'extension.register')[0]!.extensionId!;
    const res = await fetch(`${collector.url}/v1/environments/${envId}`);
    expect(res.status).toBe(200);
    const detail = (await res.json()) as EnvironmentDetail;
    expect(detail.environment).toMatchObject({
      envId,
      state: 'ended',
      invokeCount: 3,
      missingEvents: 0,
      droppedEvents: 0,
      functionName: 'fn',
    });
    expect(detail.environment.shutdown).toMatchObject({ reason: 'spindown' });
    expect(detail.invocations.map((invocation) => invocation.requestId).sort()).toEqual(
      invokes.map((invoke) => invoke.requestId).sort(),
    );
    expect(detail.invocations.every((invocation) => invocation.reportPending === false)).toBe(true);
  });
});
