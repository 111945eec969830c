import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { getPriority, setPriority } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BadQueryError, StorageUnavailableError, storageError } from '../../errors.ts';
import type { ReadModel } from '../read-model.ts';
import type { ReadModelJson } from '../types.ts';

type ReadOp = keyof ReadModel;

/**
 * The worker's niceness. Reads run below the collector's own priority so that, when dashboards keep the worker
 * busy, the kernel still hands the ingest thread a core as soon as a POST arrives: an acknowledgement waits for
 * nothing a read does (readers never block SQLite's WAL writer), only for CPU, and this keeps it from waiting for
 * that. Reads themselves lose nothing on an idle machine.
 */
const READ_WORKER_NICENESS = 10;

/** One read sent to the worker. */
export interface ReadRequest {
  id: number;
  op: ReadOp;
  arg: unknown;
  /** Answer the result's JSON as UTF-8 bytes. */
  json: boolean;
}

/** The worker's answer: the read's plain-data result, or what its error said. */
export type ReadReply =
  | { id: number; result: unknown }
  | { id: number; json: Uint8Array }
  | { id: number; error: { message: string; code: string | undefined } };

/** The read model served by the read worker, and how to stop it. */
export interface ReadWorker extends ReadModel {
  /** The same reads answered as UTF-8 JSON bytes, serialised in the worker. */
  readonly json: ReadModelJson;
  /** The worker process's id, while one runs. */
  pid(): number | undefined;
  close(): Promise<void>;
}

/**
 * The worker entry next to this module and how to run it: `.js` with plain Node when the collector is built;
 * `.ts` with tsx's loader and the `source` condition (how the workspace packages resolve their sources) when it
 * runs from its sources, whatever runs the collector itself (tsx, vitest).
 */
function workerEntry(): { path: string; execArgv: string[] } {
  const fromSources = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(
    new URL(`./read-worker.${fromSources ? 'ts' : 'js'}`, import.meta.url),
  );
  if (!fromSources) return { path, execArgv: [] };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { path, execArgv: ['--import', tsx, '--conditions=source'] };
}

/** Runs the worker below the collector's CPU priority (see READ_WORKER_NICENESS); where the platform refuses, as is. */
function lowerPriority(pid: number | undefined): void {
  if (pid === undefined) return; // the fork failed; its 'error' event says why
  try {
    setPriority(pid, Math.min(19, getPriority() + READ_WORKER_NICENESS));
  } catch {
    // Not permitted (some containers): reads still work, at the collector's priority.
  }
}

/** The error a read failed with in the worker, as the API answers it. */
function readError({ message, code }: { message: string; code: string | undefined }): Error {
  if (code === 'COLLECTOR_ERR_BAD_QUERY') return new BadQueryError(message);
  const failed = Object.assign(new Error(message), { code });
  return storageError(failed, 'the read was not answered') ?? failed;
}

/**
 * Serves the read model (`/v1/window`, `/v1/stats/*`, `/v1/series`, `/v1/search`) from a worker process with its
 * own read-only connection to the SQLite file at `path`. better-sqlite3 runs a statement on the thread that calls
 * it, so a read of a week of history on the collector's thread would hold every ingest request behind it; in the
 * worker it holds nothing but other reads. A child process rather than a worker thread: on Node 20 the TypeScript
 * loader the sources run with does not reliably reach worker threads (measured: some start and exit with code 1
 * before running anything), while a process started with it always has it. Reads are answered in the order sent;
 * results are plain data (structured clone). A worker that dies fails the reads it held with a 503 (retry later)
 * and the next read starts a new one; a worker outlives no collector (it exits when its IPC channel closes).
 */
export function startReadWorker(path: string): ReadWorker {
  const entry = workerEntry();
  const pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  let nextId = 1;
  let worker: ChildProcess | undefined;
  let closed = false;

  const failPending = (cause: unknown) => {
    for (const { reject } of pending.values()) {
      reject(
        new StorageUnavailableError(
          "the collector's read worker stopped before answering; retry later",
          { cause },
        ),
      );
    }
    pending.clear();
  };

  const start = (): ChildProcess => {
    const started = fork(entry.path, [path], {
      execArgv: entry.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    lowerPriority(started.pid);
    started.on('message', (reply: ReadReply) => {
      const waiting = pending.get(reply.id);
      if (waiting === undefined) return;
      pending.delete(reply.id);
      if (pending.size === 0) idle(started);
      if ('error' in reply) waiting.reject(readError(reply.error));
      else waiting.resolve('json' in reply ? reply.json : reply.result);
    });
    let failure: unknown;
    started.on('error', (error) => {
      failure = error;
    });
    started.on('exit', (code, signal) => {
      if (worker === started) worker = undefined;
      failPending(failure ?? new Error(`the read worker exited (${signal ?? `code ${code}`})`));
    });
    idle(started);
    return started;
  };

  // An idle worker never keeps the collector's process running; one answering a read does until it answers.
  const idle = (child: ChildProcess) => {
    child.unref();
    child.channel?.unref();
  };
  const busy = (child: ChildProcess) => {
    child.ref();
    child.channel?.ref();
  };

  const send = <T>(op: ReadOp, arg: unknown, json = false): Promise<T> => {
    if (closed) {
      return Promise.reject(
        new StorageUnavailableError('the collector is shutting down; retry later'),
      );
    }
    worker ??= start();
    const child = worker;
    const id = nextId++;
    const answer = new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
    busy(child);
    child.send({ id, op, arg, json } satisfies ReadRequest);
    return answer;
  };

  worker = start();
  return {
    window: (filter) => send('window', filter),
    shutdownStats: (filter) => send('shutdownStats', filter),
    functionStats: (filter) => send('functionStats', filter),
    series: (filter) => send('series', filter),
    search: (q) => send('search', q),
    json: {
      window: (filter) => send('window', filter, true),
      shutdownStats: (filter) => send('shutdownStats', filter, true),
      functionStats: (filter) => send('functionStats', filter, true),
      series: (filter) => send('series', filter, true),
      search: (q) => send('search', q, true),
    },
    pid: () => worker?.pid,
    async close() {
      closed = true;
      const stopping = worker;
      worker = undefined;
      if (stopping !== undefined && stopping.exitCode === null && stopping.signalCode === null) {
        const exited = new Promise<void>((resolve) => stopping.once('exit', () => resolve()));
        // Held until it exits: closing is waited for, even with nothing else left to run.
        stopping.ref();
        stopping.disconnect();
        await exited;
      }
      failPending(new Error('the collector closed its storage'));
    },
  };
}
