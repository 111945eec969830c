import type { Socket } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import { LIVE_CLOSE } from '@lifeline/protocol';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { bearerToken, secretMatches } from './auth.ts';
import type { CollectorConfig } from './config.ts';
import { toApiError, UnauthorizedError } from './errors.ts';
import { type LogOutput, stdoutLogOutput } from './log-output.ts';
import { type CollectorMetrics, createMetrics } from './metrics.ts';
import { dbPlugin } from './plugins/db.ts';
import { liveHubPlugin } from './plugins/live-hub.ts';
import { installRequestGuard } from './request-guard.ts';
import { startRetention } from './retention.ts';
import { healthRoutes } from './routes/health.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { liveRoutes } from './routes/live.ts';
import { queryRoutes } from './routes/queries.ts';
import { hasDashboard, webRoutes } from './routes/web.ts';
import { checkWal } from './wal-check.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: CollectorConfig;
    metrics: CollectorMetrics;
  }
}

/** Options for {@link buildApp} that are not configuration. */
export interface BuildAppOptions {
  /** Fastify logger options; default: pino JSON at `config.logLevel`, with tokens redacted, to `logOutput`. */
  logger?: FastifyServerOptions['logger'];
  /** Where the default logger writes; default: stdout, dropping (and counting) lines it cannot write. */
  logOutput?: LogOutput;
}

/**
 * The URL of a request with the value of every `token` query parameter replaced by `[redacted]` (it is a secret).
 * Keys are compared decoded, as the query parser reads them (`?%74oken=` is `token`); a key that does not decode is
 * redacted too.
 */
export function redactUrl(url: string): string {
  const hash = url.indexOf('#');
  const bare = hash === -1 ? url : url.slice(0, hash);
  const start = bare.indexOf('?');
  if (start === -1) return bare;
  const query = bare
    .slice(start + 1)
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      const rawKey = equals === -1 ? part : part.slice(0, equals);
      return isSecretKey(rawKey) ? `${rawKey}=[redacted]` : part;
    });
  return `${bare.slice(0, start)}?${query.join('&')}`;
}

function isSecretKey(rawKey: string): boolean {
  let key: string;
  try {
    key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
  } catch {
    return true;
  }
  return key.trim().toLowerCase() === 'token';
}

/** pino options the collector logs with: JSON, never pretty, secrets redacted, to `stream` when given. */
export function loggerOptions(level: string, stream?: LogOutput): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream === undefined ? {} : { stream }),
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'req.query.token'],
      censor: '[redacted]',
    },
    serializers: {
      req(request: { method: string; url: string; ip?: string; id?: string }) {
        return { method: request.method, url: redactUrl(request.url), remoteAddress: request.ip };
      },
    },
  };
}

/**
 * Builds the collector app (not listening): storage, live hub, routes, error handling, retention.
 * Await `app.ready()` or `app.listen()`; `app.close()` closes live sockets (1001), waits for in-flight requests and
 * closes the database.
 */
/** A request slower than this is logged at info even when it succeeded. */
const SLOW_REQUEST_MS = 1000;

