import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StoredEvent } from '@lifeline/protocol';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCollectorExpectingExit, spawnCollector } from './collector-process.ts';
import { lifecycle, tempDir } from './helper.ts';
import { LiveTestClient, liveUrl } from './live-client.ts';

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));

/** The value of one sample of `/metrics` (name with its labels), or undefined. */
async function metric(url: string, sample: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered /healthz`);
}

/** A GET with a chosen Host header (fetch does not let a caller set it). */
function getWithHost(url: string, path: string, host: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function secretFile(dir: string, name: string, secret: string): string {
  const path = join(dir, name);
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return path;
}

describe('collector process hardening', () => {
  it('keeps serving with stdout and stderr on a full device, counts the dropped log lines and stops on SIGTERM', async () => {
    const dir = tempDir();
    const full = openSync('/dev/full', 'w');
    onTestFinished(() => closeSync(full));
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        TSX_LOADER,
        '--conditions=source',
        SERVER,
        '--port',
        String(port),
        '--db',
        join(dir, 'full.db'),
      ],
      { env: { ...process.env, LIFELINE_LOG_LEVEL: 'info' }, stdio: ['ignore', full, full] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url);
    // "bound", "listening" and the demo-mode warning could not be written.
    expect(await metric(url, 'lifeline_log_lines_dropped_total')).toBeGreaterThanOrEqual(2);
    // A failing request logs a line too; the collector still answers the next one.
    expect((await fetch(`${url}/v1/nothing`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('answers 408 and closes an authenticated POST whose body trickles in slower than the request timeout', async () => {
    const dir = tempDir();
    const token = 'slow-body-token-1';
    const collector = await spawnCollector([
      '--port',
      '0',
      '--db',
      join(dir, 'slow.db'),
      '--token-file',
      secretFile(dir, 'token', token),
      '--request-timeout-ms',
      '1500',
    ]);
    const { hostname, port } = new URL(collector.url);
    const socket: Socket = connect(Number(port), hostname);
    onTestFinished(() => {
      socket.destroy();
    });
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      answer += chunk;
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    // One byte every 200 ms: each byte resets an idle timer, so only a bound on the whole request ends it.
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(' ');
    }, 200);
    onTestFinished(() => clearInterval(drip));
    await closed;
    clearInterval(drip);
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    expect(answer).toContain('COLLECTOR_ERR_REQUEST_TIMEOUT');
    expect(await metric(collector.url, 'lifeline_client_errors_total{kind="timeout"}')).toBe(1);
    expect(await metric(collector.url, 'lifeline_limit{limit="request_timeout_seconds"}')).toBe(
      1.5,
    );
  });

  it('closes connections over the cap and refuses live clients over theirs before the upgrade', async () => {
    const dir = tempDir();
    const collector = await spawnCollector([
      '--port',
      '0',
      '--db',
      join(dir, 'cap.db'),
      '--max-connections',
      '6',
      '--max-live-clients',
      '2',
    ]);
    const first = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    const second = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    await Promise.all([first.caughtUp(), second.caughtUp()]);
    const third = new LiveTestClient(liveUrl(collector.url, 'after=0'));
    await expect(third.opened).rejects.toThrow(/503/);
    expect(
      await metric(collector.url, 'lifeline_refused_requests_total{reason="live_clients"}'),
    ).toBe(1);
    expect(await metric(collector.url, 'lifeline_limit{limit="max_live_clients"}')).toBe(2);

    // Two live sockets and the pooled HTTP connection hold three of the six slots: of eight more connections, at
    // least two are closed at once.
    const { hostname, port } = new URL(collector.url);
    const sockets = Array.from({ length: 8 }, () => {
      const socket = connect(Number(port), hostname);
      socket.on('error', () => {});
      onTestFinished(() => {
        socket.destroy();
      });
      return socket;
    });
    await Promise.race(
      sockets.map((socket) => new Promise((resolve) => socket.once('close', resolve))),
    );
    for (const socket of sockets) socket.destroy();
    // The server sees the sockets go asynchronously: retry until a slot is free.
    let dropped: number | undefined;
    for (let attempt = 0; attempt < 100 && dropped === undefined; attempt++) {
      dropped = await metric(collector.url, 'lifeline_dropped_connections_total').catch(
        () => undefined,
      );
      if (dropped === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(dropped).toBeGreaterThanOrEqual(1);
    expect(await metric(collector.url, 'lifeline_limit{limit="max_connections"}')).toBe(6);
  });

  it('answers only loopback Host names on a loopback bind, plus --allowed-hosts', async () => {
    const dir = tempDir();
    const collector = await spawnCollector([
      '--port',
      '0',
      '--db',
      join(dir, 'hosts.db'),
      '--allowed-hosts',
      'lifeline.example.com',
    ]);
    const port = new URL(collector.url).port;
    // A DNS-rebinding page sends its own name: no read, no ingest, not even the dashboard.
    expect(await getWithHost(collector.url, '/v1/functions', `rebind.example.net:${port}`)).toBe(
      403,
    );
    expect(await getWithHost(collector.url, '/', `rebind.example.net:${port}`)).toBe(403);
    expect(await getWithHost(collector.url, '/v1/functions', `localhost:${port}`)).toBe(200);
    expect(await getWithHost(collector.url, '/v1/functions', `127.0.0.1:${port}`)).toBe(200);
    expect(await getWithHost(collector.url, '/v1/functions', 'lifeline.example.com')).toBe(200);
    expect(await metric(collector.url, 'lifeline_refused_requests_total{reason="host"}')).toBe(2);
  });

  it('takes its tokens from files or the environment, never from a flag', async () => {
    const dir = tempDir();
    const refused = await runCollectorExpectingExit([
      '--port',
      '0',
      '--db',
      join(dir, 'flag.db'),
      '--token',
      'flag-token-secret',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--token is not accepted');
    expect(refused.stderr).toContain('--token-file');

    const collector = await spawnCollector(
      [
        '--port',
        '0',
        '--db',
        join(dir, 'files.db'),
        '--token-file',
        secretFile(dir, 'ingest', 'file-ingest-token'),
      ],
      { LIFELINE_READ_TOKEN: 'env-read-token-1' },
    );
    const post = (token: string) =>
      fetch(`${collector.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ events: lifecycle('env-token-file', { invokes: 1 }) }),
      });
    expect((await post('wrong-token-123')).status).toBe(401);
    expect((await post('file-ingest-token')).status).toBe(200);
    const read = await fetch(`${collector.url}/v1/functions`, {
      headers: { authorization: 'Bearer env-read-token-1' },
    });
    expect(read.status).toBe(200);
    expect((await fetch(`${collector.url}/v1/functions`)).status).toBe(401);
  });

  it('says at start-up that the WAL was cut short and counts it, when frames after a damaged one hold acknowledged batches', async () => {
    const dir = tempDir();
    const db = join(dir, 'wal.db');
    const first = await spawnCollector(['--port', '0', '--db', db]);
    const acked: string[] = [];
    for (let env = 0; env < 12; env++) {
      const events = lifecycle(`env-wal-${env}`, { invokes: 3 });
      const response = await fetch(`${first.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      expect(response.status).toBe(200);
      acked.push(...events.map((event) => event.id));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    // Flip one byte in the page of the WAL's third frame, as a torn or rotten sector would.
    const wal = `${db}-wal`;
    const bytes = readFileSync(wal);
    const pageSize = bytes.readUInt32BE(8);
    const offset = 32 + 2 * (24 + pageSize) + 24 + 100;
    const fd = openSync(wal, 'r+');
    writeSync(fd, Buffer.from([(bytes[offset] ?? 0) ^ 0xff]), 0, 1, offset);
    closeSync(fd);

    const second = await spawnCollector(['--port', '0', '--db', db]);
    expect(second.stdout()).toContain('write-ahead log was cut short');
    expect(await metric(second.url, 'lifeline_wal_cut_short_total')).toBe(1);
    expect(await metric(second.url, 'lifeline_wal_discarded_frames_total')).toBeGreaterThan(1);
    // What the warning is about: acknowledged events are gone.
    const stored = (await (await fetch(`${second.url}/v1/events?limit=5000`)).json()) as {
      items: StoredEvent[];
    };
    expect(stored.items.length).toBeLessThan(acked.length);

    // The next start finds a clean WAL (SQLite rewrote it) and says nothing.
    second.child.kill('SIGTERM');
    await second.exited;
    const third = await spawnCollector(['--port', '0', '--db', db]);
    expect(third.stdout()).not.toContain('cut short');
    expect(await metric(third.url, 'lifeline_wal_cut_short_total')).toBe(0);
  });
});
