import { validateBatch } from '@lifeline/protocol';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, secretMatches } from '../auth.ts';
import { createBatchWriter } from '../batch-writer.ts';
import type { CollectorConfig } from '../config.ts';
import { invalidBatch, UnauthorizedError, UnsupportedMediaTypeError } from '../errors.ts';
import type { CollectorMetrics } from '../metrics.ts';
import type { EncodedEvent } from '../storage/types.ts';

/** Options of {@link ingestRoutes}. */
export interface IngestRoutesOptions {
  config: CollectorConfig;
  metrics: CollectorMetrics;
}

const JSON_TYPE = /^application\/json\s*(?:;|$)/i;

/**
 * `POST /v1/events`: token (401) → content type (415) → body limit (413) → JSON (400) → wire format (400) → one
 * transaction (shared with batches that arrived at the same time, see batch-writer.ts) → live broadcast →
 * `{accepted, duplicates}` after commit.
 */
export const ingestRoutes: FastifyPluginAsync<IngestRoutesOptions> = async (app, options) => {
  const { config, metrics } = options;
  const writer = createBatchWriter(app.storage.ingest, (result) => app.liveHub.publish(result));

  const checkRequest = async (request: FastifyRequest) => {
    if (
      config.token !== undefined &&
      !secretMatches(bearerToken(request.headers.authorization), config.token)
    ) {
      throw new UnauthorizedError('ingest token missing or wrong (Authorization: Bearer <token>)');
    }
    const type = request.headers['content-type'];
    if (typeof type !== 'string' || !JSON_TYPE.test(type)) {
      throw new UnsupportedMediaTypeError(
        `body must be application/json, got ${typeof type === 'string' ? JSON.stringify(type.slice(0, 100)) : 'no content type'}`,
      );
    }
  };

  const countRejection = async (_request: FastifyRequest, reply: FastifyReply) => {
    if (reply.statusCode >= 400) {
      metrics.rejectedBatches.set(
        reply.statusCode,
        (metrics.rejectedBatches.get(reply.statusCode) ?? 0) + 1,
      );
    }
  };

  app.post(
    '/v1/events',
    { bodyLimit: config.bodyLimit, onRequest: checkRequest, onResponse: countRejection },
    async (request) => {
      const result = validateBatch(request.body);
      if (!result.ok) throw invalidBatch(result.issues);
      const encoded = encodeEvents(result.value);
      if (!Array.isArray(encoded)) throw invalidBatch([encoded]);
      const outcome = await writer.write(encoded);
      metrics.ingestedEvents += outcome.accepted;
      metrics.duplicateEvents += outcome.duplicates;
      metrics.acceptedBatches += 1;
      return { accepted: outcome.accepted, duplicates: outcome.duplicates };
    },
  );
};

/** Serialises each event once (stored as-is and sent back verbatim); a value too deep to serialise is a 400. */
function encodeEvents(
  events: readonly EncodedEvent['event'][],
): EncodedEvent[] | { index: number; path: string; message: string } {
  const encoded: EncodedEvent[] = [];
  for (let index = 0; index < events.length; index++) {
    const event = events[index] as EncodedEvent['event'];
    try {
      encoded.push({ event, body: JSON.stringify(event) });
    } catch {
      return { index, path: `/events/${index}`, message: 'is nested too deeply to store' };
    }
  }
  return encoded;
}
