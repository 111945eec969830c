import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.ts';
import { assertSafeToListen, startCollector } from '../src/start.ts';
import { listen, testConfig } from './helper.ts';

describe('startCollector', () => {
  it('listens on the real port when started on port 0 and stops when closed', async () => {
    const collector = await listen();
    expect(collector.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
    await collector.close();
    await expect(fetch(`${collector.url}/healthz`)).rejects.toThrow();
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    const first = await listen();
    const port = Number(new URL(first.url).port);
    await expect(startCollector(testConfig({ port }))).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });

  it('refuses a non-loopback host without an ingest token', async () => {
    expect(() => assertSafeToListen(testConfig({ host: '0.0.0.0' }))).toThrow(ConfigError);
    expect(() =>
      assertSafeToListen(testConfig({ host: '0.0.0.0', token: 'long-enough' })),
    ).not.toThrow();
    await expect(startCollector(testConfig({ host: '192.0.2.1' }))).rejects.toThrow(
      /refusing to listen on non-loopback host 192\.0\.2\.1/,
    );
  });
});
