import type { AddressInfo } from 'node:net';
import type { LiveFrame, StoredEvent } from '@lifeline/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { LiveClient, type LiveStatus, type SocketFactory } from './live-client.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const createSocket: SocketFactory = (url) =>
  new WebSocket(url) as unknown as ReturnType<SocketFactory>;

interface Connection {
  after: number;
  token: string | null;
  socket: WebSocket;
}

/** A tiny live endpoint on 127.0.0.1: replays `events` after the requested cursor, then lets the test push more. */
async function liveServer(events: StoredEvent[], onConnect?: (c: Connection) => void) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((done) => wss.once('listening', () => done()));
  const connections: Connection[] = [];
  wss.on('connection', (socket, req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const c = {
      after: Number(url.searchParams.get('after')),
      token: url.searchParams.get('token'),
      socket,
    };
    connections.push(c);
    if (onConnect) {
      onConnect(c);
      return;
    }
    const send = (frame: LiveFrame) => socket.send(JSON.stringify(frame));
    const head = events.at(-1)?.cursor ?? 0;
    send({ type: 'hello', protocolVersion: 1, head });
    send({ type: 'events', events: events.filter((e) => e.cursor > c.after) });
    send({ type: 'caught-up', cursor: head });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/v1/live`,
    connections,
    close: () =>
      new Promise<void>((done) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => done());
      }),
  };
}

function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function client(url: string, extra: Partial<ConstructorParameters<typeof LiveClient>[0]> = {}) {
  const received: StoredEvent[] = [];
  const statuses: LiveStatus[] = [];
  const c = new LiveClient({
    url,
    createSocket,
    initialBackoffMs: 10,
    maxBackoffMs: 50,
    onEvents: (events) => received.push(...events),
    onStatus: (s) => statuses.push(s),
    ...extra,
  });
  cleanups.push(() => c.stop());
  return { c, received, statuses };
}

describe('LiveClient', () => {
  it('delivers the replay and reports open when connected', async () => {
    const events = storedLifecycles([{ envId: 'a', startAt: T0, invokes: 2 }]);
    const server = await liveServer(events);
    cleanups.push(server.close);
    const { c, received, statuses } = client(server.url);
    c.start();
    await waitFor(() => received.length === events.length, 'replay');
    expect(received.map((e) => e.cursor)).toEqual(events.map((e) => e.cursor));
    expect(statuses).toEqual(['connecting', 'open']);
    expect(c.cursor).toBe(events.at(-1)!.cursor);
  });

  it('resumes after its last cursor without gap or duplicate when the server drops it', async () => {
    const events = storedLifecycles([{ envId: 'a', startAt: T0, invokes: 3 }]);
    let dropped = false;
    const server = await liveServer([], (conn) => {
      const send = (frame: LiveFrame) => conn.socket.send(JSON.stringify(frame));
      send({ type: 'hello', protocolVersion: 1, head: events.length });
      const rest = events.filter((e) => e.cursor > conn.after);
      if (!dropped) {
        dropped = true;
        // Half the replay, then "going away", with an overlapping duplicate first.
        send({ type: 'events', events: rest.slice(0, 5) });
        send({ type: 'events', events: rest.slice(3, 6) });
        conn.socket.close(1001, 'restart');
        return;
      }
      // The server replays a little too much: the client must drop what it has.
      send({ type: 'events', events: events.filter((e) => e.cursor > conn.after - 2) });
    });
    cleanups.push(server.close);
    const { c, received } = client(server.url);
    c.start();
    await waitFor(() => received.length === events.length, 'resumed replay');
    expect(server.connections.map((x) => x.after)).toEqual([0, 6]);
    expect(received.map((e) => e.cursor)).toEqual(events.map((e) => e.cursor));
  });

  it('reconnects at once from the last cursor when closed as a slow consumer', async () => {
    const events = storedLifecycles([{ envId: 'a', startAt: T0, invokes: 1 }]);
    let first = true;
    const server = await liveServer([], (conn) => {
      conn.socket.send(
        JSON.stringify({
          type: 'events',
          events: events.filter((e) => e.cursor > conn.after).slice(0, first ? 2 : undefined),
        }),
      );
      if (first) {
        first = false;
        conn.socket.close(4408, 'slow');
      }
    });
    cleanups.push(server.close);
    const { c, received } = client(server.url, { initialBackoffMs: 60_000, maxBackoffMs: 60_000 });
    c.start();
    await waitFor(() => received.length === events.length, 'reconnect after 4408');
    expect(server.connections.map((x) => x.after)).toEqual([0, 2]);
  });

  it('backs off instead of looping when every connection is closed as a slow consumer', async () => {
    const server = await liveServer([], (conn) => {
      conn.socket.send(JSON.stringify({ type: 'hello', protocolVersion: 1, head: 10 }));
      conn.socket.close(4408, 'slow');
    });
    cleanups.push(server.close);
    const { c } = client(server.url, { initialBackoffMs: 100, maxBackoffMs: 400 });
    c.start();
    await new Promise((r) => setTimeout(r, 1500));
    // One immediate retry, then 50–100, 100–200, 200–400, 200–400 … ms: a handful, not hundreds.
    expect(server.connections.length).toBeGreaterThanOrEqual(3);
    expect(server.connections.length).toBeLessThanOrEqual(12);
  });

  it('starts over from cursor 0 when the collector holds an older history than the client', async () => {
    const fresh = storedLifecycles([{ envId: 'new', startAt: T0, invokes: 1 }]);
    const server = await liveServer(fresh);
    cleanups.push(server.close);
    let resets = 0;
    const { c, received } = client(server.url, {
      after: 5000,
      onReset: () => {
        resets++;
        received.length = 0;
      },
    });
    c.start();
    await waitFor(() => received.length === fresh.length, 'replay of the new history');
    expect(resets).toBe(1);
    expect(server.connections.map((x) => x.after)).toEqual([5000, 0]);
    expect(received.map((e) => e.cursor)).toEqual(fresh.map((e) => e.cursor));
  });

  it('stops and reports unauthorized on 4401, then reconnects with the token it is given', async () => {
    const events = storedLifecycles([{ envId: 'a', startAt: T0, invokes: 1 }]);
    const server = await liveServer([], (conn) => {
      if (conn.token !== 'secret') {
        conn.socket.close(4401, 'unauthorized');
        return;
      }
      conn.socket.send(JSON.stringify({ type: 'events', events }));
    });
    cleanups.push(server.close);
    const { c, received, statuses } = client(server.url);
    c.start();
    await waitFor(() => c.status === 'unauthorized', 'unauthorized');
    expect(server.connections).toHaveLength(1);
    expect(statuses.at(-1)).toBe('unauthorized');
    c.setToken('secret');
    c.start();
    await waitFor(() => received.length === events.length, 'events with token');
    expect(server.connections.map((x) => x.token)).toEqual([null, 'secret']);
  });

  it('does not retry when the server rejects the query with 4400', async () => {
    const server = await liveServer([], (conn) => conn.socket.close(4400, 'bad cursor'));
    cleanups.push(server.close);
    const { c, statuses } = client(server.url);
    c.start();
    await waitFor(() => statuses.at(-1) === 'closed', 'closed');
    await new Promise((r) => setTimeout(r, 100));
    expect(server.connections).toHaveLength(1);
  });

  it('retries with backoff when nothing listens and connects once a server appears', async () => {
    const server = await liveServer([]);
    const url = server.url;
    await server.close();
    const delays: number[] = [];
    const random = () => {
      delays.push(1);
      return 0.5;
    };
    const { c, statuses } = client(url, { random });
    c.start();
    await waitFor(() => delays.length >= 2, 'two retries');
    expect(c.status).toBe('connecting');
    expect(statuses).not.toContain('open');
  });

  it('ignores malformed frames when the server sends garbage', async () => {
    const events = storedLifecycles([{ envId: 'a', startAt: T0, invokes: 1 }]);
    const server = await liveServer([], (conn) => {
      conn.socket.send('not json');
      conn.socket.send(
        JSON.stringify({
          type: 'events',
          events: [
            null,
            { cursor: 'x' },
            { cursor: 1 },
            { cursor: 2, event: { envId: 'e', type: 'invoke' } },
          ],
        }),
      );
      conn.socket.send(JSON.stringify({ type: 'events', events }));
    });
    cleanups.push(server.close);
    const { c, received } = client(server.url);
    c.start();
    await waitFor(() => received.length === events.length, 'valid events');
    expect(received.every((e) => typeof e.cursor === 'number')).toBe(true);
  });

  it('reconnects when the stream goes silent past the silence timeout', async () => {
    const server = await liveServer([], () => {});
    cleanups.push(server.close);
    const { c } = client(server.url, { silenceTimeoutMs: 100 });
    c.start();
    await waitFor(() => server.connections.length >= 2, 'second connection');
  });
});
