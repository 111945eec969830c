/**
 * Extension benchmark: Lifeline against a bare `node:http` extension that only registers and loops on /event/next,
 * both launched the same way (bash launcher → node) under the emulator, in the same run.
 *
 * - cold start: the emulator's spawn (`extension.launch`) → `extension.register`, and → first `extension.next`;
 * - RSS: /proc/<pid>/status VmRSS and VmHWM of each extension process after the invokes;
 * - hold: INVOKE written to the extension (`event.invoke`) → its next `/event/next`, p50/p99, with a loopback
 *   collector in its own process. Lifeline's hold includes one round trip to that collector by design (an INVOKE is
 *   acknowledged before `/event/next`, bounded by `LIFELINE_INVOKE_WAIT_MS`), so the same run also measures that
 *   round trip alone (bench process → loopback collector) and each extension's CPU time per invoke (utime + stime
 *   from /proc): on a loaded machine the hold moves with the load, the CPU time much less;
 * - the same cold start and RSS for Lifeline reading its token from Secrets Manager at run time (a loopback fake that
 *   checks the SigV4 signature): the AWS code is a lazy chunk and must not cost the cold start;
 * - the live invoke end: Lifeline with `LIFELINE_LIVE_INVOKE_END=on` against `off`, per invoke the extension overhead
 *   (runtime's /next → last extension /next, the emulator's `extensionOverhead` span) and the billed duration (whole
 *   invoke phase rounded up to 1 ms, as Lambda bills it): what waiting for `platform.runtimeDone` costs.
 *
 * Alone: `npx tsx --conditions=source bench/extension.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type EmulatorLogEntry, Sandbox } from '@lifeline/emulator';
import { FAKE_CREDENTIALS, startFakeAws } from '../extension/test/helpers/fake-aws.ts';
import { prepareLayers } from './extension/layers.ts';
import { runAlone } from './format.ts';
import type { BenchArea, BenchResult } from './result.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const COLD_STARTS = 30;
const INVOKES = 300;
const LIVE_END_INVOKES = 150;

/** `secret`: the Lifeline layer with `LIFELINE_TOKEN_SECRET_ARN` instead of `LIFELINE_TOKEN`. */
type Name = 'lifeline' | 'bare' | 'secret';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-token';

