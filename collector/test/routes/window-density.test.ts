import { type InvocationFacts, toInvocation, type WindowPage } from '@lifeline/protocol';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { backends, build, ingest, lifecycle } from '../helper.ts';

const T0 = 1_700_000_000_000;
const STEP = 5000;

async function get<T>(app: FastifyInstance, url: string): Promise<T> {
  const response = await app.inject({ method: 'GET', url });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as T;
}

interface Cell {
  invokes: number;
  errors: number;
  timeouts: number;
  busyMs: number;
}

/** The buckets counted by hand from every invocation row (the detailed window), as `envId/bucket` → cell. */
function countRaw(rows: readonly InvocationFacts[], from: number, to: number): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  for (const row of rows) {
    const view = toInvocation(row, null);
    if (view.startedAt < from || view.startedAt > to) continue;
    const key = `${row.envId}/${Math.floor(view.startedAt / STEP)}`;
    const cell = cells.get(key) ?? { invokes: 0, errors: 0, timeouts: 0, busyMs: 0 };
    cell.invokes += 1;
    if (view.status === 'error' || view.status === 'failure') cell.errors += 1;
    if (view.status === 'timeout') cell.timeouts += 1;
    cell.busyMs += view.durationMs ?? 0;
    cells.set(key, cell);
  }
  return cells;
}

function cellsOf(page: WindowPage): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  for (const snapshot of page.environments) {
    const activity = snapshot.activity;
    if (!activity) throw new Error(`no activity for ${snapshot.env.envId}`);
    expect([...activity.bucket].sort((a, b) => a - b)).toEqual(activity.bucket);
    activity.bucket.forEach((bucket, i) => {
      cells.set(`${snapshot.env.envId}/${bucket}`, {
        invokes: activity.invokes[i] as number,
        errors: activity.errors[i] as number,
        timeouts: activity.timeouts[i] as number,
        busyMs: activity.busyMs[i] as number,
      });
    });
  }
  return cells;
}

describe.each(backends())('window density on %s', (_name, dbPath) => {
  async function seeded() {
    const app = await build({ dbPath: await dbPath() });
    await ingest(
      app,
      lifecycle('env-busy', {
        functionName: 'alpha',
        invokes: 60,
        gapMs: 700,
        durationMs: (i) => 50 + ((i * 37) % 400),
        statusOf: (i) => (i % 7 === 3 ? 'error' : i % 11 === 5 ? 'timeout' : 'success'),
        timeoutMs: 900,
        shutdownReason: 'spindown',
      }),
    );
    // An environment whose last invoke is still running: INVOKE and platform.start, no end yet.
    const running = lifecycle('env-running', {
      functionName: 'beta',
      invokes: 4,
      startAt: T0 + 20_000,
    });
    const lastInvoke = running.findLastIndex((event) => event.type === 'invoke');
    await ingest(app, running.slice(0, lastInvoke + 2));
    // An environment whose second invoke's platform.report has not arrived (it may arrive live, late).
    const unreported = lifecycle('env-unreported', {
      functionName: 'beta',
      invokes: 3,
      startAt: T0 + 30_000,
    }).filter(
      (event) =>
        !(
          event.type === 'platform' &&
          event.recordType === 'platform.report' &&
          (event.record as { requestId?: string }).requestId === 'env-unre-req-1'
        ),
    );
    await ingest(app, unreported);
    return app;
  }

  it('counts every invocation of the range per environment and bucket, as the raw rows do', async () => {
    const app = await seeded();
    const from = T0 + 3000;
    const to = T0 + 90_000;
    const detailed = await get<WindowPage>(app, `/v1/window?from=${from}&to=${to}`);
    expect(detailed.step).toBeUndefined();
    expect(detailed.environments.every((snapshot) => snapshot.activity === undefined)).toBe(true);
    const dense = await get<WindowPage>(app, `/v1/window?from=${from}&to=${to}&step=${STEP}`);
    expect(dense.step).toBe(STEP);
    expect(dense.total).toBe(detailed.total);
    const raw = countRaw(
      detailed.environments.flatMap((snapshot) => snapshot.invocations),
      from,
      to,
    );
    expect(raw.size).toBeGreaterThan(10);
    expect(cellsOf(dense)).toEqual(raw);
    const sum = (cells: Map<string, Cell>, field: keyof Cell) =>
      [...cells.values()].reduce((total, cell) => total + cell[field], 0);
    expect(sum(raw, 'errors')).toBeGreaterThan(0);
    expect(sum(raw, 'timeouts')).toBeGreaterThan(0);
    // The range starts after env-busy's first invokes: they are not counted.
    const busy = new Map([...raw].filter(([key]) => key.startsWith('env-busy/')));
    expect(sum(busy, 'invokes')).toBeGreaterThan(40);
    expect(sum(busy, 'invokes')).toBeLessThan(60);
  });

  it('sends one by one only the invocations live folding needs: the last one, running ones, unreported ones', async () => {
    const app = await seeded();
    const dense = await get<WindowPage>(
      app,
      `/v1/window?from=${T0}&to=${T0 + 90_000}&step=${STEP}`,
    );
    const byEnv = new Map(dense.environments.map((snapshot) => [snapshot.env.envId, snapshot]));
    const busy = byEnv.get('env-busy');
    expect(busy?.invocations.map((row) => row.requestId)).toEqual([busy?.env.lastInvokeRequestId]);
    const running = byEnv.get('env-running');
    expect(running?.invocations.map((row) => [row.requestId, row.status])).toEqual([
      ['env-runn-req-3', 'running'],
    ]);
    expect(running?.activity?.invokes.reduce((a, b) => a + b, 0)).toBe(4);
    const unreported = byEnv.get('env-unreported');
    expect(unreported?.invocations.map((row) => [row.requestId, row.reportAt])).toEqual([
      ['env-unre-req-1', null],
      // The last invoke of an environment alive now: its report has not come either.
      ['env-unre-req-2', null],
    ]);
    // The environment's cursor is the detailed window's: live folding resumes at the same place.
    const detailed = await get<WindowPage>(app, `/v1/window?from=${T0}&to=${T0 + 90_000}`);
    expect(dense.environments.map((snapshot) => snapshot.cursor)).toEqual(
      detailed.environments.map((snapshot) => snapshot.cursor),
    );
    expect(dense.head).toBe(detailed.head);
  });

  it('answers 400 to a step that is not a whole number of ms ≥ 1000 or gives too many buckets', async () => {
    const app = await seeded();
    const range = `from=${T0}&to=${T0 + 90_000}`;
    for (const step of ['999', '0', '-5000', 'abc', '1e4', '1500.5', '']) {
      const response = await app.inject({ method: 'GET', url: `/v1/window?${range}&step=${step}` });
      expect(response.statusCode, `step=${step}`).toBe(400);
      expect(response.json().message).toMatch(/step/);
    }
    const tenDays = await app.inject({
      method: 'GET',
      url: `/v1/window?from=${T0}&to=${T0 + 10 * 86_400_000}&step=1000`,
    });
    expect(tenDays.statusCode).toBe(400);
    expect(tenDays.json().message).toMatch(/more than 4000 buckets/);
  });
});
