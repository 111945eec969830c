import type { LifelineEvent } from '@lifeline/protocol';
import { CollectorClient } from './collector-client.ts';
import { type Config, parseConfig } from './config.ts';
import { Delivery } from './delivery.ts';
import { describeError } from './errors.ts';
import { EventBuffer } from './event-buffer.ts';
import { invokeEndWaitMs, UNFROZEN_CHECKPOINT_MS, waitForInvokeEnd } from './flush-policy.ts';
import { InvokeTracker } from './invoke-tracker.ts';
import { createLogger, type Logger } from './logger.ts';
import { nextEvent, passThrough } from './next-event.ts';
import { type EventDraft, Recorder } from './recorder.ts';
import { type GrantedRegistration, registerWithFallback } from './registration.ts';
import { freshUuid, RestoreWatch } from './restore.ts';
import { ExtensionsApi, type NextEvent, type Registration } from './runtime-api/extensions-api.ts';
import { LIVE_END_BUFFERING_TIMEOUT_MS, subscribeTelemetry } from './runtime-api/telemetry-api.ts';
import { claimSandboxIdentity, newSandboxIdentity } from './sandbox-identity.ts';
import { shutdown } from './shutdown.ts';
import { Spool } from './spool.ts';
import {
  type PlatformRecord,
  startTelemetryListener,
  type TelemetryListener,
} from './telemetry-listener.ts';
import { runtimeTokenProvider, type TokenProvider } from './token-provider.ts';

declare const __LIFELINE_VERSION__: string | undefined;

/** The `Lambda-Extension-Name`: must equal the launcher's file name in `/opt/extensions`. */
export const EXTENSION_NAME = 'lifeline';

/** `AWS_LAMBDA_INITIALIZATION_TYPE` (and `initializationType`) of Lambda Managed Instances. */
const MANAGED_INSTANCES = 'lambda-managed-instances';

/** Options of {@link runExtension}. */
export interface RunOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Epoch ms when the process started (default `performance.timeOrigin`). */
  startedAt?: number;
  /** Where log lines go (default stdout). */
  write?: (line: string) => void;
  /** Called when the SHUTDOWN deadline guard fires; the process entry exits there. */
  onDeadline?: (code: number) => void;
  /** Install `uncaughtException`/`unhandledRejection` handlers that log once and keep running. */
  processHandlers?: boolean;
}

type TelemetryState = Extract<LifelineEvent, { type: 'register' }>['telemetry'];

const MAX_EARLY_RECORDS = 10_000;

/**
 * Runs the extension: register → listener + subscribe → `/event/next` loop, until SHUTDOWN. Resolves with the
 * process exit code (0 after every SHUTDOWN). Never rejects. No answer of the Extensions or Telemetry API makes it
 * leave while it is registered, except a 5xx from `/event/next` (Lambda's instruction: exit promptly).
 */
