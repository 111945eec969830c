import { LIVE_CLOSE } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { lifecycle, listen } from './helper.ts';
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
