import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ENVIRONMENT_STATES, PROTOCOL_VERSION } from '@lifeline/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { CollectorConfig } from '../config.ts';
import { BadQueryError, NotFoundError } from '../errors.ts';
import { WINDOW_BUCKETS_MAX, WINDOW_PAGE_MAX, WINDOW_STEP_MIN } from '../storage/read-model.ts';
import type { JsonAnswer, JsonReadOptions, ReadModelJson } from '../storage/types.ts';
import { acceptsGzip } from './accept-encoding.ts';
import { EpochMs, FunctionName, Limit, PageCursor } from './query-schemas.ts';

/** Options of {@link queryRoutes}. */
export interface QueryRoutesOptions {
  config: CollectorConfig;
}

const Text = Type.String({ minLength: 1, maxLength: 256 });

const EnvironmentsQuery = Type.Object({
  function: Type.Optional(FunctionName),
  state: Type.Optional(Type.Enum(ENVIRONMENT_STATES)),
  from: Type.Optional(EpochMs),
  to: Type.Optional(EpochMs),
  cursor: Type.Optional(PageCursor),
  limit: Limit,
});

const InvocationsQuery = Type.Object({
  function: Type.Optional(FunctionName),
  envId: Type.Optional(Text),
  from: Type.Optional(EpochMs),
  to: Type.Optional(EpochMs),
  cursor: Type.Optional(PageCursor),
  limit: Limit,
});

const ShutdownsQuery = Type.Object({
  function: Type.Optional(FunctionName),
  version: Type.Optional(Text),
  reason: Type.Optional(Text),
  from: Type.Optional(EpochMs),
  to: Type.Optional(EpochMs),
  cursor: Type.Optional(PageCursor),
  limit: Limit,
});

const FunctionsQuery = Type.Object({ cursor: Type.Optional(PageCursor), limit: Limit });

const RangeFields = {
  from: EpochMs,
  to: EpochMs,
  function: Type.Optional(FunctionName),
  tenant: Type.Optional(Text),
};

const WindowQuery = Type.Object({
  ...RangeFields,
  cursor: Type.Optional(PageCursor),
  limit: Type.Integer({ minimum: 1, maximum: WINDOW_PAGE_MAX, default: WINDOW_PAGE_MAX }),
  step: Type.Optional(Type.Integer({ minimum: WINDOW_STEP_MIN, maximum: 30 * 86_400_000 })),
});

const ShutdownStatsQuery = Type.Object({
  ...RangeFields,
  version: Type.Optional(Text),
  reason: Type.Optional(Text),
});

const FunctionStatsQuery = Type.Object({ from: EpochMs, to: EpochMs, tenant: Type.Optional(Text) });

/** A series has at most this many buckets; a smaller `step` over a long range is a 400. */
const MAX_SERIES_BUCKETS = 2000;

const SeriesQuery = Type.Object({
  ...RangeFields,
  step: Type.Optional(Type.Integer({ minimum: 1000, maximum: 30 * 86_400_000 })),
});

const SearchQuery = Type.Object({ q: Type.String({ minLength: 1, maxLength: 256 }) });

/** Cursors in the API are strings; `/v1/events` takes the numeric event cursor. */
const EventsQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
});

const EnvironmentParams = Type.Object({ envId: Type.String({ minLength: 1, maxLength: 200 }) });

/**
 * Spellings the numeric query parameters accept, checked on the raw strings before schema coercion: the coercion
 * turns `Infinity`, `1e400` or `0x10` into numbers the range checks do not all catch.
 */
const NUMERIC_PARAMS: Readonly<Record<string, { pattern: RegExp; expected: string }>> = {
  limit: { pattern: /^\d{1,16}$/, expected: 'a positive integer' },
  after: { pattern: /^\d{1,16}$/, expected: 'a non-negative integer cursor' },
  from: { pattern: /^\d{1,16}(?:\.\d{1,6})?$/, expected: 'epoch milliseconds (decimal digits)' },
  to: { pattern: /^\d{1,16}(?:\.\d{1,6})?$/, expected: 'epoch milliseconds (decimal digits)' },
  step: { pattern: /^\d{1,16}$/, expected: 'milliseconds (a positive integer)' },
};

