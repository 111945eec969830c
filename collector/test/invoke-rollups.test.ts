import type { FunctionStats, LifelineEvent } from '@lifeline/protocol';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStorage } from '../src/storage/index.ts';
import { sparklineStep } from '../src/storage/read-model.ts';
import type { SqliteStorage } from '../src/storage/sqlite/index.ts';
import type { Storage } from '../src/storage/types.ts';
import { backends, encode, lifecycle } from './helper.ts';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const LOST_AFTER = 2 * HOUR;

interface InvocationRow {
  startedAt: number;
  status: string;
  functionName: string | null;
  tenantId: string | null;
}

interface RollupRow {
  minute: number;
  functionName: string;
  tenantId: string;
  invokes: number;
  errors: number;
  timeouts: number;
}

/** Raw SQL on the storage's own database, for what the test checks beneath the API. */
interface Inspect {
  invocations(): Promise<InvocationRow[]>;
  rollups(): Promise<RollupRow[]>;
  close(): Promise<void>;
}

async function inspect(storage: Storage, setting: string): Promise<Inspect> {
  if (storage.kind === 'sqlite') {
    const { db } = storage as SqliteStorage;
    return {
      invocations: async () =>
        db
          .prepare(
            `SELECT i.startedAt, i.status, e.functionName, e.tenantId
             FROM invocations i JOIN environments e ON e.envId = i.envId WHERE i.startedAt IS NOT NULL`,
          )
          .all() as InvocationRow[],
      rollups: async () => db.prepare('SELECT * FROM invoke_rollups').all() as RollupRow[],
      close: async () => {},
    };
  }
  const client = new pg.Client({ connectionString: setting });
  await client.connect();
  return {
    invocations: async () =>
      (
        await client.query<InvocationRow>(
          `SELECT i."startedAt", i.status, e."functionName", e."tenantId"
           FROM invocations i JOIN environments e ON e."envId" = i."envId" WHERE i."startedAt" IS NOT NULL`,
        )
      ).rows,
    rollups: async () =>
      (
        await client.query<RollupRow>(
          'SELECT minute::float8 AS minute, "functionName", "tenantId", invokes::float8 AS invokes, errors::float8 AS errors, timeouts::float8 AS timeouts FROM invoke_rollups',
        )
      ).rows,
    close: () => client.end(),
  };
}

/** The rollup rows a from-scratch count of the stored invocations gives (zero rows dropped). */
function recount(invocations: readonly InvocationRow[]): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const invocation of invocations) {
    if (invocation.functionName === null) continue;
    const minute = Math.floor(invocation.startedAt / 60_000);
    const tenantId = invocation.tenantId ?? '';
    const id = JSON.stringify([minute, invocation.functionName, tenantId]);
    let row = rows.get(id);
    if (row === undefined) {
      row = {
        minute,
        functionName: invocation.functionName,
        tenantId,
        invokes: 0,
        errors: 0,
        timeouts: 0,
      };
      rows.set(id, row);
    }
    row.invokes += 1;
    if (invocation.status === 'error' || invocation.status === 'failure') row.errors += 1;
    if (invocation.status === 'timeout') row.timeouts += 1;
  }
  return sortRows([...rows.values()]);
}

function sortRows(rows: RollupRow[]): RollupRow[] {
  return rows
    .map((row) => ({ ...row }))
    .filter((row) => row.invokes !== 0 || row.errors !== 0 || row.timeouts !== 0)
    .sort((a, b) =>
      JSON.stringify([a.minute, a.functionName, a.tenantId]).localeCompare(
        JSON.stringify([b.minute, b.functionName, b.tenantId]),
      ),
    );
}

/** The invoke counts of the Functions view as the raw scan defines them, computed here from the rows. */
function expectedCounts(
  invocations: readonly InvocationRow[],
  range: { from: number; to: number; tenant?: string },
) {
  const step = sparklineStep(range.from, range.to);
  const buckets = Math.floor(range.to / step) - Math.floor(range.from / step) + 1;
  const byName = new Map<
    string,
    {
      invokes: number;
      errors: number;
      timeouts: number;
      series: { invokes: number[]; errors: number[] };
    }
  >();
  for (const invocation of invocations) {
    if (invocation.functionName === null) continue;
    if (invocation.startedAt < range.from || invocation.startedAt > range.to) continue;
    if (range.tenant !== undefined && invocation.tenantId !== range.tenant) continue;
    let item = byName.get(invocation.functionName);
    if (item === undefined) {
      item = {
        invokes: 0,
        errors: 0,
        timeouts: 0,
        series: { invokes: new Array(buckets).fill(0), errors: new Array(buckets).fill(0) },
      };
      byName.set(invocation.functionName, item);
    }
    const index = Math.floor(invocation.startedAt / step) - Math.floor(range.from / step);
    const error = invocation.status === 'error' || invocation.status === 'failure' ? 1 : 0;
    item.invokes += 1;
    item.errors += error;
    item.timeouts += invocation.status === 'timeout' ? 1 : 0;
    item.series.invokes[index] = (item.series.invokes[index] ?? 0) + 1;
    item.series.errors[index] = (item.series.errors[index] ?? 0) + error;
  }
  return Object.fromEntries(byName);
}

