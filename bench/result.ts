/** One row of the benchmark table: a figure measured in this run, against a baseline measured in the same run. */
export interface BenchResult {
  /** e.g. "extension cold start: process start → registered". */
  figure: string;
  value: number;
  unit: string;
  /** What the baseline is, e.g. "bare node:http extension". */
  baselineName?: string;
  baseline?: number;
  /** value / baseline. */
  ratio?: number;
  /** e.g. "≤ 1.25× baseline" or "≤ 10 ms". */
  target?: string;
  /** Whether the target is met; undefined when there is no target. */
  met?: boolean;
}

/** A benchmark area: runs its measurements and returns its rows. */
export type BenchArea = () => Promise<BenchResult[]>;