/** Runs the extension benchmark. */
export const run: BenchArea = async () => {
  const root = mkdtempSync(join(tmpdir(), 'lifeline-bench-ext-'));
  const collector = await startCollector();
  let closeAws: (() => Promise<void>) | undefined;
  try {
    const aws = await startFakeAws((close) => {
      closeAws = close;
    });
    aws.state.secrets.set(SECRET_ARN, 'bench');
    const layers = await prepareLayers(root);
    const lifelineEnv = {
      LIFELINE_COLLECTOR_URL: collector.url,
      LIFELINE_TELEMETRY_PORT: '0',
    };
    const envs: Record<Name, Record<string, string>> = {
      bare: {},
      lifeline: { ...lifelineEnv, LIFELINE_TOKEN: 'bench' },
      secret: {
        ...lifelineEnv,
        LIFELINE_TOKEN_SECRET_ARN: SECRET_ARN,
        AWS_REGION: aws.region,
        AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: FAKE_CREDENTIALS.sessionToken,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      },
    };
    const env = (name: Name) => envs[name];
    const dirs: Record<Name, string> = {
      lifeline: layers.lifeline,
      bare: layers.bare,
      secret: layers.lifeline,
    };

    const cold: Record<Name, { registered: number[]; next: number[] }> = {
      lifeline: { registered: [], next: [] },
      bare: { registered: [], next: [] },
      secret: { registered: [], next: [] },
    };
    const names = ['bare', 'lifeline', 'secret'] as const;
    // Warm the file cache and the emulator once per extension; not measured.
    for (const name of names) await coldStart(name, dirs[name], env(name), root);
    for (let i = 0; i < COLD_STARTS; i++) {
      // Rotate the order so no variant always runs right after the same one.
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]!;
        const sample = await coldStart(name, dirs[name], env(name), root);
        cold[name].registered.push(sample.registered);
        cold[name].next.push(sample.next);
      }
    }

    const steady: Record<Name, Steady> = {
      bare: await steadyState('bare', dirs.bare, env('bare'), root),
      lifeline: await steadyState('lifeline', dirs.lifeline, env('lifeline'), root),
      secret: await steadyState('secret', dirs.secret, env('secret'), root),
    };
    const liveEnd = (mode: 'on' | 'off') =>
      steadyState(
        'lifeline',
        dirs.lifeline,
        { ...env('lifeline'), LIFELINE_LIVE_INVOKE_END: mode },
        root,
        LIVE_END_INVOKES,
      );
    const liveOff = await liveEnd('off');
    const liveOn = await liveEnd('on');
    const roundTrips = await collectorRoundTrips(collector.url, INVOKES);
    const fetched = aws.calls.filter((call) => call.status === 200).length;
    if (fetched === 0 || fetched !== aws.calls.length)
      throw new Error(
        `runtime token: ${aws.calls.length} GetSecretValue calls, ${fetched} answered 200`,
      );

    const rows: BenchResult[] = [];
    const ratioRow = (
      figure: string,
      unit: string,
      value: number,
      baseline: number,
      limit: number,
    ): BenchResult => ({
      figure,
      value,
      unit,
      baselineName: 'bare node:http extension',
      baseline,
      ratio: value / baseline,
      target: `≤ ${limit}× baseline`,
      met: value / baseline <= limit,
    });
    rows.push(
      ratioRow(
        'extension cold start: process start → registered (median)',
        'ms',
        median(cold.lifeline.registered),
        median(cold.bare.registered),
        1.25,
      ),
      ratioRow(
        'extension cold start: process start → first /event/next (median)',
        'ms',
        median(cold.lifeline.next),
        median(cold.bare.next),
        1.25,
      ),
      ratioRow(
        `extension RSS after ${INVOKES} invokes (VmRSS)`,
        'MB',
        steady.lifeline.rss,
        steady.bare.rss,
        1.25,
      ),
      ratioRow(
        `extension peak RSS after ${INVOKES} invokes (VmHWM)`,
        'MB',
        steady.lifeline.hwm,
        steady.bare.hwm,
        1.25,
      ),
    );
    for (const [label, q, limit] of [
      ['p50', 0.5, 2],
      ['p99', 0.99, 10],
    ] as const) {
      const value = quantile(steady.lifeline.holds, q);
      const baseline = quantile(steady.bare.holds, q);
      rows.push({
        figure: `extension hold per invoke ${label} (INVOKE → next /event/next, loopback collector)`,
        value,
        unit: 'ms',
        baselineName: 'bare node:http extension',
        baseline,
        ratio: value / baseline,
        target: `≤ ${limit} ms`,
        met: value <= limit,
      });
    }
    for (const [label, q] of [
      ['p50', 0.5],
      ['p99', 0.99],
    ] as const) {
      rows.push({
        figure: `loopback collector round trip alone ${label} (one small batch POSTed, keep-alive; part of every hold)`,
        value: quantile(roundTrips, q),
        unit: 'ms',
      });
    }
    rows.push({
      figure: `extension CPU time per invoke (utime + stime over ${INVOKES - 10} invokes)`,
      value: steady.lifeline.cpuMsPerInvoke,
      unit: 'ms',
      baselineName: 'bare node:http extension',
      baseline: steady.bare.cpuMsPerInvoke,
      ratio: steady.lifeline.cpuMsPerInvoke / steady.bare.cpuMsPerInvoke,
    });
    for (const [label, q] of [
      ['p50', 0.5],
      ['p99', 0.99],
    ] as const) {
      const on = quantile(liveOn.overheads, q);
      const off = quantile(liveOff.overheads, q);
      rows.push({
        figure: `live invoke end: extension overhead per invoke ${label} (runtime /next → last /next; on vs off)`,
        value: on,
        unit: 'ms',
        baselineName: 'LIFELINE_LIVE_INVOKE_END=off',
        baseline: off,
        ratio: on / off,
      });
      rows.push({
        figure: `live invoke end: extra billed ms per invoke ${label} (billed on − billed off)`,
        value: quantile(liveOn.billed, q) - quantile(liveOff.billed, q),
        unit: 'ms',
      });
    }
    rows.push(
      ratioRow(
        'extension cold start with a runtime token (Secrets Manager): process start → first /event/next (median)',
        'ms',
        median(cold.secret.next),
        median(cold.bare.next),
        1.25,
      ),
      ratioRow(
        `extension RSS with a runtime token (Secrets Manager) after ${INVOKES} invokes (VmRSS)`,
        'MB',
        steady.secret.rss,
        steady.bare.rss,
        1.25,
      ),
    );
    rows.push({
      figure: 'extension bundle size (lifeline/index.mjs)',
      value: layers.bundleBytes / 1024,
      unit: 'KiB',
    });
    rows.push({
      figure: 'extension lazy AWS token chunk (loaded only with a runtime token source)',
      value: layers.lazyChunkBytes / 1024,
      unit: 'KiB',
    });
    // Context for reading the timings: the machine is shared and they move with its load.
    rows.push({
      figure: 'machine load average (1 min) at the end of the extension bench',
      value: loadavg()[0] ?? 0,
      unit: '',
    });
    return rows;
  } finally {
    await closeAws?.();
    collector.stop();
    rmSync(root, { recursive: true, force: true });
  }
};

