import type { FastifyBaseLogger } from 'fastify';
import type { CollectorMetrics } from './metrics.ts';
import type { RetentionReport, RetentionStore } from './storage/types.ts';

/** Limits of one retention run. */
export interface RetentionOptions {
  retentionHours: number;
  retentionMaxMb: number;
  /** Events deleted per transaction, so ingest never waits long for the writer. */
  chunkEvents?: number;
  /** Transactions per run at most; the next run continues. */
  maxChunksPerRun?: number;
  /** Checked between transactions: a stopping collector does not wait for a long run. */
  signal?: AbortSignal;
}

export type { RetentionReport };

/** One retention pass at collector time `now`; what is deleted, and how, is the backend's (see its store). */
export function runRetention(
  store: RetentionStore,
  options: RetentionOptions,
  now: number,
): Promise<RetentionReport> {
  return store.expire({
    now,
    retentionHours: options.retentionHours,
    retentionMaxMb: options.retentionMaxMb,
    chunkEvents: options.chunkEvents ?? 5000,
    maxChunks: options.maxChunksPerRun ?? 2000,
    signal: options.signal,
  });
}

/** Runs {@link runRetention} every `intervalMs` (never two at once) until stopped. */
export function startRetention(
  store: RetentionStore,
  options: RetentionOptions & { intervalMs: number },
  metrics: CollectorMetrics,
  log: FastifyBaseLogger,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const controller = new AbortController();
  const tick = () => {
    if (running || controller.signal.aborted) return;
    running = runRetention(store, { ...options, signal: controller.signal }, Date.now())
      .then((report) => {
        metrics.retentionDeletedEvents += report.events;
        metrics.retentionDeletedEnvironments += report.environments;
        if (report.events > 0 || report.environments > 0) log.info({ ...report }, 'retention');
      })
      .catch((error: unknown) => log.error({ err: error }, 'retention failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      controller.abort();
      clearInterval(timer);
      await running;
    },
  };
}
