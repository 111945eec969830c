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
});
