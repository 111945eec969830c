import { Writable } from 'node:stream';
import { LIVE_CLOSE } from '@lifeline/protocol';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loggerOptions, redactUrl } from '../src/app.ts';
import { startCollector } from '../src/start.ts';
import { lifecycle, listen, testConfig } from './helper.ts';
import { LiveTestClient, liveUrl } from './live-client.ts';

const READ_TOKEN = 'read-secret-app-1';
const INGEST_TOKEN = 'ingest-secret-app-1';

async function guarded() {
  const collector = await listen({ readToken: READ_TOKEN, token: INGEST_TOKEN });
  const response = await fetch(`${collector.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_TOKEN}` },
    body: JSON.stringify({ events: lifecycle('env-1', { functionName: 'alpha', invokes: 1 }) }),
  });
  expect(response.status).toBe(200);
  return collector;
}

/** Paths the router decodes to read routes: percent-escapes anywhere in the `/v1/` prefix or the route name. */
const ENCODED_READ_PATHS = [
  '/%761/events',
  '/v%31/events',
  '/%76%31/events',
  '/v1/%65vents',
  '/%761/functions',
  '/%761/environments',
  '/v%31/environments/env-1',
  '/%761/environments/%65nv-1',
  '/%761/invocations',
  '/%761/shutdowns',
  '/%561/functions',
];

describe('read token', () => {
  it('answers 401 without the token when the path is percent-encoded, for GET and HEAD', async () => {
    const collector = await guarded();
    for (const path of ENCODED_READ_PATHS) {
      for (const method of ['GET', 'HEAD']) {
        const response = await fetch(`${collector.url}${path}`, { method });
        const body = await response.text();
        expect(response.status, `${method} ${path}`).not.toBe(200);
        expect(body, `${method} ${path}`).not.toContain('env-1');
      }
    }
  });

  it('answers 401 on every read route without the token and 200 with it, plain or encoded', async () => {
    const collector = await guarded();
    const routes = [
      '/v1/functions',
      '/v1/environments',
      '/v1/environments/env-1',
      '/v1/invocations',
      '/v1/shutdowns',
      '/v1/events',
      '/%761/events',
      '/v%31/environments/env-1',
    ];
    for (const path of routes) {
      for (const method of ['GET', 'HEAD']) {
        const without = await fetch(`${collector.url}${path}`, { method });
        expect(without.status, `${method} ${path}`).toBe(401);
        const wrong = await fetch(`${collector.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${INGEST_TOKEN}` },
        });
        expect(wrong.status, `${method} ${path} ingest token`).toBe(401);
        const withToken = await fetch(`${collector.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${READ_TOKEN}` },
        });
        expect(withToken.status, `${method} ${path} read token`).toBe(200);
      }
    }
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
  });

  it('closes a live socket on an encoded path with 4401 without the token', async () => {
    const collector = await guarded();
    const base = collector.url.replace(/^http/, 'ws');
    for (const path of ['/%761/live', '/v%31/live', '/v1/%6Cive']) {
      const client = new LiveTestClient(`${base}${path}?after=0`);
      expect(await client.closed, path).toBe(LIVE_CLOSE.UNAUTHORIZED);
      expect(client.events).toEqual([]);
    }
    const good = new LiveTestClient(`${base}/%761/live?after=0&token=${READ_TOKEN}`);
    await good.caughtUp();
    expect(good.events.length).toBeGreaterThan(0);
    const plain = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    expect(await plain.closed).toBe(LIVE_CLOSE.UNAUTHORIZED);
  });
});

describe('redactUrl', () => {
  it('redacts the token value when the key is spelled plainly, encoded or in another case', () => {
    expect(redactUrl('/v1/live?after=3&token=abc&function=f')).toBe(
      '/v1/live?after=3&token=[redacted]&function=f',
    );
    expect(redactUrl('/v1/live?%74oken=abc')).toBe('/v1/live?%74oken=[redacted]');
    expect(redactUrl('/v1/live?%54%4F%4B%45%4E=abc&x=1')).toBe(
      '/v1/live?%54%4F%4B%45%4E=[redacted]&x=1',
    );
    expect(redactUrl('/v1/live?tok%65n=abc&token=def')).toBe(
      '/v1/live?tok%65n=[redacted]&token=[redacted]',
    );
    expect(redactUrl('/v1/live?%zztoken=abc')).toBe('/v1/live?%zztoken=[redacted]');
    expect(redactUrl('/v1/live?after=3#token=abc')).toBe('/v1/live?after=3');
  });

  it('leaves URLs without a token unchanged', () => {
    expect(redactUrl('/v1/functions')).toBe('/v1/functions');
    expect(redactUrl('/v1/live?after=3&function=tokenizer&tokens=2')).toBe(
      '/v1/live?after=3&function=tokenizer&tokens=2',
    );
  });
});

describe('request logs', () => {
  it('never contain the read token, however the token parameter is spelled', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const secret = 'read-secret-logged-7';
    const collector = await startCollector(testConfig({ readToken: secret, logLevel: 'info' }), {
      logger: { ...(loggerOptions('info') as object), stream },
    });
    onTestFinished(() => collector.close());
    const base = collector.url.replace(/^http/, 'ws');
    for (const query of [`%74oken=${secret}`, `tok%65n=${secret}`, `token=${secret}`]) {
      const client = new LiveTestClient(`${base}/v1/live?after=0&${query}`);
      await client.caughtUp();
      await client.close();
      const read = await fetch(`${collector.url}/v1/functions?${query}`);
      expect(read.status).toBe(401);
    }
    const bad = await fetch(`${collector.url}/v1/nowhere?%74oken=${secret}`);
    expect(bad.status).toBe(404);
    await collector.close();
    const logs = lines.join('');
    expect(logs).toContain('%74oken=[redacted]');
    expect(logs).not.toContain(secret);
  });

  it('log failed requests at info and successful ones only at debug, so ingest does not flood the log', async () => {
    const logsAt = async (level: string) => {
      const lines: string[] = [];
      const stream = new Writable({
        write(chunk, _encoding, callback) {
          lines.push(String(chunk));
          callback();
        },
      });
      const collector = await startCollector(testConfig({ logLevel: level }), {
        logger: { ...(loggerOptions(level) as object), stream },
      });
      onTestFinished(() => collector.close());
      expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${collector.url}/v1/nowhere`)).status).toBe(404);
      await collector.close();
      return lines
        .map((line) => JSON.parse(line) as { msg?: string; statusCode?: number })
        .filter((entry) => entry.msg === 'request completed')
        .map((entry) => entry.statusCode);
    };
    expect(await logsAt('info')).toEqual([404]);
    expect(await logsAt('debug')).toEqual([200, 404]);
  });
});
