import Database from 'better-sqlite3';
import { type ReadModel, readModel } from '../read-model.ts';
import { createSqliteRangeRows } from './range-rows.ts';
import type { ReadReply, ReadRequest } from './read-worker-client.ts';

/**
 * The read worker's entry, a child process of the collector (see read-worker-client.ts): its own read-only
 * connection to the collector's SQLite file. In WAL mode a reader sees every transaction committed before its
 * statement began and never blocks the writer, so the heavy reads run here while the collector keeps
 * acknowledging ingest.
 */
const send = process.send?.bind(process);
if (send === undefined)
  throw new Error('read-worker.ts runs as a child process with an IPC channel only');
const path = process.argv[2];
if (path === undefined) throw new Error('usage: read-worker <database file>');
const db = new Database(path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('cache_size = -32000');
const reads = readModel(createSqliteRangeRows(db));
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
process.on('message', async ({ id, op, arg, json }: ReadRequest) => {
  let reply: ReadReply;
  try {
    const read = reads[op] as (arg: unknown) => ReturnType<ReadModel[typeof op]>;
    const result = await read(arg);
    // Serialised and encoded here when asked: the collector sends the bytes as they are, its event loop free of
    // both. Bytes rather than a string: they reach the collector in a buffer outside its JavaScript heap, where the
    // string of a large answer was a large heap object to encode again and collect (ADR 12, addendum).
    reply = json ? { id, json: Buffer.from(JSON.stringify(result)) } : { id, result };
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