/** Throws a 400 naming the first numeric query parameter that is not plain decimal digits. */
export function checkNumericQuery(query: unknown): void {
  if (typeof query !== 'object' || query === null) return;
  for (const [name, rule] of Object.entries(NUMERIC_PARAMS)) {
    const value = (query as Record<string, unknown>)[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new BadQueryError(`${name} must be given once`);
    if (!rule.pattern.test(value)) {
      throw new BadQueryError(
        `${name} must be ${rule.expected}, got ${JSON.stringify(value.slice(0, 40))}`,
      );
    }
  }
}

/**
 * The read API: `GET /v1/settings|window|stats/shutdowns|stats/functions|series|search` (windowed reads and
 * aggregates) and `GET /v1/functions|environments|environments/:envId|invocations|shutdowns|events` (lists).
 */
export const queryRoutes: FastifyPluginAsyncTypebox<QueryRoutesOptions> = async (app, options) => {
  const { lostAfterMs, retentionHours } = options.config;
  const query = app.storage.query;
  const jsonReads = query.json;
  app.addHook('preValidation', async (request) => checkNumericQuery(request.query));
  const range = (from: number | undefined, to: number | undefined) => {
    if (from !== undefined && to !== undefined && from > to) {
      throw new BadQueryError('from must not be later than to');
    }
  };

  /**
   * Answers a read: as JSON bytes made by the backend where it has them (QueryStore.json), sent as they are, gzipped
   * where the client takes it (the backend gzips large answers; the answer varies by Accept-Encoding); else as the
   * backend's object. A bytes read is told when the client goes away before the answer is sent, so a read still
   * queued is dropped rather than run for nobody.
   */
  const answer = async <K extends keyof ReadModelJson>(
    request: FastifyRequest,
    reply: FastifyReply,
    op: K,
    arg: Parameters<ReadModelJson[K]>[0],
  ): Promise<unknown> => {
    if (jsonReads === undefined) {
      // Every read with a bytes form has an object form of the same name.
      return (query[op as K & keyof typeof query] as (arg: unknown) => Promise<unknown>)(arg);
    }
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const read = jsonReads[op] as (arg: unknown, options: JsonReadOptions) => Promise<JsonAnswer>;
    const { bytes, gzip } = await read(arg, {
      abandoned: gone.signal,
      gzip: acceptsGzip(request.headers['accept-encoding']),
    });
    reply.type('application/json; charset=utf-8');
    reply.header('vary', 'accept-encoding');
    if (gzip) reply.header('content-encoding', 'gzip');
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };

  app.get('/v1/settings', async () => ({
    lostAfterMs,
    retentionDays: retentionHours / 24,
    protocolVersion: PROTOCOL_VERSION,
  }));

  app.get('/v1/window', { schema: { querystring: WindowQuery } }, async (request, reply) => {
    const { function: functionName, ...rest } = request.query;
    range(rest.from, rest.to);
    if (rest.step !== undefined && (rest.to - rest.from) / rest.step > WINDOW_BUCKETS_MAX) {
      throw new BadQueryError(
        `step ${rest.step} gives more than ${WINDOW_BUCKETS_MAX} buckets over this range; pass a larger step, or none for every invocation`,
      );
    }
    const filter = { ...rest, functionName, now: Date.now(), lostAfterMs };
    return answer(request, reply, 'window', filter);
  });

  app.get(
    '/v1/stats/shutdowns',
    { schema: { querystring: ShutdownStatsQuery } },
    async (request, reply) => {
      const { function: functionName, ...rest } = request.query;
      range(rest.from, rest.to);
      const filter = { ...rest, functionName };
      return answer(request, reply, 'shutdownStats', filter);
    },
  );

  app.get(
    '/v1/stats/functions',
    { schema: { querystring: FunctionStatsQuery } },
    async (request, reply) => {
      range(request.query.from, request.query.to);
      const filter = { ...request.query, now: Date.now(), lostAfterMs };
      return answer(request, reply, 'functionStats', filter);
    },
  );

  app.get('/v1/series', { schema: { querystring: SeriesQuery } }, async (request, reply) => {
    const { function: functionName, ...rest } = request.query;
    range(rest.from, rest.to);
    if (rest.step !== undefined && (rest.to - rest.from) / rest.step > MAX_SERIES_BUCKETS) {
      throw new BadQueryError(
        `step ${rest.step} gives more than ${MAX_SERIES_BUCKETS} buckets over this range; pass a larger step or none`,
      );
    }
    const filter = { ...rest, functionName, now: Date.now(), lostAfterMs };
    return answer(request, reply, 'series', filter);
  });

  app.get('/v1/search', { schema: { querystring: SearchQuery } }, async (request, reply) =>
    answer(request, reply, 'search', request.query.q.trim()),
  );

  app.get('/v1/functions', { schema: { querystring: FunctionsQuery } }, async (request, reply) => {
    const list = { ...request.query, now: Date.now(), lostAfterMs };
    return answer(request, reply, 'listFunctions', list);
  });

  app.get(
    '/v1/environments',
    { schema: { querystring: EnvironmentsQuery } },
    async (request, reply) => {
      const { function: functionName, ...rest } = request.query;
      range(rest.from, rest.to);
      const filter = { ...rest, functionName, now: Date.now(), lostAfterMs };
      return answer(request, reply, 'listEnvironments', filter);
    },
  );

  app.get('/v1/environments/:envId', { schema: { params: EnvironmentParams } }, async (request) => {
    const detail = await query.environmentDetail(request.params.envId, Date.now(), lostAfterMs);
    if (detail === null) throw new NotFoundError(`no environment ${request.params.envId}`);
    return detail;
  });

  app.get(
    '/v1/invocations',
    { schema: { querystring: InvocationsQuery } },
    async (request, reply) => {
      const { function: functionName, ...rest } = request.query;
      range(rest.from, rest.to);
      const filter = { ...rest, functionName, now: Date.now(), lostAfterMs };
      return answer(request, reply, 'listInvocations', filter);
    },
  );

  app.get('/v1/shutdowns', { schema: { querystring: ShutdownsQuery } }, async (request, reply) => {
    const { function: functionName, ...rest } = request.query;
    range(rest.from, rest.to);
    const filter = { ...rest, functionName, now: Date.now(), lostAfterMs };
    return answer(request, reply, 'listShutdowns', filter);
  });

  app.get('/v1/events', { schema: { querystring: EventsQuery } }, async (request, reply) => {
    const { after = 0, limit } = request.query;
    const rows = await app.storage.eventLog.eventsAfter(after, limit);
    const last = rows[rows.length - 1];
    const nextCursor = rows.length === limit && last !== undefined ? `"${last.cursor}"` : 'null';
    // Stored bodies are sent verbatim instead of being parsed and serialised again.
    const items = rows
      .map((row) => `{"cursor":${row.cursor},"receivedAt":${row.receivedAt},"event":${row.body}}`)
      .join(',');
    reply.type('application/json; charset=utf-8');
    return `{"items":[${items}],"nextCursor":${nextCursor}}`;
  });
};
