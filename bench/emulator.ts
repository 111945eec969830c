/**
 * Emulator benchmark: what the emulated environment costs, each figure against a baseline taken in the same run.
 *
 * - Warm invoke with one extension vs the runtime alone (the extension's parallel long poll should cost little).
 * - Freeze/thaw (SIGSTOP/SIGCONT of every process group) per invoke vs the same invoke without freezing.
 * - Cold start (Init) with one extension vs the runtime alone.
 * - Shutdown phase of a well-behaved extension, against the 2,000 ms budget.
 * - SIGKILL lateness: how far past deadlineMs an extension that ignores SHUTDOWN is killed.
 * - SnapStart restore with one extension vs an Init with one extension (a restore resumes processes, so it is cheaper).
 * - Managed Instances: 4 invokes at once in one environment vs the same 4 one after another in a standard one.
 *
 * Alone: `npx tsx --conditions=source bench/emulator.ts`.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Sandbox, type SandboxOptions } from '@lifeline/emulator';
import { extensionSource } from './emulator/extension-script.ts';
import { percentile, runAlone } from './format.ts';
import type { BenchArea, BenchResult } from './result.ts';

const INVOKES = 40;
const COLD_STARTS = 5;

function layer(root: string, name: string, source: string): string {
  const dir = join(root, name, 'extensions');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'bench-ext');
  writeFileSync(file, source);
  chmodSync(file, 0o755);
  return dir;
}

async function warmInvokes(options: SandboxOptions): Promise<number[]> {
  const sandbox = new Sandbox({ logOutput: false, logLimit: 10_000, ...options });
  try {
    const init = await sandbox.init();
    if (init.status !== 'success') throw new Error(`init ${init.status}: ${init.errorType}`);
    await sandbox.invoke(); // first invoke warms the runtime's code paths; not measured
    const samples: number[] = [];
    for (let i = 0; i < INVOKES; i++) {
      const started = performance.now();
      const result = await sandbox.invoke();
      samples.push(performance.now() - started);
      if (result.status !== 'success') throw new Error(`invoke ${result.status}`);
    }
    await sandbox.shutdown('spindown');
    return samples;
  } finally {
    await sandbox.close();
  }
}

async function coldStarts(options: SandboxOptions): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const sandbox = new Sandbox({ logOutput: false, ...options });
    try {
      await sandbox.ready();
      const started = performance.now();
      const init = await sandbox.init();
      samples.push(performance.now() - started);
      if (init.status !== 'success') throw new Error(`init ${init.status}`);
      await sandbox.shutdown('spindown');
    } finally {
      await sandbox.close();
    }
  }
  return samples;
}

/** SnapStart: how long restoring a snapshot (made by an Init with the same layer) takes. */
async function restores(options: SandboxOptions): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const sandbox = new Sandbox({ logOutput: false, ...options, snapStart: true });
    try {
      const init = await sandbox.init();
      if (init.status !== 'success') throw new Error(`init ${init.status}`);
      const started = performance.now();
      const restore = await sandbox.restore();
      samples.push(performance.now() - started);
      if (restore.status !== 'success') throw new Error(`restore ${restore.status}`);
      await sandbox.shutdown('spindown');
    } finally {
      await sandbox.close();
    }
  }
  return samples;
}

/** Wall time of `count` invokes of `durationMs`, all at once (Managed Instances) or one after another. */
async function invokeBurst(
  options: SandboxOptions,
  count: number,
  durationMs: number,
): Promise<number> {
  const sandbox = new Sandbox({ logOutput: false, ...options });
  try {
    await sandbox.init();
    const started = performance.now();
    const results =
      options.mode === 'lmi'
        ? await Promise.all(Array.from({ length: count }, () => sandbox.invoke({ durationMs })))
        : [];
    for (let i = results.length; i < count; i++) results.push(await sandbox.invoke({ durationMs }));
    const wall = performance.now() - started;
    if (results.some((r) => r.status !== 'success')) throw new Error('burst invoke failed');
    await sandbox.shutdown('spindown');
    return wall;
  } finally {
    await sandbox.close();
  }
}

