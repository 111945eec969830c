import { LIVE_CLOSE } from '@lifeline/protocol';
import type { FastifyPluginAsync } from 'fastify';
import { bearerToken, secretMatches } from '../auth.ts';
import type { CollectorConfig } from '../config.ts';

/** Options of {@link liveRoutes}. */
export interface LiveRoutesOptions {
  config: CollectorConfig;
}

const CURSOR = /^\d{1,16}$/;

/**
 * `GET /v1/live?after=CURSOR&token=T` (WebSocket). Problems are reported with close codes (4400,
 * 4401) rather than HTTP statuses, because a browser cannot read the status of a refused upgrade.
 */
export const liveRoutes: FastifyPluginAsync<LiveRoutesOptions> = async (app, options) => {
  const { readToken } = options.config;
  app.get('/v1/live', { websocket: true }, (socket, request) => {
    // Clients send nothing; anything they send is ignored (attached before any other work).
    socket.on('message', () => {});
    const query = (request.query ?? {}) as Record<string, unknown>;
    if (readToken !== undefined) {
      const presented =
        typeof query.token === 'string' ? query.token : bearerToken(request.headers.authorization);
      if (!secretMatches(presented, readToken)) {
        socket.close(LIVE_CLOSE.UNAUTHORIZED, 'read token missing or wrong');
        return;
      }
    }
    const after = query.after ?? '0';
    if (typeof after !== 'string' || !CURSOR.test(after) || !Number.isSafeInteger(Number(after))) {
      socket.close(LIVE_CLOSE.BAD_REQUEST, 'after must be a non-negative integer cursor');
      return;
    }
    app.liveHub.attach(socket, { after: Number(after) });
  });
};
