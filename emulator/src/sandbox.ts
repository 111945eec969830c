import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { monoNow } from './clock.ts';
import { buildEnvironments } from './environment.ts';
import { EventLog, type LogInput } from './event-log.ts';
import {
  type Agent,
  type AgentEvent,
  ExtensionRegistry,
  MAX_EXTENSIONS,
} from './extension-registry.ts';
import { type ExtensionsApiHost, handleExtensionsApi } from './extensions-api.ts';
import { sendError, sendRaw } from './http-json.ts';
import { peakMemoryMb } from './memory.ts';
import { findSandboxProcesses, killProcesses, type ProcessInfo } from './process-tree.ts';
import { ManagedProcess, type ProcessExit } from './processes.ts';
import { handleRuntimeApi, type RuntimeApiHost } from './runtime-api.ts';
import {
  BEHAVIOUR_HEADER,
  INIT_DELAY_VARIABLE,
  SIMULATED_RUNTIME_SOURCE,
} from './simulated-runtime.ts';
import { handleTelemetryApi, type TelemetryApiHost } from './telemetry-api.ts';
import { TelemetryDispatcher } from './telemetry-dispatcher.ts';
import { newTraceHeader, spanIdOf } from './trace.ts';
import type {
  EmulatorLogEntry,
  ExtensionExit,
  ExtensionInfo,
  InitResult,
  InvokeOptions,
  InvokeResult,
  SandboxOptions,
  SandboxState,
  ShutdownReason,
  ShutdownResult,
} from './types.ts';

/** SandboxOptions with defaults applied. */
type Resolved = Required<
  Omit<SandboxOptions, 'extensionsDir' | 'onLog' | 'bootstrap' | 'tmpDir' | 'functionInitMs'>
> & {
  extensionsDir: string | undefined;
  bootstrap: readonly string[] | undefined;
  functionInitMs: number;
};

/** Processes per name whose output {@link Sandbox.output} keeps. */
const MAX_TRACKED_GENERATIONS = 20;

const RIE_REASONS: Record<ShutdownReason, string> = {
  spindown: 'SandboxTerminated',
  timeout: 'Timeout',
  failure: 'ReleaseFail',
};

interface Failure {
  errorType: string;
  errorMessage: string;
}

interface Invocation {
  requestId: string;
  deadlineMs: number;
  trace: string | undefined;
  startedAt: number;
  startedMono: number;
  pending: Set<Agent>;
  responded: boolean;
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
interface Generation {
  number: number;
  phase: 'init' | 'invoke';
  registry: ExtensionRegistry;
  dispatcher: TelemetryDispatcher;
  subscribedApi: Map<string, 'telemetry' | 'logs'>;
  subscriptionsOpen: boolean;
  runtime: ManagedProcess | undefined;
  runtimeParked: ServerResponse | undefined;
  runtimeReadyAt: number | undefined;
  initStartedAt: number;
  initStartedMono: number;
  initDone: boolean;
  /** Init duration to attach to the first report (initDurationMs). */
  pendingInitDurationMs: number | undefined;
  invocation: Invocation | undefined;
  failure: Failure | undefined;
  frozen: boolean;
  shuttingDown: boolean;
  ended: boolean;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * One Lambda execution environment: an HTTP server with the Extensions, Telemetry and Runtime APIs, the external
 * extension processes of `extensionsDir`, a runtime process, and the Init → Invoke → Shutdown lifecycle of production
 * Lambda, including freeze, reset and suppressed init. Operations are serialised: one invoke at a time.
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
  readonly #options: Resolved;
  readonly #eventLog: EventLog;
  readonly #server: http.Server;
  readonly #listening: Promise<void>;
  readonly #ownsTmpDir: boolean;
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
  readonly #processes = new Map<string, ManagedProcess[]>();
  readonly #eventDelays = new Map<string, number>();
  #pendingTelemetryFaults = { fail: 0, drop: 0 };
  readonly #extensionsApiHost: ExtensionsApiHost;
  readonly #telemetryApiHost: TelemetryApiHost;
  readonly #runtimeApiHost: RuntimeApiHost;

  constructor(options: SandboxOptions = {}) {
    const profile = options.profile ?? 'production';
    this.#options = {
      extensionsDir: options.extensionsDir ? resolve(options.extensionsDir) : undefined,
      functionName: options.functionName ?? 'fn',
      functionVersion: options.functionVersion ?? '$LATEST',
      memoryMb: options.memoryMb ?? 128,
      timeoutMs: options.timeoutMs ?? 3000,
      region: options.region ?? 'eu-west-1',
      accountId: options.accountId ?? '123456789012',
      handler: options.handler ?? 'index.handler',
      runtime: options.runtime ?? 'nodejs22.x',
      env: { ...(options.env ?? {}) },
      freeze: options.freeze ?? false,
      initializationType: options.initializationType ?? 'on-demand',
      initTimeoutMs:
        options.initTimeoutMs ??
        (options.initializationType === 'provisioned-concurrency'
          ? Math.max(130_000, options.timeoutMs ?? 3000)
          : 10_000),
      shutdownBudgetMs: options.shutdownBudgetMs ?? 2000,
      runtimeShutdownMs: options.runtimeShutdownMs ?? 300,
      telemetry: (options.telemetry ?? true) && profile !== 'rie',
      profile,
      tracing: options.tracing ?? profile !== 'rie',
      sandboxId: options.sandboxId ?? `sbx-${randomBytes(4).toString('hex')}`,
      logLimit: options.logLimit ?? 100_000,
      outputLimitBytes: options.outputLimitBytes ?? 1024 * 1024,
      telemetryQueueLimit: options.telemetryQueueLimit ?? 20_000,
      telemetryMaxAttempts: options.telemetryMaxAttempts ?? 5,
      telemetryRetryBaseMs: options.telemetryRetryBaseMs ?? 100,
      logOutput: options.logOutput ?? true,
      bootstrap: options.bootstrap,
      functionInitMs: options.functionInitMs ?? 0,
    };
    validateOptions(this.#options);
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
    this.#extensionsApiHost = this.#makeExtensionsHost();
    this.#telemetryApiHost = this.#makeTelemetryHost();
    this.#runtimeApiHost = this.#makeRuntimeHost();
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
    return (this.#processes.get(name) ?? []).map((proc) => proc.output).join('');
  }

  /**
   * Runs the Init phase (spec §4.3): launches the extensions, waits for their registration, starts the runtime and
   * waits until the runtime and every registered extension called /next, within `initTimeoutMs`. A failed Init tears
   * the environment down; the next invoke runs a suppressed Init. Resolves with the outcome, never rejects for it.
   */
  init(): Promise<InitResult> {
    return this.#serial(async () => {
      this.#assertUsable();
      if (this.#state === 'idle' && this.#lastInit) return this.#lastInit;
      await this.#listening;
      const suppressed = this.#needsSuppressedInit;
      const timeout = suppressed ? this.#options.timeoutMs : this.#options.initTimeoutMs;
      return this.#runInit(suppressed ? 'invoke' : 'init', Date.now() + timeout);
    });
  }

