import type { AgentEventDelivery } from './agent-event-delivery.ts';
import type { LogInput } from './event-log.ts';
import type { Generation } from './generation.ts';
import type { ProcessSupervisor } from './process-supervisor.ts';
import type { ResolvedOptions } from './sandbox-options.ts';
import type { SandboxState, ShutdownReason } from './types.ts';

/**
 * What the phases and the API hosts share with the {@link Sandbox} that owns them: its settings, its current
 * generation, its processes and event delivery, its log and its wake-up mechanism. The sandbox alone decides the
 * state machine (which phase runs next); the phases run one phase each.
 */
export interface SandboxContext {
  readonly id: string;
  readonly options: ResolvedOptions;
  readonly tmpDir: string;
  /** `127.0.0.1:PORT`; throws before the server listens. */
  readonly runtimeApiAddress: string;
  readonly closed: boolean;
  /** The generation of the last Init (ended or not); undefined before the first. */
  readonly generation: Generation | undefined;
  state: SandboxState;
  readonly supervisor: ProcessSupervisor;
  readonly delivery: AgentEventDelivery;
  log(entry: LogInput): void;
  /** Something changed: re-check every {@link waitFor} predicate. */
  changed(): void;
  /** Resolves true when `predicate` holds, false at `deadlineMs` (epoch) or on close (unless `ignoreClose`). */
  waitFor(predicate: () => boolean, deadlineMs: number, ignoreClose?: boolean): Promise<boolean>;
  /** The shutdown reason as this profile writes it on the wire. */
  wireReason(reason: ShutdownReason): string;
}
