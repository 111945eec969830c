import type { Config } from './config.ts';
import type { Delivery } from './delivery.ts';
import { describeError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { ShutdownNextEvent } from './runtime-api/extensions-api.ts';
import type { TelemetryListener } from './telemetry-listener.ts';

/** How long SHUTDOWN waits for the last invoke's `platform.report` (bounded by half the remaining budget). */
const REPORT_WAIT_MS = 500;
/** Part of the shutdown budget kept for the `exit` record. */
const EXIT_RESERVE_MS = 150;

/** What the SHUTDOWN phase works with. */
export interface ShutdownContext {
  config: Config;
  delivery: Delivery;
  logger: Logger;
  listener: TelemetryListener | undefined;
  onDeadline: ((code: number) => void) | undefined;
  /** Whether the last invoke's platform.report is still to come. */
  reportPending(): boolean;
  setReportListener(listener: (() => void) | undefined): void;
}

/**
 * The SHUTDOWN phase: record `shutdown`, wait briefly for the last invoke's `platform.report`, deliver everything,
 * record and deliver `exit`, spool what is left, and resolve 0 by `deadlineMs − margin` (a guard timer calls
 * `onDeadline` if anything overruns).
 */
export async function shutdown(
  event: ShutdownNextEvent,
  context: ShutdownContext,
): Promise<number> {
  const { config, delivery, logger } = context;
  const receivedAt = Date.now();
  // A missing deadline gets the production budget; a past one means: persist and leave at once.
  const deadlineMs = event.deadlineMs > 0 ? event.deadlineMs : receivedAt + 2_000;
  const deadline = deadlineMs - config.shutdownMarginMs;
  const guard = setTimeout(
    () => {
      delivery.persistFinal();
      context.onDeadline?.(0);
    },
    Math.max(0, deadline - receivedAt),
  );
  try {
    delivery.record({
      type: 'shutdown',
      shutdownReason: short(event.shutdownReason),
      deadlineMs: event.deadlineMs,
    });
    delivery.setDeadline(deadline);
    delivery.kick('shutdown');
    const exitAt = deadline - Math.max(0, Math.min(EXIT_RESERVE_MS, (deadline - receivedAt) / 4));
    if (context.listener !== undefined && context.reportPending()) {
      const waitUntil = Math.min(
        receivedAt + REPORT_WAIT_MS,
        receivedAt + (exitAt - receivedAt) / 2,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, waitUntil - Date.now()));
        context.setReportListener(() => {
          if (!context.reportPending()) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      context.setReportListener(undefined);
    }
    await delivery.drain(exitAt);
    await context.listener?.close();
    const stats = delivery.snapshot();
    delivery.record({
      type: 'exit',
      shutdownMs: Date.now() - receivedAt,
      delivered: stats.delivered,
      dropped: stats.dropped,
      pending: stats.pending,
    });
    await delivery.drain(deadline);
    if (delivery.pending > 0) {
      // When delivery was failing, that problem was logged already: one line per problem.
      const log = delivery.failing ? logger.info : logger.warn;
      log('shutdown deadline reached; events left in the spool', { pending: delivery.pending });
    }
  } catch (error) {
    logger.error('shutdown failed', { detail: describeError(error) });
  } finally {
    delivery.stop();
    await delivery.settleSpool(Math.min(100, deadline - Date.now()));
    clearTimeout(guard);
    delivery.persistFinal();
  }
  return 0;
}

function short(value: string): string {
  return value.length > 256 ? value.slice(0, 256) : value;
}
