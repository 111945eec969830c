import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { EmulatorLogEntry, Sandbox } from '../src/index.ts';
import { extensionsDir, reports, tempDir, writeScript } from './helpers.ts';

/** Readers of what the standard test extension printed and of process states, shared by the sandbox tests. */

export type Report = Record<string, unknown>;
export type AgentEvent = {
  eventType: string;
  requestId?: string;
  deadlineMs: number;
  shutdownReason?: string;
};

export function events(box: Sandbox, name: string): (Report & { event: AgentEvent })[] {
  return reports(box, name).filter((r) => r.event) as (Report & { event: AgentEvent })[];
}

export function registrations(box: Sandbox, name: string): Report[] {
  return reports(box, name).filter((r) => r.registered);
}

export function processState(pid: number): string {
  // Field 3 of /proc/<pid>/stat: R, S, T (stopped), Z, …
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
}

/** Runtime's /next → the extension's /next after INVOKE, from the log (what extensionOverhead must equal). */
export function overheadFromLog(box: Sandbox, name: string): number {
  const runtimeDone = box.log.findLast((e) => e.kind === 'runtime.next')!;
  const extensionDone = box.log.findLast(
    (e) => e.kind === 'extension.next' && e.extension === name,
  )!;
  return extensionDone.mono - runtimeDone.mono;
}

/**
 * An extensions directory with one standard extension `leaky` that first starts a detached `sleep 300` in a session
 * of its own (neither the extension's process group nor its session holds it); `grandchild()` reads its pid.
 */
export function leakyExtension(): { dir: string; grandchild: () => number } {
  const dir = extensionsDir({ leaky: {} });
  const pidFile = join(tempDir(), 'grandchild.pid');
  const launcher = readFileSync(join(dir, 'leaky'), 'utf8');
  writeScript(
    dir,
    'leaky',
    `${launcher}const child = require('node:child_process').spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
child.unref();
`,
  );
  return {
    dir,
    grandchild() {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      onTestFinished(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone, as it should be.
        }
      });
      return pid;
    },
  };
}

/** Resolves once the sandbox logged an entry matching `match` (event-driven, no polling). */
export function logged(box: Sandbox, match: (entry: EmulatorLogEntry) => boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    if (box.log.some(match)) return resolve();
    const stop = box.onLog((entry) => {
      if (match(entry)) {
        stop();
        resolve();
      }
    });
  });
}

/** Polls (bounded) until `pid` is gone or a zombie (killed, waiting for whoever adopted it to reap it). */
export async function vanishes(pid: number): Promise<boolean> {
  for (let i = 0; i < 300; i++) {
    let state: string;
    try {
      state = processState(pid);
    } catch {
      return true;
    }
    if (state === 'Z' || state === 'X') return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

/** Signals are delivered asynchronously: polls (bounded) until the process reaches `state`. */
export async function reachesState(pid: number, state: string): Promise<string> {
  let seen = processState(pid);
  for (let i = 0; i < 200 && seen !== state; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    seen = processState(pid);
  }
  return seen;
}
