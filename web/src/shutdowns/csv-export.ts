import type { Shutdown } from '@lifeline/protocol';

/**
 * Quotes one CSV field (RFC 4180). Text starting with = + - @ or a tab is prefixed with ' so a spreadsheet does not
 * run it as a formula (function names and reasons come from the wire).
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(Math.round(value * 1000) / 1000) : '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const COLUMNS: readonly [string, (row: Shutdown) => string | number | null][] = [
  ['env_id', (r) => r.envId],
  ['function', (r) => r.functionName],
  ['version', (r) => r.functionVersion],
  ['memory_mb', (r) => r.memorySizeMb],
  ['reason', (r) => r.reason],
  ['shutdown_at', (r) => new Date(r.receivedAt).toISOString()],
  ['budget_ms', (r) => r.budgetMs],
  ['shutdown_ms', (r) => r.shutdownDurationMs],
  ['budget_used_pct', (r) => r.budgetUsedPct],
  ['idle_ms', (r) => r.idleMs],
  ['lifetime_ms', (r) => r.lifetimeMs],
  ['invokes', (r) => r.invokes],
];

/** The shutdown table as CSV text (header row, CRLF line ends as RFC 4180 asks). */
export function shutdownsToCsv(rows: readonly Shutdown[]): string {
  const lines = [COLUMNS.map(([name]) => name).join(',')];
  for (const row of rows) lines.push(COLUMNS.map(([, get]) => csvField(get(row))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
