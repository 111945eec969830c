import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '@lifeline/emulator';
import { prepareLayers } from '../bench/extension/layers.ts';
import { holdTimes } from './test/helpers/layer-sandbox.ts';

const root = mkdtempSync(join(tmpdir(), 'hold-'));
const layers = await prepareLayers(root);
const child = spawn(process.execPath, ['bench/extension/loopback-collector.mjs'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise<number>((r) =>
  child.stdout!.once('data', (c: Buffer) => r(Number(c.toString()))),
);
for (const name of ['bare', 'lifeline', 'bare', 'lifeline']) {
  const sandbox = new Sandbox({
    extensionsDir: name === 'bare' ? layers.bare : layers.lifeline,
    env: { LIFELINE_COLLECTOR_URL: `http://127.0.0.1:${port}`, LIFELINE_TELEMETRY_PORT: '0' },
    tmpDir: mkdtempSync(join(root, 't-')),
    logOutput: false,
  });
  for (let i = 0; i < 300; i++) await sandbox.invoke({ durationMs: 2 });
  const holds = holdTimes(
    sandbox.log.map((e) => ({ ...e, extension: e.extension === name ? 'lifeline' : e.extension })),
  )
    .slice(10)
    .sort((a, b) => a - b);
  const q = (p: number) => holds[Math.ceil(p * holds.length) - 1]!.toFixed(2);
  console.log(
    name,
    'p50',
    q(0.5),
    'p90',
    q(0.9),
    'p99',
    q(0.99),
    'max',
    q(1),
    'over20',
    holds.filter((h) => h > 20).length,
  );
  await sandbox.shutdown('spindown');
  await sandbox.close();
}
child.kill();
