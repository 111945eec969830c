import { LIVE_CLOSE, type LiveFrame } from '@lifeline/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { createMetrics } from '../../src/metrics.ts';
import { createLiveHub, eventsFrame, type LiveHubOptions } from '../../src/plugins/live-hub.ts';
import type { EventLog, InsertResult, StoredRow } from '../../src/storage/types.ts';

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

const options = {
  heartbeatMs: 60_000,
  maxBufferedBytes: 1024,
  maxPendingEvents: 3,
  replayPageSize: 2,
};

/** An event log over an array; `singleWriter: false` behaves like a log shared with other collectors. */
function fakeLog(rows: StoredRow[], singleWriter = true) {
  let wake = () => {};
  const log: EventLog = {
    singleWriter,
    head: async () => rows.at(-1)?.cursor ?? 0,
    eventsAfter: async (after, limit, upTo = Number.MAX_SAFE_INTEGER) =>
      rows.filter((r) => r.cursor > after && r.cursor <= upTo).slice(0, limit),
    onRemoteCommit: (listener) => {
      wake = listener;
      return () => {
        wake = () => {};
      };
    },
  };
  return Object.assign(log, { wake: () => wake() });
}

function published(rows: StoredRow[]): InsertResult {
  return { accepted: rows.length, duplicates: 0, stored: rows };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function hubOver(log: EventLog, hubOptions: LiveHubOptions = options, metrics = createMetrics()) {
  return createLiveHub(log, 0, hubOptions, silentLogger, metrics);
}

describe('createLiveHub', () => {
  it('hands over from replay to live rows without gap or duplicate', async () => {
    const stored = [row(1), row(2), row(3), row(4), row(5)];
    const hub = hubOver(fakeLog(stored));
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 1 });
    await tick();
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
    const hub = hubOver(fakeLog([row(1), row(2), row(3)]));
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 0 });
    await tick();
    for (const callback of socket.callbacks.splice(0)) callback(new Error('EPIPE'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.closed?.code).toBe(1011);
    expect(socket.frames.some((frame) => frame.type === 'caught-up')).toBe(false);
  });

  it('closes a replaying client with 4408 when too many live rows wait', () => {
    const metrics = createMetrics();
    const hub = hubOver(fakeLog([row(1), row(2), row(3)]), options, metrics);
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
    const hub = hubOver(
      fakeLog([row(1), row(2), row(3)]),
      { ...options, maxPendingEvents: 1000, replayStallMs: 20 },
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
    const hub = hubOver(fakeLog([row(1), row(2), row(3), row(4), row(5)]), {
      ...options,
      replayStallMs: 60_000,
    });
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
    const hub = hubOver(fakeLog([]));
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 0 });
    await tick();
    await tick();
    expect(socket.frames.at(-1)?.type).toBe('caught-up');
    socket.bufferedAmount = 4096;
    hub.publish(published([row(1)]));
    expect(socket.closed?.code).toBe(LIVE_CLOSE.SLOW_CONSUMER);
    expect(socket.cursors()).toEqual([]);
  });
});

describe('createLiveHub on a log shared with other collectors', () => {
  it('reads rows from the log on every wake-up, local or remote, in cursor order, once each', async () => {
    const stored = [row(1), row(2)];
    const log = fakeLog(stored, false);
    const hub = hubOver(log, { ...options, maxPendingEvents: 100 });
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 0 });
    for (let i = 0; i < 10 && !socket.frames.some((f) => f.type === 'caught-up'); i++) {
      socket.flush();
      await tick();
    }
    // Another collector commits 3 and 4; this one commits 5 (its result is only a wake-up).
    stored.push(row(3), row(4));
    log.wake();
    stored.push(row(5));
    hub.publish(published([row(5)]));
    log.wake();
    for (let i = 0; i < 5; i++) await tick();
    expect(socket.cursors()).toEqual([1, 2, 3, 4, 5]);
    hub.closeAll(LIVE_CLOSE.GOING_AWAY, 'bye');
  });
});

describe('createLiveHub without clients on a shared log', () => {
  it('reads only the head on wake-ups, and a client attaching later still gets every row once', async () => {
    const stored = [row(1), row(2)];
    const log = fakeLog(stored, false);
    let rowReads = 0;
    const eventsAfter = log.eventsAfter;
    log.eventsAfter = (...args) => {
      rowReads += 1;
      return eventsAfter(...args);
    };
    const hub = hubOver(log, { ...options, maxPendingEvents: 100 });
    stored.push(row(3));
    hub.publish(published([row(3)]));
    log.wake();
    for (let i = 0; i < 5; i++) await tick();
    expect(rowReads).toBe(0);
    const socket = new FakeSocket();
    hub.attach(socket as unknown as WebSocket, { after: 0 });
    stored.push(row(4));
    log.wake();
    for (let i = 0; i < 10 && !socket.frames.some((f) => f.type === 'caught-up'); i++) {
      socket.flush();
      await tick();
    }
    stored.push(row(5));
    log.wake();
    for (let i = 0; i < 5; i++) await tick();
    expect(socket.cursors()).toEqual([1, 2, 3, 4, 5]);
    hub.closeAll(LIVE_CLOSE.GOING_AWAY, 'bye');
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
