import type { Shutdown } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { csvField, shutdownsToCsv } from './csv-export.ts';

const row: Shutdown = {
  envId: 'env-1',
  functionName: 'orders, "eu"',
  functionVersion: '$LATEST',
  memorySizeMb: 128,
  reason: 'spindown',
  receivedAt: Date.UTC(2026, 10, 25, 12, 0, 0),
  deadlineMs: Date.UTC(2026, 10, 25, 12, 0, 2),
  budgetMs: 2000,
  exitedAt: Date.UTC(2026, 10, 25, 12, 0, 0) + 35,
  shutdownDurationMs: 35,
  budgetUsedPct: 1.75,
  idleMs: null,
  lifetimeMs: 123456.7891,
  invokes: 3,
};

describe('shutdownsToCsv', () => {
  it('writes a header and one quoted row per shutdown when given rows', () => {
    const csv = shutdownsToCsv([row]);
    const [header, line, end] = csv.split('\r\n');
    expect(header).toBe(
      'env_id,function,version,memory_mb,reason,shutdown_at,budget_ms,shutdown_ms,budget_used_pct,idle_ms,lifetime_ms,invokes',
    );
    expect(line).toBe(
      'env-1,"orders, ""eu""",$LATEST,128,spindown,2026-11-25T12:00:00.000Z,2000,35,1.75,,123456.789,3',
    );
    expect(end).toBe('');
  });

  it('writes only the header when there are no rows', () => {
    expect(shutdownsToCsv([])).toMatch(/^env_id,.*invokes\r\n$/);
  });
});

describe('csvField', () => {
  it('neutralises spreadsheet formulas when text starts with a formula character', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-1')).toBe("'-1");
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField(Number.NaN)).toBe('');
  });
});
