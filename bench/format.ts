import { percentile as nearestRank } from '@lifeline/protocol';
import type { BenchResult } from './result.ts';

const number = (value: number | undefined, digits = 2): string =>
  value === undefined || Number.isNaN(value)
    ? ''
    : Math.abs(value) >= 1000
      ? Math.round(value).toLocaleString('en-US')
      : value.toFixed(digits).replace(/\.?0+$/, '');

/** Renders benchmark rows as a Markdown table: figure, value, baseline, ratio, target, met. */
export function formatTable(rows: ReadonlyArray<BenchResult & { area?: string }>): string {
  const header = '| figure | value | baseline (same run) | ratio | target | met |';
  const lines = rows.map((row) =>
    [
      row.figure,
      `${number(row.value)} ${row.unit}`,
      row.baseline === undefined
        ? ''
        : `${number(row.baseline)} ${row.unit} (${row.baselineName ?? 'baseline'})`,
      row.ratio === undefined ? '' : `${number(row.ratio)}×`,
      row.target ?? '',
      row.met === undefined ? '' : row.met ? 'yes' : 'NO',
    ].join(' | '),
  );
  return [header, '| --- | --- | --- | --- | --- | --- |', ...lines.map((l) => `| ${l} |`)].join(
    '\n',
  );
}

/** Runs an area file on its own (`npx tsx --conditions=source bench/<area>.ts`) and prints its table. */
export async function runAlone(run: () => Promise<BenchResult[]>): Promise<void> {
  console.log(formatTable(await run()));
}

/** Nearest-rank percentile of a sample (the protocol's definition); NaN for an empty sample. */
export function percentile(values: readonly number[], p: number): number {
  return nearestRank(values, p) ?? Number.NaN;
}
