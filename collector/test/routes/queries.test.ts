import type { StoredEvent } from '@lifeline/protocol';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { backends, build, ingest, lifecycle } from '../helper.ts';

async function get(app: FastifyInstance, url: string, token?: string) {
  return app.inject({
    method: 'GET',
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

async function seeded(overrides: Parameters<typeof build>[0] = {}) {
  const app = await build(overrides);
  await ingest(
    app,
    lifecycle('env-1', { functionName: 'alpha', invokes: 2, shutdownReason: 'spindown' }),
  );
  await ingest(
    app,
    lifecycle('env-2', {
      functionName: 'alpha',
      functionVersion: '7',
      invokes: 3,
      startAt: 1_700_000_100_000,
      statusOf: (i) => (i === 1 ? 'error' : 'success'),
      shutdownReason: 'Timeout',
    }),
  );
  await ingest(
    app,
    lifecycle('env-3', { functionName: 'beta', invokes: 1, startAt: 1_700_000_200_000 }),
  );
  return app;
}

describe.each(backends())('query API on %s', (_backend, dbPath) => {
  it('lists functions with counts, percentiles and shutdown reasons', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const response = await get(app, '/v1/functions');
    expect(response.statusCode).toBe(200);
    const { items, nextCursor } = response.json();
    expect(nextCursor).toBeNull();
    expect(items.map((item: { functionName: string }) => item.functionName)).toEqual([
      'alpha',
      'beta',
    ]);
    expect(items[0]).toMatchObject({
      versions: ['$LATEST', '7'],
      environments: 2,
      coldStarts: 2,
      alive: 0,
      invokes: 5,
      errors: 1,
      initDurationP50: 180,
      initDurationP95: 180,
      shutdowns: { spindown: 1, Timeout: 1 },
    });
    expect(items[1]).toMatchObject({ alive: 1, invokes: 1, shutdowns: {} });
  });

  it('pages functions with the cursor it returns', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const first = (await get(app, '/v1/functions?limit=1')).json();
    expect(first.items).toHaveLength(1);
    const second = (await get(app, `/v1/functions?limit=1&cursor=${first.nextCursor}`)).json();
    expect(second.items[0].functionName).toBe('beta');
    expect(second.nextCursor).toBeNull();
  });

  it('filters environments by function, state and time range', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const ids = async (query: string) =>
      (await get(app, `/v1/environments${query}`))
        .json()
        .items.map((item: { envId: string }) => item.envId);
    expect(await ids('')).toEqual(['env-3', 'env-2', 'env-1']);
    expect(await ids('?function=alpha')).toEqual(['env-2', 'env-1']);
    expect(await ids('?state=ended')).toEqual(['env-2', 'env-1']);
    expect(await ids('?state=idle')).toEqual(['env-3']);
    expect(await ids('?from=1700000150000')).toEqual(['env-3']);
    expect(await ids('?to=1700000050000')).toEqual(['env-1']);
  });

  it('pages environments without gaps or repeats', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const query: string = cursor ? `?limit=1&cursor=${cursor}` : '?limit=1';
      const body = (await get(app, `/v1/environments${query}`)).json();
      seen.push(...body.items.map((item: { envId: string }) => item.envId));
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(['env-3', 'env-2', 'env-1']);
  });

  it('returns an environment with its invocations and events', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const response = await get(app, '/v1/environments/env-2');
    expect(response.statusCode).toBe(200);
    const detail = response.json();
    expect(detail.environment).toMatchObject({ envId: 'env-2', functionVersion: '7' });
    expect(detail.invocations.map((i: { status: string }) => i.status)).toEqual([
      'success',
      'error',
      'success',
    ]);
    const cursors = detail.events.map((event: StoredEvent) => event.cursor);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(detail.events[0].event.type).toBe('register');
  });

  it('answers 404 for an unknown environment', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const response = await get(app, '/v1/environments/nope');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'COLLECTOR_ERR_NOT_FOUND' });
  });

  it('filters invocations by environment and function', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const byEnv = (await get(app, '/v1/invocations?envId=env-2')).json();
    expect(byEnv.items).toHaveLength(3);
    expect(byEnv.items[0]).toMatchObject({ envId: 'env-2', functionName: 'alpha' });
    const byFunction = (await get(app, '/v1/invocations?function=beta')).json();
    expect(byFunction.items).toHaveLength(1);
    expect(byFunction.items[0].reportPending).toBe(true);
    const paged = (await get(app, '/v1/invocations?limit=4')).json();
    expect(paged.items).toHaveLength(4);
    const rest = (await get(app, `/v1/invocations?limit=4&cursor=${paged.nextCursor}`)).json();
    expect(rest.items).toHaveLength(2);
    expect(rest.nextCursor).toBeNull();
  });

  it('filters shutdowns by reason without regard to case, and by version', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const timeout = (await get(app, '/v1/shutdowns?reason=timeout')).json();
    expect(timeout.items.map((item: { envId: string }) => item.envId)).toEqual(['env-2']);
    expect(timeout.items[0]).toMatchObject({ reason: 'Timeout', budgetMs: 2000, invokes: 3 });
    const version = (await get(app, '/v1/shutdowns?version=$LATEST')).json();
    expect(version.items.map((item: { envId: string }) => item.envId)).toEqual(['env-1']);
  });

  it('lists raw events after a cursor in commit order', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const first = (await get(app, '/v1/events?limit=5')).json();
    expect(first.items.map((item: StoredEvent) => item.cursor)).toEqual([1, 2, 3, 4, 5]);
    expect(first.nextCursor).toBe('5');
    const next = (await get(app, `/v1/events?after=${first.nextCursor}&limit=2`)).json();
    expect(next.items.map((item: StoredEvent) => item.cursor)).toEqual([6, 7]);
    expect(typeof next.items[0].receivedAt).toBe('number');
    expect(next.items[0].event.envId).toBe('env-1');
  });

  it('rejects bad query parameters with 400 and a message naming them', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const cases: [string, RegExp][] = [
      ['/v1/environments?limit=0', /limit/],
      ['/v1/environments?limit=abc', /limit/],
      ['/v1/environments?state=sleeping', /state/],
      ['/v1/environments?from=yesterday', /from/],
      ['/v1/environments?cursor=abc', /cursor/],
      ['/v1/environments?from=10&to=5', /from must not be later than to/],
      ['/v1/invocations?cursor=-1', /cursor/],
      ['/v1/functions?cursor=***', /cursor/],
      ['/v1/events?after=x', /after/],
      ['/v1/events?limit=100000', /limit/],
    ];
    for (const [url, message] of cases) {
      const response = await get(app, url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json().message, url).toMatch(message);
    }
  });

  it('rejects non-finite and non-decimal numbers with 400 on every list endpoint and numeric parameter', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    const lists = [
      '/v1/functions',
      '/v1/environments',
      '/v1/invocations',
      '/v1/shutdowns',
      '/v1/events',
    ];
    const params: Record<string, string[]> = {
      '/v1/functions': ['limit', 'cursor'],
      '/v1/environments': ['limit', 'from', 'to', 'cursor'],
      '/v1/invocations': ['limit', 'from', 'to', 'cursor'],
      '/v1/shutdowns': ['limit', 'from', 'to', 'cursor'],
      '/v1/events': ['limit', 'after'],
    };
    const values = [
      'Infinity',
      '-Infinity',
      '1e400',
      `1${'0'.repeat(400)}`,
      'NaN',
      '1e3',
      '0x10',
      ' 5',
      '-1',
      '',
    ];
    for (const list of lists) {
      for (const param of params[list] ?? []) {
        for (const value of values) {
          const url = `${list}?${param}=${encodeURIComponent(value)}`;
          const response = await get(app, url);
          expect(response.statusCode, url).toBe(400);
          expect(response.json().message, url).toMatch(new RegExp(param));
        }
      }
    }
    expect((await get(app, '/v1/environments?from=1700000000000.5&limit=5')).statusCode).toBe(200);
    expect((await get(app, '/v1/events?after=0&limit=5')).statusCode).toBe(200);
  });

  it('rejects a functions cursor it did not issue with 400', async () => {
    const app = await seeded({ dbPath: await dbPath() });
    for (const cursor of ['abc', '42', 'AAAA', '_w', 'YWJj=']) {
      const response = await get(app, `/v1/functions?cursor=${cursor}`);
      expect(response.statusCode, cursor).toBe(400);
      expect(response.json().message, cursor).toMatch(/cursor/);
    }
    const first = (await get(app, '/v1/functions?limit=1')).json();
    const next = await get(app, `/v1/functions?limit=1&cursor=${first.nextCursor}`);
    expect(next.statusCode).toBe(200);
    expect(next.json().items[0].functionName).toBe('beta');
  });

  it('requires the read token on every /v1 read when one is set', async () => {
    const app = await seeded({
      dbPath: await dbPath(),
      readToken: 'read-secret-2',
      token: 'ingest-secret-2',
    });
    for (const url of ['/v1/functions', '/v1/environments', '/v1/events', '/v1/shutdowns']) {
      expect((await get(app, url)).statusCode, url).toBe(401);
      expect((await get(app, url, 'ingest-secret-2')).statusCode, url).toBe(401);
      expect((await get(app, url, 'read-secret-2')).statusCode, url).toBe(200);
    }
    expect((await get(app, '/healthz')).statusCode).toBe(200);
  });

  it('reports shutdown timings equal to the events when batches arrive newest first', async () => {
    const app = await build({ dbPath: await dbPath() });
    const events = lifecycle('env-late', { invokes: 3, gapMs: 400, shutdownReason: 'spindown' });
    for (let end = events.length; end > 0; end -= 4) {
      await ingest(app, events.slice(Math.max(0, end - 4), end));
    }
    const shutdown = events.find((event) => event.type === 'shutdown');
    const exit = events.find((event) => event.type === 'exit');
    if (shutdown?.type !== 'shutdown' || exit?.type !== 'exit') throw new Error('fixture');
    const [item] = (await get(app, '/v1/shutdowns')).json().items;
    expect(item).toMatchObject({
      receivedAt: shutdown.time,
      deadlineMs: shutdown.deadlineMs,
      budgetMs: shutdown.deadlineMs - shutdown.time,
      exitedAt: exit.time,
      shutdownDurationMs: exit.shutdownMs,
      // Last invoke start + its report duration (runtime 120 ms + 1.5), both clock-free but the start.
      idleMs: 398.5,
      lifetimeMs: shutdown.time - 1_700_000_000_000,
      invokes: 3,
    });
    const invocations = (await get(app, '/v1/invocations?envId=env-late')).json().items;
    expect(
      invocations.every((invocation: { reportPending: boolean }) => !invocation.reportPending),
    ).toBe(true);
  });
});