async function coldStart(
  name: Name,
  extensionsDir: string,
  env: Record<string, string>,
  root: string,
): Promise<{ registered: number; next: number }> {
  const sandbox = new Sandbox({
    extensionsDir,
    env,
    tmpDir: mkdtempSync(join(root, 'tmp-')),
    logOutput: false,
  });
  try {
    const init = await sandbox.init();
    if (init.status !== 'success')
      throw new Error(`${name}: init ${init.status} ${init.errorMessage ?? ''}`);
    const launch = find(sandbox.log, 'extension.launch', extensionName(name));
    const registered = find(sandbox.log, 'extension.register', extensionName(name));
    const next = find(sandbox.log, 'extension.next', extensionName(name));
    await sandbox.shutdown('spindown');
    return { registered: registered.mono - launch.mono, next: next.mono - launch.mono };
  } finally {
    await sandbox.close();
  }
}

/** One long-lived environment: holds, memory, and per invoke the extension overhead and billed duration. */
interface Steady {
  holds: number[];
  rss: number;
  hwm: number;
  overheads: number[];
  billed: number[];
  /** utime + stime of the extension process per invoke, after the first ten. */
  cpuMsPerInvoke: number;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux Lambda and CI runs on). */
const USER_HZ = 100;

/** utime + stime of a process so far, ms. */
function cpuMs(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/** `count` sequential POSTs of a one-event batch to the loopback collector, as the extension sends them: ms each. */
async function collectorRoundTrips(url: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const post = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ events: [{ id: `rtt:${i}`, type: 'rtt' }] });
      const req = request(`${url}/v1/events`, {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.end(body);
    });
  try {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await post(i);
      times.push(performance.now() - started);
    }
    // The first requests open the connection and warm the code paths, as in the holds.
    return times.slice(10);
  } finally {
    agent.destroy();
  }
}

async function steadyState(
  name: Name,
  extensionsDir: string,
  env: Record<string, string>,
  root: string,
  invokes = INVOKES,
): Promise<Steady> {
  const sandbox = new Sandbox({
    extensionsDir,
    env,
    tmpDir: mkdtempSync(join(root, 'tmp-')),
    logOutput: false,
  });
  try {
    const overheads: number[] = [];
    const billed: number[] = [];
    let cpuAtTen = 0;
    for (let i = 0; i < invokes; i++) {
      if (i === 10)
        cpuAtTen = cpuMs(find(sandbox.log, 'extension.launch', extensionName(name)).pid);
      const result = await sandbox.invoke({ durationMs: 2 });
      if (result.status !== 'success') throw new Error(`${name}: invoke ${result.status}`);
      overheads.push(result.extensionOverheadMs ?? Number.NaN);
      billed.push(Math.max(1, Math.ceil(result.durationMs)));
    }
    const pid = find(sandbox.log, 'extension.launch', extensionName(name)).pid;
    const cpuMsPerInvoke = (cpuMs(pid) - cpuAtTen) / (invokes - 10);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    const holds: number[] = [];
    let invokedAt: number | undefined;
    for (const entry of sandbox.log) {
      if (entry.extension !== extensionName(name)) continue;
      if (entry.kind === 'event.invoke') invokedAt = entry.mono;
      else if (entry.kind === 'extension.next' && invokedAt !== undefined) {
        holds.push(entry.mono - invokedAt);
        invokedAt = undefined;
      }
    }
    // The first invokes of a fresh process run cold code paths; keep the steady state.
    const steady = holds.slice(10);
    await sandbox.shutdown('spindown');
    return {
      holds: steady,
      rss: kb('VmRSS') / 1024,
      hwm: kb('VmHWM') / 1024,
      overheads: overheads.slice(10),
      billed: billed.slice(10),
      cpuMsPerInvoke,
    };
  } finally {
    await sandbox.close();
  }
}

/** The registered `Lambda-Extension-Name` of a variant. */
function extensionName(name: Name): string {
  return name === 'secret' ? 'lifeline' : name;
}

function find(
  log: readonly EmulatorLogEntry[],
  kind: EmulatorLogEntry['kind'],
  name: string,
): EmulatorLogEntry {
  const entry = log.find((candidate) => candidate.kind === kind && candidate.extension === name);
  if (!entry) throw new Error(`no ${kind} for ${name} in the emulator log`);
  return entry;
}

function median(values: number[]): number {
  return quantile(values, 0.5);
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function startCollector(): Promise<{ url: string; stop(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(HERE, 'extension', 'loopback-collector.mjs')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    // A collector that dies before printing its port must fail the bench, not hang it.
    child.once('exit', (code) =>
      reject(new Error(`loopback collector exited (${code}) before listening`)),
    );
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAlone(run);
}
