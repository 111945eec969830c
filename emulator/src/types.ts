/**
 * Public types of the emulator: options, results and the event log.
 */

/** How the simulated function ends one invocation. */
export type InvokeOutcome = 'success' | 'error' | 'timeout' | 'crash';

/** The shutdown reasons production Lambda sends (lower case on the wire). */
export type ShutdownReason = 'spindown' | 'timeout' | 'failure';

/** `production` follows AWS Lambda; `rie` mimics the Runtime Interface Emulator's quirks (README "Things to know"). */
export type EmulatorProfile = 'production' | 'rie';

/**
 * How Lambda runs the environment. `standard`: one invoke at a time, frozen between invokes. `lmi`: Lambda Managed
 * Instances — up to `concurrency` invokes at once, never frozen, extensions get SHUTDOWN only (README "Modes").
 */
export type SandboxMode = 'standard' | 'lmi';

/** AWS_LAMBDA_INITIALIZATION_TYPE values, and `initializationType` of the Init records. */
export type InitializationType =
  | 'on-demand'
  | 'provisioned-concurrency'
  | 'snap-start'
  | 'lambda-managed-instances';

/** Extension states of the RAPID state machine, plus `Started` before registration. */
export type ExtensionState =
  | 'Started'
  | 'Registered'
  | 'Ready'
  | 'Running'
  | 'InitError'
  | 'ExitError'
  | 'Exited'
  | 'ShutdownFailed'
  | 'LaunchError';

/** What a log entry records. */
export type EmulatorLogKind =
  | 'sandbox.start'
  | 'sandbox.close'
  | 'init.start'
  | 'init.end'
  | 'extension.launch'
  | 'extension.register'
  | 'extension.next'
  | 'extension.next-abandoned'
  | 'extension.init-error'
  | 'extension.exit-error'
  | 'event.invoke'
  | 'event.shutdown'
  | 'telemetry.subscribe'
  | 'logs.subscribe'
  | 'telemetry.record'
  | 'telemetry.deliver'
  | 'telemetry.drop'
  | 'runtime.start'
  | 'runtime.next'
  | 'runtime.response'
  | 'runtime.error'
  | 'runtime.init-error'
  | 'invoke.start'
  | 'invoke.response'
  | 'invoke.end'
  | 'freeze'
  | 'thaw'
  | 'snapshot'
  | 'restore.start'
  | 'restore.end'
  | 'runtime.restore-next'
  | 'runtime.restore-error'
  | 'reset'
  | 'shutdown.start'
  | 'shutdown.end'
  | 'process.output'
  | 'process.exit'
  | 'process.kill'
  | 'process.signal'
  | 'fault'
  | 'http.request'
  | 'error';

/**
 * One API call or lifecycle transition. Flat, so it prints as one JSON line; only the fields that apply are set.
 */
export interface EmulatorLogEntry {
  /** Wall clock, epoch ms. */
  time: number;
  /** Monotonic ms since the emulator module loaded (performance.now()). */
  mono: number;
  sandboxId: string;
  /** Init count of this sandbox: 1 for the first init, +1 after every reset. */
  generation: number;
  kind: EmulatorLogKind;
  /** Extension name (Lambda-Extension-Name) or `runtime`. */
  extension?: string;
  /** Lambda-Extension-Identifier issued at registration. */
  extensionId?: string;
  /** Lambda-Extension-Event-Identifier of a delivered event. */
  eventId?: string;
  external?: boolean;
  events?: string[];
  requestId?: string;
  shutdownReason?: string;
  deadlineMs?: number;
  status?: string;
  statusCode?: number;
  errorType?: string;
  errorMessage?: string;
  phase?: 'init' | 'invoke';
  pid?: number;
  exitCode?: number | null;
  signal?: string | null;
  state?: ExtensionState;
  durationMs?: number;
  stream?: 'stdout' | 'stderr';
  line?: string;
  message?: string;
  /** Anything else worth keeping (telemetry batch size, attempt number, …). */
  data?: Record<string, unknown>;
}

