import { statSync } from 'node:fs';
import { request } from 'node:http';
import { getPriority } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import type { SqliteStorage } from '../src/storage/sqlite/index.ts';
import { createSqliteCounts, createSqliteListReads } from '../src/storage/sqlite/query-store.ts';
import { lifecycle, listen, tempDir } from './helper.ts';

const T0 = 1_700_000_000_000;
const LOST_AFTER = 7_200_000;

/** The read worker of a listening collector on a fresh SQLite file, with a little history in it. */
async function collectorWithWorker() {
  const dbPath = `${tempDir()}/lifeline.db`;
  const collector = await listen({ dbPath });
  const storage = collector.app.storage as SqliteStorage;
  const worker = storage.readWorker;
  if (worker === undefined) throw new Error('a SQLite file collector has a read worker');
  const post = (envId: string) =>
    fetch(`${collector.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: lifecycle(envId, { invokes: 2, startAt: T0 }) }),
    });
  expect((await post('env-seed')).status).toBe(200);
  const window = (signal?: AbortSignal) =>
    fetch(`${collector.url}/v1/window?from=${T0 - 1000}&to=${T0 + 600_000}&limit=10`, { signal });
  return { collector, dbPath, storage, worker, post, window };
}

/** The worker's pid once it answered a read (it is started with the storage). */
async function pidOf(worker: { pid(): number | undefined }): Promise<number> {
  const pid = worker.pid();
  if (pid === undefined) throw new Error('no read worker running');
  return pid;
}

describe('SQLite read worker', () => {
  it('acknowledges an ingest POST while a read is in flight, before the read answers', async () => {
    const { worker, post, window } = await collectorWithWorker();
    expect((await window()).status).toBe(200);
    const pid = await pidOf(worker);
    // The worker stopped stands for a read that takes as long as it takes: ingest must not wait for it.
    process.kill(pid, 'SIGSTOP');
    const order: string[] = [];
    try {
      const read = window().then(async (response) => {
        order.push('read');
        return response;
      });
      const ingest = await post('env-during-read');
      order.push('ingest');
      expect(ingest.status).toBe(200);
      process.kill(pid, 'SIGCONT');
      const answered = await read;
      expect(answered.status).toBe(200);
      const page = (await answered.json()) as { environments: { env: { envId: string } }[] };
      // The read ran after the commit: it sees the environment ingested while it waited.
      expect(page.environments.map((item) => item.env.envId)).toContain('env-during-read');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(order).toEqual(['ingest', 'read']);
  });

  it("runs below the collector's CPU priority, so busy reads leave the ingest thread a core", async () => {
    const { worker, window } = await collectorWithWorker();
    expect((await window()).status).toBe(200);
    const pid = await pidOf(worker);
    // Niceness: higher is lower priority. The worker's is this process's plus 10, capped at 19.
    expect(getPriority(pid)).toBe(Math.min(19, getPriority() + 10));
  });

  it('answers 503 to the reads a crashed worker held and serves the next read from a new worker', async () => {
    const { storage, worker, post, window } = await collectorWithWorker();
    expect((await window()).status).toBe(200);
    const pid = await pidOf(worker);
    // Stopped first, so the read is surely held when the worker dies.
    process.kill(pid, 'SIGSTOP');
    const held = storage.query.functionStats({
      from: T0 - 1000,
      to: T0 + 600_000,
      now: T0,
      lostAfterMs: LOST_AFTER,
    });
    process.kill(pid, 'SIGKILL');
    await expect(held).rejects.toMatchObject({
      statusCode: 503,
      code: 'COLLECTOR_ERR_STORAGE_UNAVAILABLE',
    });
    // Ingest never depended on the worker; the next read starts a new one.
    expect((await post('env-after-crash')).status).toBe(200);
    const next = await window();
    expect(next.status).toBe(200);
    expect(worker.pid()).not.toBe(pid);
  });

  it('answers the JSON reads as UTF-8 bytes equal to the object reads, also for text beyond ASCII', async () => {
    const { collector, worker } = await collectorWithWorker();
    const name = 'résumé-✓-函数';
    const events = lifecycle('env-unicode', { invokes: 1, startAt: T0, functionName: name });
    const posted = await fetch(`${collector.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(posted.status).toBe(200);
    const filter = {
      from: T0 - 1000,
      to: T0 + 600_000,
      limit: 10,
      now: T0,
      lostAfterMs: LOST_AFTER,
    };
    const { bytes, gzip } = await worker.json.window(filter);
    // Bytes, not a string: a large answer stays outside the collector's JavaScript heap.
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(gzip).toBe(false);
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual(await worker.window(filter));
    // Asked for gzip, the same answer comes gzipped (it is over the 1 KB below which it would not be).
    const zipped = await worker.json.window(filter, { gzip: true });
    expect(zipped.gzip).toBe(true);
    expect(JSON.parse(gunzipSync(zipped.bytes).toString('utf8'))).toEqual(
      await worker.window(filter),
    );
    const answered = await fetch(
      `${collector.url}/v1/window?from=${T0 - 1000}&to=${T0 + 600_000}&function=${encodeURIComponent(name)}`,
    );
    expect(answered.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const page = (await answered.json()) as { environments: { env: { functionName: string } }[] };
    expect(page.environments.map((item) => item.env.functionName)).toEqual([name]);
  });

  it('gzips large answers for clients that take gzip, and only for them', async () => {
    const { collector, post } = await collectorWithWorker();
    for (let i = 0; i < 5; i++) expect((await post(`env-gzip-${i}`)).status).toBe(200);
    const path = `/v1/window?from=${T0 - 1000}&to=${T0 + 600_000}`;
    /** The raw answer: Node's fetch would take gzip and undo it unseen. */
    const raw = (acceptEncoding?: string) =>
      new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        const headers = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
        request(`${collector.url}${path}`, { headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        })
          .on('error', reject)
          .end();
      });
    const plain = await raw();
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('accept-encoding');
    const page = JSON.parse(plain.body.toString('utf8')) as { environments: unknown[] };
    expect(page.environments).toHaveLength(6);
    const zipped = await raw('br;q=1.0, gzip;q=0.8');
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('accept-encoding');
    expect(Number(zipped.headers['content-length'])).toBe(zipped.body.length);
    expect(zipped.body.length).toBeLessThan(plain.body.length / 4);
    expect(JSON.parse(gunzipSync(zipped.body).toString('utf8'))).toEqual(page);
    expect((await raw('gzip;q=0')).headers['content-encoding']).toBeUndefined();
  });

  it('serves the lists, details and counts from the worker, with the answers read on the collector connection', async () => {
    const { collector, storage, worker } = await collectorWithWorker();
    const events = lifecycle('env-second', { invokes: 2, startAt: T0, shutdownReason: 'spindown' });
    const posted = await fetch(`${collector.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(posted.status).toBe(200);
    const local = createSqliteListReads(storage.db);
    const range = `from=${T0 - 1000}&to=${T0 + 600_000}`;
    const now = Date.now();
    // The collector's clock moves on between the two reads: every environment here ended long before either.
    const reads: [string, () => Promise<unknown>][] = [
      ['/v1/functions', () => local.listFunctions({ limit: 100, now, lostAfterMs: LOST_AFTER })],
      [
        `/v1/environments?${range}`,
        () =>
          local.listEnvironments({
            from: T0 - 1000,
            to: T0 + 600_000,
            limit: 100,
            now,
            lostAfterMs: LOST_AFTER,
          }),
      ],
      [
        '/v1/invocations?limit=3',
        () => local.listInvocations({ limit: 3, now, lostAfterMs: LOST_AFTER }),
      ],
      [
        '/v1/shutdowns?limit=100',
        () => local.listShutdowns({ limit: 100, now, lostAfterMs: LOST_AFTER }),
      ],
      ['/v1/environments/env-second', () => local.environmentDetail('env-second', now, LOST_AFTER)],
    ];
    for (const [path, read] of reads) {
      const sent = worker.traffic().sent;
      const answered = await fetch(`${collector.url}${path}`);
      expect(answered.status, path).toBe(200);
      expect(worker.traffic().sent, path).toBe(sent + 1);
      const body = (await answered.json()) as { items?: unknown[] };
      expect(body, path).toEqual(await read());
      if (body.items !== undefined) expect(body.items.length, path).toBeGreaterThan(0);
    }
    const missing = await fetch(`${collector.url}/v1/environments/env-nobody`);
    expect(missing.status).toBe(404);
    // The row counts of /metrics walk whole indexes: the worker reads them too.
    const sent = worker.traffic().sent;
    const counted = await storage.query.counts();
    expect(worker.traffic().sent).toBe(sent + 1);
    expect(counted).toEqual(await createSqliteCounts(storage.db).counts());
    expect(counted.environments).toBe(2);
  });

  it('drops unrun a read whose client went away while it waited, and serves the others', async () => {
    const { worker, window } = await collectorWithWorker();
    expect((await window()).status).toBe(200);
    const pid = await pidOf(worker);
    const before = worker.traffic();
    // Stopped, the worker holds the first read; the second waits in the collector.
    process.kill(pid, 'SIGSTOP');
    try {
      const held = window();
      await vi.waitFor(() => expect(worker.traffic().sent).toBe(before.sent + 1), {
        timeout: 5000,
      });
      const leaving = new AbortController();
      const left = window(leaving.signal).catch((error: unknown) => error);
      await vi.waitFor(() => expect(worker.traffic().waiting).toBe(1), { timeout: 5000 });
      leaving.abort();
      await vi.waitFor(() => expect(worker.traffic().abandoned).toBe(before.abandoned + 1), {
        timeout: 5000,
      });
      expect(worker.traffic().waiting).toBe(0);
      expect(await left).toBeInstanceOf(Error);
      process.kill(pid, 'SIGCONT');
      expect((await held).status).toBe(200);
      // The dropped read never reached the worker; the next one does.
      expect((await window()).status).toBe(200);
      expect(worker.traffic().sent).toBe(before.sent + 2);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('checkpoints between reads, so that the next commit starts the WAL over instead of growing it', async () => {
    const { dbPath, post, window } = await collectorWithWorker();
    const walBytes = () => statSync(`${dbPath}-wal`).size;
    for (let i = 0; i < 5; i++) expect((await post(`env-${i}`)).status).toBe(200);
    // Far below the writer's own checkpoint threshold (1,000 pages): only the worker copies these frames.
    const grown = walBytes();
    // The worker checkpoints right after answering a read and answers the next read only after that: once the
    // second read is in, everything committed before it is in the database file.
    expect((await window()).status).toBe(200);
    expect((await window()).status).toBe(200);
    expect((await post('env-after-reads')).status).toBe(200);
    // Started over: the commit overwrote the WAL's first frames. Appended, the file would have grown.
    expect(walBytes()).toBe(grown);
  });

  it('answers 400 for a bad cursor from the worker, as the in-process read did', async () => {
    const { collector } = await collectorWithWorker();
    const response = await fetch(
      `${collector.url}/v1/window?from=${T0}&to=${T0 + 1000}&cursor=not-a-cursor`,
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'COLLECTOR_ERR_BAD_QUERY' });
  });
});
