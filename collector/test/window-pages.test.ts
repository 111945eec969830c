import { describe, expect, it } from 'vitest';
import { readWindow } from '../src/storage/read-model.ts';
import { createSqliteRangeRows } from '../src/storage/sqlite/range-rows.ts';
import { lifecycle, sqliteStores } from './helper.ts';

const T0 = 1_700_000_000_000;
const LOST_AFTER = 600_000;

describe('SQLite window pages', () => {
  it('are the same whether read from the recently active environments or by walking the table', async () => {
    const { db, store } = sqliteStores();
    try {
      // Environments spread over three hours, some still alive (no SHUTDOWN), some functions filtered on below.
      for (let index = 0; index < 60; index++) {
        const startAt = T0 + index * 180_000;
        const events = lifecycle(`env-${index}`, {
          functionName: `fn-${index % 3}`,
          startAt,
          invokes: 1 + (index % 4),
          shutdownReason: index % 5 === 0 ? undefined : 'spindown',
        });
        await store(events, startAt + 60_000);
      }
      const fromIndex = createSqliteRangeRows(db, { fewCandidates: 1_000 });
      const byWalk = createSqliteRangeRows(db, { fewCandidates: 0 });
      const ranges = [
        { from: T0 + 3_000_000, to: T0 + 3_900_000 },
        { from: T0 + 9_000_000, to: T0 + 11_000_000 },
        { from: T0 - 1_000, to: T0 + 12_000_000 },
      ];
      let compared = 0;
      for (const range of ranges) {
        for (const functionName of [undefined, 'fn-1']) {
          const filter = { ...range, functionName, now: T0 + 11_000_000, lostAfterMs: LOST_AFTER };
          // Every page, small pages so that the row cursor is used.
          let cursor: string | undefined;
          do {
            const a = await readWindow(fromIndex, { ...filter, limit: 4, cursor });
            const b = await readWindow(byWalk, { ...filter, limit: 4, cursor });
            expect(a).toEqual(b);
            compared += a.environments.length;
            cursor = a.nextCursor ?? undefined;
          } while (cursor !== undefined);
        }
      }
      expect(compared).toBeGreaterThan(40);
    } finally {
      db.close();
    }
  });
});
