import type {
  FunctionStats,
  SearchResult,
  Series,
  Settings,
  ShutdownStats,
  WindowPage,
} from '@lifeline/protocol';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { backends, build, ingest, lifecycle, listen } from '../helper.ts';

const T0 = 1_700_000_000_000;

async function get<T>(app: FastifyInstance, url: string): Promise<T> {
  const response = await app.inject({ method: 'GET', url });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as T;
}

describe.each(backends())('read API on %s', (_name, dbPath) => {
  async function seeded() {
    const app = await build({ dbPath: await dbPath() });
    await ingest(
      app,
      lifecycle('env-1', { functionName: 'alpha', invokes: 2, shutdownReason: 'spindown' }),
    );
    await ingest(
      app,
      lifecycle('env-2', {
        functionName: 'alpha',
        invokes: 3,
        startAt: T0 + 100_000,
        statusOf: (i) => (i === 1 ? 'error' : 'success'),
        shutdownReason: 'Timeout',
      }),
    );
    await ingest(
      app,
      lifecycle('env-3', { functionName: 'beta', invokes: 1, startAt: T0 + 200_000 }),
    );
    return app;
  }

  it('serves the settings the shared rules need', async () => {
    const app = await build({ dbPath: await dbPath(), retentionHours: 36, lostAfterMs: 120_000 });
    expect(await get<Settings>(app, '/v1/settings')).toEqual({
      lostAfterMs: 120_000,
      retentionDays: 1.5,
      protocolVersion: expect.any(Number),
    });
  });

  it('pages the environments of a window, newest first, each with its cursor and invocations', async () => {
    const app = await seeded();
    const head = Number((await get<{ head: number }>(app, '/healthz')).head);
    const range = `from=${T0 - 1000}&to=${T0 + 1_000_000}`;
    const first = await get<WindowPage>(app, `/v1/window?${range}&limit=2`);
    expect(first.head).toBe(head);
    expect(first.total).toBe(3);
    expect(first.environments.map((snapshot) => snapshot.env.envId)).toEqual(['env-3', 'env-2']);
    expect(first.nextCursor).not.toBeNull();
    const second = await get<WindowPage>(
      app,
      `/v1/window?${range}&limit=2&cursor=${first.nextCursor}`,
    );
    expect(second.environments.map((snapshot) => snapshot.env.envId)).toEqual(['env-1']);
    expect(second.total).toBe(3);
    expect(second.nextCursor).toBeNull();
    const env1 = second.environments[0];
    expect(env1?.cursor).toBe(
      lifecycle('env-1', { invokes: 2, shutdownReason: 'spindown' }).length,
    );
    expect(env1?.invocations.map((invocation) => invocation.requestId).sort()).toEqual([
      'env-1-req-0',
      'env-1-req-1',
    ]);
    // Only environments alive in the range: env-1 and env-2 ended before it.
    const later = await get<WindowPage>(app, `/v1/window?from=${T0 + 150_000}&to=${T0 + 300_000}`);
    expect(later.environments.map((snapshot) => snapshot.env.envId)).toEqual(['env-3']);
    const alpha = await get<WindowPage>(app, `/v1/window?${range}&function=alpha`);
    expect(alpha.total).toBe(2);
  });

  it('computes shutdown figures over the range, idle for spindowns only', async () => {
    const app = await seeded();
    const stats = await get<ShutdownStats>(
      app,
      `/v1/stats/shutdowns?from=${T0}&to=${T0 + 1_000_000}`,
    );
    expect(stats.total).toBe(2);
    expect(stats.byReason).toEqual({ spindown: 1, Timeout: 1 });
    expect(stats.figures.idleMs.count).toBe(1);
    expect(stats.figures.invokes).toMatchObject({ count: 2, min: 2, max: 3 });
    const { edges, counts } = stats.figures.invokes.histogram;
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(2);
    expect(edges).toHaveLength(counts.length + 1);
    expect(edges[0]).toBeLessThanOrEqual(2);
    expect(edges.at(-1)).toBeGreaterThanOrEqual(3);
    const timeouts = await get<ShutdownStats>(
      app,
      `/v1/stats/shutdowns?from=${T0}&to=${T0 + 1_000_000}&reason=timeout`,
    );
    expect(timeouts.total).toBe(1);
  });

  it('summarises functions over the range with a sparkline', async () => {
    const app = await seeded();
    const stats = await get<FunctionStats>(
      app,
      `/v1/stats/functions?from=${T0 - 1000}&to=${T0 + 300_000}`,
    );
    expect(stats.functions.map((item) => item.functionName)).toEqual(['alpha', 'beta']);
    const [alpha, beta] = stats.functions;
    expect(alpha).toMatchObject({
      environments: 2,
      invokes: 5,
      errors: 1,
      coldStarts: { 'on-demand': 2 },
      shutdowns: { spindown: 1, Timeout: 1 },
    });
    expect(alpha?.series.invokes.reduce((sum, n) => sum + n, 0)).toBe(5);
    expect(beta).toMatchObject({ environments: 1, invokes: 1, alive: 1 });
  });

  it('counts invokes, errors and cold starts per bucket', async () => {
    const app = await seeded();
    const series = await get<Series>(
      app,
      `/v1/series?from=${T0 - 1000}&to=${T0 + 300_000}&step=60000`,
    );
    expect(series.step).toBe(60_000);
    const sum = (pick: (bucket: Series['buckets'][number]) => number) =>
      series.buckets.reduce((total, bucket) => total + pick(bucket), 0);
    expect(sum((bucket) => bucket.invokes)).toBe(6);
    expect(sum((bucket) => bucket.errors)).toBe(1);
    expect(sum((bucket) => bucket.coldStarts['on-demand'] ?? 0)).toBe(3);
    const chosen = await get<Series>(app, `/v1/series?from=${T0}&to=${T0 + 3_600_000}`);
    expect(chosen.buckets.length).toBeGreaterThanOrEqual(60);
    expect(chosen.buckets.length).toBeLessThanOrEqual(121);
  });

  it('counts the whole fleet per bucket as the sum of its functions', async () => {
    const app = await seeded();
    const range = `from=${T0 - 1000}&to=${T0 + 300_000}&step=60000`;
    // Without a filter the buckets are counted from invocations alone; filtered, through their environments.
    const fleet = await get<Series>(app, `/v1/series?${range}`);
    const alpha = await get<Series>(app, `/v1/series?${range}&function=alpha`);
    const beta = await get<Series>(app, `/v1/series?${range}&function=beta`);
    const counts = (series: Series) =>
      series.buckets.map((bucket) => [
        bucket.invokes,
        bucket.errors,
        bucket.timeouts,
        bucket.alive.active ?? 0,
      ]);
    const summed = counts(alpha).map((row, b) =>
      row.map((n, k) => n + (counts(beta)[b]?.[k] ?? 0)),
    );
    expect(counts(fleet)).toEqual(summed);
    expect(counts(fleet).reduce((total, [invokes]) => total + (invokes ?? 0), 0)).toBe(6);
    expect(counts(fleet).some(([, , , active]) => (active ?? 0) > 0)).toBe(true);
  });

  it('finds request, environment and trace ids', async () => {
    const app = await seeded();
    const search = async (q: string) =>
      (await get<SearchResult>(app, `/v1/search?q=${encodeURIComponent(q)}`)).matches;
    expect(await search('env-2-req-1')).toEqual([
      expect.objectContaining({ kind: 'request', envId: 'env-2', functionName: 'alpha' }),
    ]);
    expect(await search('env-3')).toEqual([
      expect.objectContaining({ kind: 'environment', envId: 'env-3', functionName: 'beta' }),
    ]);
    const traces = await search('1-00000000-000000000000000000000000');
    expect(traces.map((match) => match.envId).sort()).toEqual(['env-1', 'env-2', 'env-3']);
    expect(traces.every((match) => match.kind === 'trace')).toBe(true);
    expect(await search('nothing-like-this')).toEqual([]);
  });

  it('answers 400 to missing or contradictory parameters', async () => {
    const app = await seeded();
    for (const url of [
      '/v1/window',
      `/v1/window?from=${T0 + 10}&to=${T0}`,
      `/v1/window?from=${T0}&to=${T0 + 10}&cursor=nope`,
      `/v1/window?from=${T0}&to=${T0 + 10}&limit=501`,
      `/v1/series?from=0&to=${T0}&step=1000`,
      `/v1/stats/shutdowns?from=1e3&to=${T0}`,
      '/v1/search',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(400);
    }
  });

  it('keeps serving ingest while many heavy reads run', async () => {
    const collector = await listen({ dbPath: await dbPath() });
    for (let batch = 0; batch < 10; batch++) {
      const events = Array.from({ length: 30 }, (_, i) =>
        lifecycle(`env-${batch}-${i}`, { invokes: 5, startAt: T0 + i * 1000 }),
      ).flat();
      const response = await fetch(`${collector.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      expect(response.status).toBe(200);
    }
    const finished: string[] = [];
    const read = (i: number) =>
      fetch(`${collector.url}/v1/window?from=${T0 - 1000}&to=${T0 + 1_000_000}&limit=500`).then(
        async (response) => {
          expect(response.status).toBe(200);
          await response.arrayBuffer();
          finished.push(`read-${i}`);
        },
      );
    const reads = Array.from({ length: 12 }, (_, i) => read(i));
    const post = fetch(`${collector.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: lifecycle('env-during-reads', { invokes: 1 }) }),
    }).then((response) => {
      finished.push('ingest');
      return response;
    });
    await Promise.all([...reads, post]);
    expect((await post).status).toBe(200);
    // Reads take turns with ingest: the POST is not served after every read has finished.
    expect(finished.indexOf('ingest')).toBeLessThan(finished.length - 1);
  });
});
