import { statSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { CollectorConfig } from '../config.ts';
import { type CollectorMetrics, renderMetrics } from '../metrics.ts';

/** Options of {@link healthRoutes}. */
export interface HealthRoutesOptions {
  config: CollectorConfig;
  metrics: CollectorMetrics;
  /** Open TCP connections now. */
  connections(): number;
  /** Log lines dropped so far. */
  logLinesDropped(): number;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** `GET /healthz` (the database answers) and `GET /metrics` (Prometheus text). */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, options) => {
  const { config, metrics } = options;

  app.get('/healthz', async () => ({ status: 'ok', head: await app.storage.eventLog.head() }));

  app.get('/metrics', async (_request, reply) => {
    const counts = await app.storage.query.counts();
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return renderMetrics(metrics, {
      liveClients: app.liveHub.clientCount(),
      // A SQLite file (with its WAL) on disk, or the PostgreSQL database's size.
      dbSizeBytes:
        app.storage.kind === 'sqlite'
          ? fileSize(config.dbPath) + fileSize(`${config.dbPath}-wal`)
          : await app.storage.query.sizeBytes(),
      storedEvents: counts.events,
      environments: counts.environments,
      headCursor: await app.storage.eventLog.head(),
      connections: options.connections(),
      logLinesDropped: options.logLinesDropped(),
      limits: {
        maxConnections: config.maxConnections,
        maxLiveClients: config.maxLiveClients,
        requestTimeoutSeconds: config.requestTimeoutMs / 1000,
        connectionTimeoutSeconds: config.connectionTimeoutMs / 1000,
        bodyLimitBytes: config.bodyLimit,
      },
    });
  });
};
