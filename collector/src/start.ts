import type { FastifyInstance } from 'fastify';
import { type BuildAppOptions, buildApp } from './app.ts';
import { type CollectorConfig, ConfigError, defaultConfig, isLoopbackHost } from './config.ts';

/** A running collector. */
export interface RunningCollector {
  /** e.g. `http://127.0.0.1:7460` (the real port when started on port 0). */
  url: string;
  app: FastifyInstance;
  /** Stops accepting, finishes in-flight requests, closes live sockets (1001) and the database. */
  close(): Promise<void>;
}

/** Throws {@link ConfigError} when the configuration would expose an open ingest endpoint beyond loopback. */
export function assertSafeToListen(config: CollectorConfig): void {
  if (!isLoopbackHost(config.host) && config.token === undefined) {
    throw new ConfigError(
      `refusing to listen on non-loopback host ${config.host} without an ingest token: set --token-file, LIFELINE_TOKEN_FILE or LIFELINE_TOKEN`,
    );
  }
}

/**
 * Starts a collector: defaults for everything not given, then listen. Logs `{"msg":"listening","url":…}` once bound,
 * and one warning when ingest is open (no token, loopback only).
 *
 * @example
 * const collector = await startCollector({ port: 0, dbPath: '/tmp/x.db', logLevel: 'silent' });
 * await fetch(`${collector.url}/healthz`);
 * await collector.close();
 */
export async function startCollector(
  config: Partial<CollectorConfig>,
  options: BuildAppOptions = {},
): Promise<RunningCollector> {
  const full: CollectorConfig = { ...defaultConfig(), ...stripUndefined(config) };
  assertSafeToListen(full);
  const app = buildApp(full, options);
  try {
    await app.listen({ host: full.host, port: full.port, listenTextResolver: () => 'bound' });
  } catch (error) {
    await app.close().catch(() => {});
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : full.port;
  const host = full.host.includes(':') ? `[${full.host}]` : full.host;
  const url = `http://${host}:${port}`;
  app.log.info({ url }, 'listening');
  if (full.token === undefined) {
    app.log.warn('no ingest token set: POST /v1/events is open to anyone on this host (demo mode)');
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    close: () => {
      closing ??= app.close();
      return closing;
    },
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined),
  ) as Partial<T>;
}
