import http from 'node:http';
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { LogInput } from '../src/event-log.ts';
import {
  LOGS_DROPPED_REASON,
  type Subscription,
  type TelemetryApiEvent,
  TelemetryDispatcher,
} from '../src/telemetry-dispatcher.ts';

interface Listener {
  url: URL;
  batches: { path: string; events: TelemetryApiEvent[] }[];
  /** Resolves when `count` batches arrived. */
  batchesArrived(count: number): Promise<void>;
}

async function listener(statuses: number[] = []): Promise<Listener> {
  const batches: Listener['batches'] = [];
  const waiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const status = statuses.shift() ?? 200;
      if (status < 300) {
        batches.push({
          path: req.url ?? '',
          events: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
      }
      res.writeHead(status).end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: new URL(`http://127.0.0.1:${port}/lambda/telemetry`),
    batches,
    batchesArrived: (count) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (batches.length >= count) resolve();
          else waiters.push(check);
        };
        check();
      }),
  };
}

function dispatcher(options: Partial<{ queueLimit: number; maxAttempts: number }> = {}) {
  const log: LogInput[] = [];
  const d = new TelemetryDispatcher({
    queueLimit: options.queueLimit ?? 100_000,
    maxAttempts: options.maxAttempts ?? 5,
    retryBaseMs: 10,
    log: (entry) => log.push(entry),
  });
  onTestFinished(() => d.close());
  return { d, log };
}

function subscription(
  url: URL,
  buffering: Partial<Subscription['buffering']> = {},
  types: Subscription['types'] = ['platform', 'function'],
): Subscription {
  return {
    api: 'telemetry',
    extension: 'ext',
    extensionId: 'id-1',
    types,
    schemaVersion: '2022-12-13',
    destination: { protocol: 'HTTP', url },
    buffering: { maxItems: 1000, maxBytes: 262_144, timeoutMs: 25, ...buffering },
  };
}

