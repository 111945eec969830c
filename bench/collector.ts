/**
 * Collector benchmark, against real collector processes (tsx, the `npm run collector` path) on a real SQLite file
 * and on a real PostgreSQL (a throwaway cluster from the installed binaries, or LIFELINE_BENCH_PG_URL):
 *
 * - ingest events/s: batches of 50 and of 500, 8 concurrent senders over real HTTP (undici Pool), versus a raw
 *   better-sqlite3 `INSERT OR IGNORE` of the same rows into the same `events` schema, same pragmas, same
 *   transaction size, measured in the same run (three interleaved rounds, medians reported);
 * - ingest → live latency, p50/p99: 20 WebSocket clients on `/v1/live` while batches of 50 are sent at 5,000
 *   events/s, after one second of the same traffic not measured (start-up: connections, prepared statements, JIT);
 *   latency = send of a batch → a client received its last event, on this process's clock.
 *
 * - PostgreSQL: ingest events/s with one collector and with two collectors on one database (the senders split
 *   between them), next to a raw multi-row insert of the same rows into the same table; the same one against two
 *   with each collector capped at a quarter core by a cgroup CPU quota (bench/collector/cpu-cap.ts; left out where
 *   no cgroup can be made) and offered 64 senders of its own, so that the collectors, not a database sharing their
 *   two cores, bound ingest; ingest → live latency across collectors (batches sent to one, 20 clients on the
 *   other) at 5,000 events/s.
 *
 * Alone: `npx tsx --conditions=source bench/collector.ts`; `LIFELINE_BENCH_COLLECTOR=postgres` (or `sqlite`) runs
 * only that backend's rows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '@lifeline/collector';
import { exampleLifecycle, type LifelineEvent } from '@lifeline/protocol';
import pg from 'pg';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { encodeEventBody } from '../collector/src/storage/event-body.ts';
import { eventDay } from '../collector/src/storage/postgres/ingest-store.ts';
import { openPool } from '../collector/src/storage/postgres/pool.ts';
import { startThrowawayCluster } from '../collector/test/pg-cluster.ts';
import { spawnCollector } from './collector/collector-process.ts';
import { capCpu } from './collector/cpu-cap.ts';
import { percentile, runAlone } from './format.ts';
import type { BenchArea, BenchResult } from './result.ts';

const SENDERS = 8;
const ROUNDS = 3;
const THROUGHPUT_TARGET = 50_000;
const LIVE_CLIENTS = 20;
const LIVE_RATE = 5_000;
const LIVE_BATCH = 50;
const LIVE_SECONDS = 6;
const LIVE_WARM_UP_SECONDS = 1;
const LATENCY_TARGET_MS = 50;
const EVENT_ID = '"event":{"id":"';
const SCALE_OUT_TARGET = 1.6;
/** A collector's CPU in the capped scale-out figure: well below what one collector uses here (about 0.6 core). */
const CAPPED_CORES = 0.25;
/**
 * Senders per collector in the capped figure: each collector is offered the same load, enough to keep it at its
 * quota, so the figure compares capacities rather than how one fixed set of senders splits. A collector groups the
 * batches waiting when a commit starts, so fewer senders per collector means smaller groups and more CPU per
 * event: 8 senders split over two measured 1.30–1.65× one (runs of 2026-12-03), 64 split 1.58–1.85×, 64 each
 * 1.42–1.92× (median 1.70×). 64 senders are 64 environments delivering at once, a modest fleet.
 */
const CAPPED_SENDERS_PER_COLLECTOR = 64;
/** Rounds of the capped figure: its two-collector side varies more than the others (8.5k–11.3k events/s). */
const CAPPED_ROUNDS = 5;
const CROSS_LATENCY_TARGET_MS = 100;

let envCounter = 0;

