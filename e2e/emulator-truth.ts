import type { EmulatorLogEntry } from '@lifeline/emulator';

/** What happened to one execution environment, according to the emulator (the ground truth). */
export interface TrueEnvironment {
  envId: string;
  sandboxId: string;
  generation: number;
  functionName: string;
  requestIds: string[];
  shutdownReason: string | undefined;
  shutdownDeadlineMs: number | undefined;
  /** Exit code of the extension process (0 = exited cleanly, by itself). */
  exitCode: number | null | undefined;
}

/**
 * Reads the emulator's event log into one record per registration of `extensionName`: the identifier issued, every
 * INVOKE and the SHUTDOWN it delivered to that registration, and how the process ended.
 */
export function environmentsFromLog(
  log: readonly EmulatorLogEntry[],
  functionOf: (sandboxId: string) => string,
  extensionName = 'lifeline',
): TrueEnvironment[] {
  const byId = new Map<string, TrueEnvironment>();
  const current = new Map<string, TrueEnvironment>();
  for (const entry of log) {
    if (entry.extension !== extensionName) continue;
    const key = `${entry.sandboxId}#${entry.generation}`;
    if (entry.kind === 'extension.register' && entry.extensionId && entry.statusCode === 200) {
      const env: TrueEnvironment = {
        envId: entry.extensionId,
        sandboxId: entry.sandboxId,
        generation: entry.generation,
        functionName: functionOf(entry.sandboxId),
        requestIds: [],
        shutdownReason: undefined,
        shutdownDeadlineMs: undefined,
        exitCode: undefined,
      };
      byId.set(env.envId, env);
      current.set(key, env);
      continue;
    }
    const env = current.get(key);
    if (!env) continue;
    if (entry.kind === 'event.invoke' && entry.requestId) env.requestIds.push(entry.requestId);
    if (entry.kind === 'event.shutdown') {
      env.shutdownReason = entry.shutdownReason;
      env.shutdownDeadlineMs = entry.deadlineMs;
    }
    if (entry.kind === 'process.exit') env.exitCode = entry.exitCode;
  }
  return [...byId.values()];
}