describe('TelemetryDispatcher', () => {
  it('replays Init records and announces the subscription when an extension subscribes late', async () => {
    const target = await listener();
    const { d } = dispatcher();
    d.publish('platform.initStart', { phase: 'init' });
    d.subscribe(subscription(target.url));
    await target.batchesArrived(1);
    expect(target.batches[0]!.events.map((e) => e.type)).toEqual([
      'platform.initStart',
      'platform.telemetrySubscription',
    ]);
    expect(target.batches[0]!.path).toBe('/lambda/telemetry');
    expect(target.batches[0]!.events[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('splits batches at maxItems when many records are waiting', async () => {
    const target = await listener();
    const { d } = dispatcher();
    d.subscribe(subscription(target.url, { timeoutMs: 30_000 }, ['function']));
    d.freeze();
    for (let i = 0; i < 2500; i++) d.publish('function', `line ${i}`);
    d.thaw();
    await target.batchesArrived(3);
    expect(target.batches.map((b) => b.events.length)).toEqual([1000, 1000, 500]);
    expect(target.batches.flatMap((b) => b.events.map((e) => e.record))).toEqual(
      Array.from({ length: 2500 }, (_, i) => `line ${i}`),
    );
  });

  it('sends a batch as soon as maxBytes is reached without waiting for timeoutMs', async () => {
    const target = await listener();
    const { d } = dispatcher();
    d.subscribe(subscription(target.url, { timeoutMs: 30_000, maxBytes: 262_144 }, ['function']));
    const big = 'x'.repeat(100_000);
    d.publish('function', big);
    d.publish('function', big);
    d.publish('function', big);
    await target.batchesArrived(1);
    expect(target.batches[0]!.events).toHaveLength(2);
  });

  it('groups records of one timeoutMs window into one POST', async () => {
    const target = await listener();
    const { d } = dispatcher();
    d.subscribe(subscription(target.url, { timeoutMs: 300 }, ['function']));
    d.publish('function', 'a');
    d.publish('function', 'b');
    d.publish('function', 'c');
    await target.batchesArrived(1);
    expect(target.batches[0]!.events.map((e) => e.record)).toEqual(['a', 'b', 'c']);
  });

  it('delivers nothing while frozen and flushes on thaw', async () => {
    const target = await listener();
    const { d } = dispatcher();
    d.subscribe(subscription(target.url, {}, ['function']));
    d.freeze();
    d.publish('function', 'held');
    expect(await d.drained(200)).toBe(false);
    expect(target.batches).toHaveLength(0);
    d.thaw();
    await target.batchesArrived(1);
    expect(target.batches[0]!.events.map((e) => e.record)).toEqual(['held']);
  });

  it('retries a batch with backoff when the listener answers non-2xx', async () => {
    const target = await listener([500, 503]);
    const { d, log } = dispatcher();
    d.subscribe(subscription(target.url, {}, ['function']));
    d.publish('function', 'precious');
    await target.batchesArrived(1);
    expect(await d.drained(5000)).toBe(true);
    expect(target.batches[0]!.events.map((e) => e.record)).toEqual(['precious']);
    const attempts = log
      .filter((e) => e.kind === 'telemetry.deliver')
      .map((e) => [e.statusCode, e.data?.attempt]);
    expect(attempts).toEqual([
      [500, 1],
      [503, 2],
      [200, 3],
    ]);
  });

  it('drops a batch after maxAttempts when the listener keeps failing', async () => {
    const target = await listener([500, 500, 500]);
    const { d, log } = dispatcher({ maxAttempts: 3 });
    d.subscribe(subscription(target.url, {}, ['function']));
    d.publish('function', 'doomed');
    expect(await d.drained(10_000)).toBe(true);
    expect(target.batches).toHaveLength(0);
    expect(log.find((e) => e.kind === 'telemetry.drop')?.message).toBe(
      'batch dropped after 3 attempts',
    );
  });

  it('retries after a connection error when nobody listens', async () => {
    const { d, log } = dispatcher({ maxAttempts: 2 });
    d.subscribe(subscription(new URL('http://127.0.0.1:1/'), {}, ['function']));
    d.publish('function', 'nowhere');
    expect(await d.drained(10_000)).toBe(true);
    const attempts = log.filter((e) => e.kind === 'telemetry.deliver');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.errorMessage).toMatch(/ECONNREFUSED/);
  });

  it('emits platform.logsDropped when a lagging subscriber overflows its queue', async () => {
    const target = await listener();
    const { d } = dispatcher({ queueLimit: 5 });
    d.subscribe(subscription(target.url, {}, ['platform', 'function']));
    await target.batchesArrived(1);
    d.freeze();
    for (let i = 0; i < 8; i++) d.publish('function', `line ${i}`);
    d.thaw();
    await target.batchesArrived(2);
    const events = target.batches[1]!.events;
    expect(events[0]).toMatchObject({
      type: 'platform.logsDropped',
      record: { droppedRecords: 3, reason: LOGS_DROPPED_REASON },
    });
    expect(events.slice(1).map((e) => e.record)).toEqual([
      'line 3',
      'line 4',
      'line 5',
      'line 6',
      'line 7',
    ]);
  });

  it('loses batches in transit and fails deliveries on demand', async () => {
    const target = await listener();
    const { d, log } = dispatcher();
    d.subscribe(subscription(target.url, {}, ['function']));
    d.freeze();
    d.dropNextDeliveries(1);
    d.failNextDeliveries(1);
    d.publish('function', 'lost');
    d.thaw();
    expect(await d.drained(5000)).toBe(true);
    d.publish('function', 'kept');
    await target.batchesArrived(1);
    expect(target.batches[0]!.events.map((e) => e.record)).toEqual(['kept']);
    expect(log.some((e) => e.kind === 'fault')).toBe(true);
  });

  it('writes NDJSON when the destination is TCP', async () => {
    const lines: string[] = [];
    let wake: (() => void) | undefined;
    const server = net.createServer((socket) => {
      let buffer = '';
      socket.on('data', (chunk) => {
        buffer += chunk.toString('utf8');
        const parts = buffer.split('\n');
        buffer = parts.pop() ?? '';
        lines.push(...parts);
        wake?.();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { d } = dispatcher();
    d.subscribe({
      ...subscription(new URL('http://unused'), {}, ['function']),
      destination: { protocol: 'TCP', port: (server.address() as net.AddressInfo).port },
    });
    d.publish('function', 'one');
    d.publish('function', 'two');
    await new Promise<void>((resolve) => {
      wake = () => {
        if (lines.length >= 2) resolve();
      };
      wake();
    });
    expect(lines.map((line) => (JSON.parse(line) as TelemetryApiEvent).record)).toEqual([
      'one',
      'two',
    ]);
    d.close();
  });
});