/** `count` realistic events from whole lifecycles (register, init, invokes with late reports, shutdown, exit). */
function generateEvents(count: number, prefix: string): LifelineEvent[] {
  const events: LifelineEvent[] = [];
  while (events.length < count) {
    const envId = `${prefix}-${envCounter++}-${Math.random().toString(36).slice(2, 10)}`;
    events.push(
      ...exampleLifecycle({
        envId,
        functionName: `fn-${envCounter % 7}`,
        startAt: 1_700_000_000_000 + envCounter * 10_000,
        invokes: 20,
        shutdownReason: envCounter % 5 === 0 ? 'timeout' : 'spindown',
      }),
    );
  }
  return events.slice(0, count);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); 0 elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name, in clock ticks.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds the whole machine has been busy so far (all cores, from /proc/stat); 0 elsewhere. */
function machineBusySeconds(): number {
  try {
    const [, user, nice, system, , , irq, softirq, steal] = (
      readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    )
      .split(/\s+/)
      .map(Number);
    return (
      ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100
    );
  } catch {
    return 0;
  }
}

/**
 * Ingest events/s of {@link measureIngest} and how busy the collector processes were meanwhile (CPU seconds per
 * wall second, summed over them: 1 = one core): near 1 per collector, ingest is bound by the collector's CPU.
 */
async function measureIngestCpu(
  collectors: readonly { url: string; pid: number }[],
  batchSize: number,
  total: number,
  senders = SENDERS,
): Promise<{ rate: number; busy: number; machine: number }> {
  const cpuBefore = collectors.reduce((sum, { pid }) => sum + cpuSeconds(pid), 0);
  const machineBefore = machineBusySeconds();
  const started = performance.now();
  const rate = await measureIngest(
    collectors.map(({ url }) => url),
    batchSize,
    total,
    senders,
  );
  const wall = (performance.now() - started) / 1000;
  const cpu = collectors.reduce((sum, { pid }) => sum + cpuSeconds(pid), 0) - cpuBefore;
  return { rate, busy: cpu / wall, machine: (machineBusySeconds() - machineBefore) / wall };
}

