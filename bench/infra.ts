/**
 * Infra benchmark: what the Lifeline Aspect costs `cdk synth`, measured in-process in the same run.
 *
 * - Aspect overhead: synthesize a stack of FUNCTIONS Node.js functions with Lifeline attached, against the same stack
 *   without it (alternating, median of ROUNDS each).
 * - Whole app: the three stacks of bin/app.ts (collector, demo, layer), synthesized once.
 * - Layer payload: the bytes the layer adds to every instrumented function (unzipped), from the layer directory used.
 *
 * Uses extension/dist/layer when it is built, otherwise a stand-in layer of the same shape.
 * Alone: `npx tsx --conditions=source bench/infra.ts`.
 */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { addLifelineStacks, assertLayerDir, Lifeline, LifelineToken } from '@lifeline/infra';
import { App, Stack } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { runAlone } from './format.ts';
import type { BenchArea, BenchResult } from './result.ts';

const FUNCTIONS = 200;
const ROUNDS = 9;
const REAL_LAYER = new URL('../extension/dist/layer/', import.meta.url).pathname;

/** Runs the infra benchmark. */
export const run: BenchArea = async () => {
  const root = mkdtempSync(join(tmpdir(), 'lifeline-bench-infra-'));
  try {
    const layerDir = pickLayerDir(root);
    const baseline: number[] = [];
    const withLifeline: number[] = [];
    synthFunctions(root, layerDir, true); // warm module caches; not measured
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const instrumented of order) {
        (instrumented ? withLifeline : baseline).push(synthFunctions(root, layerDir, instrumented));
      }
    }
    const value = median(withLifeline);
    const base = median(baseline);

    const appStarted = performance.now();
    const app = new App({ outdir: mkdtempSync(join(root, 'app-')) });
    addLifelineStacks(app, { layerDir });
    app.synth();
    const appMs = performance.now() - appStarted;

    const layerBytes = directoryBytes(layerDir);
    const rows: BenchResult[] = [
      {
        figure: `cdk synth, ${FUNCTIONS} Node.js functions with the Lifeline Aspect (median of ${ROUNDS})`,
        value,
        unit: 'ms',
        baselineName: 'same stack without Lifeline',
        baseline: base,
        ratio: value / base,
        target: '≤ 1.5× baseline',
        met: value / base <= 1.5,
      },
      {
        figure: 'cdk synth of the whole app (collector, demo, layer stacks)',
        value: appMs,
        unit: 'ms',
        target: '≤ 30,000 ms',
        met: appMs <= 30_000,
      },
      {
        figure: `layer payload per function, unzipped (${layerDir === REAL_LAYER ? 'extension/dist/layer' : 'stand-in layer'})`,
        value: layerBytes / 1024,
        unit: 'KiB',
        target: '≤ 1,024 KiB',
        met: layerBytes <= 1024 * 1024,
      },
    ];
    return rows;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};

function pickLayerDir(root: string): string {
  try {
    assertLayerDir(REAL_LAYER);
    return REAL_LAYER;
  } catch {
    const dir = join(root, 'layer');
    mkdirSync(join(dir, 'extensions'), { recursive: true });
    mkdirSync(join(dir, 'lifeline'), { recursive: true });
    writeFileSync(
      join(dir, 'extensions', 'lifeline'),
      '#!/bin/bash\nexec node "$(dirname "$0")/../lifeline/index.mjs"\n',
    );
    chmodSync(join(dir, 'extensions', 'lifeline'), 0o755);
    writeFileSync(join(dir, 'lifeline', 'index.mjs'), 'export {};\n');
    return dir;
  }
}

/** Synthesizes a fresh app with FUNCTIONS functions; returns the milliseconds it took. */
function synthFunctions(root: string, layerDir: string, instrumented: boolean): number {
  const started = performance.now();
  const app = new App({ outdir: mkdtempSync(join(root, 'fns-')) });
  const stack = new Stack(app, 'Functions');
  const code = Code.fromInline('exports.handler = async () => ({ ok: true });');
  for (let n = 0; n < FUNCTIONS; n++) {
    new LambdaFunction(stack, `Fn${n}`, {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code,
    });
  }
  if (instrumented) {
    new Lifeline(stack, 'Lifeline', {
      collectorUrl: 'https://collector.example.com',
      token: LifelineToken.fromSecret(
        Secret.fromSecretNameV2(stack, 'Token', 'lifeline/ingest-token'),
      ),
      layerDir,
    });
  }
  app.synth();
  return performance.now() - started;
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return total;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runAlone(run);
