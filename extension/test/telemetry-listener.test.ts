import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  type PlatformRecord,
  parseTelemetryBody,
  startTelemetryListener,
} from '../src/telemetry-listener.ts';

async function listen(
  maxBodyBytes?: number,
  limits: Partial<
    Pick<
      Parameters<typeof startTelemetryListener>[0],
      'maxInFlightBytes' | 'maxConnections' | 'requestTimeoutMs'
    >
  > = {},
) {
  const records: PlatformRecord[] = [];
  const problems: string[] = [];
  const listener = await startTelemetryListener({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes,
    ...limits,
    onRecords: (batch) => records.push(...batch),
    onProblem: (reason) => problems.push(reason),
  });
  onTestFinished(() => listener.close());
  return { listener, records, problems };
}

function post(port: number, body: string, method = 'POST'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: '/' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('startTelemetryListener', () => {
  it('answers 200 and passes platform records on when a batch arrives', async () => {
    const { listener, records } = await listen();
    const status = await post(
      listener.port,
      JSON.stringify([
        { time: '2022-10-19T13:52:15.636Z', type: 'platform.initStart', record: { phase: 'init' } },
        { time: '2022-10-19T13:52:15.700Z', type: 'function', record: 'hello' },
      ]),
    );
    expect(status).toBe(200);
    expect(records).toEqual([
      {
        recordType: 'platform.initStart',
        recordTime: Date.parse('2022-10-19T13:52:15.636Z'),
        record: { phase: 'init' },
      },
    ]);
  });

  it('refuses a malformed body with 400 and an oversized one with 413', async () => {
    const { listener, records, problems } = await listen(1000);
    expect(await post(listener.port, '', 'GET')).toBe(405);
    expect(await post(listener.port, '{"not":"an array"}')).toBe(400);
    expect(await post(listener.port, 'garbage')).toBe(400);
    const big = await post(
      listener.port,
      JSON.stringify([{ type: 'platform.x', time: '', record: 'x'.repeat(5000) }]),
    ).catch(() => 413);
    expect(big).toBe(413);
    expect(records).toEqual([]);
    expect(problems.length).toBeGreaterThanOrEqual(3);
  });
});

/** A raw connection that sent `head` and waits; resolves its whole answer when the listener closes it. */
function rawRequest(port: number, head: string) {
  const socket = connect(port, '127.0.0.1');
  onTestFinished(() => {
    socket.destroy();
  });
  socket.on('error', () => {});
  let answer = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    answer += chunk;
  });
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(answer)));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(head);
  return { socket, closed, connected, answer: () => answer };
}

function forged(count: number): string {
  return JSON.stringify(
    Array.from({ length: count }, (_, i) => ({
      time: '2024-01-01T00:00:00.000Z',
      type: 'platform.report',
      record: { requestId: `forged-${i}` },
    })),
  );
}

describe('startTelemetryListener bounds its memory whatever the sender does', () => {
  it('keeps at most maxItems (1,000) records of one request and reports the rest dropped', async () => {
    const { listener, records, problems } = await listen();
    expect(await post(listener.port, forged(9000))).toBe(200);
    expect(records).toHaveLength(1000);
    expect(records.at(-1)?.record).toEqual({ requestId: 'forged-999' });
    expect(problems).toEqual(['telemetry batch over 1000 records; the rest was dropped']);
  });

  it('answers 503 before reading a body that would take the bytes held by all requests over the limit', async () => {
    const { listener, records, problems } = await listen(1000, { maxInFlightBytes: 2000 });
    const head = (length: number) =>
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n[`;
    // Two senders hold 1,000 declared bytes each and stop sending.
    const first = rawRequest(listener.port, head(1000));
    const second = rawRequest(listener.port, head(1000));
    await Promise.all([first.connected, second.connected]);
    // A third is refused at once, its body unread.
    await expect(post(listener.port, '[]')).resolves.toBe(503);
    expect(problems).toContain('telemetry requests over the 2000 byte in-flight limit');
    first.socket.destroy();
    second.socket.destroy();
    await Promise.all([first.closed, second.closed]);
    // Released when they end.
    await expect(post(listener.port, forged(1))).resolves.toBe(200);
    expect(records).toHaveLength(1);
  });

  it('answers 408 and closes a request that trickles in slower than the request timeout', async () => {
    const { listener, records } = await listen(undefined, { requestTimeoutMs: 500 });
    const slow = rawRequest(
      listener.port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n[',
    );
    const drip = setInterval(() => {
      if (!slow.socket.destroyed) slow.socket.write(' ');
    }, 50);
    onTestFinished(() => clearInterval(drip));
    expect(await slow.closed).toMatch(/^HTTP\/1\.1 408/);
    clearInterval(drip);
    expect(records).toEqual([]);
  });

  it('closes connections beyond its cap at once', async () => {
    const { listener } = await listen(undefined, { maxConnections: 2 });
    const held = [rawRequest(listener.port, ''), rawRequest(listener.port, '')];
    await Promise.all(held.map((connection) => connection.connected));
    const extra = rawRequest(
      listener.port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[]',
    );
    expect(await extra.closed).toBe('');
  });
});

describe('parseTelemetryBody', () => {
  it('falls back to the receive time and truncates long strings when fields are odd', () => {
    const records = parseTelemetryBody(
      JSON.stringify([
        { time: 'yesterday', type: 'platform.report', record: 'x'.repeat(3000) },
        { time: '2022-10-19T13:52:15.636Z', type: 'platform.start', record: [1] },
        { type: 'platform.bad-name', time: '', record: {} },
        null,
        7,
      ]),
      1234,
    );
    expect(records).toHaveLength(2);
    expect(records?.[0]).toMatchObject({ recordTime: 1234 });
    expect(records?.[0]?.record).toHaveLength(2048);
    expect(records?.[1]?.record).toEqual({});
  });
});
