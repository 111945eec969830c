import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { getPriority, setPriority } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  BadQueryError,
  ReadAbandonedError,
  StorageUnavailableError,
  storageError,
} from '../../errors.ts';
import type { ReadModel } from '../read-model.ts';
import type {
  JsonAnswer,
  JsonReadOptions,
  ListReads,
  QueryStore,
  ReadModelJson,
} from '../types.ts';

/** What the worker reads: the read model, the lists and the counts of /metrics. */
export type WorkerReads = ReadModel & ListReads & Pick<QueryStore, 'counts'>;
type ReadOp = keyof WorkerReads;

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
  args: unknown[];
  /** Answer the result's JSON as UTF-8 bytes. */
  json: boolean;
  /** And gzip them when they are large enough to gain from it. */
  gzip: boolean;
}

/** The worker's answer: the read's plain-data result, or what its error said. */
export type ReadReply =
  | { id: number; result: unknown }
  | { id: number; json: Uint8Array; gzip: boolean }
  | { id: number; error: { message: string; code: string | undefined } };

/** The reads served by the read worker, and how to stop it. */
export interface ReadWorker extends WorkerReads {
  /** The same reads answered as UTF-8 JSON bytes, serialised in the worker. */
  readonly json: ReadModelJson;
  /** The worker process's id, while one runs. */
  pid(): number | undefined;
  /** Reads sent to a worker so far, waiting to be sent now, and dropped unrun because nobody waited any more. */
  traffic(): { sent: number; waiting: number; abandoned: number };
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
 * Serves the read model (`/v1/window`, `/v1/stats/*`, `/v1/series`, `/v1/search`), the lists and details and the row
 * counts of `/metrics` ({@link WorkerReads}) from a worker process with its own read-only connection to the SQLite file
 * at `path`. better-sqlite3 runs a statement on the thread that calls it, so a read of a week of history on the
 * collector's thread would hold every ingest request behind it; in the worker it holds nothing but other reads. A child
 * process rather than a worker thread: on Node 20 the TypeScript loader the sources run with does not reliably reach
 * worker threads (measured: some start and exit with code 1 before running anything), while a process started with it
 * always has it. Reads are answered in the order they arrive, one at a time in the worker, the rest queued here: a read
 * whose client went away while it waited (a tab closed, or a dashboard moved to another view) is dropped unrun, so the
 * reads of a dashboard that navigated on never hold up those of the view it shows now. Results are plain data
 * (structured clone). A worker that dies fails the read it held with a 503 (retry later) and a new one serves the rest;
 * a worker outlives no collector (it exits when its IPC channel closes).
 */
export function startReadWorker(path: string): ReadWorker {
  const entry = workerEntry();
  /** Reads not yet sent, in arrival order; at most one read is in the worker at a time. */
  const queue: Queued[] = [];
  let inWorker: Queued | undefined;
  let nextId = 1;
  let worker: ChildProcess | undefined;
  let closed = false;
  let sent = 0;
  let abandoned = 0;

  const unavailable = (cause: unknown) =>
    new StorageUnavailableError(
      "the collector's read worker stopped before answering; retry later",
      { cause },
    );

  const start = (): ChildProcess => {
    const started = fork(entry.path, [path], {
      execArgv: entry.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    lowerPriority(started.pid);
    started.on('message', (reply: ReadReply) => {
      const read = inWorker;
      if (read === undefined || read.id !== reply.id) return;
      inWorker = undefined;
      settle(read);
      if ('error' in reply) read.reject(readError(reply.error));
      else
        read.resolve(
          'json' in reply
            ? ({ bytes: reply.json, gzip: reply.gzip } satisfies JsonAnswer)
            : reply.result,
        );
      next();
    });
    let failure: unknown;
    started.on('error', (error) => {
      failure = error;
    });
    started.on('exit', (code, signal) => {
      if (worker === started) worker = undefined;
      const read = inWorker;
      inWorker = undefined;
      if (read !== undefined) {
        settle(read);
        read.reject(
          unavailable(failure ?? new Error(`the read worker exited (${signal ?? `code ${code}`})`)),
        );
      }
      // The reads still queued never reached it: a new worker serves them.
      next();
    });
    idle(started);
    return started;
  };

  // An idle worker never keeps the collector's process running; one with reads to answer does until it answers.
  const idle = (child: ChildProcess) => {
    child.unref();
    child.channel?.unref();
  };
  const busy = (child: ChildProcess) => {
    child.ref();
    child.channel?.ref();
  };

  /** Sends the next queued read when the worker holds none; marks the worker idle when nothing is left. */
  const next = () => {
    if (inWorker !== undefined || closed) return;
    const read = queue.shift();
    if (read === undefined) {
      if (worker !== undefined) idle(worker);
      return;
    }
    worker ??= start();
    busy(worker);
    inWorker = read;
    sent += 1;
    worker.send({
      id: read.id,
      op: read.op,
      args: read.args,
      json: read.json,
      gzip: read.gzip,
    } satisfies ReadRequest);
  };

  /** A read leaves the queue or the worker: it no longer listens for its client going away. */
  const settle = (read: Queued) => read.abandoned?.removeEventListener('abort', read.onAbandoned);

  const send = <T>(op: ReadOp, args: unknown[], json?: JsonReadOptions): Promise<T> => {
    const abandonedBy = json?.abandoned;
    if (closed) {
      return Promise.reject(
        new StorageUnavailableError('the collector is shutting down; retry later'),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const drop = () => {
        abandoned += 1;
        reject(new ReadAbandonedError('the client went away before its read ran; dropped'));
      };
      const read: Queued = {
        id: nextId++,
        op,
        args,
        json: json !== undefined,
        gzip: json?.gzip === true,
        resolve: resolve as (value: unknown) => void,
        reject,
        abandoned: abandonedBy,
        // Dropped unrun while it waits; once in the worker it runs to its end (a statement cannot be stopped there).
        onAbandoned: () => {
          const at = queue.indexOf(read);
          if (at < 0) return;
          queue.splice(at, 1);
          settle(read);
          drop();
        },
      };
      if (abandonedBy?.aborted) {
        drop();
        return;
      }
      abandonedBy?.addEventListener('abort', read.onAbandoned, { once: true });
      queue.push(read);
      next();
    });
  };

  worker = start();
  return {
    window: (filter) => send('window', [filter]),
    shutdownStats: (filter) => send('shutdownStats', [filter]),
    functionStats: (filter) => send('functionStats', [filter]),
    series: (filter) => send('series', [filter]),
    search: (q) => send('search', [q]),
    listFunctions: (options) => send('listFunctions', [options]),
    listEnvironments: (filter) => send('listEnvironments', [filter]),
    environmentDetail: (envId, now, lostAfterMs) =>
      send('environmentDetail', [envId, now, lostAfterMs]),
    listInvocations: (filter) => send('listInvocations', [filter]),
    listShutdowns: (filter) => send('listShutdowns', [filter]),
    json: {
      window: (filter, options = {}) => send('window', [filter], options),
      shutdownStats: (filter, options = {}) => send('shutdownStats', [filter], options),
      functionStats: (filter, options = {}) => send('functionStats', [filter], options),
      series: (filter, options = {}) => send('series', [filter], options),
      search: (q, options = {}) => send('search', [q], options),
      listFunctions: (filter, options = {}) => send('listFunctions', [filter], options),
      listEnvironments: (filter, options = {}) => send('listEnvironments', [filter], options),
      listInvocations: (filter, options = {}) => send('listInvocations', [filter], options),
      listShutdowns: (filter, options = {}) => send('listShutdowns', [filter], options),
    },
    pid: () => worker?.pid,
    counts: () => send('counts', []),
    traffic: () => ({ sent, waiting: queue.length, abandoned }),
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
      const cause = new Error('the collector closed its storage');
      for (const read of queue.splice(0)) {
        settle(read);
        read.reject(unavailable(cause));
      }
      if (inWorker !== undefined) {
        settle(inWorker);
        inWorker.reject(unavailable(cause));
        inWorker = undefined;
      }
    },
  };
}

/** A read on its way: queued, or in the worker. */
interface Queued {
  id: number;
  op: ReadOp;
  args: unknown[];
  json: boolean;
  gzip: boolean;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  abandoned: AbortSignal | undefined;
  onAbandoned: () => void;
}
