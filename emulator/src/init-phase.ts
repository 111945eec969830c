import { monoNow } from './clock.ts';
import { buildEnvironments } from './environment.ts';
import { type Generation, round } from './generation.ts';
import { phaseOutcome } from './phase-outcome.ts';
import {
  extensionRecord,
  initReportRecord,
  initRuntimeDoneRecord,
  initStartRecord,
} from './platform-records.ts';
import type { SandboxContext } from './sandbox-context.ts';
import { INIT_DELAY_VARIABLE } from './simulated-runtime.ts';
import type { InitResult } from './types.ts';

/**
 * Runs the Init phase of `generation` (README "Lifecycle"): launches every extension, starts the runtime once all of
 * them registered, and waits until the runtime and every registered extension called /next, by `deadlineMs`.
 * Publishes the Init records and closes registration and subscriptions. What follows (freeze or reset) is the
 * sandbox's decision.
 */
export async function runInitPhase(
  ctx: SandboxContext,
  generation: Generation,
  deadlineMs: number,
): Promise<InitResult> {
  const { options } = ctx;
  const { phase, dispatcher } = generation;
  const managedInstances = options.mode === 'lmi';
  ctx.log({ kind: 'init.start', phase, deadlineMs });
  const init = { initializationType: options.initializationType, phase };
  dispatcher.publish(
    'platform.initStart',
    initStartRecord(init, options, managedInstances ? ctx.id : undefined),
  );
  const envs = buildEnvironments({
    runtimeApi: ctx.runtimeApiAddress,
    functionName: options.functionName,
    functionVersion: options.functionVersion,
    memoryMb: options.memoryMb,
    region: options.region,
    handler: options.handler,
    runtime: options.runtime,
    tmpDir: ctx.tmpDir,
    env: options.env,
    initializationType: options.initializationType,
    maxConcurrency: managedInstances ? options.concurrency : undefined,
  });

  // Extension init: launch every file of the extensions directory, in lexical order, without waiting.
  const files = ctx.supervisor.listExtensions();
  if (typeof files === 'string') {
    generation.failure = { errorType: 'Extension.LaunchError', errorMessage: files };
  } else {
    for (const file of files) ctx.supervisor.launchExtension(generation, file, envs.extension);
  }
  const allRegistered = () =>
    [...generation.registry.external.values()].every((agent) => agent.state !== 'Started');
  let inTime = await ctx.waitFor(
    () => generation.failure !== undefined || allRegistered(),
    deadlineMs,
  );

  // Runtime init: only after every launched external extension registered.
  if (inTime && !generation.failure && !ctx.closed) {
    const runtimeEnv: Record<string, string> = { ...envs.runtime };
    if (options.functionInitMs > 0)
      runtimeEnv[INIT_DELAY_VARIABLE] = String(options.functionInitMs);
    ctx.supervisor.startRuntime(generation, runtimeEnv);
    const allReady = () =>
      generation.runtimeReadyAt !== undefined &&
      generation.registry.registered().every((agent) => agent.state === 'Ready');
    inTime = await ctx.waitFor(() => generation.failure !== undefined || allReady(), deadlineMs);
  }
  const endedAt = Date.now();
  const durationMs = round(monoNow() - generation.initStartedMono);
  generation.registry.registrationOpen = false;
  generation.subscriptionsOpen = false;
  const { status, errorType, errorMessage } = phaseOutcome(generation, inTime, ctx.closed, 'Init');
  const telemetryStatus =
    status === 'error' && errorType?.startsWith('Sandbox.') ? 'failure' : status;
  dispatcher.publish(
    'platform.initRuntimeDone',
    initRuntimeDoneRecord(init, telemetryStatus, errorType),
    generation.runtimeReadyAt ?? endedAt,
  );
  for (const agent of generation.registry.all()) {
    dispatcher.publish('platform.extension', extensionRecord(agent), endedAt);
  }
  dispatcher.publish(
    'platform.initReport',
    initReportRecord(init, telemetryStatus, errorType, durationMs),
    endedAt,
  );
  dispatcher.endInit();
  ctx.log({ kind: 'init.end', phase, status, errorType, errorMessage, durationMs });
  return {
    status,
    phase,
    durationMs,
    errorType,
    errorMessage,
    extensions: generation.registry.all().map((agent) => agent.info()),
  };
}
