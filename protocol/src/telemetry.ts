/**
 * The Lambda Telemetry API (2022-07-01) as it reaches a subscriber: a JSON array of these, POSTed to the listener.
 * Only the parts Lifeline reads are typed; records are kept unchanged in `platform` events.
 */
export interface TelemetryApiEvent {
  /** ISO-8601 UTC with ms precision, e.g. 2022-10-12T00:00:15.064Z (platform clock). */
  time: string;
  /** e.g. platform.initStart, platform.report, function, extension. */
  type: string;
  record: Record<string, unknown> | string;
}

/** The platform record types Lifeline understands (others are stored and shown raw). */
export const PLATFORM_RECORD_TYPES = [
  'platform.initStart',
  'platform.initRuntimeDone',
  'platform.initReport',
  'platform.start',
  'platform.runtimeDone',
  'platform.report',
  'platform.restoreStart',
  'platform.restoreRuntimeDone',
  'platform.restoreReport',
  'platform.extension',
  'platform.telemetrySubscription',
  'platform.logsDropped',
] as const;
export type PlatformRecordType = (typeof PLATFORM_RECORD_TYPES)[number];

/** Statuses in platform.runtimeDone / platform.report / platform.initReport. */
export type PlatformStatus = 'success' | 'failure' | 'error' | 'timeout';

export interface ReportMetrics {
  durationMs: number;
  billedDurationMs: number;
  memorySizeMB: number;
  maxMemoryUsedMB: number;
  initDurationMs?: number;
  restoreDurationMs?: number;
}

export interface TelemetrySpan {
  name: string;
  start: string;
  durationMs: number;
}
