import { type ChildProcess, spawn } from 'node:child_process';

/** How a process ended. */
export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
  /** Epoch ms. */
  exitedAt: number;
  /** Set when the process could not be started at all (e.g. EACCES). */
  spawnError?: string;
}

/** Options of {@link ManagedProcess.start}. */
export interface StartProcessOptions {
  /** Name used in the log (extension file name or `runtime`). */
  name: string;
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  /** Bytes of output kept. */
  outputLimitBytes: number;
  /** Called per complete output line (lines longer than 8 KiB are cut). */
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
}

const MAX_LINE = 8192;

/** Every process group still running, so none outlives (or stays stopped after) the emulator's own process. */
const running = new Set<ManagedProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  for (const proc of running) proc.signalGroup('SIGKILL');
}

/**
 * A child process in its own process group (like RAPID's `Setpgid`), with bounded output capture and
 * group-wide signalling (freeze, thaw, kill).
 */
export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  /** Resolves once, when the process exited or failed to start. */
  readonly exited: Promise<ProcessExit>;
  exit: ProcessExit | undefined;
  #output = '';
  #outputDropped = 0;
  readonly #limit: number;

  private constructor(options: StartProcessOptions) {
    this.name = options.name;
    this.#limit = options.outputLimitBytes;
    this.child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      argv0: options.args.length === 0 ? options.command : undefined,
    });
    this.pid = this.child.pid;
    if (this.pid !== undefined) {
      running.add(this);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.once('exit', killAllOnExit);
      }
    }
    this.exited = new Promise<ProcessExit>((resolve) => {
      const finish = (exit: ProcessExit) => {
        if (this.exit) return;
        this.exit = exit;
        running.delete(this);
        resolve(exit);
      };
      this.child.once('error', (error: NodeJS.ErrnoException) => {
        if (this.child.pid === undefined) {
          finish({
            exitCode: null,
            signal: null,
            exitedAt: Date.now(),
            spawnError: error.code ?? error.message,
          });
        }
      });
      // 'close' comes after the output pipes drained, so output() is complete once `exited` resolves; a grandchild
      // holding the pipes open must not delay the exit much, hence the short fallback after 'exit'.
      this.child.once('exit', (code, signal) => {
        const exit = { exitCode: code, signal, exitedAt: Date.now() };
        const fallback = setTimeout(() => finish(exit), 200);
        this.child.once('close', () => {
          clearTimeout(fallback);
          finish(exit);
        });
      });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = this.child[stream];
      if (!readable) continue;
      readable.setEncoding('utf8');
      let partial = '';
      readable.on('data', (chunk: string) => {
        this.#capture(chunk);
        if (!options.onLine) return;
        partial += chunk;
        let newline = partial.indexOf('\n');
        while (newline !== -1) {
          options.onLine(stream, partial.slice(0, newline).slice(0, MAX_LINE));
          partial = partial.slice(newline + 1);
          newline = partial.indexOf('\n');
        }
        if (partial.length > MAX_LINE) {
          options.onLine(stream, partial.slice(0, MAX_LINE));
          partial = '';
        }
      });
      readable.on('end', () => {
        if (partial && options.onLine) options.onLine(stream, partial.slice(0, MAX_LINE));
        partial = '';
      });
      readable.on('error', () => {});
    }
  }

  /** Spawns `command` with `args` in a new process group. Spawn failures surface through {@link exited}. */
  static start(options: StartProcessOptions): ManagedProcess {
    return new ManagedProcess(options);
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.pid !== undefined && this.exit === undefined;
  }

  /** stdout and stderr interleaved as received, bounded (oldest output dropped first). */
  get output(): string {
    return this.#outputDropped > 0
      ? `[${this.#outputDropped} bytes dropped]\n${this.#output}`
      : this.#output;
  }

  #capture(chunk: string): void {
    this.#output += chunk;
    if (this.#output.length > this.#limit) {
      const cut = this.#output.length - this.#limit;
      this.#output = this.#output.slice(cut);
      this.#outputDropped += cut;
    }
  }

  /**
   * Sends `signal` to the whole process group (children included). Returns false when there is no group any more.
   */
  signalGroup(signal: NodeJS.Signals): boolean {
    if (this.pid === undefined) return false;
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch {
      if (!this.alive) return false;
      try {
        process.kill(this.pid, signal);
        return true;
      } catch {
        return false;
      }
    }
  }

  /** Waits for the exit at most `ms`; undefined when it did not exit in time. */
  async waitExit(ms: number): Promise<ProcessExit | undefined> {
    if (this.exit) return this.exit;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
