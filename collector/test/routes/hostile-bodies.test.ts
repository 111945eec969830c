import type { LifelineEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { backends, lifecycle, listen } from '../helper.ts';

/** Deterministic PRNG so a failing case can be replayed from its index. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface HostileCase {
  kind: string;
  body: string | Buffer;
  contentType?: string;
}

const WEIRD_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  1.5,
  '',
  'x'.repeat(5000),
  '💥\u0000\u202e',
  [],
  [1, [2, [3]]],
  {},
  { __proto__: null, toString: 'x' },
];

const POLLUTION = [
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"admin":true}}}',
  '{"a":{"__proto__":{"b":1}}}',
];

function generateCases(count: number, limit: number): HostileCase[] {
  const next = random(20261125);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const valid = (n: number): LifelineEvent[] =>
    lifecycle(`env-fuzz-${Math.floor(next() * 1e9)}`, { invokes: n });
  const cases: HostileCase[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 12;
    const events = valid(1 + (i % 3));
    const good = JSON.stringify({ events });
    switch (kind) {
      case 0: {
        cases.push({ kind: 'truncated', body: good.slice(0, Math.floor(next() * good.length)) });
        break;
      }
      case 1: {
        const field = pick(Object.keys(events[0] as object));
        const mutated = events.map((event, index) =>
          index === Math.floor(next() * events.length)
            ? { ...event, [field]: pick(WEIRD_VALUES) }
            : event,
        );
        mutated.push({ ...(events[1] as LifelineEvent), id: '' });
        cases.push({ kind: 'wrong type', body: JSON.stringify({ events: mutated }) });
        break;
      }
      case 2: {
        const number = pick(['1e400', '-1e400', '1e99999', '123456789012345678901234567890']);
        cases.push({
          kind: 'huge number',
          body: good.replace(/"seq":\d+/, `"seq":${number}`),
        });
        break;
      }
      case 3: {
        const poison = pick(POLLUTION);
        const at = pick(['top', 'event', 'record']);
        const body =
          at === 'top'
            ? `{"__proto__":{"x":1},"events":${JSON.stringify(events)}}`
            : at === 'event'
              ? good.replace('{"id"', `{"p":${poison},"id"`)
              : good.replace('"record":{', `"record":{"p":${poison},`);
        cases.push({ kind: 'prototype pollution', body });
        break;
      }
      case 4: {
        const depth = 1000 + Math.floor(next() * 20_000);
        const nested = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
        const body = pick([
          `{"events":${nested}}`,
          good
            .replace('"record":{', `"record":{"deep":${nested},`)
            .replace(/"id":"[^"]*"/, '"id":1'),
          `{"events":[${nested}]}`,
        ]);
        cases.push({ kind: 'deep nesting', body });
        break;
      }
      case 5: {
        cases.push({
          kind: 'wrong content type',
          body: good,
          contentType: pick([
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/jsonp',
            'application/octet-stream',
            '',
          ]),
        });
        break;
      }
      case 6: {
        const filler = 'y'.repeat(limit);
        cases.push({ kind: 'oversized', body: `{"events":[{"id":"${filler}"}]}` });
        break;
      }
      case 7: {
        const bytes = Buffer.alloc(1 + Math.floor(next() * 300));
        for (let b = 0; b < bytes.length; b++) bytes[b] = Math.floor(next() * 256);
        cases.push({ kind: 'random bytes', body: bytes });
        break;
      }
      case 8: {
        const unicode = pick([
          '\ud800',
          '\udfff',
          '\u0000',
          '𝓤𝓷𝓲',
          '\u2028\u2029',
          'é'.normalize('NFD'),
        ]);
        const bad = events.map((event) => ({
          ...event,
          envId: unicode.repeat(1 + Math.floor(next() * 250)),
        }));
        cases.push({ kind: 'unicode', body: JSON.stringify({ events: bad }) });
        break;
      }
      case 9: {
        cases.push({
          kind: 'invalid utf-8',
          body: Buffer.concat([Buffer.from(good.slice(0, 20)), Buffer.from([0xff, 0xfe, 0xc3])]),
        });
        break;
      }
      case 10: {
        const shapes = [
          'null',
          '"events"',
          '{"events":null}',
          '{"events":[null]}',
          '{"events":[[]]}',
          '{"events":"[]"}',
          '{}',
          '[{"events":[]}]',
          `{"events":${JSON.stringify(new Array(5001).fill(1))}}`,
        ];
        cases.push({ kind: 'wrong shape', body: pick(shapes) });
        break;
      }
      default: {
        // Valid events with a duplicate id and one invalid event: must be rejected whole.
        const duplicate = [
          ...events,
          events[0] as LifelineEvent,
          { ...(events[0] as object), time: -5 },
        ];
        cases.push({
          kind: 'duplicate ids + invalid',
          body: JSON.stringify({ events: duplicate }),
        });
      }
    }
  }
  return cases;
}

describe.each(backends())('POST /v1/events with hostile bodies on %s', (backend, dbPath) => {
  it('never answers 5xx and never writes part of a rejected batch', async () => {
    const bodyLimit = 64 * 1024;
    const collector = await listen({ bodyLimit, dbPath: await dbPath() });
    const cases = generateCases(3000, bodyLimit);
    const statuses = new Map<string, Set<number>>();
    for (const [index, hostile] of cases.entries()) {
      const before = await collector.app.storage.query.counts();
      const response = await fetch(`${collector.url}/v1/events`, {
        method: 'POST',
        headers:
          hostile.contentType === ''
            ? {}
            : { 'content-type': hostile.contentType ?? 'application/json' },
        body: hostile.body,
      });
      const text = await response.text();
      const label = `case ${index} (${hostile.kind}): ${response.status} ${text.slice(0, 200)}`;
      expect(response.status, label).toBeLessThan(500);
      const after = await collector.app.storage.query.counts();
      if (response.status === 200) {
        const ack = JSON.parse(text) as { accepted: number };
        expect(after.events - before.events, label).toBe(ack.accepted);
      } else {
        expect(after, label).toEqual(before);
        const error = JSON.parse(text) as { statusCode: number; code: string; message: string };
        expect(error.statusCode, label).toBe(response.status);
        expect(error.code, label).toMatch(/^COLLECTOR_ERR_/);
        expect(error.message.length, label).toBeGreaterThan(0);
      }
      const seen = statuses.get(hostile.kind) ?? new Set();
      seen.add(response.status);
      statuses.set(hostile.kind, seen);
    }
    // The unicode cases short enough to be valid hold NUL or unpaired surrogates: SQLite stores them, PostgreSQL
    // text cannot hold them (a 400 for the batch, nothing stored).
    expect(statuses.get('unicode')).toEqual(new Set(backend === 'sqlite' ? [200, 400] : [400]));
    expect(statuses.get('wrong content type')).toEqual(new Set([415]));
    expect(statuses.get('oversized')).toEqual(new Set([413]));
    expect(statuses.get('prototype pollution')).toEqual(new Set([400]));
    expect(statuses.get('duplicate ids + invalid')).toEqual(new Set([400]));
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    const health = await fetch(`${collector.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
