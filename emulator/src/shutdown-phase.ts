import { randomUUID } from 'node:crypto';
import { monoNow } from './clock.ts';
import type { Agent } from './extension-registry.ts';
import { type Generation, round } from './generation.ts';
import type { SandboxContext } from './sandbox-context.ts';
import type { ExtensionExit, ShutdownReason, ShutdownResult } from './types.ts';

/**
 * Runs the Shutdown phase of `generation` (README "Lifecycle"): the runtime is stopped first (SIGTERM, grace,
 * SIGKILL), then SHUTDOWN goes to every subscribed extension and the others are killed; survivors die at the
 * deadline, and so does anything the environment left behind. Ends the generation.
 */
export async function runShutdownPhase(
  ctx: SandboxContext,
  generation: Generation,
  reason: ShutdownReason,
): Promise<ShutdownResult> {
  const { options, supervisor } = ctx;
  ctx.state = ctx.state === 'resetting' ? 'resetting' : 'shutting-down';
  generation.shuttingDown = true;
  const startedAt = Date.now();
  const startedMono = monoNow();
  const registered = generation.registry.registered();
  const launched = [...generation.registry.external.values()].filter((agent) => agent.process);
  const budget = registered.length > 0 || launched.length > 0 ? options.shutdownBudgetMs : 0;
  const deadlineMs = startedAt + budget;
  const wireReason = ctx.wireReason(reason);
  // Taken while the processes still live: a detached grandchild is only findable through its living parent.
  const descendants = supervisor.descendants(generation);
  ctx.log({ kind: 'shutdown.start', shutdownReason: wireReason, deadlineMs });
  // Processes run again; buffered telemetry goes out once SHUTDOWN was released (below), as in production where
  // the last report typically reaches an extension while it handles SHUTDOWN.
  supervisor.thaw(generation, false);

  // Runtime first: SIGTERM, a short grace period, SIGKILL (SIGKILL at once when no extension registered).
  const runtime = generation.runtime;
  if (runtime?.alive) {
    if (registered.length === 0 && launched.length === 0) {
      supervisor.signal(runtime, 'SIGKILL', 'runtime', 'no extensions: immediate kill');
    } else {
      supervisor.signal(runtime, 'SIGTERM', 'runtime', 'shutdown');
      const exited = await runtime.waitExit(options.runtimeShutdownMs);
      if (!exited)
        supervisor.signal(runtime, 'SIGKILL', 'runtime', 'runtime shutdown grace period over');
    }
    await runtime.waitExit(2000);
  }
  generation.runtimeParked = [];

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
      ctx.delivery.release(agent, {
        eventType: 'SHUTDOWN',
        body: shutdownBody,
        eventId: randomUUID(),
        deadlineMs,
        shutdownReason: wireReason,
        bareHeaders: options.profile === 'rie',
      });
    } else {
      killedByUs.add(agent);
      supervisor.signal(agent.process, 'SIGKILL', agent.name, 'not subscribed to SHUTDOWN');
    }
  }
  generation.dispatcher.thaw();
  const allExited = () => launched.every((agent) => !agent.process?.alive);
  await ctx.waitFor(allExited, deadlineMs, true);
  for (const agent of launched) {
    if (agent.process?.alive) {
      killedByUs.add(agent);
      supervisor.signal(agent.process, 'SIGKILL', agent.name, 'shutdown deadline reached');
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
  supervisor.killDescendants(generation, descendants);
  generation.dispatcher.close();
  generation.ended = true;
  const durationMs = round(monoNow() - startedMono);
  ctx.log({
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
