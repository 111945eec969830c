import { LIVE_CLOSE, type LifelineEvent, PROTOCOL_VERSION } from '@lifeline/protocol';
import { describe, expect, it, vi } from 'vitest';
import { backends, lifecycle, listen } from '../helper.ts';
import { LiveTestClient, liveUrl } from '../live-client.ts';

async function send(url: string, events: LifelineEvent[], token?: string) {
  const response = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ events }),
  });
  const body = (await response.json()) as { accepted: number };
  if (response.status !== 200) throw new Error(`ingest failed: ${JSON.stringify(body)}`);
  return body;
}

function cursorsOf(client: LiveTestClient): number[] {
  return client.events.map((event) => event.cursor);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe.each(backends())('GET /v1/live on %s', (_backend, dbPath) => {
  it('sends hello, replays stored events, says caught-up, then streams new ones', async () => {
    const collector = await listen({ dbPath: await dbPath() });
    await send(collector.url, lifecycle('env-a', { invokes: 2 }));
    const stored = await collector.app.storage.eventLog.head();
    const client = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    await client.caughtUp();
    expect(client.frames[0]).toEqual({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      head: stored,
    });
    expect(cursorsOf(client)).toEqual(range(1, stored));
    expect(client.frames.at(-1)).toEqual({ type: 'caught-up', cursor: stored });
    await send(collector.url, lifecycle('env-b', { invokes: 1 }));
    const head = await collector.app.storage.eventLog.head();
    await client.untilCursor(head);
    expect(cursorsOf(client)).toEqual(range(1, head));
    expect(client.events.at(-1)?.event.envId).toBe('env-b');
    expect(typeof client.events[0]?.receivedAt).toBe('number');
  });

  it('replays only what follows the cursor it is given', async () => {
    const collector = await listen({ dbPath: await dbPath(), liveReplayPageSize: 3 });
    await send(collector.url, lifecycle('env-c', { invokes: 3 }));
    const head = await collector.app.storage.eventLog.head();
    const client = new LiveTestClient(liveUrl(collector.url, 'after=5'));
    await client.caughtUp();
    expect(cursorsOf(client)).toEqual(range(6, head));
  });

  it('resumes without gap or duplicate across reconnects while ingest runs', async () => {
    const collector = await listen({ dbPath: await dbPath(), liveReplayPageSize: 7 });
    const batches: LifelineEvent[][] = [];
    for (let env = 0; env < 12; env++) {
      const events = lifecycle(`env-r${env}`, { invokes: 4, shutdownReason: 'spindown' });
      for (let i = 0; i < events.length; i += 5) batches.push(events.slice(i, i + 5));
    }
    // Two concurrent senders keep committing while the client disconnects and resumes.
    let next = 0;
    const sender = async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        if (batch) await send(collector.url, batch);
      }
    };
    const ingest = Promise.all([sender(), sender()]);
    const received: number[] = [];
    let cursor = 0;
    for (let round = 0; round < 8; round++) {
      const client = new LiveTestClient(liveUrl(collector.url, `after=${cursor}`));
      await client.caughtUp();
      const target = cursor + 5 + round * 3;
      await client.waitFor(
        () => client.lastCursor(cursor) >= target || next >= batches.length,
        'some events',
      );
      await client.close();
      received.push(...cursorsOf(client));
      cursor = client.lastCursor(cursor);
    }
    await ingest;
    const head = await collector.app.storage.eventLog.head();
    const last = new LiveTestClient(liveUrl(collector.url, `after=${cursor}`));
    await last.untilCursor(head);
    received.push(...cursorsOf(last));
    expect(received).toEqual(range(1, head));
    expect(head).toBe(batches.flat().length);
  });

  it('closes a client that cannot keep up with 4408, and it resumes from its last cursor', async () => {
    const collector = await listen({ dbPath: await dbPath(), liveMaxBufferedBytes: 32 * 1024 });
    const client = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    await client.caughtUp();
    // Stop reading: the kernel buffers fill and the collector's send queue grows.
    const raw = (client.socket as unknown as { _socket: { pause(): void; resume(): void } })
      ._socket;
    raw.pause();
    for (let env = 0; env < 2000 && collector.app.metrics.liveSlowConsumerCloses === 0; env++) {
      await send(collector.url, lifecycle(`env-slow-${env}`, { invokes: 20 }));
    }
    expect(collector.app.metrics.liveSlowConsumerCloses).toBe(1);
    raw.resume();
    expect(await client.closed).toBe(LIVE_CLOSE.SLOW_CONSUMER);
    const resumed = new LiveTestClient(liveUrl(collector.url, `after=${client.lastCursor(0)}`));
    const head = await collector.app.storage.eventLog.head();
    await resumed.untilCursor(head);
    expect([...cursorsOf(client), ...cursorsOf(resumed)]).toEqual(range(1, head));
  });

  it('closes a replaying client that stopped reading with 4408 after the stall limit', async () => {
    const collector = await listen({
      dbPath: await dbPath(),
      liveReplayStallMs: 300,
      liveReplayPageSize: 50,
    });
    const { app } = collector;
    // About 16 MB of stored events: more than the loopback socket buffers hold for a client that does not read.
    const pad = 'x'.repeat(20_000);
    for (let env = 0; env < 4; env++) {
      const events = lifecycle(`env-stall-${env}`, { invokes: 60 }).map((event) =>
        event.type === 'platform' ? { ...event, record: { pad } } : event,
      );
      await app.storage.ingest.insertBatches(
        [events.map((event) => ({ event: event as LifelineEvent, body: JSON.stringify(event) }))],
        Date.now(),
      );
    }
    const client = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    client.socket.once('upgrade', (response) => response.socket.pause());
    await client.opened;
    await vi.waitFor(() => expect(app.metrics.liveSlowConsumerCloses).toBe(1), {
      timeout: 30_000,
      interval: 20,
    });
    expect(app.liveHub.clientCount()).toBe(0);
    expect(client.frames.some((frame) => frame.type === 'caught-up')).toBe(false);
    const resumed = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    await resumed.caughtUp();
    expect(resumed.lastCursor()).toBe(await app.storage.eventLog.head());
  });

  it('closes with 4401 when the read token is missing or wrong and streams with it', async () => {
    const collector = await listen({
      dbPath: await dbPath(),
      readToken: 'read-secret-3',
      token: 'ingest-secret-3',
    });
    const missing = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    expect(await missing.closed).toBe(LIVE_CLOSE.UNAUTHORIZED);
    const wrong = new LiveTestClient(liveUrl(collector.url, 'after=0&token=ingest-secret-3'));
    expect(await wrong.closed).toBe(LIVE_CLOSE.UNAUTHORIZED);
    const good = new LiveTestClient(liveUrl(collector.url, 'after=0&token=read-secret-3'));
    await good.caughtUp();
    const header = new LiveTestClient(liveUrl(collector.url, 'after=0'), {
      authorization: 'Bearer read-secret-3',
    });
    await header.caughtUp();
  });

  it('closes with 4400 when the cursor is not a number', async () => {
    const collector = await listen({ dbPath: await dbPath() });
    for (const query of ['after=abc', 'after=-1', 'after=1&after=2', 'after=1e5']) {
      const client = new LiveTestClient(liveUrl(collector.url, query));
      expect(await client.closed, query).toBe(LIVE_CLOSE.BAD_REQUEST);
    }
  });

  it('sends heartbeats when nothing else is sent', async () => {
    const collector = await listen({ dbPath: await dbPath(), liveHeartbeatMs: 50 });
    await send(collector.url, lifecycle('env-h', { invokes: 0 }));
    const client = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    await client.waitFor(
      () => client.frames.some((frame) => frame.type === 'heartbeat'),
      'heartbeat',
    );
    const heartbeat = client.frames.find((frame) => frame.type === 'heartbeat');
    expect(heartbeat).toMatchObject({ head: await collector.app.storage.eventLog.head() });
  });

  it('closes live sockets with 1001 when the collector stops', async () => {
    const collector = await listen({ dbPath: await dbPath() });
    const client = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    await client.caughtUp();
    expect(collector.app.liveHub.clientCount()).toBe(1);
    await collector.close();
    expect(await client.closed).toBe(LIVE_CLOSE.GOING_AWAY);
  });
});
