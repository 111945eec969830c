import { monoNow } from './clock.ts';
import type { ExtensionsApiHost } from './extensions-api.ts';
import { round } from './generation.ts';
import { sendError } from './http-json.ts';
import { publishRuntimeDone } from './invoke-phase.ts';
import { recordTracing } from './platform-records.ts';
import type { RuntimeApiHost } from './runtime-api.ts';
import type { SandboxContext } from './sandbox-context.ts';
import type { TelemetryApiHost } from './telemetry-api.ts';

/** The first `errorMessage` of a free-form JSON error body, if any. */
function errorMessageOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : undefined;
  } catch {
    // The body is optional and free-form.
    return undefined;
  }
}

/** Binds the Extensions API to the sandbox's current generation. */
export function createExtensionsApiHost(ctx: SandboxContext): ExtensionsApiHost {
  const { options } = ctx;
  return {
    get registry() {
      return ctx.generation?.registry;
    },
    metadata: {
      functionName: options.functionName,
      functionVersion: options.functionVersion,
      handler: options.handler,
      accountId: options.accountId,
    },
    profile: options.profile,
    managedInstances: options.mode === 'lmi',
    log: (entry) => ctx.log(entry),
    registered: () => ctx.changed(),
    ready: (agent) => {
      const invocation =
        agent.lastRequestId === undefined
          ? undefined
          : ctx.generation?.invocations.get(agent.lastRequestId);
      if (invocation?.pending.has(agent)) {
        invocation.pending.delete(agent);
        invocation.lastExtensionMono = monoNow();
      }
      ctx.delivery.tryDeliver(agent);
      ctx.changed();
    },
    initError: (agent, errorType) => {
      const generation = ctx.generation;
      if (generation && !generation.initDone) {
        generation.failure ??= {
          errorType: 'Extension.InitError',
          errorMessage: `${agent.name}: ${errorType}`,
        };
      }
      ctx.changed();
    },
    exitError: () => ctx.changed(),
  };
}

/** Binds the Telemetry and Logs API subscriptions to the sandbox's current generation. */
export function createTelemetryApiHost(ctx: SandboxContext): TelemetryApiHost {
  return {
    get registry() {
      return ctx.generation?.registry;
    },
    get dispatcher() {
      return ctx.generation?.dispatcher;
    },
    get subscriptionsOpen() {
      return ctx.generation?.subscriptionsOpen ?? false;
    },
    telemetryEnabled: ctx.options.telemetry,
    managedInstances: ctx.options.mode === 'lmi',
    get subscribedApi() {
      return ctx.generation?.subscribedApi ?? new Map();
    },
    log: (entry) => ctx.log(entry),
  };
}

/** Binds the Runtime API to the sandbox's current generation and its invocations. */
export function createRuntimeApiHost(ctx: SandboxContext): RuntimeApiHost {
  const managedInstances = ctx.options.mode === 'lmi';
  const current = (requestId: string) => ctx.generation?.invocations.get(requestId);
  return {
    log: (entry) => ctx.log(entry),
    runtimeNext: (res) => {
      const generation = ctx.generation;
      if (!generation || generation.ended) {
        sendError(res, 403, 'Runtime.InvalidState', 'No active execution environment');
        return;
      }
      if (managedInstances) {
        // Every worker of the runtime keeps one /next parked; each is answered by the next invoke.
        generation.runtimeParked.push(res);
        res.on('close', () => {
          const index = generation.runtimeParked.indexOf(res);
          if (index !== -1) generation.runtimeParked.splice(index, 1);
        });
        if (generation.runtimeReadyAt === undefined) {
          generation.runtimeReadyAt = Date.now();
          generation.registry.registrationOpen = false;
        }
        ctx.changed();
        return;
      }
      for (const older of generation.runtimeParked) {
        if (older !== res)
          sendError(older, 409, 'Runtime.DuplicateNext', 'Superseded by a newer /next');
      }
      generation.runtimeParked = [res];
      // Standard mode: at most one invocation, and this /next means the runtime is done with it.
      const [invocation] = generation.invocations.values();
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
        publishRuntimeDone(
          generation,
          invocation,
          status,
          invocation.errorType,
          recordTracing(invocation.trace),
        );
      }
      ctx.changed();
    },
    acceptsResult: (requestId) => {
      const invocation = current(requestId);
      return invocation !== undefined && !invocation.responded;
    },
    runtimeResponse: (requestId, body, firstByteMono) => {
      const invocation = current(requestId);
      if (!invocation) return;
      invocation.responded = true;
      invocation.respondedMono = monoNow();
      invocation.firstByteMono = firstByteMono;
      invocation.responseBytes = body.length;
      try {
        invocation.response = JSON.parse(body.toString('utf8'));
      } catch {
        invocation.response = body.toString('utf8');
      }
      ctx.log({
        kind: 'invoke.response',
        requestId: invocation.requestId,
        durationMs: round(invocation.respondedMono - invocation.startedMono),
      });
      ctx.changed();
    },
    runtimeError: (requestId, errorType, body) => {
      const invocation = current(requestId);
      if (!invocation) return;
      invocation.responded = true;
      invocation.respondedMono = monoNow();
      invocation.responseBytes = body.length;
      invocation.errorType = errorType;
      const errorMessage = errorMessageOf(body);
      if (errorMessage !== undefined) invocation.errorMessage = errorMessage;
      ctx.log({
        kind: 'invoke.response',
        requestId: invocation.requestId,
        errorType,
        durationMs: round(invocation.respondedMono - invocation.startedMono),
      });
      ctx.changed();
    },
    runtimeRestoreNext: (res) => {
      const generation = ctx.generation;
      if (!ctx.options.snapStart || !generation || generation.ended || generation.initDone) {
        sendError(
          res,
          403,
          'Runtime.InvalidState',
          'restore/next is for SnapStart runtimes at the end of Init',
        );
        return;
      }
      // The runtime's Init is over: it waits here while the snapshot is taken, until a restore answers.
      generation.runtimeRestoreParked = res;
      if (generation.runtimeReadyAt === undefined) {
        generation.runtimeReadyAt = Date.now();
        generation.registry.registrationOpen = false;
      }
      ctx.changed();
    },
    runtimeRestoreError: (errorType, body) => {
      const generation = ctx.generation;
      if (generation) {
        generation.failure ??= {
          errorType,
          errorMessage: errorMessageOf(body) ?? 'runtime reported a restore error',
        };
      }
      ctx.changed();
    },
    runtimeInitError: (errorType, body) => {
      const generation = ctx.generation;
      if (generation && !generation.initDone) {
        generation.failure ??= {
          errorType,
          errorMessage: errorMessageOf(body) ?? 'runtime reported an init error',
        };
      }
      ctx.changed();
    },
  };
}
