/**
 * Universal layer benchmark: the universal layer (its launcher finds no Lambda Node.js here, so it runs the bundled
 * Node.js single executable) against the JS layer (the launcher runs the machine's `node`) and a bare `node:http`
 * extension that only registers and loops on /event/next, all under the emulator, in the same run.
 *
 * - size: zip and unzipped bytes of each universal layer (both architectures) and of the JS layer, and the build time
 *   of both universal layers;
 * - cold start: the emulator's spawn (`extension.launch`) → `extension.register`, and → first `extension.next`;
 * - Init duration of a function with each layer against the same function without any extension;
 * - RSS: /proc/<pid>/status VmRSS of the extension process after 300 invokes.
 *
 * Alone: `npx tsx --conditions=source bench/universal-layer.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type EmulatorLogEntry, Sandbox } from '@lifeline/emulator';
import { buildUniversalLayers } from '../extension/build-universal.ts';
import { prepareLayers } from './extension/layers.ts';
import { runAlone } from './format.ts';
import type { BenchArea, BenchResult } from './result.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const COLD_STARTS = 20;
const INVOKES = 300;
const MIB = 1024 * 1024;

type Name = 'universal' | 'js' | 'bare';
const NAMES: readonly Name[] = ['bare', 'js', 'universal'];

/** Runs the universal layer benchmark. */
export const run: BenchArea = async () => {
  const root = mkdtempSync(join(tmpdir(), 'lifeline-bench-universal-'));
  const collector = await startCollector();
  try {
    const layers = await prepareLayers(root);
    const jsLayerDir = dirname(layers.lifeline);
    const started = performance.now();
    const universal = await buildUniversalLayers({ layerDir: jsLayerDir }, join(root, 'lifeline'));
    const buildMs = performance.now() - started;
    const host = universal.find(
      (layer) => layer.arch === (process.arch === 'arm64' ? 'arm64' : 'x86_64'),
    )!;
    const dirs: Record<Name, string> = {
      universal: join(host.layerDir, 'extensions'),
      js: layers.lifeline,
      bare: layers.bare,
    };
    const lifelineEnv = {
      LIFELINE_COLLECTOR_URL: collector.url,
      LIFELINE_TOKEN: 'bench',
      LIFELINE_TELEMETRY_PORT: '0',
    };
    const env = (name: Name) => (name === 'bare' ? {} : lifelineEnv);

    const cold: Record<Name, { registered: number[]; next: number[]; init: number[] }> = {
      universal: { registered: [], next: [], init: [] },
      js: { registered: [], next: [], init: [] },
      bare: { registered: [], next: [], init: [] },
    };
    const noExtensionInit: number[] = [];
    // Warm the file cache once per variant (the 100 MB executable especially); not measured.
    for (const name of NAMES) await coldStart(name, dirs[name], env(name), root);
    await initWithoutExtensions(root);
    for (let i = 0; i < COLD_STARTS; i++) {
      // Rotate the order so no variant always runs right after the same one.
      for (let k = 0; k < NAMES.length; k++) {
        const name = NAMES[(i + k) % NAMES.length]!;
        const sample = await coldStart(name, dirs[name], env(name), root);
        cold[name].registered.push(sample.registered);
        cold[name].next.push(sample.next);
        cold[name].init.push(sample.init);
      }
      noExtensionInit.push(await initWithoutExtensions(root));
    }
    const rss: Record<Name, number> = {
      bare: await rssAfterInvokes('bare', dirs.bare, env('bare'), root),
      js: await rssAfterInvokes('js', dirs.js, env('js'), root),
      universal: await rssAfterInvokes('universal', dirs.universal, env('universal'), root),
    };

    const rows: BenchResult[] = [];
    for (const layer of universal) {
      rows.push({
        figure: `universal layer ${layer.arch} zip (lifeline-universal-${layer.arch}.zip, Node.js ${layer.nodeVersion})`,
        value: layer.zipBytes / MIB,
        unit: 'MiB',
        target: '≤ 40 MiB',
        met: layer.zipBytes <= 40 * MIB,
      });
      rows.push({
        figure: `universal layer ${layer.arch} unzipped (under /opt)`,
        value: layer.unzippedBytes / MIB,
        unit: 'MiB',
      });
    }
    rows.push(
      {
        figure: 'JS layer zip (lifeline-layer.zip)',
        value: statSync(join(root, 'lifeline', 'lifeline-layer.zip')).size / 1024,
        unit: 'KiB',
      },
      { figure: 'JS layer unzipped', value: directoryBytes(jsLayerDir) / 1024, unit: 'KiB' },
      { figure: 'build time of both universal layers', value: buildMs / 1000, unit: 's' },
    );
    const versus = (
      figure: string,
      unit: string,
      values: Record<Name, number>,
      limit: number,
    ): BenchResult[] => [
      {
        figure: `${figure}, universal layer`,
        value: values.universal,
        unit,
        baselineName: 'JS layer',
        baseline: values.js,
        ratio: values.universal / values.js,
        target: `≤ ${limit}× JS layer`,
        met: values.universal / values.js <= limit,
      },
      {
        figure: `${figure}, JS layer`,
        value: values.js,
        unit,
        baselineName: 'bare node:http extension',
        baseline: values.bare,
        ratio: values.js / values.bare,
      },
    ];
    const medians = (pick: (samples: (typeof cold)[Name]) => number[]) =>
      ({
        universal: median(pick(cold.universal)),
        js: median(pick(cold.js)),
        bare: median(pick(cold.bare)),
      }) as Record<Name, number>;
    rows.push(
      ...versus(
        'cold start: process start → registered (median)',
        'ms',
        medians((s) => s.registered),
        1.3,
      ),
      ...versus(
        'cold start: process start → first /event/next (median)',
        'ms',
        medians((s) => s.next),
        1.3,
      ),
      ...versus(`extension RSS after ${INVOKES} invokes (VmRSS)`, 'MB', rss, 1.3),
    );
    const init = medians((s) => s.init);
    const none = median(noExtensionInit);
    for (const name of ['universal', 'js', 'bare'] as const) {
      rows.push({
        figure: `Init duration with the ${name === 'bare' ? 'bare node:http extension' : `${name === 'js' ? 'JS' : 'universal'} layer`} (median)`,
        value: init[name],
        unit: 'ms',
        baselineName: 'no extension',
        baseline: none,
        ratio: init[name] / none,
      });
    }
    rows.push({
      figure: 'machine load average (1 min) at the end of the universal layer bench',
      value: loadavg()[0] ?? 0,
      unit: '',
    });
    return rows;
  } finally {
    collector.stop();
    rmSync(root, { recursive: true, force: true });
  }
};

