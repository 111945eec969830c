import { request } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  type PlatformRecord,
  parseTelemetryBody,
  startTelemetryListener,
} from '../src/telemetry-listener.ts';

async function listen(maxBodyBytes?: number) {
  const records: PlatformRecord[] = [];
  const problems: string[] = [];
  const listener = await startTelemetryListener({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes,
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
