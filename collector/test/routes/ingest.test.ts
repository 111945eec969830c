import type { LifelineEvent } from '@lifeline/protocol';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { SqliteStorage } from '../../src/storage/sqlite/index.ts';
import { backends, build, ingest, lifecycle, listen } from '../helper.ts';
import { LiveTestClient, liveUrl } from '../live-client.ts';

const TOKEN = 'ingest-secret-1';

async function storedCount(app: FastifyInstance): Promise<number> {
  return (await app.storage.query.counts()).events;
}

function post(
  app: FastifyInstance,
  payload: string | Buffer,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': 'application/json', ...headers },
    payload,
  });
}

describe.each(backends())('POST /v1/events on %s', (_backend, dbPath) => {
  it('acknowledges a valid batch with the number of stored events', async () => {
    const app = await build({ dbPath: await dbPath() });
    const events = lifecycle('env-a', { invokes: 2 });
    const response = await ingest(app, events);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ accepted: events.length, duplicates: 0 });
    expect(await storedCount(app)).toBe(events.length);
  });

  it('counts every event as a duplicate when the same batch is sent again', async () => {
    const app = await build({ dbPath: await dbPath() });
    const events = lifecycle('env-b', { invokes: 2 });
    await ingest(app, events);
    const again = await ingest(app, events);
    expect(again.json()).toEqual({ accepted: 0, duplicates: events.length });
    const overlap = await ingest(app, [
      ...events.slice(0, 3),
      ...lifecycle('env-c', { invokes: 0 }),
    ]);
    expect(overlap.json()).toEqual({ accepted: 4, duplicates: 3 });
    expect(await storedCount(app)).toBe(events.length + 4);
  });

  it('counts a repeated id inside one batch as a duplicate', async () => {
    const app = await build({ dbPath: await dbPath() });
    const [first, second] = lifecycle('env-d', { invokes: 0 });
    const response = await ingest(app, [first, second, first, first]);
    expect(response.json()).toEqual({ accepted: 2, duplicates: 2 });
    const env = await app.storage.query.environmentDetail('env-d', Date.now(), 60_000);
    expect(env?.environment.eventCount).toBe(2);
  });

  it('updates the derived environment in the same request when a batch is acknowledged', async () => {
    const app = await build({ dbPath: await dbPath() });
    await ingest(app, lifecycle('env-e', { invokes: 3, shutdownReason: 'spindown' }));
    const detail = await app.storage.query.environmentDetail('env-e', Date.now(), 60_000);
    expect(detail?.environment).toMatchObject({ invokeCount: 3, state: 'ended' });
    expect(detail?.invocations).toHaveLength(3);
  });

  it('rejects with 401 when the ingest token is missing or wrong', async () => {
    const app = await build({ dbPath: await dbPath(), token: TOKEN, readToken: 'read-secret-1' });
    const events = lifecycle('env-f', { invokes: 0 });
    for (const token of [undefined, 'wrong-token', 'read-secret-1']) {
      const response = await ingest(app, events, token);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({
        statusCode: 401,
        code: 'COLLECTOR_ERR_UNAUTHORIZED',
        message: 'ingest token missing or wrong (Authorization: Bearer <token>)',
      });
    }
    expect(await storedCount(app)).toBe(0);
    expect((await ingest(app, events, TOKEN)).statusCode).toBe(200);
  });

  it('rejects with 415 when the body is not application/json', async () => {
    const app = await build({ dbPath: await dbPath() });
    const body = JSON.stringify({ events: lifecycle('env-g', { invokes: 0 }) });
    const plain = await post(app, body, { 'content-type': 'text/plain' });
    expect(plain.statusCode).toBe(415);
    expect(plain.json()).toMatchObject({
      code: 'COLLECTOR_ERR_UNSUPPORTED_MEDIA_TYPE',
      message: 'body must be application/json, got "text/plain"',
    });
    const form = await post(app, 'a=b', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.statusCode).toBe(415);
    const none = await app.inject({ method: 'POST', url: '/v1/events', payload: body });
    expect(none.statusCode).toBe(415);
    expect(await storedCount(app)).toBe(0);
  });

  it('accepts a charset parameter on the JSON content type', async () => {
    const app = await build({ dbPath: await dbPath() });
    const body = JSON.stringify({ events: lifecycle('env-h', { invokes: 0 }) });
    const response = await post(app, body, { 'content-type': 'application/json; charset=utf-8' });
    expect(response.statusCode).toBe(200);
  });

  it('rejects with 413 when the body is over the limit', async () => {
    const app = await build({ dbPath: await dbPath(), bodyLimit: 2048 });
    const events = lifecycle('env-i', { invokes: 10 });
    const response = await ingest(app, events);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({
      code: 'COLLECTOR_ERR_BODY_TOO_LARGE',
      message: 'body is larger than the limit of 2048 bytes; send smaller batches',
    });
    expect(await storedCount(app)).toBe(0);
  });

  it('rejects with 400 naming the event index and field when an event is invalid', async () => {
    const app = await build({ dbPath: await dbPath() });
    const events: Record<string, unknown>[] = lifecycle('env-j', { invokes: 1 });
    events[4] = { ...events[4], deadlineMs: 'soon' };
    const response = await ingest(app, events);
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.code).toBe('COLLECTOR_ERR_INVALID_BATCH');
    expect(body.message).toMatch(/^invalid batch: event 4 field \/events\/4\/deadlineMs /);
    expect(body.details[0]).toMatchObject({ index: 4, path: '/events/4/deadlineMs' });
    expect(await storedCount(app)).toBe(0);
  });

  it('rejects an unknown field and an unknown type with their paths', async () => {
    const app = await build({ dbPath: await dbPath() });
    const [register] = lifecycle('env-k', { invokes: 0 });
    const extra = await ingest(app, [{ ...register, colour: 'red' }]);
    expect(extra.json().message).toBe(
      'invalid batch: event 0 field /events/0/colour is not a known field',
    );
    const badType = await ingest(app, [{ ...register, type: 'reboot' }]);
    expect(badType.json().details[0]).toMatchObject({ index: 0, path: '/events/0/type' });
  });

  it('rejects bodies without an events array with a message about the body', async () => {
    const app = await build({ dbPath: await dbPath() });
    const cases: [string, RegExp][] = [
      ['[]', /body must be a JSON object/],
      ['{"events":[]}', /\/events must hold at least one event/],
      ['{"events":{}}', /\/events must be an array/],
      ['{"events":[],"more":1}', /\/more is not a known field/],
      ['42', /body must be a JSON object/],
    ];
    for (const [payload, message] of cases) {
      const response = await post(app, payload);
      expect(response.statusCode, payload).toBe(400);
      expect(response.json().message, payload).toMatch(message);
    }
  });

  it('rejects with 400 when the body is not JSON or is empty', async () => {
    const app = await build({ dbPath: await dbPath() });
    const broken = await post(app, '{"events": [');
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ code: 'COLLECTOR_ERR_INVALID_JSON' });
    expect(broken.json().message).toMatch(/^body is not valid JSON/);
    const empty = await post(app, '');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().message).toBe('body is empty; expected {"events":[...]}');
  });

  it('rejects prototype pollution keys with 400', async () => {
    const app = await build({ dbPath: await dbPath() });
    const [register] = lifecycle('env-l', { invokes: 0 });
    const base = JSON.stringify(register).slice(1);
    for (const payload of [
      `{"events":[{"__proto__":{"polluted":true},${base}]}`,
      `{"events":[{"constructor":{"prototype":{"polluted":true}},${base}]}`,
    ]) {
      const response = await post(app, payload);
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('COLLECTOR_ERR_INVALID_JSON');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await storedCount(app)).toBe(0);
  });

  it('writes nothing when one event of the batch is invalid', async () => {
    const app = await build({ dbPath: await dbPath() });
    const events: unknown[] = lifecycle('env-m', { invokes: 2 });
    events.push({ id: 'x' });
    expect((await ingest(app, events)).statusCode).toBe(400);
    expect(await storedCount(app)).toBe(0);
    expect((await app.storage.query.counts()).environments).toBe(0);
  });

  it('rejects with 400 instead of failing when a record is nested too deeply to store', async () => {
    const app = await build({ dbPath: await dbPath(), bodyLimit: 4 * 1024 * 1024 });
    const depth = 200_000;
    const record = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const payload = `{"events":[{"id":"deep","envId":"env-n","seq":0,"time":1,"type":"platform","recordType":"platform.start","recordTime":1,"record":${record}}]}`;
    const response = await post(app, payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/event 0/);
    expect(await storedCount(app)).toBe(0);
  });

  it('stores a batch once when the same batch is sent concurrently over several connections', async () => {
    const collector = await listen({ dbPath: await dbPath() });
    const events = lifecycle('env-race', { invokes: 5 });
    const body = JSON.stringify({ events });
    const acks = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const response = await fetch(`${collector.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        return (await response.json()) as { accepted: number; duplicates: number };
      }),
    );
    expect(acks.reduce((sum, ack) => sum + ack.accepted, 0)).toBe(events.length);
    expect(acks.reduce((sum, ack) => sum + ack.duplicates, 0)).toBe(7 * events.length);
    const detail = await collector.app.storage.query.environmentDetail(
      'env-race',
      Date.now(),
      60_000,
    );
    expect(detail?.environment).toMatchObject({ eventCount: events.length, invokeCount: 5 });
  });
});

describe('POST /v1/events on SQLite', () => {
  it('answers 507, never 500, and stores nothing unacknowledged when the database is full', async () => {
    const collector = await listen();
    const { app } = collector;
    const seed = await fetch(`${collector.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: lifecycle('env-seed', { invokes: 1 }) }),
    });
    expect(seed.status).toBe(200);
    const client = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    await client.caughtUp();
    const { db } = app.storage as SqliteStorage;
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true })) + 3}`);
    const [first] = lifecycle('env-big', { invokes: 1 }) as [LifelineEvent];
    const big = Array.from({ length: 40 }, (_, seq) => ({
      ...first,
      id: `big-${seq}`,
      seq,
      functionName: 'y'.repeat(250),
    }));
    const batches = [
      lifecycle('env-s1', { invokes: 1 }).slice(0, 1),
      big,
      lifecycle('env-s2', { invokes: 1 }).slice(0, 1),
      lifecycle('env-s3', { invokes: 1 }).slice(0, 1),
    ];
    const responses = await Promise.all(
      batches.map(async (events) => {
        const response = await fetch(`${collector.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ events }),
        });
        if (response.status === 507) expect(response.headers.get('retry-after')).toBe('5');
        return {
          status: response.status,
          body: (await response.json()) as Record<string, unknown>,
        };
      }),
    );
    let acknowledged = 0;
    for (const { status, body } of responses) {
      expect([200, 507]).toContain(status);
      if (status === 200) acknowledged += Number(body.accepted);
      else {
        expect(body.code).toBe('COLLECTOR_ERR_STORAGE_FULL');
        expect(body.message).toMatch(/database is full.*retry/);
      }
    }
    expect(responses[1]?.status).toBe(507);
    const seeded = lifecycle('env-seed', { invokes: 1 }).length;
    expect((await app.storage.query.counts()).events).toBe(seeded + acknowledged);
    // Every acknowledged row is broadcast; nothing else is stored.
    const head = await app.storage.eventLog.head();
    await client.untilCursor(head);
    expect(client.events.map((event) => event.cursor)).toEqual(
      Array.from({ length: head }, (_, i) => i + 1),
    );
  });
});
