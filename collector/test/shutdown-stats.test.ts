import { type Shutdown, shutdownKind } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { figureStats } from '../src/storage/aggregates.ts';
import { openStorage } from '../src/storage/index.ts';
import { backends, encode, lifecycle } from './helper.ts';

const T0 = 1_700_000_000_000;

describe.each(backends())('Shutdowns figures on %s', (_name, setting) => {
  it('from the shutdown columns alone equal the figures of the whole shutdowns', async () => {
    const storage = await openStorage(await setting());
    try {
      const reasons = ['spindown', 'timeout', 'failure', 'SandboxTerminated', undefined];
      const batches = Array.from({ length: 25 }, (_, index) => {
        const events = lifecycle(`env-${index}`, {
          functionName: `fn-${index % 2}`,
          functionVersion: String(1 + (index % 3)),
          startAt: T0 + index * 60_000,
          invokes: 1 + (index % 4),
          gapMs: 5_000 + index * 100,
          shutdownReason: reasons[index % reasons.length],
        });
        // Some environments never report their exit (no shutdown duration).
        return index % 3 === 0 ? events.filter((event) => event.type !== 'exit') : events;
      });
      for (const batch of batches) {
        const [result] = await storage.ingest.insertBatches([encode(batch)], T0 + 3_600_000);
        expect(result).not.toBeInstanceOf(Error);
      }
      const range = { from: T0 + 100_000, to: T0 + 1_500_000 };
      for (const filter of [
        range,
        { ...range, functionName: 'fn-1' },
        { ...range, reason: 'timeout' },
      ]) {
        const whole = await storage.query.listShutdowns({
          ...filter,
          limit: 1000,
          now: T0,
          lostAfterMs: 7_200_000,
        });
        const expected = whole.items;
        expect(expected.length).toBeGreaterThan(0);
        const stats = await storage.query.shutdownStats(filter);
        const of = (pick: (shutdown: Shutdown) => number | null) =>
          figureStats(expected.map(pick).filter((value) => value !== null));
        expect(stats).toEqual({
          total: expected.length,
          byReason: expected.reduce<Record<string, number>>((counts, shutdown) => {
            counts[shutdown.reason] = (counts[shutdown.reason] ?? 0) + 1;
            return counts;
          }, {}),
          figures: {
            budgetUsedPct: of((shutdown) => shutdown.budgetUsedPct),
            idleMs: of((shutdown) =>
              shutdownKind(shutdown.reason) === 'spindown' ? shutdown.idleMs : null,
            ),
            lifetimeMs: of((shutdown) => shutdown.lifetimeMs),
            shutdownDurationMs: of((shutdown) => shutdown.shutdownDurationMs),
            invokes: of((shutdown) => shutdown.invokes),
          },
        });
      }
    } finally {
      await storage.close();
    }
  });
});
