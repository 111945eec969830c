import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, tempDir } from '../helper.ts';

function dashboardDir(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'assets'));
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><script type="module" src="./assets/app.js"></script>',
  );
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1);');
  writeFileSync(join(dir, 'assets', 'app.js.map'), '{"version":3,"sources":["secret.ts"]}');
  return dir;
}

describe('dashboard responses', () => {
  it('carry a strict CSP allowing only the collector and its live socket, nosniff, no framing and no referrer', async () => {
    const app = await build({ webDir: dashboardDir() });
    for (const url of [
      '/',
      '/assets/app.js',
      '/functions/some-client-route',
      '/v1/functions',
      '/healthz',
    ]) {
      const response = await app.inject({
        method: 'GET',
        url,
        headers: { host: '127.0.0.1:7460' },
      });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-security-policy'], url).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
          "connect-src 'self' ws://127.0.0.1:7460 wss://127.0.0.1:7460; object-src 'none'; base-uri 'none'; " +
          "form-action 'self'; frame-ancestors 'none'",
      );
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['x-frame-options'], url).toBe('DENY');
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
    }
  });

  it('lets browsers keep the hashed assets for good, revalidate the page, and store no API answer', async () => {
    const app = await build({ webDir: dashboardDir() });
    const expected: Record<string, string> = {
      '/assets/app.js': 'public, max-age=31536000, immutable',
      '/': 'no-cache',
      '/shutdowns': 'no-cache',
      '/v1/functions': 'no-store',
      '/v1/settings': 'no-store',
      '/healthz': 'no-store',
      '/metrics': 'no-store',
    };
    for (const [url, policy] of Object.entries(expected)) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['cache-control'], url).toBe(policy);
    }
    // The page is revalidated, not fetched again: its ETag answers 304.
    const page = await app.inject({ method: 'GET', url: '/' });
    const etag = page.headers.etag;
    expect(typeof etag).toBe('string');
    const again = await app.inject({
      method: 'GET',
      url: '/',
      headers: { 'if-none-match': String(etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('never serves a source map, not even one copied into the dashboard folder', async () => {
    const app = await build({ webDir: dashboardDir() });
    const map = await app.inject({ method: 'GET', url: '/assets/app.js.map' });
    expect(map.statusCode).toBe(404);
    expect(map.body).not.toContain('secret.ts');
    // A client-side route still gets the page.
    expect((await app.inject({ method: 'GET', url: '/shutdowns' })).statusCode).toBe(200);
  });
});
