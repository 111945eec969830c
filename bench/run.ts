/**
 * `npm run bench`: runs every benchmark area in turn, prints one table and writes the results as JSON.
 *
 * Each area measures its figures against a baseline taken in the same run, so ratios stay meaningful on a noisy
 * machine. Usage: `npm run bench [-- --only extension,collector,web] [-- --out FILE]`.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { formatTable } from './format.ts';
import type { BenchArea, BenchResult } from './result.ts';

const AREAS: Record<string, () => Promise<{ run: BenchArea }>> = {
  emulator: () => import('./emulator.ts'),
  extension: () => import('./extension.ts'),
  collector: () => import('./collector.ts'),
  web: () => import('./web.ts'),
  history: () => import('./history.ts'),
  infra: () => import('./infra.ts'),
  'universal-layer': () => import('./universal-layer.ts'),
};

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    out: { type: 'string', default: 'bench/results.json' },
  },
});
const selected = values.only ? values.only.split(',') : Object.keys(AREAS);
const unknown = selected.filter((name) => !(name in AREAS));
if (unknown.length > 0) {
  console.error(
    `unknown bench area(s): ${unknown.join(', ')}; known: ${Object.keys(AREAS).join(', ')}`,
  );
  process.exit(2);
}

const rows: Array<BenchResult & { area: string }> = [];
const failures: string[] = [];
for (const area of selected) {
  const started = Date.now();
  process.stderr.write(`bench ${area}: running…\n`);
  try {
    const { run } = await AREAS[area]!();
    for (const row of await run()) rows.push({ area, ...row });
    process.stderr.write(
      `bench ${area}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  } catch (error) {
    failures.push(area);
    process.stderr.write(`bench ${area}: FAILED: ${(error as Error).stack ?? String(error)}\n`);
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
console.log(formatTable(rows));
console.log(`\nmachine: ${machine}`);
writeFileSync(
  values.out,
  `${JSON.stringify({ date: new Date().toISOString(), machine, results: rows, failures }, null, 2)}\n`,
);
console.log(`results written to ${values.out}`);
if (failures.length > 0) process.exit(1);