export async function runExtension(options: RunOptions): Promise<number> {
  const startedAt = options.startedAt ?? performance.timeOrigin;
  const { config, warnings } = parseConfig(options.env);
  const secrets = [config.token, config.aws?.secretAccessKey, config.aws?.sessionToken];
  const logger = createLogger(config.logLevel, {
    secrets: secrets.filter((secret) => secret !== undefined),
    write: options.write,
  });
  for (const warning of warnings) logger.warn(warning);
  if (options.processHandlers) installProcessHandlers(logger);
  if (config.runtimeApi === undefined) {
    logger.error('AWS_LAMBDA_RUNTIME_API is not set; cannot register');
    return 1;
  }
  const api = new ExtensionsApi(config.runtimeApi);
  const recording = config.collectorUrl !== undefined;

  // The register request goes out first; the listener starts while Lambda answers it (starting a server costs a
  // few ms of CPU that would otherwise delay the registration itself).
  let sink: ((records: PlatformRecord[]) => void) | undefined;
  const early: PlatformRecord[] = [];
  let listening: Promise<TelemetryListener | Error> | undefined;
  const startListening = () => {
    listening ??= startTelemetryListener({
      host: config.telemetryHost,
      port: config.telemetryPort,
      onRecords: (records) => {
        if (sink) sink(records);
        else if (early.length < MAX_EARLY_RECORDS) early.push(...records);
      },
      onProblem: (reason) => logger.once(`telemetry-${reason.replace(/\d+/g, 'N')}`, reason),
    }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  };
  const closeListener = async () => {
    const listener = await listening;
    if (listener && !(listener instanceof Error)) await listener.close();
  };
  const wantsListener = recording && config.telemetry;
  const managedInstances = config.initializationType === MANAGED_INSTANCES;
  let granted: GrantedRegistration;
  try {
    granted = await registerWithFallback(api, EXTENSION_NAME, {
      managedInstances,
      onSent: wantsListener ? startListening : undefined,
    });
  } catch (error) {
    // Nothing to stay registered as: an unregistered process would hold Init until its timeout, a slower failure.
    logger.error('register failed; no registration is possible, exiting', {
      detail: describeError(error),
    });
    await closeListener();
    api.close();
    return 1;
  }
  const { registration } = granted;
  const registeredAt = Date.now();
  if (wantsListener) startListening();
  // Without INVOKE events (Managed Instances) invokes are known from telemetry only, run concurrently, and the
  // environment is never frozen.
  const concurrent = !granted.events.includes('INVOKE');
  if (granted.invokeRefused && !managedInstances)
    logger.info('INVOKE refused: recording invokes from telemetry (Managed Instances)');

  if (!recording) {
    logger.warn('LIFELINE_COLLECTOR_URL is not set: pass-through, recording nothing');
    return passThrough(api, logger);
  }

  let session: Session;
  try {
    session = await setUp(config, api, registration, logger, listening, {
      managedInstances: managedInstances || granted.invokeRefused,
    });
  } catch (error) {
    logger.error('setup failed; passing events through, recording nothing', {
      detail: describeError(error),
    });
    await closeListener();
    return passThrough(api, logger);
  }
  const { delivery } = session;
  const tracker = new InvokeTracker({ concurrent });
  const restores = new RestoreWatch(config.initializationType === 'snap-start');
  let telemetryFlows = false;
  /** The invoke whose runtimeDone the live end gave up on: off until that record turns up (the pipe works). */
  let liveEndMissed: string | undefined;
  let registerDraft: RegisterDraft | undefined;

  /** A SnapStart restore: this copy of the snapshot becomes an environment of its own. */
  const restored = () => {
    if (registerDraft === undefined) return;
    const envId = freshUuid();
    delivery.restartAs(envId);
    tracker.reset();
    const identity = newSandboxIdentity(config.spoolDir, envId);
    delivery.record({
      ...registerDraft,
      initializationType: 'snap-start',
      startToRegisteredMs: 0,
      sandboxId: short(identity.sandboxId),
      // The snapshot's own environment: the registration every copy shares.
      restoredFrom: short(registration.extensionId),
    });
    delivery.kick('record');
  };

  const onRecords = (records: PlatformRecord[]) => {
    telemetryFlows = true;
    for (const record of records) {
      if (record.recordType === 'platform.restoreStart' && restores.sign()) restored();
      const entry = delivery.record({ type: 'platform', ...record });
      tracker.recorded(record, entry);
    }
    delivery.kick('record');
  };

  // Everything not needed before the first /next happens right after it was sent (Init waits for every
  // extension), and in any case before the first event is handled.
  let finished = false;
  const finishSetup = () => {
    if (finished) return;
    finished = true;
    const identity = claimSandboxIdentity(config.spoolDir, registration.extensionId);
    registerDraft = {
      type: 'register',
      functionName: short(registration.functionName || config.functionName || 'unknown'),
      functionVersion: short(registration.functionVersion ?? '$LATEST'),
      handler: short(registration.handler ?? ''),
      ...(registration.accountId ? { accountId: short(registration.accountId) } : {}),
      ...(config.region ? { region: short(config.region) } : {}),
      memorySizeMb: config.memorySizeMb,
      ...(config.executionEnv ? { runtime: short(config.executionEnv) } : {}),
      // Managed Instances detected from the refusal alone are still called what they are.
      initializationType: short(
        granted.invokeRefused && !managedInstances ? MANAGED_INSTANCES : config.initializationType,
      ),
      architecture: architecture(),
      extensionName: EXTENSION_NAME,
      extensionVersion:
        typeof __LIFELINE_VERSION__ === 'string' ? __LIFELINE_VERSION__ : '0.0.0-dev',
      startToRegisteredMs: Math.max(0, registeredAt - startedAt),
      telemetry: session.telemetry,
      registeredEvents: [...granted.events],
    };
    delivery.record(
      {
        ...registerDraft,
        startToReadyMs: Math.max(0, readyAt - startedAt),
        sandboxId: short(identity.sandboxId),
        ...(identity.previousEnvId ? { previousEnvId: short(identity.previousEnvId) } : {}),
      },
      registeredAt,
    );
    sink = onRecords;
    if (early.length > 0) onRecords(early.splice(0));
    const leftovers = session.spool.loadLeftovers();
    if (leftovers.corruptFiles > 0 || leftovers.badLines > 0) {
      logger.warn('skipped unreadable spool data', {
        files: leftovers.corruptFiles,
        lines: leftovers.badLines,
      });
    }
    delivery.adoptLeftovers(leftovers.entries, leftovers.lost);
    delivery.kick('record');
  };

  /** `/event/next` went out: a frozen environment may follow; a never-frozen one checkpoints on its own. */
  const wentIdle = () => {
    if (concurrent) return;
    delivery.mayFreeze();
    setImmediate(() => void delivery.persist());
  };
  const checkpoints = concurrent
    ? setInterval(() => {
        delivery.mayFreeze();
        void delivery.persist();
      }, UNFROZEN_CHECKPOINT_MS).unref()
    : undefined;

  let pendingNext = nextEvent(api, logger);
  const readyAt = Date.now();
  setImmediate(() => {
    finishSetup();
    if (!concurrent) delivery.mayFreeze();
  });

  // The next loop: one iteration per event, until SHUTDOWN or a 5xx from /event/next.
  let lastInvokeAt: number | undefined;
  for (;;) {
    let event: NextEvent;
    try {
      event = await pendingNext;
    } catch (error) {
      finishSetup();
      clearInterval(checkpoints);
      return platformFailure(error, delivery, logger);
    }
    finishSetup();
    if (!concurrent) delivery.thawed();
    if (event.eventType === 'INVOKE') {
      if (restores.sign()) restored();
      const requestId = short(event.requestId) || 'unknown';
      const entry = delivery.record({
        type: 'invoke',
        requestId,
        deadlineMs: event.deadlineMs,
        invokedFunctionArn: event.invokedFunctionArn.slice(0, 2048),
        ...(event.traceId ? { traceId: event.traceId.slice(0, 2048) } : {}),
      });
      if (session.telemetry === 'subscribed') tracker.started(requestId);
      delivery.kick('invoke');
      const now = Date.now();
      if (liveEndMissed !== undefined && tracker.hasRuntimeDone(liveEndMissed))
        liveEndMissed = undefined;
      const sinceLastInvokeMs = lastInvokeAt === undefined ? undefined : now - lastInvokeAt;
      lastInvokeAt = now;
      await delivery.waitFor(entry, config.invokeWaitMs);
      const liveEnd =
        session.telemetry === 'subscribed' &&
        telemetryFlows &&
        liveEndMissed === undefined &&
        waitForInvokeEnd(config.liveInvokeEnd, sinceLastInvokeMs, delivery.failing);
      if (liveEnd) {
        // The end of a rare invoke goes out before /next, instead of sitting in a frozen environment until the
        // next thaw. A miss turns this off until the missed record turns up: a broken pipe costs one wait, once.
        const done = await tracker.runtimeDone(
          requestId,
          invokeEndWaitMs(now, event.deadlineMs, Date.now()),
        );
        if (done === undefined) liveEndMissed = requestId;
        else {
          delivery.kick('invoke');
          await delivery.waitFor(done, config.invokeWaitMs);
        }
      }
      pendingNext = nextEvent(api, logger);
      wentIdle();
    } else if (event.eventType === 'SHUTDOWN') {
      clearInterval(checkpoints);
      return shutdown(event, {
        config,
        delivery,
        logger,
        listener: session.listener,
        onDeadline: options.onDeadline,
        reportPending: () => session.telemetry === 'subscribed' && tracker.reportPending(),
        setReportListener: (listener) => tracker.setReportListener(listener),
      });
    } else {
      logger.once('unknown-event', 'ignoring an unknown event from event/next', { raw: event.raw });
      pendingNext = nextEvent(api, logger);
      wentIdle();
    }
  }
}

/** The register event's fields that a SnapStart restore repeats for the environment it creates. */
type RegisterDraft = Omit<Extract<EventDraft, { type: 'register' }>, 'sandboxId' | 'previousEnvId'>;

interface Session {
  delivery: Delivery;
  spool: Spool;
  listener: TelemetryListener | undefined;
  telemetry: TelemetryState;
}

async function setUp(
  config: Config,
  api: ExtensionsApi,
  registration: Registration,
  logger: Logger,
  listening: Promise<TelemetryListener | Error> | undefined,
  platform: { managedInstances: boolean },
): Promise<Session> {
  const envId = registration.extensionId;
  const recorder = new Recorder(envId);
  const spool = new Spool({ dir: config.spoolDir, maxBytes: config.spoolMaxBytes, envId });
  const delivery = new Delivery({
    recorder,
    buffer: new EventBuffer({ maxEvents: config.bufferMaxEvents, maxBytes: config.bufferMaxBytes }),
    sender: new CollectorClient({ url: config.collectorUrl!, token: tokenOf(config, logger) }),
    spool,
    logger,
    batchMaxEvents: config.batchMaxEvents,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  let telemetry: TelemetryState = 'disabled';
  let listener: TelemetryListener | undefined;
  if (listening !== undefined) {
    const started = await listening;
    if (started instanceof Error) {
      telemetry = 'failed';
      logger.warn('telemetry listener could not start; recording lifecycle events only', {
        detail: describeError(started),
      });
    } else {
      const subscription = await subscribeTelemetry(api, {
        port: started.port,
        preferredSchema: platform.managedInstances ? '2025-01-29' : undefined,
        // The live invoke end pays for telemetry latency; Managed Instances have no runtimeDone to wait for.
        timeoutMs:
          config.liveInvokeEnd === 'off' || platform.managedInstances
            ? undefined
            : LIVE_END_BUFFERING_TIMEOUT_MS,
      });
      telemetry = subscription.state;
      if (subscription.state === 'subscribed') listener = started;
      else {
        logger.warn('no telemetry: recording lifecycle events only', {
          detail: subscription.detail,
        });
        await started.close();
      }
    }
  }
  return { delivery, spool, listener, telemetry };
}

/** `LIFELINE_TOKEN`, else a provider fetching the token lazily (first delivery, after the first `/event/next`). */
function tokenOf(config: Config, logger: Logger): string | TokenProvider | undefined {
  if (config.token !== undefined || config.tokenSource === undefined || config.aws === undefined)
    return config.token;
  return runtimeTokenProvider({
    source: config.tokenSource,
    aws: config.aws,
    timeoutMs: config.requestTimeoutMs,
    onToken: (token) => logger.mask(token),
  });
}

/** `/event/next` answered 5xx: persist what is pending and leave, as Lambda asks. */
async function platformFailure(
  error: unknown,
  delivery: Delivery,
  logger: Logger,
): Promise<number> {
  delivery.stop();
  await delivery.settleSpool(100);
  delivery.persistFinal();
  logger.error('event/next failed; exiting', { detail: describeError(error) });
  return 1;
}

function installProcessHandlers(logger: Logger): void {
  process.on('uncaughtException', (error) => {
    logger.once('uncaught', 'unexpected error; continuing', { detail: describeError(error) });
  });
  process.on('unhandledRejection', (error) => {
    logger.once('unhandled', 'unexpected rejection; continuing', { detail: describeError(error) });
  });
}

function architecture(): string {
  if (process.arch === 'x64') return 'x86_64';
  return process.arch;
}

function short(value: string): string {
  return value.length > 256 ? value.slice(0, 256) : value;
}