function countsOf(stats: FunctionStats) {
  return Object.fromEntries(
    stats.functions
      .filter((item) => item.invokes > 0)
      .map((item) => [
        item.functionName,
        {
          invokes: item.invokes,
          errors: item.errors,
          timeouts: item.timeouts,
          series: { invokes: item.series.invokes, errors: item.series.errors },
        },
      ]),
  );
}

/** A small deterministic generator, so the delivery order is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * Several environments' events in the batches a flaky fleet delivers them in: split at random, one environment's
 * register last (its function known late), one environment's tenant known only from its platform.start records
 * (after its invoke events), late reports turning running invocations into success/error/timeout, a SHUTDOWN by
 * timeout, and some batches sent twice.
 */
function deliveries(): LifelineEvent[][] {
  const next = random(7);
  const envs: LifelineEvent[][] = [];
  for (let index = 0; index < 6; index++) {
    envs.push(
      lifecycle(`env-${index}`, {
        functionName: `fn-${index % 3}`,
        startAt: T0 + index * 617_000 + 13_500,
        invokes: 12 + index,
        gapMs: 23_000 + index * 1_000,
        durationMs: (k) => 100 + k * 37,
        statusOf: (k) => (k % 5 === 3 ? 'error' : k % 7 === 6 ? 'timeout' : 'success'),
        shutdownReason: index === 4 ? undefined : index === 2 ? 'timeout' : 'spindown',
      }),
    );
  }
  // env-4 is alive, its last invocation still running (no runtimeDone yet).
  envs[4] = (envs[4] as LifelineEvent[]).slice(0, -1);
  const tenant = envs[3] as LifelineEvent[];
  envs[3] = tenant.map((event) =>
    event.type === 'platform' && event.recordType === 'platform.start'
      ? { ...event, record: { ...(event.record as object), tenantId: 'tenant-a' } }
      : event,
  );
  const batches: LifelineEvent[][] = [];
  envs.forEach((events, index) => {
    const chunks: LifelineEvent[][] = [];
    for (let at = 0; at < events.length; ) {
      const size = 1 + Math.floor(next() * 9);
      chunks.push(events.slice(at, at + size));
      at += size;
    }
    // The register (first chunk) of env-1 arrives last: its invocations count for no function until then.
    if (index === 1) chunks.push(chunks.shift() as LifelineEvent[]);
    for (const chunk of chunks) {
      batches.push(chunk);
      if (next() < 0.2) batches.push(chunks[Math.floor(next() * chunks.length)] as LifelineEvent[]);
    }
  });
  return batches;
}

describe.each(backends())('invoke rollups on %s', (_name, setting) => {
  it('equal a count from scratch and give the raw scan answers over any range', async () => {
    const db = await setting();
    const storage = await openStorage(db);
    const look = await inspect(storage, db);
    try {
      let receivedAt = T0;
      const firstReceived = new Map<string, number>();
      for (const batch of deliveries()) {
        receivedAt += 1000;
        const envId = (batch[0] as LifelineEvent).envId;
        if (!firstReceived.has(envId)) firstReceived.set(envId, receivedAt);
        const [result] = await storage.ingest.insertBatches([encode(batch)], receivedAt);
        expect(result).not.toBeInstanceOf(Error);
      }
      const invocations = await look.invocations();
      expect(invocations.length).toBeGreaterThan(60);
      expect(new Set(invocations.map((row) => row.status))).toEqual(
        new Set(['success', 'error', 'timeout', 'running']),
      );
      expect(invocations.some((row) => row.tenantId === 'tenant-a')).toBe(true);
      expect(sortRows(await look.rollups())).toEqual(recount(invocations));

      const starts = invocations.map((row) => row.startedAt).sort((a, b) => a - b);
      const ranges = [
        // A week: whole minutes from the rollups.
        { from: T0 - 6 * 24 * HOUR, to: T0 + 24 * HOUR },
        // Edges in the middle of minutes, and exactly on an invocation's start (both bounds are inclusive).
        { from: T0 + 17_250, to: T0 + 2 * HOUR + 43_500 },
        { from: starts[5] as number, to: starts[starts.length - 7] as number },
        // Short: a bucket under a minute, the raw scan alone.
        { from: starts[3] as number, to: (starts[3] as number) + 20 * 60_000 },
        // One tenant.
        { from: T0, to: T0 + 3 * HOUR, tenant: 'tenant-a' },
      ];
      for (const range of ranges) {
        const stats = await storage.query.functionStats({
          ...range,
          now: T0 + 3 * HOUR,
          lostAfterMs: LOST_AFTER,
        });
        expect(countsOf(stats), JSON.stringify(range)).toEqual(expectedCounts(invocations, range));
      }

      // Retention takes the environments it deletes out of the rollups: env-0..2 go (SQLite expires by receive
      // time, PostgreSQL by activity time), env-3..5 stay.
      const cutoff =
        storage.kind === 'sqlite' ? (firstReceived.get('env-3') as number) : T0 + 3 * 617_000;
      await storage.retention.expire({
        now: cutoff + HOUR,
        retentionHours: 1,
        retentionMaxMb: 10_000,
        chunkEvents: 50,
        maxChunks: 10_000,
      });
      const kept = await look.invocations();
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThan(invocations.length);
      expect(sortRows(await look.rollups())).toEqual(recount(kept));
    } finally {
      await look.close();
      await storage.close();
    }
  });
});
