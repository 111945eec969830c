import type { LifelineEvent } from '@lifeline/protocol';
import { describe, expect, inject, it } from 'vitest';
import { spawnCollector } from './collector-process.ts';
import { freshPostgresDatabase, lifecycle } from './helper.ts';
import { LiveTestClient, liveUrl } from './live-client.ts';

describe('two collector processes on one PostgreSQL', () => {
  it('delivers every acknowledged event once, in cursor order, to a live client of the other, even after a SIGKILL', async () => {
    const server = inject('pgUrl');
    expect(server, 'PostgreSQL is needed for this test: apt-get install postgresql').not.toBe('');
    const db = await freshPostgresDatabase(server);
    const ingesting = await spawnCollector(['--port', '0', '--db', db]);
    const reading = await spawnCollector(['--port', '0', '--db', db]);
    const live = new LiveTestClient(liveUrl(reading.url, 'after=0'));
    await live.caughtUp();

    const batches: LifelineEvent[][] = [];
    for (let env = 0; env < 200; env++) {
      const events = lifecycle(`env-two-${env}`, { invokes: 8, shutdownReason: 'spindown' });
      for (let i = 0; i < events.length; i += 40) batches.push(events.slice(i, i + 40));
    }
    const acked: string[] = [];
    let next = 0;
    let killed = false;
    const sender = async () => {
      while (next < batches.length && !killed) {
        const batch = batches[next++] as LifelineEvent[];
        try {
          const response = await fetch(`${ingesting.url}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ events: batch }),
          });
          if (response.status === 200) {
            await response.json();
            acked.push(...batch.map((event) => event.id));
          }
        } catch {
          // The process is gone: unacknowledged batches may or may not be stored.
        }
        if (!killed && acked.length >= 1500) {
          killed = true;
          ingesting.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, sender));
    expect(killed).toBe(true);
    expect((await ingesting.exited).signal).toBe('SIGKILL');

    const seen = () => new Set(live.events.map((stored) => stored.event.id));
    await live.waitFor(
      () => acked.every((id) => seen().has(id)),
      'every acknowledged event on the other collector',
    );
    const cursors = live.events.map((stored) => stored.cursor);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(seen().size).toBe(live.events.length);

    // Resuming by cursor on the surviving collector gives exactly the rest.
    const middle = live.events[Math.floor(live.events.length / 2)]?.cursor ?? 0;
    const resumed = new LiveTestClient(liveUrl(reading.url, `after=${middle}`));
    await resumed.caughtUp();
    expect(resumed.events.map((stored) => stored.cursor)).toEqual(
      cursors.filter((cursor) => cursor > middle),
    );
  });
});