function row(
  figure: string,
  value: number,
  baselineName: string,
  baseline: number,
  maxRatio: number,
): BenchResult {
  const ratio = value / baseline;
  return {
    figure,
    value: Math.round(value * 100) / 100,
    unit: 'ms',
    baselineName,
    baseline: Math.round(baseline * 100) / 100,
    ratio: Math.round(ratio * 100) / 100,
    target: `≤ ${maxRatio}× baseline`,
    met: ratio <= maxRatio,
  };
}

/** Runs the emulator benchmark. */
export const run: BenchArea = async () => {
  const root = mkdtempSync(join(tmpdir(), 'lifeline-bench-emulator-'));
  try {
    const good = layer(root, 'good', extensionSource());
    const stubborn = layer(root, 'stubborn', extensionSource({ ignoreShutdown: true }));
    const empty = join(root, 'empty');
    mkdirSync(empty);

    const runtimeOnly = await warmInvokes({ extensionsDir: empty });
    const withExtension = await warmInvokes({ extensionsDir: good });
    const frozen = await warmInvokes({ extensionsDir: good, freeze: true });
    const coldBare = await coldStarts({ extensionsDir: empty });
    const coldExtension = await coldStarts({ extensionsDir: good });
    const restoreExtension = await restores({ extensionsDir: good });
    const burstConcurrent = await invokeBurst(
      { extensionsDir: empty, mode: 'lmi', concurrency: 4 },
      4,
      100,
    );
    const burstSequential = await invokeBurst({ extensionsDir: empty }, 4, 100);

    const shutdownBox = new Sandbox({ extensionsDir: good, logOutput: false });
    const killBox = new Sandbox({
      extensionsDir: stubborn,
      logOutput: false,
      shutdownBudgetMs: 500,
    });
    let shutdownMs: number;
    let lateness: number;
    try {
      await shutdownBox.invoke();
      shutdownMs = (await shutdownBox.shutdown('spindown')).durationMs;
      await killBox.invoke();
      const killed = await killBox.shutdown('spindown');
      lateness = (killed.extensions[0]?.exitedAt ?? Number.NaN) - killed.deadlineMs;
    } finally {
      await shutdownBox.close();
      await killBox.close();
    }

    const p50 = (values: number[]) => percentile(values, 50);
    return [
      row(
        'warm invoke, runtime + 1 extension (p50)',
        p50(withExtension),
        'runtime only',
        p50(runtimeOnly),
        2,
      ),
      row(
        'warm invoke, runtime + 1 extension (p95)',
        percentile(withExtension, 95),
        'runtime only',
        percentile(runtimeOnly, 95),
        2.5,
      ),
      row(
        'warm invoke with freeze/thaw, 1 extension (p50)',
        p50(frozen),
        'same without freeze',
        p50(withExtension),
        1.5,
      ),
      row(
        'cold start: Init with 1 extension (p50)',
        p50(coldExtension),
        'Init, runtime only',
        p50(coldBare),
        3,
      ),
      row(
        'SnapStart restore with 1 extension (p50)',
        p50(restoreExtension),
        'Init with 1 extension',
        p50(coldExtension),
        1,
      ),
      row(
        'Managed Instances: 4 invokes of 100 ms at once in one environment (wall)',
        burstConcurrent,
        'the same 4 one after another, standard environment',
        burstSequential,
        0.5,
      ),
      {
        figure: 'shutdown phase, extension exits on SHUTDOWN (budget 2,000 ms)',
        value: Math.round(shutdownMs * 100) / 100,
        unit: 'ms',
        target: '≤ 200 ms (10% of the budget)',
        met: shutdownMs <= 200,
      },
      {
        figure: 'SIGKILL lateness past deadlineMs (extension ignores SHUTDOWN)',
        value: Math.round(lateness * 100) / 100,
        unit: 'ms',
        target: '≤ 50 ms',
        met: lateness >= 0 && lateness <= 50,
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runAlone(run);
