import { join } from 'node:path';
import type { LifelineEvent, StoredEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { runCollectorExpectingExit, spawnCollector } from './collector-process.ts';
import { lifecycle, tempDir } from './helper.ts';
import { LiveTestClient, liveUrl } from './live-client.ts';

async function allStoredIds(url: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let after = 0;
  for (let page = 0; page < 10_000; page++) {
    const response = await fetch(`${url}/v1/events?after=${after}&limit=5000`);
    const body = (await response.json()) as { items: StoredEvent[] };
    for (const item of body.items) ids.add(item.event.id);
    const last = body.items.at(-1);
    if (!last) break;
    after = last.cursor;
  }
  return ids;
}

describe('collector process', () => {
  it('keeps every acknowledged event when killed with SIGKILL during ingest', async () => {
    const dir = tempDir();
    const db = join(dir, 'kill.db');
    const first = await spawnCollector(['--port', '0', '--db', db]);
    const batches: LifelineEvent[][] = [];
    for (let env = 0; env < 400; env++) {
      const events = lifecycle(`env-kill-${env}`, { invokes: 12, shutdownReason: 'spindown' });
      for (let i = 0; i < events.length; i += 50) batches.push(events.slice(i, i + 50));
    }
    const acked: string[] = [];
    let next = 0;
    let killed = false;
    const sender = async () => {
      while (next < batches.length && !killed) {
        const batch = batches[next++] as LifelineEvent[];
        try {
          const response = await fetch(`${first.url}/v1/events`, {
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
        if (!killed && acked.length >= 3000) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    expect(killed).toBe(true);
    expect((await first.exited).signal).toBe('SIGKILL');
    // The server process itself died (no wrapper left a child running on the old port).
    await expect(fetch(`${first.url}/healthz`)).rejects.toThrow();

    const second = await spawnCollector(['--port', '0', '--db', db]);
    const stored = await allStoredIds(second.url);
    const lost = acked.filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    expect(stored.size).toBeGreaterThanOrEqual(acked.length);
    // The derived rows were committed with the events: counts agree for every environment.
    const environments = (await (
      await fetch(`${second.url}/v1/environments?limit=1000`)
    ).json()) as { items: { envId: string; eventCount: number }[] };
    const perEnv = new Map<string, number>();
    for (const id of stored) {
      const envId = id.slice(0, id.lastIndexOf(':'));
      perEnv.set(envId, (perEnv.get(envId) ?? 0) + 1);
    }
    for (const environment of environments.items) {
      expect(environment.eventCount, environment.envId).toBe(perEnv.get(environment.envId));
    }
  });

  it('refuses to listen on a non-loopback host without an ingest token', async () => {
    const dir = tempDir();
    const result = await runCollectorExpectingExit([
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--db',
      join(dir, 'x.db'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'refusing to listen on non-loopback host 0.0.0.0 without an ingest token',
    );
  });

  it('exits with 1 and names the option when the configuration is bad', async () => {
    const result = await runCollectorExpectingExit(['--port', 'seventy']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--port must be a number, got \\"seventy\\"');
    const fromEnv = await runCollectorExpectingExit([], { LIFELINE_BODY_LIMIT: '-5' });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toContain('LIFELINE_BODY_LIMIT must be a positive integer');
  });

  it('stops gracefully on SIGTERM and never logs the tokens', async () => {
    const dir = tempDir();
    const collector = await spawnCollector(
      [
        '--port',
        '0',
        '--db',
        join(dir, 'term.db'),
        // Every request is logged at debug: the redaction, not the silence, must keep the tokens out.
        '--log-level',
        'debug',
      ],
      { LIFELINE_TOKEN: 'ingest-token-secret-9', LIFELINE_READ_TOKEN: 'read-token-secret-9' },
    );
    expect(collector.stdout()).not.toContain('demo mode');
    const ingest = await fetch(`${collector.url}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer ingest-token-secret-9',
      },
      body: JSON.stringify({ events: lifecycle('env-term', { invokes: 1 }) }),
    });
    expect(ingest.status).toBe(200);
    const read = await fetch(`${collector.url}/v1/functions`, {
      headers: { authorization: 'Bearer read-token-secret-9' },
    });
    expect(read.status).toBe(200);
    // A token in a query string must show up redacted in the request log.
    const leaky = await fetch(`${collector.url}/v1/functions?token=read-token-secret-9`);
    expect([200, 401]).toContain(leaky.status);
    const client = new LiveTestClient(liveUrl(collector.url, 'after=0&token=read-token-secret-9'));
    await client.caughtUp();
    collector.child.kill('SIGTERM');
    expect(await client.closed).toBe(1001);
    expect((await collector.exited).code).toBe(0);
    const logs = collector.stdout() + collector.stderr();
    expect(logs).toContain('"msg":"stopping"');
    expect(logs).toContain('[redacted]');
    expect(logs).not.toContain('ingest-token-secret-9');
    expect(logs).not.toContain('read-token-secret-9');
  });

  it('warns once that ingest is open when no token is set on loopback', async () => {
    const dir = tempDir();
    const collector = await spawnCollector(['--port', '0', '--db', join(dir, 'open.db')]);
    expect(collector.stdout().match(/demo mode/g)).toHaveLength(1);
    expect(collector.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
