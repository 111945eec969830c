import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  applyEvents,
  type EnvironmentSnapshot,
  type LiveFrame,
  type StoredEvent,
  type WindowPage,
} from '@lifeline/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { storedLifecycles } from '../test-support/stored-events.ts';
import { EventStore } from './event-store.ts';
import type { LiveStatus, SocketFactory } from './live-client.ts';
import { type LoadProgress, WindowSession } from './window-session.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const createSocket: SocketFactory = (url) =>
  new WebSocket(url) as unknown as ReturnType<SocketFactory>;

/** The collector's rows for `events` (one environment), as a window page row. */
function snapshotOf(events: readonly StoredEvent[]): EnvironmentSnapshot {
  const model = applyEvents(
    undefined,
    events.map((e) => e.event),
    events.map((e) => e.receivedAt),
  );
  return {
    cursor: events[events.length - 1]!.cursor,
    env: model.env,
    invocations: [...model.invocations.values()],
  };
}

interface FakeCollector {
  url: string;
  liveUrl: string;
  windowQueries: URLSearchParams[];
  liveAfter: number[];
  close(): Promise<void>;
}

/**
 * A collector on 127.0.0.1 with `/v1/settings`, `/v1/window` (the given pages, in order) and `/v1/live` (replays
 * `live` after the requested cursor, announcing `head`).
 */
