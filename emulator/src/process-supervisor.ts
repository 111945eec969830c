import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LogInput } from './event-log.ts';
import { type Agent, MAX_EXTENSIONS } from './extension-registry.ts';
import type { Generation } from './generation.ts';
import { findSandboxProcesses, killProcesses, type ProcessInfo } from './process-tree.ts';
import { ManagedProcess, type ProcessExit } from './processes.ts';
import type { ResolvedOptions } from './sandbox-options.ts';
import { SIMULATED_RUNTIME_SOURCE } from './simulated-runtime.ts';

/** Processes per name whose output {@link ProcessSupervisor.output} keeps. */
const MAX_TRACKED_GENERATIONS = 20;

/** What the supervisor needs from its sandbox. */
export interface SupervisorHost {
  readonly options: ResolvedOptions;
  readonly tmpDir: string;
  /** The sandbox's AWS_LAMBDA_RUNTIME_API once it listens (marks processes that belong to it). */
  readonly address: string | undefined;
  log(entry: LogInput): void;
  changed(): void;
}

/**
 * The processes of a sandbox: launches extensions and the runtime, turns their exits into generation failures,
 * signals, freezes and thaws them, and finds and kills whatever they leave behind (README "Shutdown").
 */
export class ProcessSupervisor {
  readonly #host: SupervisorHost;
  readonly #processes = new Map<string, ManagedProcess[]>();

  constructor(host: SupervisorHost) {
    this.#host = host;
  }

  /** Captured output of the processes called `name`, across the last generations. */
  output(name: string): string {
    return (this.#processes.get(name) ?? []).map((proc) => proc.output).join('');
  }

  /** Files of the extensions directory in launch order, or why they cannot be launched. */
  listExtensions(): { name: string; path: string }[] | string {
    const dir = this.#host.options.extensionsDir;
    if (!dir) return [];
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch (error) {
      return `cannot read extensions directory ${dir}: ${(error as Error).message}`;
    }
    const files: { name: string; path: string }[] = [];
    for (const name of entries) {
      const path = join(dir, name);
      try {
        if (statSync(path).isDirectory()) continue;
      } catch {
        // A dangling symlink is still launched (and fails to launch), like RAPID.
      }
      files.push({ name, path });
    }
    if (files.length > MAX_EXTENSIONS) {
      return `TooManyExtensions: ${files.length} files in ${dir}, the limit is ${MAX_EXTENSIONS}`;
    }
    return files;
  }

  launchExtension(
    generation: Generation,
    file: { name: string; path: string },
    env: Record<string, string>,
  ): void {
    const agent = generation.registry.addLaunched(file.name, file.path);
    const proc = ManagedProcess.start({
      name: file.name,
      command: file.path,
      args: [],
      env,
      cwd: dirname(dirname(file.path)),
      outputLimitBytes: this.#host.options.outputLimitBytes,
      onLine: (stream, line) => this.#onOutput(generation, file.name, 'extension', stream, line),
    });
    agent.process = proc;
    this.#track(proc);
    this.#host.log({
      kind: 'extension.launch',
      extension: file.name,
      pid: proc.pid,
      message: file.path,
    });
    proc.exited.then((exit) => this.#onExtensionExit(generation, agent, exit));
  }

