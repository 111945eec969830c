import { LIVE_CLOSE, type LiveFrame } from '@lifeline/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { createMetrics } from '../../src/metrics.ts';
import type {
  EventsRepository,
  InsertResult,
  StoredRow,
} from '../../src/plugins/events-repository.ts';
import { createLiveHub, eventsFrame } from '../../src/plugins/live-hub.ts';

const silentLogger = { debug() {}, error() {} } as unknown as FastifyBaseLogger;

/** A socket whose writes complete only when the test says so. */
class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: LiveFrame[] = [];
  readonly callbacks: ((error?: Error) => void)[] = [];
  closed: { code: number; reason: string } | undefined;
  private readonly handlers = new Map<string, (() => void)[]>();

  send(data: string, callback?: (error?: Error) => void) {
    this.frames.push(JSON.parse(data) as LiveFrame);
    if (callback) this.callbacks.push(callback);
  }
  flush() {
    for (const callback of this.callbacks.splice(0)) callback();
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
    this.readyState = 3;
    for (const handler of this.handlers.get('close') ?? []) handler();
  }
  terminate() {
    this.close(1006, '');
  }
  on(event: string, handler: () => void) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    return this;
  }
  cursors(): number[] {
    return this.frames.flatMap((frame) =>
      frame.type === 'events' ? frame.events.map((event) => event.cursor) : [],
    );
  }
}

function row(cursor: number, envId = 'env-1'): StoredRow {
  return {
    cursor,
    receivedAt: 1,
    envId,
    body: JSON.stringify({ id: `${envId}:${cursor}`, envId, seq: cursor, time: 1, type: 'exit' }),
  };
}

function fakeRepository(rows: StoredRow[], functions: Record<string, string> = {}) {
  return {
    head: () => rows.at(-1)?.cursor ?? 0,
    eventsAfter: (after: number, limit: number, upTo = Number.MAX_SAFE_INTEGER, fn?: string) =>
      rows
        .filter((r) => r.cursor > after && r.cursor <= upTo)
        .filter((r) => fn === undefined || functions[r.envId] === fn)
        .slice(0, limit),
    functionOf: (envId: string) => functions[envId] ?? null,
    environmentEventsBefore: (envId: string, before: number) =>
      rows.filter((r) => r.envId === envId && r.cursor < before),
  } as unknown as EventsRepository;
}

function published(rows: StoredRow[], functions = new Map<string, string>()): InsertResult {
  return { accepted: rows.length, duplicates: 0, stored: rows, functions };
}

const options = {
  heartbeatMs: 60_000,
  maxBufferedBytes: 1024,
  maxPendingEvents: 3,
  replayPageSize: 2,
};

