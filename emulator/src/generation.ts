import type { ServerResponse } from 'node:http';
import { monoNow } from './clock.ts';
import type { Agent, ExtensionRegistry } from './extension-registry.ts';
import type { ManagedProcess } from './processes.ts';
import type { TelemetryDispatcher } from './telemetry-dispatcher.ts';

/** Why the current generation cannot go on (first cause wins). */
export interface Failure {
  errorType: string;
  errorMessage: string;
}

/** One invoke in flight: what the runtime and the INVOKE subscribers did so far. */
export interface Invocation {
  requestId: string;
  deadlineMs: number;
  trace: string | undefined;
  /** Tenant isolation: the environment's tenant, carried by the invoke records. */
  tenantId: string | undefined;
  startedAt: number;
  startedMono: number;
  /** INVOKE subscribers that have not called /next since their INVOKE. */
  pending: Set<Agent>;
  responded: boolean;
  /** When the first byte of the runtime's answer arrived (a streamed answer takes a while after it). */
  firstByteMono?: number;
  /** When the runtime's answer (response or error) was complete. */
  respondedMono?: number;
  response?: unknown;
  responseBytes: number;
  errorType?: string;
  errorMessage?: string;
  runtimeDone: boolean;
  runtimeDoneAt?: number;
  runtimeDoneMono?: number;
  lastExtensionMono?: number;
}

/** One Init generation: the processes, agents and telemetry of one life of the environment. */
export interface Generation {
  number: number;
  phase: 'init' | 'invoke';
  registry: ExtensionRegistry;
  dispatcher: TelemetryDispatcher;
  subscribedApi: Map<string, 'telemetry' | 'logs'>;
  subscriptionsOpen: boolean;
  runtime: ManagedProcess | undefined;
  /** The runtime's outstanding /invocation/next requests: at most one, or one per worker on Managed Instances. */
  runtimeParked: ServerResponse[];
  /** SnapStart: the runtime's `/runtime/restore/next`, parked from the end of its Init until the restore. */
  runtimeRestoreParked: ServerResponse | undefined;
  runtimeReadyAt: number | undefined;
  initStartedAt: number;
  initStartedMono: number;
  initDone: boolean;
  /** Init duration to attach to the first report (initDurationMs). */
  pendingInitDurationMs: number | undefined;
  /** SnapStart: restore duration to attach to the first report after the restore (restoreDurationMs). */
  pendingRestoreDurationMs: number | undefined;
  /** Invokes in flight by requestId: at most one, or up to the concurrency on Managed Instances. */
  invocations: Map<string, Invocation>;
  failure: Failure | undefined;
  frozen: boolean;
  shuttingDown: boolean;
  ended: boolean;
}

/** A generation that starts its Init now. */
export function newGeneration(
  number: number,
  phase: 'init' | 'invoke',
  registry: ExtensionRegistry,
  dispatcher: TelemetryDispatcher,
): Generation {
  return {
    number,
    phase,
    registry,
    dispatcher,
    subscribedApi: new Map(),
    subscriptionsOpen: true,
    runtime: undefined,
    runtimeParked: [],
    runtimeRestoreParked: undefined,
    runtimeReadyAt: undefined,
    initStartedAt: Date.now(),
    initStartedMono: monoNow(),
    initDone: false,
    pendingInitDurationMs: undefined,
    pendingRestoreDurationMs: undefined,
    invocations: new Map(),
    failure: undefined,
    frozen: false,
    shuttingDown: false,
    ended: false,
  };
}

/** Milliseconds rounded to the microsecond, as the platform records carry them. */
export function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** setTimeout silently turns delays beyond 2^31−1 ms into 1 ms; keep long waits long. */
export function clampDelay(ms: number): number {
  return Math.min(Math.max(0, ms), 2_147_483_647);
}
