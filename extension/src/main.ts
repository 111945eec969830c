import type { LifelineEvent } from '@lifeline/protocol';
import { CollectorClient } from './collector-client.ts';
import { type Config, parseConfig } from './config.ts';
import { Delivery } from './delivery.ts';
import { describeError, LifelineError } from './errors.ts';
import { EventBuffer } from './event-buffer.ts';
import { createLogger, type Logger } from './logger.ts';
import { Recorder } from './recorder.ts';
import { ExtensionsApi, type NextEvent, type Registration } from './runtime-api/extensions-api.ts';
import { subscribeTelemetry } from './runtime-api/telemetry-api.ts';
import { claimSandboxIdentity } from './sandbox-identity.ts';
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
 * process exit code (0 after every SHUTDOWN). Never rejects.
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
  const wantsListener = recording && config.telemetry;
  const registering = api.register(EXTENSION_NAME, wantsListener ? startListening : undefined);
  let registration: Registration;
  try {
    registration = await registering;
  } catch (error) {
    logger.error('register failed; exiting', { detail: describeError(error) });
    const listener = await listening;
    if (listener && !(listener instanceof Error)) await listener.close();
    api.close();
    return 1;
  }
  const registeredAt = Date.now();
  if (wantsListener) startListening();

  if (!recording) {
    logger.warn('LIFELINE_COLLECTOR_URL is not set: pass-through, recording nothing');
    return passThrough(api, logger);
  }

  let session: Session;
  try {
    session = await setUp(config, api, registration, logger, listening);
  } catch (error) {
    logger.error('setup failed; reporting init/error', { detail: describeError(error) });
    await api.initError('Extension.InitError', describeError(error)).catch(() => 0);
    api.close();
    return 1;
  }
  const { delivery } = session;
  // Request ids whose platform.report has not arrived yet; at SHUTDOWN only the last invoke's is waited for.
  const awaitingReport = new Set<string>();
  let lastRequestId: string | undefined;
  let reportArrived: (() => void) | undefined;
  const onRecords = (records: PlatformRecord[]) => {
    for (const record of records) {
      delivery.record({ type: 'platform', ...record });
      if (record.recordType === 'platform.report' && typeof record.record === 'object') {
        const requestId = record.record.requestId;
        if (typeof requestId === 'string' && awaitingReport.delete(requestId)) reportArrived?.();
      }
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
    delivery.record(
      {
        type: 'register',
        functionName: short(registration.functionName || config.functionName || 'unknown'),
        functionVersion: short(registration.functionVersion ?? '$LATEST'),
        handler: short(registration.handler ?? ''),
        ...(registration.accountId ? { accountId: short(registration.accountId) } : {}),
        ...(config.region ? { region: short(config.region) } : {}),
        memorySizeMb: config.memorySizeMb,
        ...(config.executionEnv ? { runtime: short(config.executionEnv) } : {}),
        initializationType: short(config.initializationType),
        architecture: architecture(),
        extensionName: EXTENSION_NAME,
        extensionVersion:
          typeof __LIFELINE_VERSION__ === 'string' ? __LIFELINE_VERSION__ : '0.0.0-dev',
        startToRegisteredMs: Math.max(0, registeredAt - startedAt),
        sandboxId: short(identity.sandboxId),
        ...(identity.previousEnvId ? { previousEnvId: short(identity.previousEnvId) } : {}),
        telemetry: session.telemetry,
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

  let pendingNext = api.next();
  setImmediate(() => {
    finishSetup();
    delivery.mayFreeze();
  });

  // The next loop: one iteration per event, until SHUTDOWN or a fatal Extensions API error.
  for (;;) {
    let event: NextEvent;
    try {
      event = await pendingNext;
    } catch (error) {
      finishSetup();
      return fatalNext(error, api, delivery, logger);
    }
    finishSetup();
    delivery.thawed();
    if (event.eventType === 'INVOKE') {
      const entry = delivery.record({
        type: 'invoke',
        requestId: short(event.requestId) || 'unknown',
        deadlineMs: event.deadlineMs,
        invokedFunctionArn: event.invokedFunctionArn.slice(0, 2048),
        ...(event.traceId ? { traceId: event.traceId.slice(0, 2048) } : {}),
      });
      if (session.telemetry === 'subscribed') {
        lastRequestId = event.requestId;
        awaitingReport.add(event.requestId);
        if (awaitingReport.size > 100) awaitingReport.delete(awaitingReport.values().next().value!);
      }
      delivery.kick('invoke');
      await delivery.waitFor(entry, config.invokeWaitMs);
      pendingNext = api.next();
      delivery.mayFreeze();
      setImmediate(() => void delivery.persist());
    } else if (event.eventType === 'SHUTDOWN') {
      return shutdown(event, {
        config,
        delivery,
        logger,
        listener: session.listener,
        onDeadline: options.onDeadline,
        reportPending: () => lastRequestId !== undefined && awaitingReport.has(lastRequestId),
        setReportListener: (listener) => {
          reportArrived = listener;
        },
      });
    } else {
      logger.once('unknown-event', 'ignoring an unknown event from event/next', { raw: event.raw });
      pendingNext = api.next();
      delivery.mayFreeze();
    }
  }
}

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
      const subscription = await subscribeTelemetry(api, started.port);
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

async function passThrough(api: ExtensionsApi, logger: Logger): Promise<number> {
  for (let events = 0; events < Number.MAX_SAFE_INTEGER; events++) {
    let event: NextEvent;
    try {
      event = await api.next();
    } catch (error) {
      logger.error('event/next failed; exiting', { detail: describeError(error) });
      return 1;
    }
    if (event.eventType === 'SHUTDOWN') return 0;
  }
  return 1;
}

async function fatalNext(
  error: unknown,
  api: ExtensionsApi,
  delivery: Delivery,
  logger: Logger,
): Promise<number> {
  delivery.stop();
  await delivery.settleSpool(100);
  delivery.persistFinal();
  const status = error instanceof LifelineError ? error.status : undefined;
  logger.error('event/next failed; exiting', { detail: describeError(error) });
  if (status !== undefined && status >= 400 && status < 500) {
    // Still registered but unable to take events: tell Lambda instead of silently holding invokes.
    await api.exitError('Extension.NextRejected', describeError(error)).catch(() => 0);
  }
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