export function buildApp(config: CollectorConfig, options: BuildAppOptions = {}): FastifyInstance {
  // Before SQLite opens the file (the db plugin runs at ready): recovery would silently drop a damaged WAL's tail.
  const wal = isSqliteFile(config.dbPath) ? checkWal(config.dbPath) : undefined;
  const metrics = createMetrics();
  const logOutput = options.logOutput ?? stdoutLogOutput();
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel, logOutput),
    bodyLimit: config.bodyLimit,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A request must arrive whole (headers and body) within requestTimeout, however slowly it trickles in; a silent
    // connection is closed after connectionTimeout. Node checks pending requests every connectionsCheckingInterval.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    http: {
      headersTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(5000, config.requestTimeoutMs / 2)),
    },
    clientErrorHandler(error, socket) {
      answerClientError(error, socket, metrics);
    },
    // Ingest runs at thousands of requests a second; two log lines for each would be most of the log and a measurable
    // share of the CPU. Requests are logged below: failures and slow ones at info, every one at debug.
    logController: new LogController({ disableRequestLogging: true }),
  });
  if (wal?.cutShort) {
    metrics.walCutShort += 1;
    metrics.walDiscardedFrames += wal.discardedFrames;
    app.log.error(
      {
        wal: `${config.dbPath}-wal`,
        frames: wal.frames,
        keptFrames: wal.keptFrames,
        discardedFrames: wal.discardedFrames,
      },
      `the database's write-ahead log was cut short; acknowledged batches in it are lost: ${wal.reason}`,
    );
  }
  app.server.maxConnections = config.maxConnections;
  app.server.on('drop', () => {
    metrics.droppedConnections += 1;
  });
  let connections = 0;
  app.server.on('connection', (socket) => {
    connections += 1;
    socket.once('close', () => {
      connections -= 1;
    });
  });
  const logsEveryRequest = app.log.level === 'debug' || app.log.level === 'trace';
  app.addHook('onResponse', async (request, reply) => {
    const ms = reply.elapsedTime;
    const slow = ms > SLOW_REQUEST_MS;
    if (reply.statusCode < 400 && !slow && !logsEveryRequest) return;
    const entry = { req: request, statusCode: reply.statusCode, responseTime: ms };
    if (reply.statusCode >= 400 || slow) request.log.info(entry, 'request completed');
    else request.log.debug(entry, 'request completed');
  });
  app.decorate('config', config);
  app.decorate('metrics', metrics);
  installRequestGuard(app, config, metrics);

  app.setErrorHandler((error, request, reply) => {
    const body = toApiError(error as Error, config.bodyLimit);
    if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, statusCode: body.statusCode }, body.message);
    if (body.statusCode === 503 || body.statusCode === 507) reply.header('retry-after', '5');
    reply.status(body.statusCode).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (
      request.method === 'GET' &&
      !path.startsWith('/v1/') &&
      path !== '/v1' &&
      // Client-side routes have no file extension; a missing file (e.g. a source map) is a 404, not the page.
      !/\.[^/]*$/.test(path) &&
      hasDashboard(config.webDir)
    ) {
      return reply.sendFile('index.html');
    }
    reply.status(404).send({
      statusCode: 404,
      code: 'COLLECTOR_ERR_NOT_FOUND',
      error: 'Not Found',
      message: `no route ${request.method} ${redactUrl(path)}`,
    });
  });

  app.register(fastifyWebsocket, {
    options: { maxPayload: 4096 },
    errorHandler(error, socket, request) {
      request.log.error({ err: error }, 'live socket handler failed');
      socket.terminate();
    },
    preClose: async () => {
      if (app.hasDecorator('liveHub')) {
        app.liveHub.closeAll(LIVE_CLOSE.GOING_AWAY, 'collector stopping');
      }
      for (const client of app.websocketServer.clients) {
        client.close(LIVE_CLOSE.GOING_AWAY, 'collector stopping');
      }
      await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
    },
  });
  app.register(dbPlugin, { path: config.dbPath });
  app.register(liveHubPlugin, {
    heartbeatMs: config.liveHeartbeatMs,
    maxBufferedBytes: config.liveMaxBufferedBytes,
    maxPendingEvents: config.liveMaxPendingEvents,
    replayPageSize: config.liveReplayPageSize,
    replayStallMs: config.liveReplayStallMs,
    metrics,
  });

  app.register(async (scope) => {
    if (config.readToken === undefined) return;
    const readToken = config.readToken;
    // Scoped to the read routes only, whatever URL spelling the router matched (percent-escapes are decoded
    // before routing, so a check on the raw URL could be bypassed). /v1/live checks its token itself.
    scope.addHook('onRequest', async (request) => {
      if (!secretMatches(bearerToken(request.headers.authorization), readToken)) {
        throw new UnauthorizedError('read token missing or wrong (Authorization: Bearer <token>)');
      }
    });
    scope.register(queryRoutes, { config });
  });
  if (config.readToken === undefined) app.register(queryRoutes, { config });
  app.register(ingestRoutes, { config, metrics });
  app.register(liveRoutes, { config });
  app.register(healthRoutes, {
    config,
    metrics,
    connections: () => connections,
    logLinesDropped: () => logOutput.droppedLines,
  });
  app.register(webRoutes, { webDir: config.webDir });

  // Retention starts once every plugin (the storage first) is ready; a storage that failed to open fails ready().
  let retention: { stop(): Promise<void> } | undefined;
  app.addHook('onReady', async () => {
    retention = startRetention(
      app.storage.retention,
      {
        retentionHours: config.retentionHours,
        retentionMaxMb: config.retentionMaxMb,
        intervalMs: config.retentionIntervalMs,
      },
      metrics,
      app.log,
    );
  });
  app.addHook('preClose', async () => {
    await retention?.stop();
  });

  return app;
}

function isSqliteFile(dbPath: string): boolean {
  return dbPath !== ':memory:' && !dbPath.includes('://');
}

const CLIENT_ERROR_STATUS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [
    408,
    'timeout',
    'the request did not arrive whole within the request timeout',
  ],
  HPE_HEADER_OVERFLOW: [431, 'header_overflow', 'the request headers are too large'],
};

/**
 * Answers a request Node's HTTP parser gave up on (Fastify's default, with the collector's error shape) and counts
 * it in `lifeline_client_errors_total{kind}`: a request that trickles in slower than the request timeout ends here
 * with 408.
 */
function answerClientError(
  error: Error & { code?: string },
  socket: Socket,
  metrics: CollectorMetrics,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, kind, message] = CLIENT_ERROR_STATUS[error.code ?? ''] ?? [
    400,
    'error',
    'the request is not valid HTTP',
  ];
  metrics.clientErrors.set(kind, (metrics.clientErrors.get(kind) ?? 0) + 1);
  const body = JSON.stringify({
    statusCode: status,
    code: status === 408 ? 'COLLECTOR_ERR_REQUEST_TIMEOUT' : 'COLLECTOR_ERR_BAD_REQUEST',
    error: STATUS_LINE[status],
    message,
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_LINE[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

const STATUS_LINE: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};