  startRuntime(generation: Generation, env: Record<string, string>): void {
    const [command, ...args] = this.#host.options.bootstrap ?? [
      process.execPath,
      '--input-type=module',
      '-e',
      SIMULATED_RUNTIME_SOURCE,
    ];
    const proc = ManagedProcess.start({
      name: 'runtime',
      command: command!,
      args,
      env,
      cwd: this.#host.tmpDir,
      outputLimitBytes: this.#host.options.outputLimitBytes,
      onLine: (stream, line) => this.#onOutput(generation, 'runtime', 'function', stream, line),
    });
    generation.runtime = proc;
    this.#track(proc);
    this.#host.log({
      kind: 'runtime.start',
      extension: 'runtime',
      pid: proc.pid,
      message: basename(command!),
    });
    proc.exited.then((exit) => this.#onRuntimeExit(generation, proc, exit));
  }

  /** Signals the process group of `proc` and logs it as `process.kill`. */
  signal(proc: ManagedProcess, signal: NodeJS.Signals, name: string, reason: string): void {
    const sent = proc.signalGroup(signal);
    this.#host.log({
      kind: 'process.kill',
      extension: name,
      pid: proc.pid,
      signal,
      message: reason,
      data: { sent },
    });
  }

  /** Runtime and extension processes of `generation` that still run. */
  alive(generation: Generation): ManagedProcess[] {
    const procs: ManagedProcess[] = [];
    if (generation.runtime?.alive) procs.push(generation.runtime);
    for (const agent of generation.registry.external.values()) {
      if (agent.process?.alive) procs.push(agent.process);
    }
    return procs;
  }

  /** Pauses telemetry delivery and, with `freeze` on, SIGSTOPs every process group. */
  freeze(generation: Generation): void {
    // Managed Instances are never frozen: processes run and telemetry flows between invokes.
    if (this.#host.options.mode === 'lmi') return;
    generation.dispatcher.freeze();
    if (!this.#host.options.freeze || generation.frozen) return;
    generation.frozen = true;
    const pids: number[] = [];
    for (const proc of this.alive(generation)) {
      if (proc.signalGroup('SIGSTOP') && proc.pid !== undefined) pids.push(proc.pid);
    }
    this.#host.log({ kind: 'freeze', data: { pids } });
  }

  /**
   * SnapStart: the snapshot at the end of Init. Every process stops where it is (whatever `freeze` says) and
   * telemetry waits, until the restore thaws them.
   */
  snapshot(generation: Generation): void {
    generation.dispatcher.freeze();
    generation.frozen = true;
    const pids: number[] = [];
    for (const proc of this.alive(generation)) {
      if (proc.signalGroup('SIGSTOP') && proc.pid !== undefined) pids.push(proc.pid);
    }
    this.#host.log({ kind: 'snapshot', data: { pids } });
  }

  /** SIGCONTs frozen processes; resumes telemetry delivery too unless `telemetry` is false. */
  thaw(generation: Generation, telemetry = true): void {
    if (generation.frozen) {
      generation.frozen = false;
      const pids: number[] = [];
      for (const proc of this.alive(generation)) {
        if (proc.signalGroup('SIGCONT') && proc.pid !== undefined) pids.push(proc.pid);
      }
      this.#host.log({ kind: 'thaw', data: { pids } });
    }
    if (telemetry) generation.dispatcher.thaw();
  }

  /**
   * Every process of the generation's process trees (Linux; empty elsewhere): descendants, session and group members,
   * and holders of this sandbox's AWS_LAMBDA_RUNTIME_API (orphans that left the session). Best effort.
   */
  descendants(generation: Generation): ProcessInfo[] {
    const address = this.#host.address;
    const started = [
      generation.runtime,
      ...[...generation.registry.external.values()].map((agent) => agent.process),
    ].filter((proc): proc is ManagedProcess => proc?.pid !== undefined);
    if (started.length === 0 && !address) return [];
    try {
      return findSandboxProcesses({
        roots: started.filter((proc) => proc.alive).map((proc) => proc.pid!),
        groups: started.map((proc) => proc.pid!),
        environment: address ? `AWS_LAMBDA_RUNTIME_API=${address}` : undefined,
      });
    } catch {
      return [];
    }
  }

  /** SIGKILLs what {@link descendants} found then and finds now (orphans re-parented meanwhile). */
  killDescendants(generation: Generation, before: ProcessInfo[]): void {
    const pids = killProcesses([...before, ...this.descendants(generation)]);
    if (pids.length > 0) {
      this.#host.log({
        kind: 'process.kill',
        signal: 'SIGKILL',
        message: 'processes left behind by the sandbox',
        data: { pids },
      });
    }
  }

  #track(proc: ManagedProcess): void {
    const list = this.#processes.get(proc.name) ?? [];
    list.push(proc);
    // Output of the last generations only, so a long demo with many resets stays bounded.
    if (list.length > MAX_TRACKED_GENERATIONS)
      list.splice(0, list.length - MAX_TRACKED_GENERATIONS);
    this.#processes.set(proc.name, list);
  }

  #onOutput(
    generation: Generation,
    name: string,
    category: 'function' | 'extension',
    stream: 'stdout' | 'stderr',
    line: string,
  ): void {
    if (this.#host.options.logOutput)
      this.#host.log({ kind: 'process.output', extension: name, stream, line });
    if (!generation.ended) generation.dispatcher.publish(category, line);
  }

  #onExtensionExit(generation: Generation, agent: Agent, exit: ProcessExit): void {
    this.#host.log({
      kind: 'process.exit',
      extension: agent.name,
      extensionId: agent.id,
      pid: agent.process?.pid,
      exitCode: exit.exitCode,
      signal: exit.signal,
      state: agent.state,
      errorMessage: exit.spawnError,
    });
    if (!generation.shuttingDown && !generation.ended) {
      if (exit.spawnError) {
        agent.state = 'LaunchError';
        agent.errorType = exit.spawnError === 'EACCES' ? 'PermissionDenied' : 'UnknownError';
        generation.failure ??= {
          errorType: 'Extension.LaunchError',
          errorMessage: `${agent.name}: ${exit.spawnError}`,
        };
      } else {
        const how = exit.signal ? `signal ${exit.signal}` : `exit status ${exit.exitCode}`;
        generation.failure ??= {
          errorType: agent.state === 'ExitError' ? 'Extension.ExitError' : 'Extension.Crash',
          errorMessage: `${agent.name}: ${how}`,
        };
      }
    }
    this.#host.changed();
  }

  #onRuntimeExit(generation: Generation, proc: ManagedProcess, exit: ProcessExit): void {
    this.#host.log({
      kind: 'process.exit',
      extension: 'runtime',
      pid: proc.pid,
      exitCode: exit.exitCode,
      signal: exit.signal,
      errorMessage: exit.spawnError,
    });
    if (!generation.shuttingDown && !generation.ended) {
      const how =
        exit.spawnError ?? (exit.signal ? `signal ${exit.signal}` : `exit status ${exit.exitCode}`);
      generation.failure ??= {
        errorType: exit.spawnError ? 'Runtime.InvalidEntrypoint' : 'Runtime.ExitError',
        errorMessage: `RequestId: ${[...generation.invocations.keys()][0] ?? '-'} Error: Runtime exited with ${how}`,
      };
    }
    this.#host.changed();
  }
}
