import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildLayer, LAUNCHER } from '../build.ts';
import { PASS_THROUGH } from '../launchers.ts';
import { readZip } from './helpers/zip-reader.ts';

describe('buildLayer', () => {
  it('produces a layer zip with the launcher (executable), the bundle and the lazy AWS chunk, reproducibly', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lifeline-build-'));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    const first = await buildLayer(out);
    const firstZip = readFileSync(first.zip);
    const entries = readZip(firstZip);
    expect(entries.map((entry) => [entry.name, (entry.mode & 0o777).toString(8)])).toEqual([
      ['extensions/', '755'],
      ['extensions/lifeline', '755'],
      ['lifeline/', '755'],
      ['lifeline/index.mjs', '644'],
      ['lifeline/pass-through.sh', '644'],
      [expect.stringMatching(/^lifeline\/token-source-\w+\.mjs$/), '644'],
    ]);
    expect(entries[1]?.data.toString('utf8')).toBe(LAUNCHER);
    expect(entries[3]?.data.equals(readFileSync(first.bundle))).toBe(true);
    expect(statSync(first.launcher).mode & 0o111).toBe(0o111);
    const bundle = readFileSync(first.bundle, 'utf8');
    expect(bundle).not.toContain('typebox');
    expect(bundle).not.toMatch(/require\(["']undici/);
    // The AWS code and node:crypto stay off the cold-start path: only a dynamic import names them.
    expect(bundle).not.toContain('node:crypto');
    expect(bundle).toMatch(/import\("\.\/token-source-\w+\.mjs"\)/);
    expect(entries[4]?.data.toString('utf8')).toBe(PASS_THROUGH);
    expect(entries[5]?.data.toString('utf8')).toContain('node:crypto');
    expect(first.lazyChunks).toEqual([
      { path: join(first.layerDir, entries[5]!.name), bytes: entries[5]!.data.length },
    ]);

    const second = await buildLayer(out);
    expect(readFileSync(second.zip).equals(firstZip)).toBe(true);
  });

  it('runs the launcher with NODE_OPTIONS cleared when started from any directory', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lifeline-build-'));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    const layer = await buildLayer(out);
    let output = '';
    try {
      execFileSync(layer.launcher, [], {
        cwd: tmpdir(),
        env: { PATH: process.env.PATH, NODE_OPTIONS: '--require /nonexistent.cjs' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
      expect((error as { status?: number }).status).toBe(1);
    }
    expect(output).toContain('AWS_LAMBDA_RUNTIME_API is not set');
  });
});