/** The registered `Lambda-Extension-Name` of a variant. */
function extensionName(name: Name): string {
  return name === 'bare' ? 'bare' : 'lifeline';
}

async function coldStart(
  name: Name,
  extensionsDir: string,
  env: Record<string, string>,
  root: string,
): Promise<{ registered: number; next: number; init: number }> {
  const sandbox = new Sandbox({
    extensionsDir,
    env,
    tmpDir: mkdtempSync(join(root, 'tmp-')),
    logOutput: false,
  });
  try {
    const init = await sandbox.init();
    if (init.status !== 'success')
      throw new Error(`${name}: init ${init.status} ${init.errorMessage ?? ''}`);
    const launch = find(sandbox.log, 'extension.launch', extensionName(name));
    const registered = find(sandbox.log, 'extension.register', extensionName(name));
    const next = find(sandbox.log, 'extension.next', extensionName(name));
    await sandbox.shutdown('spindown');
    return {
      registered: registered.mono - launch.mono,
      next: next.mono - launch.mono,
      init: init.durationMs,
    };
  } finally {
    await sandbox.close();
  }
}

async function initWithoutExtensions(root: string): Promise<number> {
  const sandbox = new Sandbox({ tmpDir: mkdtempSync(join(root, 'tmp-')), logOutput: false });
  try {
    const init = await sandbox.init();
    if (init.status !== 'success') throw new Error(`no extension: init ${init.status}`);
    await sandbox.shutdown('spindown');
    return init.durationMs;
  } finally {
    await sandbox.close();
  }
}

async function rssAfterInvokes(
  name: Name,
  extensionsDir: string,
  env: Record<string, string>,
  root: string,
): Promise<number> {
  const sandbox = new Sandbox({
    extensionsDir,
    env,
    tmpDir: mkdtempSync(join(root, 'tmp-')),
    logOutput: false,
  });
  try {
    for (let i = 0; i < INVOKES; i++) {
      const result = await sandbox.invoke({ durationMs: 2 });
      if (result.status !== 'success') throw new Error(`${name}: invoke ${result.status}`);
    }
    const pid = find(sandbox.log, 'extension.launch', extensionName(name)).pid;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
    await sandbox.shutdown('spindown');
    return kb / 1024;
  } finally {
    await sandbox.close();
  }
}

function find(
  log: readonly EmulatorLogEntry[],
  kind: EmulatorLogEntry['kind'],
  name: string,
): EmulatorLogEntry {
  const entry = log.find((candidate) => candidate.kind === kind && candidate.extension === name);
  if (!entry) throw new Error(`no ${kind} for ${name} in the emulator log`);
  return entry;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.ceil(sorted.length / 2) - 1]!;
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return total;
}

async function startCollector(): Promise<{ url: string; stop(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(HERE, 'extension', 'loopback-collector.mjs')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    // A collector that dies before printing its port must fail the bench, not hang it.
    child.once('exit', (code) =>
      reject(new Error(`loopback collector exited (${code}) before listening`)),
    );
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAlone(run);
}
