import { describe, expect, it } from 'vitest';
import { environmentFactsOf } from '../src/storage/fact-rows.ts';
import { type RangeRows, readFunctionStats } from '../src/storage/read-model.ts';
import { createSqliteRangeRows } from '../src/storage/sqlite/range-rows.ts';
import { lifecycle, sqliteStores } from './helper.ts';

const T0 = 1_700_000_000_000;

describe('Functions view figures', () => {
  it('from the selected columns alone equal those of whole environment rows', async () => {
    const { db, store } = sqliteStores();
    try {
      const reasons = ['spindown', 'timeout', undefined];
      for (let index = 0; index < 18; index++) {
        const events = lifecycle(`env-${index}`, {
          functionName: `fn-${index % 3}`,
          functionVersion: String(1 + (index % 2)),
          startAt: T0 + index * 90_000,
          invokes: index % 5,
          gapMs: index % 4 === 0 ? 15_000 : 2_000,
          shutdownReason: reasons[index % reasons.length],
        });
        // Some stop early: still initializing, or mid-invoke.
        await store(index % 7 === 0 ? events.slice(0, 3) : events, T0 + index * 90_000 + 60_000);
      }
      const rows = createSqliteRangeRows(db);
      const whole: RangeRows = {
        ...rows,
        eachFunctionStatsFacts: async (filter, visit) => {
          for (const row of await rows.environmentsInRange(filter)) visit(environmentFactsOf(row));
        },
      };
      for (const now of [T0 + 600_000, T0 + 1_000_000, T0 + 40_000_000]) {
        const filter = { from: T0 + 200_000, to: T0 + 1_300_000, now, lostAfterMs: 7_200_000 };
        const selected = await readFunctionStats(rows, filter);
        expect(selected.functions.length).toBe(3);
        expect(selected).toEqual(await readFunctionStats(whole, filter));
      }
    } finally {
      db.close();
    }
  });
});