async function fakeCollector(options: {
  pages: WindowPage[];
  live: StoredEvent[];
  head?: number;
  status?: number;
}): Promise<FakeCollector> {
  const windowQueries: URLSearchParams[] = [];
  const liveAfter: number[] = [];
  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (options.status) {
      res.statusCode = options.status;
      res.end('{"message":"no"}');
    } else if (url.pathname === '/v1/settings') {
      res.end(JSON.stringify({ lostAfterMs: 60_000, retentionDays: 7, protocolVersion: 1 }));
    } else if (url.pathname === '/v1/window') {
      windowQueries.push(url.searchParams);
      const cursor = url.searchParams.get('cursor');
      res.end(JSON.stringify(options.pages[cursor === null ? 0 : Number(cursor)]));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((done) => http.listen(0, '127.0.0.1', () => done()));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((done) => wss.once('listening', () => done()));
  wss.on('connection', (socket, req) => {
    const after = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after'));
    liveAfter.push(after);
    const send = (frame: LiveFrame) => socket.send(JSON.stringify(frame));
    const head = options.head ?? options.live.at(-1)?.cursor ?? 0;
    send({ type: 'hello', protocolVersion: 1, head });
    send({ type: 'events', events: options.live.filter((e) => e.cursor > after) });
    send({ type: 'caught-up', cursor: head });
  });
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    liveUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/live`,
    windowQueries,
    liveAfter,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((done) => wss.close(() => done()));
      await new Promise<void>((done) => http.close(() => done()));
    },
  };
}

function waitFor(check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > 20_000) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startSession(collector: FakeCollector, store: EventStore, following: boolean) {
  const statuses: LiveStatus[] = [];
  const progress: LoadProgress[] = [];
  const session = new WindowSession({
    store,
    range: following
      ? { following: true, spanMs: 15 * 60_000 }
      : { following: false, from: T0, to: T0 + 1 },
    apiUrl: (path) => `${collector.url}${path}`,
    liveUrl: collector.liveUrl,
    token: null,
    createSocket,
    retryMs: 10,
    onStatus: (s) => statuses.push(s),
    onProgress: (p) => progress.push(p),
  });
  cleanups.push(() => session.stop());
  session.start();
  return { session, statuses, progress };
}

describe('WindowSession', () => {
  it('loads every page, then follows live from page 1 head with no gap and no duplicate', async () => {
    const events = storedLifecycles([
      { envId: 'env-a', startAt: T0, invokes: 3 },
      { envId: 'env-b', startAt: T0, invokes: 2 },
    ]);
    const a = events.filter((e) => e.event.envId === 'env-a');
    const b = events.filter((e) => e.event.envId === 'env-b');
    // Page 1 read at head 10 (env-a's first 10 events); page 2 read later, when env-b's row covered 4 of its events.
    const head = 10;
    const pages: WindowPage[] = [
      { head, environments: [snapshotOf(a.slice(0, 10))], nextCursor: '1', total: 2 },
      { head: head + 30, environments: [snapshotOf(b.slice(0, 4))], nextCursor: null, total: 2 },
    ];
    const collector = await fakeCollector({ pages, live: events });
    cleanups.push(() => collector.close());
    const store = new EventStore({ schedule: (flush) => setTimeout(flush, 0) });
    const { progress } = startSession(collector, store, true);
    await waitFor(
      () => store.getSnapshot().lanes.get('env-b')?.eventCount === b.length,
      'env-b complete',
    );
    await waitFor(
      () => store.getSnapshot().lanes.get('env-a')?.eventCount === a.length,
      'env-a complete',
    );
    expect(collector.liveAfter).toEqual([head]);
    expect(progress.at(-1)).toEqual({ loaded: 2, total: 2, done: true });
    const whole = new EventStore({ schedule: (flush) => flush() });
    whole.append(events);
    for (const envId of ['env-a', 'env-b']) {
      expect(store.getSnapshot().lanes.get(envId)!.facts).toEqual(
        whole.getSnapshot().lanes.get(envId)!.facts,
      );
    }
    expect(collector.windowQueries.map((q) => q.get('cursor'))).toEqual([null, '1']);
    // A small first page draws the newest lanes early; the rest come in the collector's largest pages.
    expect(collector.windowQueries.map((q) => q.get('limit'))).toEqual(['100', '500']);
  });

  it('loads an absolute range without opening the live socket', async () => {
    const events = storedLifecycles([{ envId: 'env-old', startAt: T0, invokes: 1 }]);
    const collector = await fakeCollector({
      pages: [
        { head: events.length, environments: [snapshotOf(events)], nextCursor: null, total: 1 },
      ],
      live: events,
    });
    cleanups.push(() => collector.close());
    const store = new EventStore({ schedule: (flush) => flush() });
    const { statuses } = startSession(collector, store, false);
    await waitFor(() => statuses.includes('open'), 'loaded');
    expect(store.getSnapshot().lanes.has('env-old')).toBe(true);
    expect(collector.windowQueries[0]!.get('from')).toBe(String(T0));
    expect(collector.liveAfter).toEqual([]);
  });

  it('reads a range too long to show every invoke as density, on every page, and keeps its cells', async () => {
    const events = storedLifecycles([{ envId: 'env-week', startAt: T0, invokes: 3 }]);
    const rows = snapshotOf(events);
    const last = rows.invocations.at(-1)!;
    const page: WindowPage = {
      head: events.length,
      step: 1_800_000,
      environments: [
        {
          ...rows,
          invocations: [last],
          activity: { bucket: [5], invokes: [3], errors: [1], timeouts: [0], busyMs: [360] },
        },
      ],
      nextCursor: '1',
      total: 2,
    };
    const collector = await fakeCollector({
      pages: [page, { ...page, environments: [], nextCursor: null }],
      live: events,
    });
    cleanups.push(() => collector.close());
    const store = new EventStore({ schedule: (flush) => flush() });
    const week = 7 * 86_400_000;
    const session = new WindowSession({
      store,
      range: { following: false, from: T0 - week, to: T0 },
      apiUrl: (path) => `${collector.url}${path}`,
      liveUrl: collector.liveUrl,
      token: null,
      laneWidthPx: () => 1500,
    });
    cleanups.push(() => session.stop());
    session.start();
    await waitFor(() => collector.windowQueries.length === 2, 'both pages');
    await waitFor(() => store.getSnapshot().lanes.has('env-week'), 'loaded');
    expect(collector.windowQueries.map((q) => q.get('step'))).toEqual(['1800000', '1800000']);
    const lane = store.getSnapshot().lanes.get('env-week')!;
    expect(lane.activity).toEqual({
      step: 1_800_000,
      cells: [{ bucket: 5, invokes: 3, errors: 1, timeouts: 0, busyMs: 360 }],
      invokes: 3,
    });
    expect(lane.invokes.map((bar) => bar.requestId)).toEqual([last.requestId]);
    // An hour on the same lane is shown invoke by invoke: no step.
    const detail = new WindowSession({
      store: new EventStore(),
      range: { following: false, from: T0 - 3_600_000, to: T0 },
      apiUrl: (path) => `${collector.url}${path}`,
      liveUrl: collector.liveUrl,
      token: null,
      laneWidthPx: () => 1500,
    });
    cleanups.push(() => detail.stop());
    detail.start();
    await waitFor(() => collector.windowQueries.length >= 3, 'the hour');
    expect(collector.windowQueries[2]!.has('step')).toBe(false);
  });

  it('says unauthorized when the collector wants a read token', async () => {
    const collector = await fakeCollector({ pages: [], live: [], status: 401 });
    cleanups.push(() => collector.close());
    const { statuses } = startSession(collector, new EventStore(), true);
    await waitFor(() => statuses.includes('unauthorized'), 'unauthorized');
  });

  it('loads the range again when the collector holds an older history than the page said', async () => {
    const events = storedLifecycles([{ envId: 'env-r', startAt: T0, invokes: 1 }]);
    const collector = await fakeCollector({
      pages: [{ head: 500, environments: [snapshotOf(events)], nextCursor: null, total: 1 }],
      live: [],
      head: 3,
    });
    cleanups.push(() => collector.close());
    startSession(collector, new EventStore({ schedule: (flush) => flush() }), true);
    await waitFor(() => collector.windowQueries.length >= 2, 'a second window load');
  });
});