/** Options of one execution environment. */
export interface SandboxOptions {
  /** Every non-directory entry is launched as an external extension (like /opt/extensions). None when omitted. */
  extensionsDir?: string;
  /** Default `fn`. */
  functionName?: string;
  /** Default `$LATEST`. */
  functionVersion?: string;
  /** Default 128. */
  memoryMb?: number;
  /** Function timeout, bounds the whole Invoke phase. Default 3000. */
  timeoutMs?: number;
  /** Default `eu-west-1`. */
  region?: string;
  /** Default `123456789012`; returned at register only with `Lambda-Extension-Accept-Feature: accountId`. */
  accountId?: string;
  /** Default `index.handler`. Runtime-only `_HANDLER`, and `handler` in the register response. */
  handler?: string;
  /** Default `nodejs22.x`; runtime-only `AWS_EXECUTION_ENV=AWS_Lambda_<runtime>`. */
  runtime?: string;
  /** Customer environment variables: the runtime and the extensions both see them. */
  env?: Record<string, string>;
  /** SIGSTOP every process group between invokes, SIGCONT on the next event. Default false (true is closer to Lambda). */
  freeze?: boolean;
  /** The sandbox's /tmp: kept across resets, TMPDIR of every process, created if absent. Default: a new temp dir. */
  tmpDir?: string;
  /**
   * AWS_LAMBDA_INITIALIZATION_TYPE and `initializationType` of the platform records. Default `on-demand`; with
   * `provisioned-concurrency` the default Init limit becomes the larger of 130 s and the function timeout. The modes
   * set it themselves (`lambda-managed-instances` with `mode: 'lmi'`); giving another value with a mode is refused.
   */
  initializationType?: InitializationType;
  /**
   * Tenant isolation: the one tenant this environment serves. It appears as `tenantId` in `platform.start`,
   * `platform.runtimeDone` and `platform.report` and in the runtime's `Lambda-Runtime-Aws-Tenant-Id` header, never
   * in INVOKE events or Init records. An invoke for another tenant is refused.
   */
  tenantId?: string;
  /**
   * The function streams its responses (a response-streaming handler invoked with InvokeWithResponseStream or a
   * function URL): the simulated function answers in `streaming` mode, for `InvokeOptions.streamDurationMs` after
   * its first byte, and responses up to 200 MB are accepted. Default false.
   */
  responseStreaming?: boolean;
  /**
   * SnapStart: Init runs once, as at publish, and ends in a snapshot (every process stopped, the runtime waiting in
   * `/runtime/restore/next`); the first invoke (or {@link Sandbox.restore}) restores it. `true` publishes a new
   * snapshot; a {@link SnapshotIdentity} (`sandbox.snapshot` of the publishing sandbox) makes this sandbox another
   * environment restored from that snapshot: the platform hands its extensions the same identifiers.
   */
  snapStart?: boolean | SnapshotIdentity;
  /** Default `standard`; `lmi` runs the environment like Lambda Managed Instances. */
  mode?: SandboxMode;
  /**
   * With `mode: 'lmi'`: invokes one environment runs at once (PerExecutionEnvironmentMaxConcurrency, 1–1600),
   * AWS_LAMBDA_MAX_CONCURRENCY of the runtime. Default 4. Refused without `lmi`.
   */
  concurrency?: number;
  /** Default 10 000 (on-demand Init limit). */
  initTimeoutMs?: number;
  /** Whole Shutdown phase with external extensions. Default 2000. */
  shutdownBudgetMs?: number;
  /** How long the runtime gets after SIGTERM before SIGKILL. Default 300. */
  runtimeShutdownMs?: number;
  /** Serve the Telemetry API for real. Default true (false answers the RIE's 202 stubs). */
  telemetry?: boolean;
  /** Default `production`. `rie` changes shutdown reasons, SHUTDOWN headers, accountId, telemetry and tracing. */
  profile?: EmulatorProfile;
  /** Put a `tracing` object in INVOKE events even without a traceId. Default true (false in the rie profile). */
  tracing?: boolean;
  /** Called synchronously for every log entry. */
  onLog?: (entry: EmulatorLogEntry) => void;
  /** Simulated static-initialisation time of the built-in function (runtime Init), in ms. Default 0. */
  functionInitMs?: number;
  /** A custom runtime instead of the simulated function: command and arguments. */
  bootstrap?: readonly string[];
  /** Stable id for log entries. Default `sbx-<random>`. */
  sandboxId?: string;
  /** Kept log entries (oldest dropped beyond). Default 100 000. */
  logLimit?: number;
  /** Captured output kept per process, in bytes. Default 1 MiB. */
  outputLimitBytes?: number;
  /** Records a telemetry subscriber may have waiting before the oldest are dropped (platform.logsDropped). Default 20 000. */
  telemetryQueueLimit?: number;
  /** Delivery attempts of one telemetry batch before it is dropped. Default 5. */
  telemetryMaxAttempts?: number;
  /** First retry delay of a failed telemetry POST, doubled each attempt. Default 100. */
  telemetryRetryBaseMs?: number;
  /** Log each captured output line as a `process.output` entry. Default true. */
  logOutput?: boolean;
}