/** Ingest events/s with `senders` senders spread over the collectors at `urls`. */
async function measureIngest(
  urls: string | string[],
  batchSize: number,
  total: number,
  senders = SENDERS,
): Promise<number> {
  const targets = Array.isArray(urls) ? urls : [urls];
  // Each sender stands for extensions with their own environments and sends their batches in order, one at a time,
  // as an extension does (one delivery in flight): two batches of one environment are never in flight together.
  const perSender = Math.ceil(total / senders);
  const bodies = Array.from({ length: senders }, (_, sender) =>
    chunk(generateEvents(perSender, `bench-${batchSize}-${sender}`), batchSize).map((events) =>
      JSON.stringify({ events }),
    ),
  );
  const pools = targets.map(
    (url) => new Pool(url, { connections: Math.ceil(senders / targets.length), pipelining: 1 }),
  );
  try {
    // Warm-up (not measured): JIT, statement caches, keep-alive connections.
    const warm = chunk(generateEvents(batchSize * senders * 2, `warm-${batchSize}`), batchSize);
    await Promise.all(
      warm.map((events, i) => post(pools[i % pools.length] as Pool, JSON.stringify({ events }))),
    );
    const started = performance.now();
    await Promise.all(
      bodies.map(async (own, sender) => {
        const pool = pools[sender % pools.length] as Pool;
        for (const body of own) await post(pool, body);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return (perSender * senders) / seconds;
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

/** The same rows into the collector's PostgreSQL `events` table, one multi-row insert per batch, no HTTP. */
async function measureRawPostgres(url: string, batchSize: number, total: number): Promise<number> {
  const pool = await openPool(url, 2);
  try {
    const batches = chunk(generateEvents(total, `raw-pg-${batchSize}`), batchSize);
    const client = await pool.connect();
    try {
      const started = performance.now();
      for (const batch of batches) {
        await client.query(
          `INSERT INTO event_rows (id, day, "envId", "receivedAt", data)
           SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], $5::text[])
           ON CONFLICT (day, id) DO NOTHING`,
          [
            batch.map((event) => event.id),
            batch.map((event) => eventDay(event.time)),
            batch.map((event) => event.envId),
            batch.map(() => Date.now()),
            batch.map((event) => encodeEventBody(event.id, event.envId, JSON.stringify(event))),
          ],
        );
      }
      return total / ((performance.now() - started) / 1000);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

/** A new database on the server at `serverUrl`. */
async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function post(pool: Pool, body: string): Promise<void> {
  const response = await pool.request({
    path: '/v1/events',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`ingest ${response.statusCode}: ${text}`);
}

/** The same rows into the same schema with the collector's own pragmas, no HTTP, validation or derivation. */
function measureRawSqlite(dir: string, batchSize: number, total: number, round: number): number {
  const db = openDatabase(join(dir, `raw-${batchSize}-${round}.db`));
  try {
    const batches = chunk(generateEvents(total, `raw-${batchSize}`), batchSize).map((events) =>
      events.map((event) => ({
        event,
        body: encodeEventBody(event.id, event.envId, JSON.stringify(event)),
      })),
    );
    const insert = db.prepare(
      'INSERT OR IGNORE INTO events (id, envId, receivedAt, data) VALUES (?, ?, ?, ?)',
    );
    const write = db.transaction((rows: { event: LifelineEvent; body: string }[]) => {
      const now = Date.now();
      for (const { event, body } of rows) insert.run(event.id, event.envId, now, body);
    });
    const started = performance.now();
    for (const batch of batches) write.immediate(batch);
    return total / ((performance.now() - started) / 1000);
  } finally {
    db.close();
  }
}

/** Batches sent to `url`, received by clients of `liveAt` (the same collector by default). */
async function measureLiveLatency(
  url: string,
  liveAt = url,
): Promise<{ latencies: number[]; acks: number[]; expected: number }> {
  // Warm-up at the measured rate, not measured: a fresh collector opens its database connections, prepares its
  // statements and compiles its hot paths on the first batches, which is start-up, not live latency.
  await sendAtRate(
    url,
    chunk(generateEvents(LIVE_RATE * LIVE_WARM_UP_SECONDS, 'live-warm'), LIVE_BATCH),
  );
  const head = ((await (await fetch(`${liveAt}/healthz`)).json()) as { head: number }).head;
  const batches = chunk(generateEvents(LIVE_RATE * LIVE_SECONDS, 'live'), LIVE_BATCH);
  const lastIds = new Map<string, number>();
  for (const [index, batch] of batches.entries()) {
    lastIds.set((batch.at(-1) as LifelineEvent).id, index);
  }
  const sentAt: number[] = [];
  const latencies: number[] = [];
  const wsUrl = `${liveAt.replace(/^http/, 'ws')}/v1/live?after=${head}`;
  const sockets = await Promise.all(
    Array.from(
      { length: LIVE_CLIENTS },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(wsUrl);
          socket.on('message', (data: Buffer) => {
            const now = performance.now();
            if (data.subarray(0, 20).includes('"caught-up"')) resolve(socket);
            // A batch's last event closes it. A frame carries one committed batch on SQLite, and may carry several
            // on PostgreSQL (the collector reads the log after each wake-up), so every event id of the frame is
            // looked up; only ids are read, so the measuring process does not compete for the CPU with parsing.
            for (let at = data.indexOf(EVENT_ID); at !== -1; at = data.indexOf(EVENT_ID, at + 1)) {
              const start = at + EVENT_ID.length;
              const id = data.toString('utf8', start, data.indexOf('"', start));
              const index = lastIds.get(id);
              const sent = index === undefined ? undefined : sentAt[index];
              if (sent !== undefined) latencies.push(now - sent);
            }
          });
          socket.once('error', reject);
        }),
    ),
  );
  try {
    const acks = await sendAtRate(url, batches, (i) => {
      sentAt[i] = performance.now();
    });
    const expected = batches.length * LIVE_CLIENTS;
    const deadline = performance.now() + 30_000;
    while (latencies.length < expected && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { latencies, acks, expected };
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}

/**
 * Posts `batches` to `url` at {@link LIVE_RATE} events/s, each when it is due whatever the acknowledgements do;
 * resolves with each batch's acknowledgement time (ms). `onSend` sees each batch's index as it is sent.
 */
async function sendAtRate(
  url: string,
  batches: readonly LifelineEvent[][],
  onSend: (index: number) => void = () => {},
): Promise<number[]> {
  // Enough connections that a slow acknowledgement never holds the next batch back in this process's queue
  // (the latency is measured from the send; with a few connections it counted the queue as live latency).
  const pool = new Pool(url, { connections: 32 });
  const acks: number[] = [];
  try {
    const interval = (1000 * LIVE_BATCH) / LIVE_RATE;
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < batches.length; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const body = JSON.stringify({ events: batches[i] });
      onSend(i);
      const sent = performance.now();
      inFlight.push(post(pool, body).then(() => void acks.push(performance.now() - sent)));
    }
    await Promise.all(inFlight);
    return acks;
  } finally {
    await pool.close();
  }
}

/** Runs the collector benchmark. */
export const run: BenchArea = async () => {
  const only = process.env.LIFELINE_BENCH_COLLECTOR;
  if (only === 'postgres') return postgresRows();
  const rows = await sqliteRows();
  return only === 'sqlite' ? rows : [...rows, ...(await postgresRows())];
};

/** The SQLite figures: ingest at two batch sizes against the raw insert, live latency on one collector. */
async function sqliteRows(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-collector-'));
  const rows: BenchResult[] = [];
  try {
    for (const [batchSize, total] of [
      [50, 60_000],
      [500, 120_000],
    ] as const) {
      const collector = await spawnCollector(join(dir, `ingest-${batchSize}.db`));
      const values: number[] = [];
      const baselines: number[] = [];
      try {
        // Interleaved rounds, median of each: the machine is shared and its load swings within seconds.
        for (let round = 0; round < ROUNDS; round++) {
          values.push(await measureIngest(collector.url, batchSize, total));
          baselines.push(measureRawSqlite(dir, batchSize, total, round));
        }
      } finally {
        await collector.stop();
      }
      const value = percentile(values, 50);
      const baseline = percentile(baselines, 50);
      rows.push({
        figure: `collector ingest, batches of ${batchSize}, ${SENDERS} concurrent senders over HTTP (median of ${ROUNDS})`,
        value,
        unit: 'events/s',
        baselineName: `raw better-sqlite3 insert, ${batchSize} rows per transaction`,
        baseline,
        ratio: value / baseline,
        target: `≥ ${THROUGHPUT_TARGET.toLocaleString('en-US')} events/s`,
        met: value >= THROUGHPUT_TARGET,
      });
    }
    const collector = await spawnCollector(join(dir, 'live.db'));
    try {
      const { latencies, expected } = await measureLiveLatency(collector.url);
      const p50 = percentile(latencies, 50);
      const p99 = percentile(latencies, 99);
      rows.push(
        {
          figure: `ingest → live latency p50 (${LIVE_CLIENTS} clients, ${LIVE_RATE.toLocaleString('en-US')} events/s)`,
          value: p50,
          unit: 'ms',
        },
        {
          figure: `ingest → live latency p99 (${LIVE_CLIENTS} clients, ${LIVE_RATE.toLocaleString('en-US')} events/s)`,
          value: p99,
          unit: 'ms',
          target: `≤ ${LATENCY_TARGET_MS} ms`,
          met: p99 <= LATENCY_TARGET_MS && latencies.length === expected,
        },
        {
          figure: 'live deliveries received (batch × client)',
          value: latencies.length,
          unit: 'deliveries',
          baselineName: 'expected',
          baseline: expected,
          ratio: latencies.length / expected,
          target: '= expected',
          met: latencies.length === expected,
        },
      );
    } finally {
      await collector.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The PostgreSQL figures: one and two collectors, the raw insert, live across collectors. */
/** A row of two collectors' ingest against one's, judged by the scale-out target. */
function scaleOutRow(figure: string, two: number, baselineName: string, one: number): BenchResult {
  return {
    figure,
    value: two,
    unit: 'events/s',
    baselineName,
    baseline: one,
    ratio: two / one,
    target: `≥ ${SCALE_OUT_TARGET}× one collector`,
    met: two / one >= SCALE_OUT_TARGET,
  };
}

async function postgresRows(): Promise<BenchResult[]> {
  const cluster = process.env.LIFELINE_BENCH_PG_URL
    ? { url: process.env.LIFELINE_BENCH_PG_URL, stop() {} }
    : await startThrowawayCluster();
  if (cluster === undefined)
    throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const rows: BenchResult[] = [];
  const suffix = `${process.pid}_${Date.now() % 100_000}`;
  const batchSize = 50;
  const total = 40_000;
  try {
    const loadBefore = loadavg()[0] ?? 0;
    const ones: number[] = [];
    const twos: number[] = [];
    const raws: number[] = [];
    const oneBusy: number[] = [];
    const twoBusy: number[] = [];
    const machineBusy: number[] = [];
    const oneMachineBusy: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const oneDb = await createDatabase(cluster.url, `bench_one_${suffix}_${round}`);
      const one = await spawnCollector(oneDb);
      try {
        const { rate, busy, machine } = await measureIngestCpu([one], batchSize, total);
        ones.push(rate);
        oneBusy.push(busy);
        oneMachineBusy.push(machine);
      } finally {
        await one.stop();
      }
      const twoDb = await createDatabase(cluster.url, `bench_two_${suffix}_${round}`);
      const [a, b] = await Promise.all([spawnCollector(twoDb), spawnCollector(twoDb)]);
      try {
        const { rate, busy, machine } = await measureIngestCpu([a, b], batchSize, total);
        twos.push(rate);
        twoBusy.push(busy);
        machineBusy.push(machine);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
      const rawDb = await createDatabase(cluster.url, `bench_raw_${suffix}_${round}`);
      raws.push(await measureRawPostgres(rawDb, batchSize, total));
    }
    const one = percentile(ones, 50);
    const two = percentile(twos, 50);
    const raw = percentile(raws, 50);
    // The same with each collector capped at CAPPED_CORES (its own cgroup CPU quota): the collectors are then the
    // bottleneck, as they are where the database has cores of its own, and what a second one adds shows here.
    const capped: { one: number; two: number }[] = [];
    for (let round = 0; round < CAPPED_ROUNDS; round++) {
      const measureCapped = async (count: number): Promise<number | undefined> => {
        const db = await createDatabase(cluster.url, `bench_capped_${count}_${suffix}_${round}`);
        const collectors = await Promise.all(
          Array.from({ length: count }, () => spawnCollector(db)),
        );
        const uncaps = collectors.map((collector) => capCpu(collector.pid, CAPPED_CORES));
        try {
          if (uncaps.some((uncap) => uncap === undefined)) return undefined;
          return (
            await measureIngestCpu(
              collectors,
              batchSize,
              total * count,
              CAPPED_SENDERS_PER_COLLECTOR * count,
            )
          ).rate;
        } finally {
          await Promise.all(collectors.map((collector) => collector.stop()));
          for (const uncap of uncaps) uncap?.();
        }
      };
      const oneRate = await measureCapped(1);
      const twoRate = oneRate === undefined ? undefined : await measureCapped(2);
      if (oneRate === undefined || twoRate === undefined) break;
      capped.push({ one: oneRate, two: twoRate });
    }
    const cappedMedian = (pick: (round: { one: number; two: number }) => number) =>
      capped.length === 0 ? undefined : percentile(capped.map(pick), 50);
    const cappedOne = cappedMedian((round) => round.one);
    const cappedTwo = cappedMedian((round) => round.two);
    rows.push(
      {
        figure: `PostgreSQL: one collector ingest, batches of ${batchSize}, ${SENDERS} senders (median of ${ROUNDS})`,
        value: one,
        unit: 'events/s',
        baselineName: `raw multi-row insert into PostgreSQL, ${batchSize} rows per statement`,
        baseline: raw,
        ratio: one / raw,
      },
      scaleOutRow(
        `PostgreSQL: two collectors on one database, ${SENDERS} senders split (median of ${ROUNDS})`,
        two,
        'one collector on PostgreSQL, same run',
        one,
      ),
      ...(cappedTwo === undefined || cappedOne === undefined
        ? []
        : [
            scaleOutRow(
              `PostgreSQL: two collectors vs one, each capped at ${CAPPED_CORES} core (cgroup quota) so the collectors and not the database bound ingest, ${CAPPED_SENDERS_PER_COLLECTOR} senders per collector (median of ${capped.length})`,
              cappedTwo,
              'one capped collector, same run',
              cappedOne,
            ),
          ]),
      {
        figure: `PostgreSQL: collector CPU while ingesting, two collectors (sum) vs one, in cores (median of ${ROUNDS}); machine load average ${loadBefore.toFixed(1)} at the start on ${cpus().length} cores`,
        value: percentile(twoBusy, 50),
        unit: 'cores',
        baselineName: 'one collector',
        baseline: percentile(oneBusy, 50),
        ratio: percentile(twoBusy, 50) / percentile(oneBusy, 50),
      },
      {
        figure: `PostgreSQL: whole machine CPU busy during the two-collector ingest (database, collectors, senders and anything else running; median of ${ROUNDS})`,
        value: percentile(machineBusy, 50),
        unit: 'cores',
        baselineName: `during the one-collector ingest, of ${cpus().length} cores`,
        baseline: percentile(oneMachineBusy, 50),
        ratio: percentile(machineBusy, 50) / percentile(oneMachineBusy, 50),
      },
    );
    const sqliteOne = await (async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-sqlite-'));
      const collector = await spawnCollector(join(dir, 'one.db'));
      try {
        return await measureIngest(collector.url, batchSize, total);
      } finally {
        await collector.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    rows.push({
      figure: `SQLite: one collector ingest, batches of ${batchSize}, same run as the PostgreSQL rows`,
      value: sqliteOne,
      unit: 'events/s',
      baselineName: 'one collector on PostgreSQL',
      baseline: one,
      ratio: sqliteOne / one,
    });
    const liveDb = await createDatabase(cluster.url, `bench_live_${suffix}`);
    const [a, b] = await Promise.all([spawnCollector(liveDb), spawnCollector(liveDb)]);
    try {
      const { latencies, acks, expected } = await measureLiveLatency(a.url, b.url);
      rows.push(
        {
          figure: `PostgreSQL: ingest acknowledgement p50 / p99 on the ingesting collector, same run (the share of the live latency spent before the commit)`,
          value: percentile(acks, 99),
          unit: 'ms',
          baselineName: 'p50',
          baseline: percentile(acks, 50),
          ratio: percentile(acks, 99) / percentile(acks, 50),
        },
        {
          figure: `PostgreSQL: ingest → live p50 across collectors (${LIVE_CLIENTS} clients on the other, ${LIVE_RATE.toLocaleString('en-US')} events/s)`,
          value: percentile(latencies, 50),
          unit: 'ms',
        },
        {
          figure: `PostgreSQL: ingest → live p99 across collectors (${LIVE_CLIENTS} clients on the other, ${LIVE_RATE.toLocaleString('en-US')} events/s)`,
          value: percentile(latencies, 99),
          unit: 'ms',
          baselineName: 'deliveries received / expected',
          baseline: expected,
          ratio: latencies.length / expected,
          target: `≤ ${CROSS_LATENCY_TARGET_MS} ms, every delivery`,
          met:
            percentile(latencies, 99) <= CROSS_LATENCY_TARGET_MS && latencies.length === expected,
        },
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  } finally {
    cluster.stop();
  }
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAlone(run);
}
