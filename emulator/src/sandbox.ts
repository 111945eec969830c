import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AgentEventDelivery } from './agent-event-delivery.ts';
import {
  createExtensionsApiHost,
  createRuntimeApiHost,
  createTelemetryApiHost,
} from './api-hosts.ts';
import { EventLog, type LogInput } from './event-log.ts';
import { ExtensionRegistry } from './extension-registry.ts';
import { type ExtensionsApiHost, handleExtensionsApi } from './extensions-api.ts';
import { clampDelay, type Generation, newGeneration } from './generation.ts';
import { sendError, sendRaw } from './http-json.ts';
import { runInitPhase } from './init-phase.ts';
import { type InvokeContext, runInvokePhase } from './invoke-phase.ts';
import { runManagedInvokePhase } from './managed-invoke-phase.ts';
import { ProcessSupervisor } from './process-supervisor.ts';
import { runRestorePhase } from './restore-phase.ts';
import { handleRuntimeApi, type RuntimeApiHost } from './runtime-api.ts';
import type { SandboxContext } from './sandbox-context.ts';
import { type ResolvedOptions, resolveOptions, validateInvokeOptions } from './sandbox-options.ts';
import { runShutdownPhase } from './shutdown-phase.ts';
import { handleTelemetryApi, type TelemetryApiHost } from './telemetry-api.ts';
import { TelemetryDispatcher } from './telemetry-dispatcher.ts';
import type {
  EmulatorLogEntry,
  ExtensionInfo,
  InitResult,
  InvokeOptions,
  InvokeResult,
  RestoreResult,
  SandboxOptions,
  SandboxState,
  ShutdownReason,
  ShutdownResult,
  SnapshotIdentity,
} from './types.ts';

const RIE_REASONS: Record<ShutdownReason, string> = {
  spindown: 'SandboxTerminated',
  timeout: 'Timeout',
  failure: 'ReleaseFail',
};

/**
 * One Lambda execution environment: an HTTP server with the Extensions, Telemetry and Runtime APIs, the external
 * extension processes of `extensionsDir`, a runtime process, and the Init → Invoke → Shutdown lifecycle of production
 * Lambda, including freeze, reset and suppressed init. Operations are serialised: one invoke at a time.
 *
 * The phases live in `init-phase.ts`, `invoke-phase.ts` and `shutdown-phase.ts`, the processes in
 * `process-supervisor.ts`, event delivery in `agent-event-delivery.ts` and the API bindings in `api-hosts.ts`; this
 * class owns the server, the state machine between phases and the public API.
 *
 * @example
 * ```ts
 * const sandbox = new Sandbox({ extensionsDir: 'layer/extensions', freeze: true });
 * await sandbox.init();
 * await sandbox.invoke({ durationMs: 50 });
 * await sandbox.shutdown('spindown');
 * await sandbox.close();
 * ```
 */
export class Sandbox {
  /** Identifier used in log entries. */
  readonly id: string;
  /** The sandbox's /tmp. */
  readonly tmpDir: string;
  readonly #options: ResolvedOptions;
  readonly #eventLog: EventLog;
  readonly #server: http.Server;
  readonly #listening: Promise<void>;
  readonly #ownsTmpDir: boolean;
  readonly #supervisor: ProcessSupervisor;
  readonly #delivery: AgentEventDelivery;
  readonly #context: SandboxContext;
  #address: string | undefined;
  #state: SandboxState = 'new';
  #generation: Generation | undefined;
  #generations = 0;
  #needsSuppressedInit = false;
  #queue: Promise<unknown> = Promise.resolve();
  #waiters = new Set<() => void>();
  #closed = false;
  #closing: Promise<void> | undefined;
  #lastInit: InitResult | undefined;
  #lastRestore: RestoreResult | undefined;
  #snapshot: SnapshotIdentity | undefined;
  #pendingTelemetryFaults = { fail: 0, drop: 0 };
  /** Invokes running now (Managed Instances run several at once; standard mode at most one). */
  #inflight = 0;
  /** Invokes past their preparation, in their Invoke phase (what a Shutdown waits for). */
  #running = 0;
  /** The reset of each failed generation, shared by every invoke that saw the failure (Managed Instances). */
  readonly #resets = new WeakMap<Generation, Promise<ShutdownResult>>();
  readonly #extensionsApiHost: ExtensionsApiHost;
  readonly #telemetryApiHost: TelemetryApiHost;
  readonly #runtimeApiHost: RuntimeApiHost;

