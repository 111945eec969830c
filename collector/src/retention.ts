import type { FastifyBaseLogger } from 'fastify';
import type { CollectorMetrics } from './metrics.ts';
import type { EventsRepository } from './plugins/events-repository.ts';

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

/** What one run deleted. */
export interface RetentionReport {
  environments: number;
  events: number;
}

const yieldToIngest = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One retention pass. Whole environments go: first every environment whose last event was received more than
 * `retentionHours` ago (collector clock), then, while the database uses more than `retentionMaxMb`, the least
 * recently heard-from environments among those not heard from since `now`. Each transaction deletes at most
 * `chunkEvents` events, and the loop yields to the event loop between transactions. An environment that receives
 * an event between two of its chunks is kept from then on, with the new event (its older chunks are already gone).
 * SQLite reuses the freed pages; the file does not shrink (no VACUUM, which would block ingest).
 */
export async function runRetention(
  repository: EventsRepository,
  options: RetentionOptions,
  now: number,
): Promise<RetentionReport> {
  const chunkEvents = options.chunkEvents ?? 5000;
  let chunksLeft = options.maxChunksPerRun ?? 2000;
  const report: RetentionReport = { environments: 0, events: 0 };
  // Each chunk re-checks, in its own transaction, that the environment is still stale: an event acknowledged
  // while the deletion yields to ingest is never deleted (the environment is kept from then on).
  const deleteWhole = async (envId: string, receivedBefore: number) => {
    for (;;) {
      if (chunksLeft-- <= 0 || options.signal?.aborted) return false;
      const deleted = repository.deleteEnvironmentChunk(envId, chunkEvents, receivedBefore);
      report.events += deleted.events;
      report.environments += deleted.environments;
      await yieldToIngest();
      if (deleted.kept || deleted.environments > 0 || deleted.events < chunkEvents) return true;
    }
  };
  const cutoff = now - options.retentionHours * 3_600_000;
  for (;;) {
    const expired = repository.environmentsReceivedBefore(cutoff, 100);
    if (expired.length === 0) break;
    for (const envId of expired) if (!(await deleteWhole(envId, cutoff))) return report;
  }
  // Only environments not heard from since the run began: one receiving now is kept whole.
  const maxBytes = options.retentionMaxMb * 1024 * 1024;
  while (repository.usedBytes() > maxBytes) {
    const [oldest] = repository.environmentsReceivedBefore(now, 1);
    if (oldest === undefined) break;
    if (!(await deleteWhole(oldest, now))) return report;
  }
  return report;
}

/** Runs {@link runRetention} every `intervalMs` (never two at once) until stopped. */
export function startRetention(
  repository: EventsRepository,
  options: RetentionOptions & { intervalMs: number },
  metrics: CollectorMetrics,
  log: FastifyBaseLogger,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const controller = new AbortController();
  const tick = () => {
    if (running || controller.signal.aborted) return;
    running = runRetention(repository, { ...options, signal: controller.signal }, Date.now())
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
