import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InvokeResult, ShutdownResult } from '@lifeline/emulator';
import { onTestFinished } from 'vitest';

/** One environment of a Python function with a layer attached, on a machine without Node.js. */
export interface NoNodeScenario {
  /** The layer directory (`extensions/lifeline` + `lifeline/`). */
  layerDir: string;
  /** The function's environment variables (the extension's configuration). */
  env: Record<string, string>;
  /** Successful invokes before the end. */
  invokes: number;
  /** How the environment ends: idle spindown, an invoke that times out, or a runtime that crashes mid-invoke. */
  reason: 'spindown' | 'timeout' | 'failure';
  /**
   * Put this machine's Node.js where Lambda's Node.js runtimes keep theirs, `/var/lang/bin/node` (a tmpfs over /var in
   * the namespace), still with no `node` on PATH. Default false.
   */
  lambdaNode?: boolean;
  python: string;
  tmpDir: string;
}

/** What the scenario reports. */
export interface NoNodeScenarioResult {
  invokes: InvokeResult[];
  shutdown?: ShutdownResult;
  /** `/proc/<pid>/exe` of the extension process after the first invoke. */
  executable?: string;
  /** The extension's captured stdout and stderr. */
  output: string;
  /** Lambda-Extension-Identifier of each registration of the extension. */
  extensionIds: string[];
}

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCENARIO = fileURLToPath(new URL('./no-node-scenario.ts', import.meta.url));

/** The real Python interpreter (not a version-manager shim that may itself need PATH). */
export function pythonExecutable(): string {
  return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
    encoding: 'utf8',
  }).trim();
}

/**
 * Runs `scenario` in a private mount namespace where `/usr/bin/node` (and so `/bin/node`) is an empty, non-executable
 * file, so no `node` exists on any PATH the emulator gives the function and its extensions. The emulator itself runs
 * on this Node.js bound at `<tmp>/host-runtime` (the emulator puts its own directory on that PATH, and nothing there
 * is called `node`). Needs root (unshare and mount), as on the project's machines and CI.
 */
export async function runWithoutNode(
  scenario: Omit<NoNodeScenario, 'python' | 'tmpDir' | 'lambdaNode'> & { lambdaNode?: boolean },
): Promise<NoNodeScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-no-node-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const hidden = join(dir, 'hidden');
  const hostRuntime = join(dir, 'host-runtime');
  writeFileSync(hidden, '');
  writeFileSync(hostRuntime, '');
  const full: NoNodeScenario = {
    ...scenario,
    python: pythonExecutable(),
    tmpDir: join(dir, 'tmp'),
  };
  const script = [
    'set -e',
    `mount --bind ${JSON.stringify(process.execPath)} "$HOST_RUNTIME"`,
    ...(scenario.lambdaNode
      ? [
          'mount -t tmpfs tmpfs /var',
          'mkdir -p /var/lang/bin',
          ': > /var/lang/bin/node',
          `mount --bind ${JSON.stringify(process.execPath)} /var/lang/bin/node`,
        ]
      : []),
    'for node in /usr/bin/node /usr/local/bin/node; do [ -e "$node" ] && mount --bind "$HIDDEN" "$node"; done',
    // bash's `command -v` names a non-executable file when nothing better exists, so test what it names.
    'if [ -x "$(command -v node)" ]; then echo "node still reachable: $(command -v node)" >&2; exit 9; fi',
    'exec "$HOST_RUNTIME" --import tsx --conditions=source "$SCENARIO"',
  ].join('\n');
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'unshare',
      ['--mount', '--propagation', 'private', '--', '/bin/bash', '-c', script],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: '/usr/local/bin:/usr/bin:/bin',
          HOME: process.env.HOME ?? '/root',
          HIDDEN: hidden,
          HOST_RUNTIME: hostRuntime,
          SCENARIO,
          LIFELINE_SCENARIO: JSON.stringify(full),
        },
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, out, err) => {
        if (error) reject(new Error(`the scenario failed: ${error.message}\n${err}\n${out}`));
        else resolve(out);
      },
    );
  });
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as NoNodeScenarioResult;
}