  /**
   * Invokes the function once (spec §4.4). Initialises first when needed; a timeout or failure resets the sandbox
   * (SHUTDOWN with `timeout`/`failure`) before resolving.
   */
  invoke(options: InvokeOptions = {}): Promise<InvokeResult> {
    let body: string;
    try {
      body = validateInvokeOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#serial(() => this.#invoke(options, body));
  }

  /**
   * Runs the Shutdown phase (spec §4.6) with `reason` and ends the environment. Further invokes throw.
   */
  shutdown(reason: ShutdownReason = 'spindown'): Promise<ShutdownResult> {
    return this.#serial(async () => {
      this.#assertUsable();
      const generation = this.#generation;
      let result: ShutdownResult;
      if (generation && !generation.ended) {
        result = await this.#shutdownPhase(generation, reason);
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

  // ---- fault injection (E16) -------------------------------------------------------------------------------------

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
    if (ms <= 0) this.#eventDelays.delete(name);
    else this.#eventDelays.set(name, ms);
    this.#log({ kind: 'fault', extension: name, message: 'delay events', data: { ms } });
    if (ms <= 0) this.#retryDeliveries(name);
  }

  /** Withholds every event to extension `name` until {@link releaseEvents}. */
  withholdEvents(name: string): void {
    this.#eventDelays.set(name, Number.POSITIVE_INFINITY);
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

  // ---- lifecycle -------------------------------------------------------------------------------------------------

  async #invoke(options: InvokeOptions, body: string): Promise<InvokeResult> {
    this.#assertUsable();
    await this.#listening;
    const requestedAt = Date.now();
    let init: InitResult | undefined;
    let coldStart = false;
    const failed = this.#generation?.failure;
    if (this.#state === 'idle' && failed && this.#generation) {
      // A process died while idle. Production notices at the next thaw: that invoke fails with the crash and the
      // environment is reset (the invoke after it re-inits), so the crash is not hidden behind a silent re-init.
      const shutdown = await this.#reset(this.#generation, 'failure');
      const now = Date.now();
      return {
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
      };
    }
    if (this.#state !== 'idle') {
      coldStart = true;
      if (!this.#needsSuppressedInit) {
        init = await this.#runInit('init', Date.now() + this.#options.initTimeoutMs);
      }
      if (!this.#isIdle()) {
        init = await this.#runInit('invoke', requestedAt + this.#options.timeoutMs);
      }
      if (!this.#isIdle() || !init || init.status !== 'success') {
        const now = Date.now();
        return {
          requestId: randomUUID(),
          sandboxId: this.id,
          status: 'failure',
          durationMs: now - requestedAt,
          deadlineMs: requestedAt + this.#options.timeoutMs,
          errorType: init?.errorType ?? 'Sandbox.Failure',
          errorMessage: init?.errorMessage,
          coldStart,
          init,
          reset: true,
        };
      }
    }
    const generation = this.#generation!;
    const suppressed = init?.phase === 'invoke';
    return this.#runInvoke(generation, options, body, {
      deadlineMs: (suppressed ? requestedAt : Date.now()) + this.#options.timeoutMs,
      coldStart,
      init,
    });
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
    const generation: Generation = {
      number: this.#generations,
      phase,
      registry: new ExtensionRegistry(),
      dispatcher,
      subscribedApi: new Map(),
      subscriptionsOpen: true,
      runtime: undefined,
      runtimeParked: undefined,
      runtimeReadyAt: undefined,
      initStartedAt: Date.now(),
      initStartedMono: monoNow(),
      initDone: false,
      pendingInitDurationMs: undefined,
      invocation: undefined,
      failure: undefined,
      frozen: false,
      shuttingDown: false,
      ended: false,
    };
    this.#generation = generation;
    this.#state = 'initializing';
    this.#log({ kind: 'init.start', phase, deadlineMs });
    const initType = this.#options.initializationType;
    const runtimeVersion = runtimeVersionOf(this.#options.runtime);
    dispatcher.publish('platform.initStart', {
      initializationType: initType,
      phase,
      runtimeVersion,
      runtimeVersionArn: `arn:aws:lambda:${this.#options.region}::runtime:${createHash('sha256').update(runtimeVersion).digest('hex')}`,
      functionName: this.#options.functionName,
      functionVersion: this.#options.functionVersion,
      instanceMaxMemory: this.#options.memoryMb,
    });
    const envs = buildEnvironments({
      runtimeApi: this.runtimeApiAddress,
      functionName: this.#options.functionName,
      functionVersion: this.#options.functionVersion,
      memoryMb: this.#options.memoryMb,
      region: this.#options.region,
      handler: this.#options.handler,
      runtime: this.#options.runtime,
      tmpDir: this.tmpDir,
      env: this.#options.env,
      initializationType: initType,
    });

    // Extension init: launch every file of the extensions directory, in lexical order, without waiting.
    const files = this.#listExtensions();
    if (typeof files === 'string') {
      generation.failure = { errorType: 'Extension.LaunchError', errorMessage: files };
    } else {
      for (const file of files) this.#launchExtension(generation, file, envs.extension);
    }
    const allRegistered = () =>
      [...generation.registry.external.values()].every((agent) => agent.state !== 'Started');
    let inTime = await this.#waitFor(
      () => generation.failure !== undefined || allRegistered(),
      deadlineMs,
    );

    // Runtime init: only after every launched external extension registered.
    if (inTime && !generation.failure && !this.#closed) {
      const runtimeEnv: Record<string, string> = { ...envs.runtime };
      if (this.#options.functionInitMs > 0)
        runtimeEnv[INIT_DELAY_VARIABLE] = String(this.#options.functionInitMs);
      this.#startRuntime(generation, runtimeEnv);
      const allReady = () =>
        generation.runtimeReadyAt !== undefined &&
        generation.registry.registered().every((agent) => agent.state === 'Ready');
      inTime = await this.#waitFor(
        () => generation.failure !== undefined || allReady(),
        deadlineMs,
      );
    }
    const endedAt = Date.now();
    const durationMs = round(monoNow() - generation.initStartedMono);
    generation.registry.registrationOpen = false;
    generation.subscriptionsOpen = false;
    const status: InitResult['status'] = generation.failure
      ? 'error'
      : inTime && !this.#closed
        ? 'success'
        : 'timeout';
    const errorType =
      status === 'timeout'
        ? 'Sandbox.Timeout'
        : status === 'error'
          ? generation.failure?.errorType
          : undefined;
    const errorMessage =
      status === 'timeout'
        ? `Init did not finish within its limit`
        : generation.failure?.errorMessage;
    const telemetryStatus =
      status === 'error' && errorType?.startsWith('Sandbox.') ? 'failure' : status;
    dispatcher.publish(
      'platform.initRuntimeDone',
      {
        initializationType: initType,
        phase,
        status: telemetryStatus,
        ...(errorType ? { errorType } : {}),
      },
      generation.runtimeReadyAt ?? endedAt,
    );
    for (const agent of generation.registry.all()) {
      dispatcher.publish(
        'platform.extension',
        {
          name: agent.name,
          state: agent.state,
          events: [...agent.events],
          ...(agent.errorType ? { errorType: agent.errorType } : {}),
        },
        endedAt,
      );
    }
    dispatcher.publish(
      'platform.initReport',
      {
        initializationType: initType,
        phase,
        status: telemetryStatus,
        ...(errorType ? { errorType } : {}),
        metrics: { durationMs },
      },
      endedAt,
    );
    dispatcher.endInit();
    const result: InitResult = {
      status,
      phase,
      durationMs,
      errorType,
      errorMessage,
      extensions: generation.registry.all().map((agent) => agent.info()),
    };
    this.#log({ kind: 'init.end', phase, status, errorType, errorMessage, durationMs });
    this.#lastInit = result;
    if (status === 'success') {
      generation.initDone = true;
      generation.pendingInitDurationMs = durationMs;
      this.#state = 'idle';
      this.#needsSuppressedInit = false;
      this.#freeze(generation);
    } else {
      await this.#reset(generation, status === 'timeout' ? 'timeout' : 'failure');
    }
    return result;
  }

  async #runInvoke(
    generation: Generation,
    options: InvokeOptions,
    payload: string,
    context: { deadlineMs: number; coldStart: boolean; init: InitResult | undefined },
  ): Promise<InvokeResult> {
    // Processes thaw first; buffered telemetry (the previous report) follows once INVOKE went out, below.
    this.#thaw(generation, false);
    this.#state = 'invoking';
    const requestId = randomUUID();
    const { deadlineMs } = context;
    const trace = options.traceId ?? (this.#options.tracing ? newTraceHeader() : undefined);
    const invocation: Invocation = {
      requestId,
      deadlineMs,
      trace,
      startedAt: Date.now(),
      startedMono: monoNow(),
      pending: new Set(),
      responded: false,
      responseBytes: 0,
      runtimeDone: false,
    };
    generation.invocation = invocation;
    const tracing = trace
      ? { spanId: spanIdOf(trace), type: 'X-Amzn-Trace-Id', value: trace }
      : undefined;
    this.#log({
      kind: 'invoke.start',
      requestId,
      deadlineMs,
      data: { outcome: options.outcome ?? 'success', durationMs: options.durationMs ?? 0 },
    });
    generation.dispatcher.publish('platform.start', {
      requestId,
      version: this.#options.functionVersion,
      ...(tracing ? { tracing } : {}),
    });
    // A published version is invoked through its qualified ARN; $LATEST through the unqualified one.
    const qualifier =
      this.#options.functionVersion === '$LATEST' ? '' : `:${this.#options.functionVersion}`;
    const arn = `arn:aws:lambda:${this.#options.region}:${this.#options.accountId}:function:${this.#options.functionName}${qualifier}`;
    const eventBody = JSON.stringify({
      eventType: 'INVOKE',
      deadlineMs,
      requestId,
      invokedFunctionArn: arn,
      ...(trace ? { tracing: { type: 'X-Amzn-Trace-Id', value: trace } } : {}),
    });
    // Agents first, then the runtime, like RAPID.
    for (const agent of generation.registry.registered()) {
      if (!agent.subscribes('INVOKE')) continue;
      invocation.pending.add(agent);
      this.#release(agent, {
        eventType: 'INVOKE',
        body: eventBody,
        eventId: randomUUID(),
        requestId,
        deadlineMs,
      });
    }
    const runtimeRes = generation.runtimeParked;
    generation.runtimeParked = undefined;
    const behaviour = JSON.stringify({
      durationMs: options.durationMs ?? 0,
      outcome: options.outcome ?? 'success',
    });
    const written =
      runtimeRes !== undefined &&
      sendRaw(runtimeRes, 200, payload, {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Aws-Request-Id': requestId,
        'Lambda-Runtime-Deadline-Ms': String(deadlineMs),
        'Lambda-Runtime-Invoked-Function-Arn': arn,
        'Lambda-Runtime-Trace-Id': trace,
        [BEHAVIOUR_HEADER]: behaviour,
      });
    if (!written) {
      generation.failure ??= {
        errorType: 'Runtime.ExitError',
        errorMessage: 'runtime is not waiting for an invocation',
      };
    }
    generation.dispatcher.thaw();
    const done = () =>
      generation.failure !== undefined || (invocation.runtimeDone && invocation.pending.size === 0);
    const inTime = await this.#waitFor(done, deadlineMs);
    generation.invocation = undefined;
    const endMono = monoNow();
    const durationMs = round(endMono - invocation.startedMono);
    let status: InvokeResult['status'];
    let errorType = invocation.errorType;
    let errorMessage = invocation.errorMessage;
    if (generation.failure) {
      status = 'failure';
      errorType = generation.failure.errorType;
      errorMessage = generation.failure.errorMessage;
    } else if (!inTime) {
      status = 'timeout';
      errorType = 'Sandbox.Timeout';
      errorMessage = `Task timed out after ${(this.#options.timeoutMs / 1000).toFixed(2)} seconds`;
    } else {
      status = invocation.errorType ? 'error' : 'success';
    }
    const telemetryStatus =
      status === 'success'
        ? 'success'
        : status === 'timeout'
          ? 'timeout'
          : errorType?.startsWith('Sandbox.')
            ? 'failure'
            : 'error';
    if (!invocation.runtimeDone) {
      this.#publishRuntimeDone(generation, invocation, telemetryStatus, errorType, tracing);
    }
    const extensionOverheadMs =
      invocation.runtimeDoneMono !== undefined && status !== 'timeout' && status !== 'failure'
        ? round(
            Math.max(
              0,
              (invocation.lastExtensionMono ?? invocation.runtimeDoneMono) -
                invocation.runtimeDoneMono,
            ),
          )
        : undefined;
    const pids = [
      generation.runtime?.pid,
      ...generation.registry.all().map((agent) => agent.process?.pid),
    ].filter((pid): pid is number => pid !== undefined);
    const initDurationMs = generation.pendingInitDurationMs;
    generation.pendingInitDurationMs = undefined;
    // The report exists only now that every extension is done. Delivery pauses first (the environment freezes or
    // resets next), so the report reaches subscribers during the next invoke or once SHUTDOWN went out.
    generation.dispatcher.freeze();
    generation.dispatcher.publish('platform.report', {
      requestId,
      status: telemetryStatus,
      ...(errorType && telemetryStatus !== 'success' ? { errorType } : {}),
      metrics: {
        durationMs,
        billedDurationMs: Math.max(1, Math.ceil(durationMs)),
        memorySizeMB: this.#options.memoryMb,
        maxMemoryUsedMB: Math.min(this.#options.memoryMb, peakMemoryMb(pids) ?? 0),
        ...(initDurationMs !== undefined ? { initDurationMs } : {}),
      },
      ...(invocation.runtimeDoneAt !== undefined && extensionOverheadMs !== undefined
        ? {
            spans: [
              {
                name: 'extensionOverhead',
                start: new Date(invocation.runtimeDoneAt).toISOString(),
                durationMs: extensionOverheadMs,
              },
            ],
          }
        : {}),
      ...(tracing ? { tracing } : {}),
    });
    this.#log({
      kind: 'invoke.end',
      requestId,
      deadlineMs,
      status,
      errorType,
      errorMessage,
      durationMs,
      data: { extensionOverheadMs },
    });
    const result: InvokeResult = {
      requestId,
      sandboxId: this.id,
      status,
      durationMs,
      responseLatencyMs:
        invocation.respondedMono !== undefined
          ? round(invocation.respondedMono - invocation.startedMono)
          : undefined,
      extensionOverheadMs,
      deadlineMs,
      response: invocation.response,
      errorType: status === 'success' ? undefined : errorType,
      errorMessage: status === 'success' ? undefined : errorMessage,
      coldStart: context.coldStart,
      init: context.init,
      reset: false,
    };
    if (status === 'timeout' || status === 'failure') {
      result.reset = true;
      result.shutdown = await this.#reset(generation, status === 'timeout' ? 'timeout' : 'failure');
    } else {
      this.#state = 'idle';
      this.#freeze(generation);
    }
    return result;
  }

  #publishRuntimeDone(
    generation: Generation,
    invocation: Invocation,
    status: string,
    errorType: string | undefined,
    tracing: Record<string, unknown> | undefined,
  ): void {
    const now = Date.now();
    const nowMono = monoNow();
    const latency = round((invocation.respondedMono ?? nowMono) - invocation.startedMono);
    generation.dispatcher.publish(
      'platform.runtimeDone',
      {
        requestId: invocation.requestId,
        status,
        ...(errorType && status !== 'success' ? { errorType } : {}),
        metrics: {
          durationMs: round(nowMono - invocation.startedMono),
          producedBytes: invocation.responseBytes,
        },
        spans: [
          {
            name: 'responseLatency',
            start: new Date(invocation.startedAt).toISOString(),
            durationMs: latency,
          },
          {
            name: 'responseDuration',
            start: new Date(invocation.startedAt + latency).toISOString(),
            durationMs: 0,
          },
        ],
        ...(tracing ? { tracing } : {}),
      },
      now,
    );
  }

  /** Timeout or failure: Shutdown phase with that reason, then the next invoke runs a suppressed Init. */
  async #reset(generation: Generation, reason: ShutdownReason): Promise<ShutdownResult> {
    this.#state = 'resetting';
    this.#log({
      kind: 'reset',
      shutdownReason: this.#wireReason(reason),
      errorType: generation.failure?.errorType,
    });
    const result = await this.#shutdownPhase(generation, reason);
    this.#needsSuppressedInit = true;
    if (!this.#closed) this.#state = 'needs-init';
    return result;
  }

  async #shutdownPhase(generation: Generation, reason: ShutdownReason): Promise<ShutdownResult> {
    const previousState = this.#state;
    this.#state = previousState === 'resetting' ? 'resetting' : 'shutting-down';
    generation.shuttingDown = true;
    const startedAt = Date.now();
    const startedMono = monoNow();
    const registered = generation.registry.registered();
    const launched = [...generation.registry.external.values()].filter((agent) => agent.process);
    const budget =
      registered.length > 0 || launched.length > 0 ? this.#options.shutdownBudgetMs : 0;
    const deadlineMs = startedAt + budget;
    const wireReason = this.#wireReason(reason);
    // Taken while the processes still live: a detached grandchild is only findable through its living parent.
    const descendants = this.#descendants(generation);
    this.#log({ kind: 'shutdown.start', shutdownReason: wireReason, deadlineMs });
    // Processes run again; buffered telemetry goes out once SHUTDOWN was released (below), as in production where
    // the last report typically reaches an extension while it handles SHUTDOWN.
    this.#thaw(generation, false);

    // Runtime first: SIGTERM, a short grace period, SIGKILL (SIGKILL at once when no extension registered).
    const runtime = generation.runtime;
    if (runtime?.alive) {
      if (registered.length === 0 && launched.length === 0) {
        this.#signal(runtime, 'SIGKILL', 'runtime', 'no extensions: immediate kill');
      } else {
        this.#signal(runtime, 'SIGTERM', 'runtime', 'shutdown');
        const exited = await runtime.waitExit(this.#options.runtimeShutdownMs);
        if (!exited)
          this.#signal(runtime, 'SIGKILL', 'runtime', 'runtime shutdown grace period over');
      }
      await runtime.waitExit(2000);
    }
    if (generation.runtimeParked) generation.runtimeParked = undefined;

    // Then SHUTDOWN to subscribed external extensions; everything else is killed.
    const shutdownBody = JSON.stringify({
      eventType: 'SHUTDOWN',
      deadlineMs,
      shutdownReason: wireReason,
    });
    const killedByUs = new Set<Agent>();
    for (const agent of launched) {
      if (!agent.process?.alive) continue;
      const canReceive =
        agent.id !== undefined &&
        agent.subscribes('SHUTDOWN') &&
        agent.state !== 'InitError' &&
        agent.state !== 'ExitError';
      if (canReceive) {
        this.#release(agent, {
          eventType: 'SHUTDOWN',
          body: shutdownBody,
          eventId: randomUUID(),
          deadlineMs,
          shutdownReason: wireReason,
          bareHeaders: this.#options.profile === 'rie',
        });
      } else {
        killedByUs.add(agent);
        this.#signal(agent.process, 'SIGKILL', agent.name, 'not subscribed to SHUTDOWN');
      }
    }
    generation.dispatcher.thaw();
    const allExited = () => launched.every((agent) => !agent.process?.alive);
    await this.#waitFor(allExited, deadlineMs, true);
    for (const agent of launched) {
      if (agent.process?.alive) {
        killedByUs.add(agent);
        this.#signal(agent.process, 'SIGKILL', agent.name, 'shutdown deadline reached');
      }
    }
    await Promise.all(launched.map((agent) => agent.process?.waitExit(2000)));
    const extensions: ExtensionExit[] = [];
    for (const agent of launched) {
      const proc = agent.process!;
      // Grandchildren left in the group die with the environment.
      proc.signalGroup('SIGKILL');
      const exit = proc.exit;
      const clean = exit !== undefined && exit.exitCode === 0 && !killedByUs.has(agent);
      agent.state = clean ? 'Exited' : 'ShutdownFailed';
      extensions.push({
        name: agent.name,
        id: agent.id,
        pid: proc.pid,
        exitCode: exit?.exitCode ?? null,
        signal: exit?.signal ?? null,
        state: agent.state,
        exitedAt: exit?.exitedAt ?? Date.now(),
      });
    }
    runtime?.signalGroup('SIGKILL');
    this.#killDescendants(generation, descendants);
    generation.dispatcher.close();
    generation.ended = true;
    const durationMs = round(monoNow() - startedMono);
    this.#log({
      kind: 'shutdown.end',
      shutdownReason: wireReason,
      deadlineMs,
      durationMs,
      data: {
        extensions: extensions.map(({ name, state, exitCode, signal }) => ({
          name,
          state,
          exitCode,
          signal,
        })),
      },
    });
    return {
      reason: wireReason,
      deadlineMs,
      startedAt,
      durationMs,
      runtime: runtime
        ? {
            pid: runtime.pid,
            exitCode: runtime.exit?.exitCode ?? null,
            signal: runtime.exit?.signal ?? null,
          }
        : undefined,
      extensions,
    };
  }

  #wireReason(reason: ShutdownReason): string {
    return this.#options.profile === 'rie' ? RIE_REASONS[reason] : reason;
  }

  // ---- processes -------------------------------------------------------------------------------------------------

  #listExtensions(): { name: string; path: string }[] | string {
    const dir = this.#options.extensionsDir;
    if (!dir) return [];
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch (error) {
      return `cannot read extensions directory ${dir}: ${(error as Error).message}`;
    }
    const files: { name: string; path: string }[] = [];
    for (const name of entries) {
      const path = join(dir, name);
      try {
        if (statSync(path).isDirectory()) continue;
      } catch {
        // A dangling symlink is still launched (and fails to launch), like RAPID.
      }
      files.push({ name, path });
    }
    if (files.length > MAX_EXTENSIONS) {
      return `TooManyExtensions: ${files.length} files in ${dir}, the limit is ${MAX_EXTENSIONS}`;
    }
    return files;
  }

  #track(proc: ManagedProcess): void {
    const list = this.#processes.get(proc.name) ?? [];
    list.push(proc);
    // Output of the last generations only, so a long demo with many resets stays bounded.
    if (list.length > MAX_TRACKED_GENERATIONS)
      list.splice(0, list.length - MAX_TRACKED_GENERATIONS);
    this.#processes.set(proc.name, list);
  }

  #launchExtension(
    generation: Generation,
    file: { name: string; path: string },
    env: Record<string, string>,
  ): void {
    const agent = generation.registry.addLaunched(file.name, file.path);
    const proc = ManagedProcess.start({
      name: file.name,
      command: file.path,
      args: [],
      env,
      cwd: dirname(dirname(file.path)),
      outputLimitBytes: this.#options.outputLimitBytes,
      onLine: (stream, line) => this.#onOutput(generation, file.name, 'extension', stream, line),
    });
    agent.process = proc;
    this.#track(proc);
    this.#log({
      kind: 'extension.launch',
      extension: file.name,
      pid: proc.pid,
      message: file.path,
    });
    proc.exited.then((exit) => this.#onExtensionExit(generation, agent, exit));
  }

  #startRuntime(generation: Generation, env: Record<string, string>): void {
    const [command, ...args] = this.#options.bootstrap ?? [
      process.execPath,
      '--input-type=module',
      '-e',
      SIMULATED_RUNTIME_SOURCE,
    ];
    const proc = ManagedProcess.start({
      name: 'runtime',
      command: command!,
      args,
      env,
      cwd: this.tmpDir,
      outputLimitBytes: this.#options.outputLimitBytes,
      onLine: (stream, line) => this.#onOutput(generation, 'runtime', 'function', stream, line),
    });
    generation.runtime = proc;
    this.#track(proc);
    this.#log({
      kind: 'runtime.start',
      extension: 'runtime',
      pid: proc.pid,
      message: basename(command!),
    });
    proc.exited.then((exit) => this.#onRuntimeExit(generation, proc, exit));
  }

  #onOutput(
    generation: Generation,
    name: string,
    category: 'function' | 'extension',
    stream: 'stdout' | 'stderr',
    line: string,
  ): void {
    if (this.#options.logOutput)
      this.#log({ kind: 'process.output', extension: name, stream, line });
    if (!generation.ended) generation.dispatcher.publish(category, line);
  }

  #onExtensionExit(generation: Generation, agent: Agent, exit: ProcessExit): void {
    this.#log({
      kind: 'process.exit',
      extension: agent.name,
      extensionId: agent.id,
      pid: agent.process?.pid,
      exitCode: exit.exitCode,
      signal: exit.signal,
      state: agent.state,
      errorMessage: exit.spawnError,
    });
    if (!generation.shuttingDown && !generation.ended) {
      if (exit.spawnError) {
        agent.state = 'LaunchError';
        agent.errorType = exit.spawnError === 'EACCES' ? 'PermissionDenied' : 'UnknownError';
        generation.failure ??= {
          errorType: 'Extension.LaunchError',
          errorMessage: `${agent.name}: ${exit.spawnError}`,
        };
      } else {
        const how = exit.signal ? `signal ${exit.signal}` : `exit status ${exit.exitCode}`;
        generation.failure ??= {
          errorType: agent.state === 'ExitError' ? 'Extension.ExitError' : 'Extension.Crash',
          errorMessage: `${agent.name}: ${how}`,
        };
      }
    }
    this.#changed();
  }

  #onRuntimeExit(generation: Generation, proc: ManagedProcess, exit: ProcessExit): void {
    this.#log({
      kind: 'process.exit',
      extension: 'runtime',
      pid: proc.pid,
      exitCode: exit.exitCode,
      signal: exit.signal,
      errorMessage: exit.spawnError,
    });
    if (!generation.shuttingDown && !generation.ended) {
      const how =
        exit.spawnError ?? (exit.signal ? `signal ${exit.signal}` : `exit status ${exit.exitCode}`);
      generation.failure ??= {
        errorType: exit.spawnError ? 'Runtime.InvalidEntrypoint' : 'Runtime.ExitError',
        errorMessage: `RequestId: ${generation.invocation?.requestId ?? '-'} Error: Runtime exited with ${how}`,
      };
    }
    this.#changed();
  }

  #signal(proc: ManagedProcess, signal: NodeJS.Signals, name: string, reason: string): void {
    const sent = proc.signalGroup(signal);
    this.#log({
      kind: 'process.kill',
      extension: name,
      pid: proc.pid,
      signal,
      message: reason,
      data: { sent },
    });
  }

  /**
   * Every process of the generation's process trees (Linux; empty elsewhere): descendants, session and group members,
   * and holders of this sandbox's AWS_LAMBDA_RUNTIME_API (orphans that left the session). Best effort.
   */
  #descendants(generation: Generation): ProcessInfo[] {
    const started = [
      generation.runtime,
      ...[...generation.registry.external.values()].map((agent) => agent.process),
    ].filter((proc): proc is ManagedProcess => proc?.pid !== undefined);
    if (started.length === 0 && !this.#address) return [];
    try {
      return findSandboxProcesses({
        roots: started.filter((proc) => proc.alive).map((proc) => proc.pid!),
        groups: started.map((proc) => proc.pid!),
        environment: this.#address ? `AWS_LAMBDA_RUNTIME_API=${this.#address}` : undefined,
      });
    } catch {
      return [];
    }
  }

  /** SIGKILLs what {@link #descendants} found then and finds now (orphans re-parented meanwhile). */
  #killDescendants(generation: Generation, before: ProcessInfo[]): void {
    const pids = killProcesses([...before, ...this.#descendants(generation)]);
    if (pids.length > 0) {
      this.#log({
        kind: 'process.kill',
        signal: 'SIGKILL',
        message: 'processes left behind by the sandbox',
        data: { pids },
      });
    }
  }

  #alive(generation: Generation): ManagedProcess[] {
    const procs: ManagedProcess[] = [];
    if (generation.runtime?.alive) procs.push(generation.runtime);
    for (const agent of generation.registry.external.values()) {
      if (agent.process?.alive) procs.push(agent.process);
    }
    return procs;
  }

  #freeze(generation: Generation): void {
    generation.dispatcher.freeze();
    if (!this.#options.freeze || generation.frozen) return;
    generation.frozen = true;
    const pids: number[] = [];
    for (const proc of this.#alive(generation)) {
      if (proc.signalGroup('SIGSTOP') && proc.pid !== undefined) pids.push(proc.pid);
    }
    this.#log({ kind: 'freeze', data: { pids } });
  }

  #thaw(generation: Generation, telemetry = true): void {
    if (generation.frozen) {
      generation.frozen = false;
      const pids: number[] = [];
      for (const proc of this.#alive(generation)) {
        if (proc.signalGroup('SIGCONT') && proc.pid !== undefined) pids.push(proc.pid);
      }
      this.#log({ kind: 'thaw', data: { pids } });
    }
    if (telemetry) generation.dispatcher.thaw();
  }

  // ---- events to extensions --------------------------------------------------------------------------------------

  #release(agent: Agent, event: AgentEvent): void {
    const delay = this.#eventDelays.get(agent.name) ?? 0;
    agent.pending = event;
    if (Number.isFinite(delay) && delay > 0) {
      event.notBefore = Date.now() + delay;
    }
    this.#tryDeliver(agent);
  }

  #retryDeliveries(name: string): void {
    const generation = this.#generation;
    if (!generation) return;
    for (const agent of generation.registry.all()) {
      if (agent.name !== name || !agent.pending) continue;
      agent.pending.notBefore = undefined;
      this.#tryDeliver(agent);
    }
  }

  #tryDeliver(agent: Agent): void {
    const event = agent.pending;
    if (!event || !agent.parked) return;
    const delay = this.#eventDelays.get(agent.name) ?? 0;
    if (delay === Number.POSITIVE_INFINITY) return;
    const wait = (event.notBefore ?? 0) - Date.now();
    if (wait > 0) {
      setTimeout(() => this.#tryDeliver(agent), clampDelay(wait));
      return;
    }
    const res = agent.parked;
    agent.parked = undefined;
    agent.pending = undefined;
    agent.state = 'Running';
    // The RIE sets no header on SHUTDOWN; Go then sniffs the body as text/plain.
    const headers: Record<string, string | undefined> = event.bareHeaders
      ? { 'Content-Type': 'text/plain; charset=utf-8' }
      : { 'Content-Type': 'application/json', 'Lambda-Extension-Event-Identifier': event.eventId };
    const delivered = sendRaw(res, 200, event.body, headers);
    agent.lastRequestId = event.requestId;
    this.#log({
      kind: event.eventType === 'INVOKE' ? 'event.invoke' : 'event.shutdown',
      extension: agent.name,
      extensionId: agent.id,
      eventId: event.bareHeaders ? undefined : event.eventId,
      requestId: event.requestId,
      deadlineMs: event.deadlineMs,
      shutdownReason: event.shutdownReason,
      statusCode: 200,
      message: delivered
        ? undefined
        : 'written to a connection the extension had abandoned: event lost',
    });
  }

  // ---- API hosts -------------------------------------------------------------------------------------------------

  #makeExtensionsHost(): ExtensionsApiHost {
    const self = this;
    const options = this.#options;
    return {
      get registry() {
        return self.#generation?.registry;
      },
      metadata: {
        functionName: options.functionName,
        functionVersion: options.functionVersion,
        handler: options.handler,
        accountId: options.accountId,
      },
      profile: options.profile,
      log: (entry) => this.#log(entry),
      registered: () => this.#changed(),
      ready: (agent) => {
        const invocation = this.#generation?.invocation;
        if (invocation?.pending.has(agent) && agent.lastRequestId === invocation.requestId) {
          invocation.pending.delete(agent);
          invocation.lastExtensionMono = monoNow();
        }
        this.#tryDeliver(agent);
        this.#changed();
      },
      initError: (agent, errorType) => {
        const generation = this.#generation;
        if (generation && !generation.initDone) {
          generation.failure ??= {
            errorType: 'Extension.InitError',
            errorMessage: `${agent.name}: ${errorType}`,
          };
        }
        this.#changed();
      },
      exitError: () => this.#changed(),
    };
  }

  #makeTelemetryHost(): TelemetryApiHost {
    const self = this;
    return {
      get registry() {
        return self.#generation?.registry;
      },
      get dispatcher() {
        return self.#generation?.dispatcher;
      },
      get subscriptionsOpen() {
        return self.#generation?.subscriptionsOpen ?? false;
      },
      telemetryEnabled: this.#options.telemetry,
      get subscribedApi() {
        return self.#generation?.subscribedApi ?? new Map();
      },
      log: (entry) => this.#log(entry),
    };
  }

  #makeRuntimeHost(): RuntimeApiHost {
    return {
      log: (entry) => this.#log(entry),
      runtimeNext: (res) => {
        const generation = this.#generation;
        if (!generation || generation.ended) {
          sendError(res, 403, 'Runtime.InvalidState', 'No active execution environment');
          return;
        }
        if (generation.runtimeParked && generation.runtimeParked !== res) {
          sendError(
            generation.runtimeParked,
            409,
            'Runtime.DuplicateNext',
            'Superseded by a newer /next',
          );
        }
        generation.runtimeParked = res;
        const invocation = generation.invocation;
        if (generation.runtimeReadyAt === undefined) {
          generation.runtimeReadyAt = Date.now();
          // The runtime finished its init: no new internal extensions from here on.
          generation.registry.registrationOpen = false;
        } else if (invocation && !invocation.runtimeDone) {
          if (!invocation.responded) {
            invocation.errorType = 'Runtime.NoResponse';
            invocation.errorMessage =
              'runtime asked for the next invocation without answering this one';
          }
          invocation.runtimeDone = true;
          invocation.runtimeDoneAt = Date.now();
          invocation.runtimeDoneMono = monoNow();
          const status = invocation.errorType
            ? invocation.errorType.startsWith('Sandbox.')
              ? 'failure'
              : 'error'
            : 'success';
          const trace = invocation.trace;
          this.#publishRuntimeDone(
            generation,
            invocation,
            status,
            invocation.errorType,
            trace ? { spanId: spanIdOf(trace), type: 'X-Amzn-Trace-Id', value: trace } : undefined,
          );
        }
        this.#changed();
      },
      acceptsResult: (requestId) => {
        const invocation = this.#generation?.invocation;
        return (
          invocation !== undefined && invocation.requestId === requestId && !invocation.responded
        );
      },
      runtimeResponse: (_requestId, body) => {
        const invocation = this.#generation?.invocation;
        if (!invocation) return;
        invocation.responded = true;
        invocation.respondedMono = monoNow();
        invocation.responseBytes = body.length;
        try {
          invocation.response = JSON.parse(body.toString('utf8'));
        } catch {
          invocation.response = body.toString('utf8');
        }
        this.#log({
          kind: 'invoke.response',
          requestId: invocation.requestId,
          durationMs: round(invocation.respondedMono - invocation.startedMono),
        });
        this.#changed();
      },
      runtimeError: (_requestId, errorType, body) => {
        const invocation = this.#generation?.invocation;
        if (!invocation) return;
        invocation.responded = true;
        invocation.respondedMono = monoNow();
        invocation.responseBytes = body.length;
        invocation.errorType = errorType;
        try {
          const parsed = JSON.parse(body.toString('utf8')) as { errorMessage?: unknown };
          if (typeof parsed.errorMessage === 'string')
            invocation.errorMessage = parsed.errorMessage;
        } catch {
          // The body is optional and free-form.
        }
        this.#log({
          kind: 'invoke.response',
          requestId: invocation.requestId,
          errorType,
          durationMs: round(invocation.respondedMono - invocation.startedMono),
        });
        this.#changed();
      },
      runtimeInitError: (errorType, body) => {
        const generation = this.#generation;
        if (generation && !generation.initDone) {
          let errorMessage = 'runtime reported an init error';
          try {
            const parsed = JSON.parse(body.toString('utf8')) as { errorMessage?: unknown };
            if (typeof parsed.errorMessage === 'string') errorMessage = parsed.errorMessage;
          } catch {
            // Free-form body.
          }
          generation.failure ??= { errorType, errorMessage };
        }
        this.#changed();
      },
    };
  }

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

  // ---- plumbing --------------------------------------------------------------------------------------------------

  #log(input: LogInput): void {
    this.#eventLog.add(input);
  }

  #changed(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Resolves true when `predicate` holds, false at `deadlineMs` (epoch) or on close (unless `ignoreClose`). */
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

  #assertUsable(): void {
    if (this.#closed) throw new Error(`Sandbox ${this.id} is closed`);
    if (this.#state === 'shut-down') throw new Error(`Sandbox ${this.id} has been shut down`);
  }

  async #close(): Promise<void> {
    this.#closed = true;
    const generation = this.#generation;
    if (generation) {
      // An ended generation was cleaned up by its Shutdown phase; its pids may belong to others by now.
      const descendants = generation.ended ? [] : this.#descendants(generation);
      for (const proc of this.#alive(generation))
        this.#signal(proc, 'SIGKILL', proc.name, 'sandbox closed');
      if (!generation.ended) this.#killDescendants(generation, descendants);
    }
    this.#changed();
    await Promise.race([
      this.#queue,
      new Promise((resolveWait) => setTimeout(resolveWait, 5000).unref()),
    ]);
    if (generation) {
      await Promise.all(this.#alive(generation).map((proc) => proc.waitExit(2000)));
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

const OUTCOMES = new Set(['success', 'error', 'timeout', 'crash']);

/** Checks invoke options before anything starts; returns the serialised payload. */
function validateInvokeOptions(options: InvokeOptions): string {
  if (options.outcome !== undefined && !OUTCOMES.has(options.outcome)) {
    throw new TypeError(
      `InvokeOptions.outcome must be success, error, timeout or crash, got ${String(options.outcome)}`,
    );
  }
  const duration = options.durationMs;
  if (
    duration !== undefined &&
    (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0)
  ) {
    throw new TypeError(`InvokeOptions.durationMs must be a number ≥ 0, got ${String(duration)}`);
  }
  if (
    options.traceId !== undefined &&
    (typeof options.traceId !== 'string' || /[\r\n]/.test(options.traceId))
  ) {
    throw new TypeError('InvokeOptions.traceId must be a single-line string');
  }
  let payload: string | undefined;
  try {
    payload = JSON.stringify(options.payload ?? {});
  } catch (error) {
    throw new TypeError(
      `InvokeOptions.payload must be JSON-serialisable: ${(error as Error).message}`,
    );
  }
  if (payload === undefined) throw new TypeError('InvokeOptions.payload must be JSON-serialisable');
  return payload;
}

/** setTimeout silently turns delays beyond 2^31−1 ms into 1 ms; keep long waits long. */
function clampDelay(ms: number): number {
  return Math.min(Math.max(0, ms), 2_147_483_647);
}

function runtimeVersionOf(runtime: string): string {
  const match = /^([a-z]+)(\d+(?:\.\d+)?)\.x$/.exec(runtime);
  return match ? `${match[1]}:${match[2]}.v1` : `${runtime}.v1`;
}

function validateOptions(options: Resolved): void {
  const positive: (keyof Resolved)[] = [
    'memoryMb',
    'timeoutMs',
    'initTimeoutMs',
    'logLimit',
    'outputLimitBytes',
    'telemetryQueueLimit',
    'telemetryMaxAttempts',
  ];
  for (const key of positive) {
    const value = options[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new TypeError(`SandboxOptions.${key} must be a positive number, got ${String(value)}`);
    }
  }
  const nonNegative: (keyof Resolved)[] = [
    'shutdownBudgetMs',
    'runtimeShutdownMs',
    'telemetryRetryBaseMs',
    'functionInitMs',
  ];
  for (const key of nonNegative) {
    const value = options[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`SandboxOptions.${key} must be a number ≥ 0, got ${String(value)}`);
    }
  }
  if (!options.functionName) throw new TypeError('SandboxOptions.functionName must not be empty');
  if (!['on-demand', 'provisioned-concurrency'].includes(options.initializationType)) {
    throw new TypeError(
      `SandboxOptions.initializationType must be on-demand or provisioned-concurrency, got ${String(options.initializationType)}`,
    );
  }
  if (options.bootstrap && options.bootstrap.length === 0) {
    throw new TypeError('SandboxOptions.bootstrap needs at least a command');
  }
}
