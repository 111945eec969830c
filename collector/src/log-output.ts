import { write, writeSync } from 'node:fs';

/**
 * Where the collector's log lines go. Writing never throws and never blocks the event loop: a line that cannot be
 * written (full disk, closed pipe, I/O error) or that would grow the queue past its bound (a reader that stopped
 * reading) is dropped and counted, and the collector keeps serving. A collector that hangs or dies because its log
 * disk filled would lose far more (ingest, the live stream) than a few log lines; the drop count is in `/metrics`
 * (`lifeline_log_lines_dropped_total`) so the loss is visible.
 */
export interface LogOutput {
  /** pino's destination interface: one JSON line. */
  write(line: string): void;
  /** Lines dropped so far. */
  readonly droppedLines: number;
  /** Writes what is queued synchronously, best effort (at exit). */
  flushSync(): void;
}

/** Queued bytes beyond which new lines are dropped. */
const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
/** Wait before retrying a write the descriptor refused with EAGAIN (a non-blocking pipe that is full). */
const EAGAIN_RETRY_MS = 20;

/** A {@link LogOutput} writing to file descriptor `fd`. */
export function createLogOutput(fd: number, maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES): LogOutput {
  let queue: string[] = [];
  let queuedBytes = 0;
  /** The batch being written (what is left of it after a partial write) and the lines it holds. */
  let inFlight: { bytes: Buffer; lines: number } | undefined;
  let dropped = 0;

  const take = (): { bytes: Buffer; lines: number } | undefined => {
    if (queue.length === 0) return undefined;
    const batch = { bytes: Buffer.from(queue.join(''), 'utf8'), lines: queue.length };
    queue = [];
    queuedBytes = 0;
    return batch;
  };

  const pump = (): void => {
    inFlight ??= take();
    const batch = inFlight;
    if (batch === undefined) return;
    write(fd, batch.bytes, 0, batch.bytes.length, null, (error, written) => {
      if (error) {
        if (error.code === 'EAGAIN') {
          setTimeout(pump, EAGAIN_RETRY_MS).unref();
          return;
        }
        dropped += batch.lines;
        inFlight = undefined;
      } else if (written < batch.bytes.length) {
        batch.bytes = batch.bytes.subarray(written);
      } else {
        inFlight = undefined;
      }
      pump();
    });
  };

  return {
    write(line) {
      const bytes = Buffer.byteLength(line, 'utf8');
      if (queuedBytes + bytes > maxQueuedBytes) {
        dropped += 1;
        return;
      }
      queue.push(line);
      queuedBytes += bytes;
      if (inFlight === undefined && queue.length === 1) pump();
    },
    get droppedLines() {
      return dropped;
    },
    flushSync() {
      const rest = take();
      if (rest === undefined) return;
      try {
        writeSync(fd, rest.bytes);
      } catch {
        dropped += rest.lines;
      }
    },
  };
}

let stdout: LogOutput | undefined;

/** The process's one {@link LogOutput} on stdout (fd 1), flushed at exit. */
export function stdoutLogOutput(): LogOutput {
  if (stdout === undefined) {
    const output = createLogOutput(1);
    process.once('exit', () => output.flushSync());
    stdout = output;
  }
  return stdout;
}