/** What environments restored from one SnapStart snapshot share: the extension identifiers issued at its Init. */
export interface SnapshotIdentity {
  /** Lambda-Extension-Identifier per extension name (file name for external extensions). */
  extensionIdentifiers: Record<string, string>;
}

/** Result of restoring a SnapStart snapshot. */
export interface RestoreResult {
  status: 'success' | 'error' | 'timeout';
  durationMs: number;
  errorType?: string;
  errorMessage?: string;
}

/** One invocation request. */
export interface InvokeOptions {
  /** Event payload the runtime receives (JSON-serialised). Default `{}`. */
  payload?: unknown;
  /** How long the simulated function works before answering. Default 0. */
  durationMs?: number;
  /** Default `success`. `timeout` hangs until the function timeout; `crash` exits the runtime process. */
  outcome?: InvokeOutcome;
  /** X-Amzn-Trace-Id value; generated when omitted (unless tracing is off). */
  traceId?: string;
  /**
   * The invoke's tenant: a sandbox takes only its own (`SandboxOptions.tenantId`, the default); a LambdaFunction
   * routes the invoke to an environment of that tenant, starting one when needed.
   */
  tenantId?: string;
  /** With `responseStreaming`: how long the simulated function streams after its first byte. Default 0. */
  streamDurationMs?: number;
}

/** Result of one invocation. */
export interface InvokeResult {
  requestId: string;
  sandboxId: string;
  /** `failure`: the runtime or an extension crashed or called exit/error (the sandbox was reset). */
  status: 'success' | 'error' | 'timeout' | 'failure';
  /** Whole Invoke phase: INVOKE released → runtime and every INVOKE subscriber called /next (or timeout). */
  durationMs: number;
  /** INVOKE released → first byte of the runtime's response or error (what a caller waits for in production). */
  responseLatencyMs?: number;
  /** First → last byte of the response (streaming takes a while; a buffered answer about 0). */
  responseDurationMs?: number;
  /** Runtime's /next → last extension's /next (platform.report span extensionOverhead). */
  extensionOverheadMs?: number;
  deadlineMs: number;
  /** Parsed JSON response body of the function when it answered successfully. */
  response?: unknown;
  errorType?: string;
  errorMessage?: string;
  /** True when this invoke began with an Init (cold start or re-init after a reset). */
  coldStart: boolean;
  /** Init result when this invoke ran an Init. */
  init?: InitResult;
  /** SnapStart: the restore this invoke began with. */
  restore?: RestoreResult;
  /** True when the invoke reset the sandbox (timeout or failure): SHUTDOWN went out, next invoke re-inits. */
  reset: boolean;
  /** The reset's shutdown, when `reset`. */
  shutdown?: ShutdownResult;
}

/** Result of an Init phase. */
export interface InitResult {
  status: 'success' | 'error' | 'timeout';
  /** `init`, or `invoke` for a suppressed init after a reset or failed Init. */
  phase: 'init' | 'invoke';
  durationMs: number;
  errorType?: string;
  errorMessage?: string;
  extensions: ExtensionInfo[];
}

/** An extension as the sandbox knows it. */
export interface ExtensionInfo {
  name: string;
  external: boolean;
  /** Lambda-Extension-Identifier; undefined before registration. */
  id?: string;
  pid?: number;
  state: ExtensionState;
  events: string[];
  errorType?: string;
}

/** Fate of one extension process during shutdown. */
export interface ExtensionExit {
  name: string;
  id?: string;
  pid?: number;
  exitCode: number | null;
  signal: string | null;
  state: 'Exited' | 'ShutdownFailed';
  /** Epoch ms when the process was seen exiting. */
  exitedAt: number;
}

/** Result of a Shutdown phase. */
export interface ShutdownResult {
  /** As sent on the wire (profile applied). */
  reason: string;
  /** Epoch ms at which survivors were (or would have been) SIGKILLed. */
  deadlineMs: number;
  startedAt: number;
  durationMs: number;
  runtime?: { pid?: number; exitCode: number | null; signal: string | null };
  extensions: ExtensionExit[];
}

/** Lifecycle state of a sandbox. */
export type SandboxState =
  | 'new'
  | 'initializing'
  | 'snapshotted'
  | 'restoring'
  | 'idle'
  | 'invoking'
  | 'resetting'
  | 'needs-init'
  | 'shutting-down'
  | 'shut-down'
  | 'closed';