  constructor(options: SandboxOptions = {}) {
    this.#options = resolveOptions(options);
    this.id = this.#options.sandboxId;
    if (options.tmpDir) {
      this.tmpDir = resolve(options.tmpDir);
      mkdirSync(this.tmpDir, { recursive: true });
      this.#ownsTmpDir = false;
    } else {
      this.tmpDir = mkdtempSync(join(tmpdir(), 'lifeline-sandbox-'));
      this.#ownsTmpDir = true;
    }
    this.#eventLog = new EventLog(this.id, this.#options.logLimit);
    if (options.onLog) this.#eventLog.subscribe(options.onLog);
    const self = this;
    this.#supervisor = new ProcessSupervisor({
      options: this.#options,
      tmpDir: this.tmpDir,
      get address() {
        return self.#address;
      },
      log: (entry) => this.#log(entry),
      changed: () => this.#changed(),
    });
    this.#delivery = new AgentEventDelivery(
      () => this.#generation?.registry,
      (entry) => this.#log(entry),
    );
    this.#context = {
      id: this.id,
      options: this.#options,
      tmpDir: this.tmpDir,
      get runtimeApiAddress() {
        return self.runtimeApiAddress;
      },
      get closed() {
        return self.#closed;
      },
      get generation() {
        return self.#generation;
      },
      get state() {
        return self.#state;
      },
      set state(state: SandboxState) {
        self.#state = state;
      },
      supervisor: this.#supervisor,
      delivery: this.#delivery,
      log: (entry) => this.#log(entry),
      changed: () => this.#changed(),
      waitFor: (predicate, deadlineMs, ignoreClose) =>
        this.#waitFor(predicate, deadlineMs, ignoreClose),
      wireReason: (reason) => this.#wireReason(reason),
    };
    this.#extensionsApiHost = createExtensionsApiHost(this.#context);
    this.#telemetryApiHost = createTelemetryApiHost(this.#context);
    this.#runtimeApiHost = createRuntimeApiHost(this.#context);
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res);
    });
    // /event/next is a long poll that must never time out server-side.
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 0;
    // Like Go's server (no idle timeout): a keep-alive socket must survive a long freeze, or the extension's next
    // request after the thaw would hit a connection the emulator closed meanwhile.
    this.#server.keepAliveTimeout = 0;
    this.#server.timeout = 0;
    this.#listening = new Promise<void>((resolveListen, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        const address = this.#server.address() as AddressInfo;
        this.#address = `127.0.0.1:${address.port}`;
        this.#server.off('error', reject);
        resolveListen();
      });
    });
    this.#listening.catch(() => {});
    this.#log({ kind: 'sandbox.start', message: `tmpDir ${this.tmpDir}` });
  }

  /** Every log entry so far (bounded by `logLimit`). */
  get log(): EmulatorLogEntry[] {
    return this.#eventLog.entries;
  }

  /** `127.0.0.1:PORT`, the AWS_LAMBDA_RUNTIME_API of this sandbox; throws before the server listens (await {@link ready}). */
  get runtimeApiAddress(): string {
    if (!this.#address)
      throw new Error('Sandbox server is not listening yet: await sandbox.ready() first');
    return this.#address;
  }

  /** Lifecycle state. */
  get state(): SandboxState {
    return this.#state;
  }

  /** Init count so far (1 after the first Init, +1 per re-init). */
  get generation(): number {
    return this.#generations;
  }

  /** Extensions of the current generation. */
  get extensions(): ExtensionInfo[] {
    return this.#generation?.registry.all().map((agent) => agent.info()) ?? [];
  }

  /**
   * SnapStart: what every environment restored from this sandbox's snapshot shares (pass it as `snapStart` to another
   * sandbox); undefined before a successful SnapStart Init.
   */
  get snapshot(): SnapshotIdentity | undefined {
    return this.#snapshot;
  }

  /** Resolves once the HTTP server listens. */
  async ready(): Promise<void> {
    await this.#listening;
  }

  /** Adds a log listener; returns a function that removes it. */
  onLog(listener: (entry: EmulatorLogEntry) => void): () => void {
    return this.#eventLog.subscribe(listener);
  }

  /**
   * Captured stdout+stderr of the processes called `name` (an extension file name or `runtime`), across generations
   * (the last 20), each bounded by `outputLimitBytes`.
   */
  output(name: string): string {
    return this.#supervisor.output(name);
  }

  /**
   * Runs the Init phase: launches the extensions, waits for their registration, starts the runtime and waits until
   * the runtime and every registered extension called /next, within `initTimeoutMs`. A failed Init tears the
   * environment down; the next invoke runs a suppressed Init. Resolves with the outcome, never rejects for it.
   */
  init(): Promise<InitResult> {
    return this.#serial(async () => {
      this.#assertUsable();
      if ((this.#state === 'idle' || this.#state === 'snapshotted') && this.#lastInit) {
        return this.#lastInit;
      }
      await this.#listening;
      return this.#initOnRequest();
    });
  }

  /**
   * SnapStart: restores the snapshot (running the publish-time Init first if there is none yet). The extensions get
   * no event; they resume in the `/event/next` of their Init. Resolves with the outcome; a failed restore resets the
   * sandbox (the next invoke runs a new Init and snapshot). Resolves with the last restore when already restored.
   */
  restore(): Promise<RestoreResult> {
    return this.#serial(async () => {
      this.#assertUsable();
      if (!this.#options.snapStart)
        throw new Error(`Sandbox ${this.id} is not a SnapStart sandbox`);
      await this.#listening;
      if (this.#state !== 'snapshotted' && this.#state !== 'idle') {
        const init = await this.#initOnRequest();
        if (init.status !== 'success') {
          return {
            status: 'error',
            durationMs: 0,
            errorType: init.errorType,
            errorMessage: `no snapshot: Init ended ${init.status}`,
          };
        }
      }
      if (this.#isSnapshotted()) return this.#restore();
      return this.#lastRestore!;
    });
  }

  /**
   * Invokes the function once. Initialises first when needed; a timeout or failure resets the sandbox (SHUTDOWN with
   * `timeout`/`failure`) before resolving. With `mode: 'lmi'`, up to `concurrency` invokes run at once (a timeout
   * does not reset there); one more is refused at once with an Error whose message starts with `Runtime.Unavailable`.
   */
  invoke(options: InvokeOptions = {}): Promise<InvokeResult> {
    let body: string;
    try {
      body = validateInvokeOptions(options);
      this.#checkInvokeFits(options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#options.mode === 'lmi') return this.#invokeManaged(options, body);
    return this.#serial(() => this.#invoke(options, body));
  }

  /** Refuses an invoke this environment cannot serve: another tenant's, or a stream from a non-streaming function. */
  #checkInvokeFits(options: InvokeOptions): void {
    const tenant = this.#options.tenantId;
    if (options.tenantId !== undefined && options.tenantId !== tenant) {
      throw new TypeError(
        `InvokeOptions.tenantId ${options.tenantId}: sandbox ${this.id} serves ${tenant === undefined ? 'no tenant' : `tenant ${tenant}`} (an environment serves one tenant)`,
      );
    }
    if (options.streamDurationMs !== undefined && !this.#options.responseStreaming) {
      throw new TypeError('InvokeOptions.streamDurationMs needs SandboxOptions.responseStreaming');
    }
  }

  /** Invokes running in this sandbox now. */
  get inflight(): number {
    return this.#inflight;
  }

  /**
   * Runs the Shutdown phase with `reason` and ends the environment. Further invokes throw.
   */
  shutdown(reason: ShutdownReason = 'spindown'): Promise<ShutdownResult> {
    return this.#serial(async () => {
      this.#assertUsable();
      // Managed Instances: invokes still running end first (each is bounded by its deadline).
      await this.#waitFor(() => this.#running === 0, Date.now() + this.#options.timeoutMs, true);
      const generation = this.#generation;
      let result: ShutdownResult;
      if (generation && !generation.ended) {
        result = await runShutdownPhase(this.#context, generation, this.#shutdownReasonOf(reason));
      } else {
        const now = Date.now();
        result = {
          reason: this.#wireReason(reason),
          deadlineMs: now,
          startedAt: now,
          durationMs: 0,
          extensions: [],
        };
      }
      this.#state = 'shut-down';
      return result;
    });
  }

  /** Kills every process that is left and stops the server; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  // ---- fault injection -----------------------------------------------------------------------------------------

  /** Sends `signal` (default SIGKILL) to the process group of extension `name` in the current generation. */
  killExtension(name: string, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    const agent = this.#generation?.registry.external.get(name);
    const sent = agent?.process?.signalGroup(signal) ?? false;
    this.#log({
      kind: 'fault',
      extension: name,
      pid: agent?.process?.pid,
      signal,
      message: 'kill extension',
      data: { sent },
    });
    return sent;
  }

  /** Sends `signal` (default SIGKILL) to the runtime's process group. */
  killRuntime(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    const runtime = this.#generation?.runtime;
    const sent = runtime?.signalGroup(signal) ?? false;
    this.#log({
      kind: 'fault',
      extension: 'runtime',
      pid: runtime?.pid,
      signal,
      message: 'kill runtime',
      data: { sent },
    });
    return sent;
  }

  /** Delays every event (INVOKE, SHUTDOWN) to extension `name` by `ms` before it is written; 0 clears. */
  delayEvents(name: string, ms: number): void {
    this.#log({ kind: 'fault', extension: name, message: 'delay events', data: { ms } });
    this.#delivery.delay(name, ms);
  }

  /** Withholds every event to extension `name` until {@link releaseEvents}. */
  withholdEvents(name: string): void {
    this.#delivery.delay(name, Number.POSITIVE_INFINITY);
    this.#log({ kind: 'fault', extension: name, message: 'withhold events' });
  }

  /** Ends {@link withholdEvents}/{@link delayEvents} for `name` and delivers what was held. */
  releaseEvents(name: string): void {
    this.delayEvents(name, 0);
  }

  /** The next `count` telemetry delivery attempts fail like a refused connection (they are retried). */
  failTelemetryDeliveries(count: number): void {
    const dispatcher = this.#generation?.dispatcher;
    if (dispatcher && !this.#generation?.ended) dispatcher.failNextDeliveries(count);
    else this.#pendingTelemetryFaults.fail += count;
    this.#log({ kind: 'fault', message: 'fail telemetry deliveries', data: { count } });
  }

  /** The next `count` telemetry batches are lost in transit (not retried). */
  dropTelemetryDeliveries(count: number): void {
    const dispatcher = this.#generation?.dispatcher;
    if (dispatcher && !this.#generation?.ended) dispatcher.dropNextDeliveries(count);
    else this.#pendingTelemetryFaults.drop += count;
    this.#log({ kind: 'fault', message: 'drop telemetry deliveries', data: { count } });
  }

  /** Resolves when all buffered telemetry went out (or after `timeoutMs`); true when drained. */
  async telemetryDrained(timeoutMs = 5000): Promise<boolean> {
    return this.#generation?.dispatcher.drained(timeoutMs) ?? true;
  }

  /** Stays idle (frozen, if freeze is on) for `ms`, like a long gap between invokes. */
  async idle(ms: number): Promise<void> {
    this.#log({ kind: 'fault', message: 'idle', data: { ms } });
    await new Promise((resolveIdle) => setTimeout(resolveIdle, ms));
  }

  // ---- state machine between phases ------------------------------------------------------------------------------

  async #invoke(options: InvokeOptions, body: string): Promise<InvokeResult> {
    this.#assertUsable();
    await this.#listening;
    const requestedAt = Date.now();
    const prepared = await this.#prepare(requestedAt);
    if ('refused' in prepared) return prepared.refused;
    const generation = this.#generation!;
    this.#inflight += 1;
    let result: InvokeResult;
    try {
      result = await runInvokePhase(this.#context, generation, options, body, prepared);
    } finally {
      this.#inflight -= 1;
    }
    if (result.status === 'timeout' || result.status === 'failure') {
      result.reset = true;
      result.shutdown = await this.#reset(
        generation,
        result.status === 'timeout' ? 'timeout' : 'failure',
      );
    } else {
      this.#state = 'idle';
      this.#supervisor.freeze(generation);
    }
    return result;
  }

  /** One invoke of a Managed Instances environment, beside up to `concurrency - 1` others. */
  async #invokeManaged(options: InvokeOptions, body: string): Promise<InvokeResult> {
    this.#assertUsable();
    if (this.#inflight >= this.#options.concurrency) {
      throw new Error(
        `Runtime.Unavailable: sandbox ${this.id} already runs ${this.#inflight} invokes, its concurrency`,
      );
    }
    this.#inflight += 1;
    try {
      await this.#listening;
      const requestedAt = Date.now();
      // Init (or a reset's aftermath) once, whoever comes first; the others find the environment ready.
      const prepared = await this.#serial(async () => {
        this.#assertUsable();
        return this.#prepare(requestedAt);
      });
      if ('refused' in prepared) return prepared.refused;
      const generation = this.#generation!;
      this.#running += 1;
      let result: InvokeResult;
      try {
        result = await runManagedInvokePhase(this.#context, generation, options, body, prepared);
      } finally {
        this.#running -= 1;
      }
      if (result.status === 'failure') {
        result.reset = true;
        result.shutdown = await this.#resetOnce(generation, false);
      }
      return result;
    } finally {
      this.#inflight -= 1;
      this.#changed();
    }
  }

  /**
   * Gets the environment ready for an invoke: Init when it has none (or after a reset), or the reset of a process
   * that died while idle. Resolves with the invoke's deadline and Init, or with the invoke's refusal.
   */
  async #prepare(requestedAt: number): Promise<InvokeContext | { refused: InvokeResult }> {
    let init: InitResult | undefined;
    let coldStart = false;
    const failed = this.#generation?.failure;
    if (this.#state === 'idle' && failed && this.#generation) {
      // A process died while idle. Production notices at the next thaw: that invoke fails with the crash and the
      // environment is reset (the invoke after it re-inits), so the crash is not hidden behind a silent re-init.
      const shutdown = await this.#resetOnce(this.#generation, true);
      const now = Date.now();
      return {
        refused: {
          requestId: randomUUID(),
          sandboxId: this.id,
          status: 'failure',
          durationMs: now - requestedAt,
          deadlineMs: requestedAt + this.#options.timeoutMs,
          errorType: failed.errorType,
          errorMessage: failed.errorMessage,
          coldStart: false,
          reset: true,
          shutdown,
        },
      };
    }
    let restore: RestoreResult | undefined;
    if (this.#state !== 'idle') {
      coldStart = true;
      if (this.#state !== 'snapshotted') {
        if (!this.#needsSuppressedInit) {
          init = await this.#runInit('init', Date.now() + this.#options.initTimeoutMs);
        }
        if (!this.#isIdle() && !this.#isSnapshotted()) {
          init = await this.#runInit('invoke', requestedAt + this.#options.timeoutMs);
        }
      }
      // SnapStart: the Init (now or at publish) ended in a snapshot; this invoke runs in the restored environment.
      if (this.#isSnapshotted()) restore = await this.#restore();
      const failed =
        (init !== undefined && init.status !== 'success') ||
        (restore !== undefined && restore.status !== 'success');
      if (!this.#isIdle() || failed || (!init && !restore)) {
        const now = Date.now();
        return {
          refused: {
            requestId: randomUUID(),
            sandboxId: this.id,
            status: 'failure',
            durationMs: now - requestedAt,
            deadlineMs: requestedAt + this.#options.timeoutMs,
            errorType: restore?.errorType ?? init?.errorType ?? 'Sandbox.Failure',
            errorMessage: restore?.errorMessage ?? init?.errorMessage,
            coldStart,
            init,
            restore,
            reset: true,
          },
        };
      }
    }
    const suppressed = init?.phase === 'invoke';
    return {
      deadlineMs: (suppressed ? requestedAt : Date.now()) + this.#options.timeoutMs,
      coldStart,
      init,
      restore,
    };
  }

  /** An Init asked for outside an invoke: a suppressed one (bounded by the function timeout) after a reset. */
  #initOnRequest(): Promise<InitResult> {
    const suppressed = this.#needsSuppressedInit;
    const timeout = suppressed ? this.#options.timeoutMs : this.#options.initTimeoutMs;
    return this.#runInit(suppressed ? 'invoke' : 'init', Date.now() + timeout);
  }

  async #runInit(phase: 'init' | 'invoke', deadlineMs: number): Promise<InitResult> {
    this.#generations += 1;
    this.#eventLog.generation = this.#generations;
    const dispatcher = new TelemetryDispatcher({
      queueLimit: this.#options.telemetryQueueLimit,
      maxAttempts: this.#options.telemetryMaxAttempts,
      retryBaseMs: this.#options.telemetryRetryBaseMs,
      log: (entry) => this.#log(entry),
    });
    dispatcher.failNextDeliveries(this.#pendingTelemetryFaults.fail);
    dispatcher.dropNextDeliveries(this.#pendingTelemetryFaults.drop);
    this.#pendingTelemetryFaults = { fail: 0, drop: 0 };
    const generation = newGeneration(
      this.#generations,
      phase,
      new ExtensionRegistry(this.#options.snapStart?.extensionIdentifiers),
      dispatcher,
    );
    this.#generation = generation;
    this.#state = 'initializing';
    const result = await runInitPhase(this.#context, generation, deadlineMs);
    this.#lastInit = result;
    if (result.status === 'success' && this.#options.snapStart) {
      generation.initDone = true;
      this.#needsSuppressedInit = false;
      // The Init records reach the subscribers before the snapshot, as they would at publish.
      await generation.dispatcher.drained(1000);
      this.#supervisor.snapshot(generation);
      this.#snapshot = { extensionIdentifiers: generation.registry.identifiers() };
      this.#state = 'snapshotted';
    } else if (result.status === 'success') {
      generation.initDone = true;
      generation.pendingInitDurationMs = result.durationMs;
      this.#state = 'idle';
      this.#needsSuppressedInit = false;
      this.#supervisor.freeze(generation);
    } else {
      await this.#reset(generation, result.status === 'timeout' ? 'timeout' : 'failure');
    }
    return result;
  }

  /**
   * {@link #reset} with `failure` once per generation, however many invokes saw the failure; `queued` when the caller
   * already runs in the operation queue (else the reset is queued behind the running operations).
   */
  #resetOnce(generation: Generation, queued: boolean): Promise<ShutdownResult> {
    let reset = this.#resets.get(generation);
    if (!reset) {
      reset = queued
        ? this.#reset(generation, 'failure')
        : this.#serial(() => this.#reset(generation, 'failure'));
      this.#resets.set(generation, reset);
    }
    return reset;
  }

  /** SnapStart: restores the snapshotted generation; idle afterwards, or reset when the restore failed. */
  async #restore(): Promise<RestoreResult> {
    const generation = this.#generation!;
    const result = await runRestorePhase(
      this.#context,
      generation,
      Date.now() + this.#options.initTimeoutMs,
    );
    this.#lastRestore = result;
    if (result.status === 'success') {
      // The first report of a restored environment carries restoreDurationMs (its Init was at publish).
      generation.pendingRestoreDurationMs = result.durationMs;
      this.#state = 'idle';
      this.#supervisor.freeze(generation);
    } else {
      await this.#reset(generation, result.status === 'timeout' ? 'timeout' : 'failure');
    }
    return result;
  }

  /** Timeout or failure: Shutdown phase with that reason, then the next invoke runs a suppressed Init. */
  async #reset(generation: Generation, requested: ShutdownReason): Promise<ShutdownResult> {
    const reason = this.#shutdownReasonOf(requested);
    this.#state = 'resetting';
    this.#log({
      kind: 'reset',
      shutdownReason: this.#wireReason(reason),
      errorType: generation.failure?.errorType,
    });
    const result = await runShutdownPhase(this.#context, generation, reason);
    this.#needsSuppressedInit = true;
    if (!this.#closed) this.#state = 'needs-init';
    return result;
  }

  /** Managed Instances end environments with `spindown` or `failure` only: a timeout there is a failure. */
  #shutdownReasonOf(reason: ShutdownReason): ShutdownReason {
    return this.#options.mode === 'lmi' && reason === 'timeout' ? 'failure' : reason;
  }

  #wireReason(reason: ShutdownReason): string {
    return this.#options.profile === 'rie' ? RIE_REASONS[reason] : reason;
  }

  // ---- plumbing --------------------------------------------------------------------------------------------------

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    const run = async () => {
      if (await handleExtensionsApi(req, res, pathname, this.#extensionsApiHost)) return;
      if (await handleTelemetryApi(req, res, pathname, this.#telemetryApiHost)) return;
      if (await handleRuntimeApi(req, res, pathname, this.#runtimeApiHost)) return;
      sendRaw(res, 404, '404 page not found\n', { 'Content-Type': 'text/plain; charset=utf-8' });
      this.#log({ kind: 'http.request', statusCode: 404, message: `${req.method} ${pathname}` });
    };
    run().catch((error: unknown) => {
      this.#log({
        kind: 'error',
        message: `${req.method} ${pathname}: ${(error as Error).message}`,
      });
      sendError(res, 500, 'InternalServerError', 'Internal Server Error');
    });
  }

  #log(input: LogInput): void {
    this.#eventLog.add(input);
  }

  #changed(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #waitFor(predicate: () => boolean, deadlineMs: number, ignoreClose = false): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise<boolean>((resolveWait) => {
      const finish = (value: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolveWait(value);
      };
      const check = () => {
        if (predicate()) finish(true);
        else if (this.#closed && !ignoreClose) finish(false);
      };
      const timer = setTimeout(() => finish(predicate()), clampDelay(deadlineMs - Date.now()));
      this.#waiters.add(check);
    });
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation);
    this.#queue = run.catch(() => {});
    return run;
  }

  #isIdle(): boolean {
    return this.#state === 'idle';
  }

  /** A method, not a comparison, because the phases awaited in between change the state. */
  #isSnapshotted(): boolean {
    return this.#state === 'snapshotted';
  }

  #assertUsable(): void {
    if (this.#closed) throw new Error(`Sandbox ${this.id} is closed`);
    if (this.#state === 'shut-down') throw new Error(`Sandbox ${this.id} has been shut down`);
  }

  async #close(): Promise<void> {
    this.#closed = true;
    const generation = this.#generation;
    if (generation) {
      // An ended generation was cleaned up by its Shutdown phase; its pids may belong to others by now.
      const descendants = generation.ended ? [] : this.#supervisor.descendants(generation);
      for (const proc of this.#supervisor.alive(generation))
        this.#supervisor.signal(proc, 'SIGKILL', proc.name, 'sandbox closed');
      if (!generation.ended) this.#supervisor.killDescendants(generation, descendants);
    }
    this.#changed();
    await Promise.race([
      this.#queue,
      new Promise((resolveWait) => setTimeout(resolveWait, 5000).unref()),
    ]);
    if (generation) {
      await Promise.all(this.#supervisor.alive(generation).map((proc) => proc.waitExit(2000)));
      generation.dispatcher.close();
      generation.ended = true;
    }
    await this.#listening.catch(() => {});
    this.#server.closeAllConnections();
    await new Promise<void>((resolveClose) => this.#server.close(() => resolveClose()));
    this.#state = 'closed';
    this.#log({ kind: 'sandbox.close' });
    if (this.#ownsTmpDir) rmSync(this.tmpDir, { recursive: true, force: true });
  }
}
