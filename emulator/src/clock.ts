import { performance } from 'node:perf_hooks';

/** Monotonic milliseconds since the emulator module loaded. */
export function monoNow(): number {
  return performance.now();
}

/** Telemetry API time format: ISO-8601 UTC with millisecond precision. */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** Resolves after `ms` (unref'd, so it never keeps the process alive on its own). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms)).unref();
  });
}
