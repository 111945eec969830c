import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, ingest, lifecycle, tempDir } from '../helper.ts';

describe('health, metrics and the dashboard', () => {
  it('answers /healthz with the head cursor', async () => {
    const app = await build();
    const events = lifecycle('env-1', { invokes: 1 });
    await ingest(app, events);
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.json()).toEqual({ status: 'ok', head: events.length });
  });

  it('exposes Prometheus counters and gauges', async () => {
    const app = await build();
    const events = lifecycle('env-2', { invokes: 1 });
    await ingest(app, events);
    await ingest(app, events);
    await app.inject({ method: 'POST', url: '/v1/events', payload: 'x' });
    await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.body;
    expect(text).toContain(`lifeline_ingested_events_total ${events.length}\n`);
    expect(text).toContain(`lifeline_duplicate_events_total ${events.length}\n`);
    expect(text).toContain('lifeline_rejected_batches_total{status="400"} 1\n');
    expect(text).toContain('lifeline_rejected_batches_total{status="415"} 1\n');
    expect(text).toContain('lifeline_live_clients 0\n');
    expect(text).toMatch(/lifeline_db_size_bytes [1-9]\d*\n/);
    expect(text).toContain('# TYPE lifeline_ingested_events_total counter');
  });

  it('explains how to build the dashboard when it is not built', async () => {
    const app = await build();
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.body).toContain('npm run build');
  });

  it('serves the built dashboard with a fallback to index.html outside /v1', async () => {
    const webDir = join(tempDir(), 'dist');
    mkdirSync(join(webDir, 'assets'), { recursive: true });
    writeFileSync(join(webDir, 'index.html'), '<html>lifeline dashboard</html>');
    writeFileSync(join(webDir, 'assets', 'app.js'), 'console.log(1)');
    const app = await build({ webDir });
    expect((await app.inject({ method: 'GET', url: '/' })).body).toContain('lifeline dashboard');
    const asset = await app.inject({ method: 'GET', url: '/assets/app.js' });
    expect(asset.body).toBe('console.log(1)');
    const deepLink = await app.inject({ method: 'GET', url: '/environments/abc' });
    expect(deepLink.statusCode).toBe(200);
    expect(deepLink.body).toContain('lifeline dashboard');
    const api = await app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ code: 'COLLECTOR_ERR_NOT_FOUND' });
  });
});
