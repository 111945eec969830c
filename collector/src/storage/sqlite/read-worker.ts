import { constants, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { readModel } from '../read-model.ts';
import { createSqliteCounts, createSqliteListReads } from './query-store.ts';
import { createSqliteRangeRows } from './range-rows.ts';
import type { ReadReply, ReadRequest, WorkerReads } from './read-worker-client.ts';

/**
 * The read worker's entry, a child process of the collector (see read-worker-client.ts): its own read-only
 * connection to the collector's SQLite file (and one more, for checkpoints only). In WAL mode a reader sees every
 * transaction committed before its statement began and never blocks the writer, so the heavy reads run here while
 * the collector keeps acknowledging ingest.
 */
const send = process.send?.bind(process);
if (send === undefined)
  throw new Error('read-worker.ts runs as a child process with an IPC channel only');
const path = process.argv[2];
if (path === undefined) throw new Error('usage: read-worker <database file>');
const db = new Database(path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('cache_size = -32000');
const reads: WorkerReads = {
  ...readModel(createSqliteRangeRows(db)),
  ...createSqliteListReads(db),
  ...createSqliteCounts(db),
};
/**
 * A connection of its own for checkpoints, run between reads. SQLite starts its WAL over from the beginning only
 * once every frame is copied into the database file and no reader still uses one, and a checkpoint can copy no
 * frame newer than the oldest open read. While dashboards keep this worker busy there is always an open read:
 * the writer's own checkpoints (at commit, on the ingest thread) copy little, and the WAL grows for as long as the
 * reads go on (measured at 10M events under ten dashboards: to 99 MB in 25 s, against 4 MB when idle; each commit
 * then writes to newly allocated blocks). Right after a read, this worker holds none: a passive checkpoint here
 * copies everything committed so far, off the ingest thread, and the next read starts on a fully copied WAL, which
 * lets the writer's next commit start the WAL over. Passive: it never waits for, nor blocks, the writer.
 * Read-only connections may not checkpoint, hence a second one (it runs nothing else).
 */
const checkpointer = new Database(path, { fileMustExist: true });

function checkpoint(): void {
  try {
    checkpointer.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy (the writer checkpointing at the same time) or failing: the writer's own checkpoints remain.
  }
}
// The collector gone (even killed), nothing is left to answer.
process.on('disconnect', () => process.exit(0));
/**
 * Answers smaller than this go as they are: gzip's header and a round of deflate gain nothing on a few hundred
 * bytes (a shutdown-stats answer of 1 KB is 2.5× smaller gzipped, a 7-day window page 39×).
 */
const GZIP_MIN_BYTES = 1024;

/**
 * The JSON answer, gzipped at the fastest level when asked and large enough. Window pages are repetitive JSON: at
 * 10M events a 685 KB page of 7 days became 18 KB in 1.2 ms (level 6: 15 KB in 2.0 ms). Compressed here, a large
 * answer crosses to the collector, sits in its memory and goes to the network 30–40 times smaller: the collector's
 * full garbage collections under ten dashboards were those that large answers' buffers triggered (ADR 12).
 */
function jsonAnswer(result: unknown, gzip: boolean): { json: Uint8Array; gzip: boolean } {
  const bytes = Buffer.from(JSON.stringify(result));
  if (!gzip || bytes.length < GZIP_MIN_BYTES) return { json: bytes, gzip: false };
  return { json: gzipSync(bytes, { level: constants.Z_BEST_SPEED }), gzip: true };
}

process.on('message', async ({ id, op, args, json, gzip }: ReadRequest) => {
  let reply: ReadReply;
  try {
    const read = reads[op] as (...args: unknown[]) => Promise<unknown>;
    const result = await read(...args);
    // Serialised and encoded here when asked: the collector sends the bytes as they are, its event loop free of
    // both. Bytes rather than a string: they reach the collector in a buffer outside its JavaScript heap, where the
    // string of a large answer was a large heap object to encode again and collect (ADR 12, addendum).
    reply = json ? { id, ...jsonAnswer(result, gzip) } : { id, result };
  } catch (error) {
    const failed = error instanceof Error ? error : new Error(String(error));
    const code = (failed as { code?: unknown }).code;
    reply = {
      id,
      error: { message: failed.message, code: typeof code === 'string' ? code : undefined },
    };
  }
  send(reply);
  checkpoint();
});