describe('createLiveHub', () => {
  it('hands over from replay to live rows without gap or duplicate', async () => {
    const stored = [row(1), row(2), row(3), row(4), row(5)];
    const hub = createLiveHub(fakeRepository(stored), options, silentLogger, createMetrics());
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 1 });
    expect(socket.frames[0]).toMatchObject({ type: 'hello', head: 5 });
    // Rows committed while the replay waits for the socket are queued, not sent.
    stored.push(row(6), row(7));
    hub.publish(published([row(6), row(7)]));
    for (let i = 0; i < 10 && !socket.frames.some((f) => f.type === 'caught-up'); i++) {
      socket.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(socket.cursors()).toEqual([2, 3, 4, 5, 6, 7]);
    const caughtUp = socket.frames.findIndex((frame) => frame.type === 'caught-up');
    expect(socket.frames[caughtUp]).toEqual({ type: 'caught-up', cursor: 5 });
    hub.publish(published([row(8)]));
    expect(socket.cursors()).toEqual([2, 3, 4, 5, 6, 7, 8]);
    hub.closeAll(LIVE_CLOSE.GOING_AWAY, 'bye');
    expect(socket.closed).toEqual({ code: 1001, reason: 'bye' });
  });

  it('ends the connection instead of handing over when a replay page fails to write', async () => {
    const hub = createLiveHub(
      fakeRepository([row(1), row(2), row(3)]),
      options,
      silentLogger,
      createMetrics(),
    );
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 0 });
    for (const callback of socket.callbacks.splice(0)) callback(new Error('EPIPE'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.closed?.code).toBe(1011);
    expect(socket.frames.some((frame) => frame.type === 'caught-up')).toBe(false);
  });

  it('closes a replaying client with 4408 when too many live rows wait', () => {
    const metrics = createMetrics();
    const hub = createLiveHub(
      fakeRepository([row(1), row(2), row(3)]),
      options,
      silentLogger,
      metrics,
    );
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 0 });
    hub.publish(published([row(4), row(5)]));
    expect(socket.closed).toBeUndefined();
    hub.publish(published([row(6), row(7)]));
    expect(socket.closed?.code).toBe(LIVE_CLOSE.SLOW_CONSUMER);
    expect(metrics.liveSlowConsumerCloses).toBe(1);
    expect(hub.clientCount()).toBe(0);
  });

  it('closes a replaying client with 4408 when a replay page stays unwritten for the stall limit', async () => {
    const metrics = createMetrics();
    const hub = createLiveHub(
      fakeRepository([row(1), row(2), row(3)]),
      { ...options, maxPendingEvents: 1000, replayStallMs: 20 },
      silentLogger,
      metrics,
    );
    const socket = new FakeSocket();
    const closed = new Promise<void>((resolve) => socket.on('close', resolve));
    hub.attach(socket as unknown as WebSocket, { after: 0 });
    // The client never reads: the first page's write never completes, and nothing is published.
    hub.publish(published([row(4)]));
    await closed;
    expect(socket.closed?.code).toBe(LIVE_CLOSE.SLOW_CONSUMER);
    expect(metrics.liveSlowConsumerCloses).toBe(1);
    expect(hub.clientCount()).toBe(0);
    expect(socket.frames.some((frame) => frame.type === 'caught-up')).toBe(false);
  });

  it('keeps a replaying client whose pages are written before the stall limit', async () => {
    const hub = createLiveHub(
      fakeRepository([row(1), row(2), row(3), row(4), row(5)]),
      { ...options, replayStallMs: 60_000 },
      silentLogger,
      createMetrics(),
    );
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 0 });
    for (let i = 0; i < 10 && !socket.frames.some((f) => f.type === 'caught-up'); i++) {
      socket.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(socket.cursors()).toEqual([1, 2, 3, 4, 5]);
    expect(socket.closed).toBeUndefined();
    hub.closeAll(LIVE_CLOSE.GOING_AWAY, 'bye');
  });

  it('closes a live client with 4408 when its socket buffer is over the limit', async () => {
    const hub = createLiveHub(fakeRepository([]), options, silentLogger, createMetrics());
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.frames.at(-1)?.type).toBe('caught-up');
    socket.bufferedAmount = 4096;
    hub.publish(published([row(1)]));
    expect(socket.closed?.code).toBe(LIVE_CLOSE.SLOW_CONSUMER);
    expect(socket.cursors()).toEqual([]);
  });

  it('queues the earlier rows of a revealed environment for a replaying filtered client, once, in stream order', async () => {
    const stored = [row(1, 'env-y'), row(2, 'env-x'), row(3, 'env-x')];
    const functions: Record<string, string> = { 'env-y': 'alpha' };
    const hub = createLiveHub(
      fakeRepository(stored, functions),
      { ...options, maxPendingEvents: 100 },
      silentLogger,
      createMetrics(),
    );
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 0, functionName: 'alpha' });
    // env-x registers while the replay waits for the socket: its rows 2 and 3 join the stream at cursor 4.
    stored.push(row(4, 'env-x'));
    functions['env-x'] = 'alpha';
    hub.publish({
      ...published([row(4, 'env-x')], new Map([['env-x', 'alpha']])),
      revealed: new Map([['env-x', 4]]),
    });
    for (let i = 0; i < 10 && !socket.frames.some((f) => f.type === 'caught-up'); i++) {
      socket.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
    hub.publish(published([row(5, 'env-x'), row(6, 'env-z')]));
    expect(socket.cursors()).toEqual([1, 2, 3, 4, 5]);
    hub.closeAll(LIVE_CLOSE.GOING_AWAY, 'bye');
  });

  it('sends a function-filtered client only rows of that function', async () => {
    const hub = createLiveHub(
      fakeRepository([], { 'env-a': 'alpha' }),
      options,
      silentLogger,
      createMetrics(),
    );
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 0, functionName: 'alpha' });
    await new Promise((resolve) => setImmediate(resolve));
    hub.publish(
      published([row(1, 'env-a'), row(2, 'env-b'), row(3, 'env-c')], new Map([['env-c', 'alpha']])),
    );
    expect(socket.cursors()).toEqual([1, 3]);
  });
});

describe('eventsFrame', () => {
  it('embeds stored bodies verbatim in a valid events frame', () => {
    const frame = JSON.parse(eventsFrame([row(1), row(2)]));
    expect(frame.type).toBe('events');
    expect(frame.events.map((event: { cursor: number }) => event.cursor)).toEqual([1, 2]);
    expect(frame.events[0].event.id).toBe('env-1:1');
  });
});
