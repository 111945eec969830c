import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DroppedEvent, LifelineEvent } from '@lifeline/protocol';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runExtension } from '../src/main.ts';
import { FakeRuntimeApi } from './helpers/fake-runtime-api.ts';
import { type Receiver, startReceiver } from './helpers/receiver.ts';

async function start(env: Record<string, string> = {}, prepare?: (spoolDir: string) => void) {
  const api = new FakeRuntimeApi();
  await api.start();
  onTestFinished(() => api.stop());
  const receiver = await startReceiver(onTestFinished);
  const spoolDir = mkdtempSync(join(tmpdir(), 'lifeline-edge-'));
  onTestFinished(() => rmSync(spoolDir, { recursive: true, force: true }));
  prepare?.(spoolDir);
  const lines: string[] = [];
  const exitCode = runExtension({
    env: {
      AWS_LAMBDA_RUNTIME_API: api.address,
      LIFELINE_COLLECTOR_URL: receiver.url,
      LIFELINE_TELEMETRY_PORT: '0',
      LIFELINE_TELEMETRY_HOST: '127.0.0.1',
      LIFELINE_SPOOL_DIR: spoolDir,
      ...env,
    },
    write: (line) => lines.push(line),
  });
  await api.waitForCalls('event/next', 1);
  let nexts = 1;
  const invoke = async (requestId: string) => {
    api.send({
      eventType: 'INVOKE',
      deadlineMs: Date.now() + 3000,
      requestId,
      invokedFunctionArn: 'arn',
    });
    nexts++;
    await api.waitForCalls('event/next', nexts);
  };
  return { api, receiver, spoolDir, lines, exitCode, invoke };
}

function ownEvents(receiver: Receiver, envId: string): LifelineEvent[] {
  return receiver.events.filter((event) => event.envId === envId).sort((a, b) => a.seq - b.seq);
}

describe('runExtension edge cases', () => {
  it('records telemetry failed and keeps recording when the listener port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    onTestFinished(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as AddressInfo).port;
    const { api, receiver, exitCode, invoke } = await start({
      LIFELINE_TELEMETRY_PORT: String(port),
    });
    await invoke('r1');
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'spindown' });
    expect(await exitCode).toBe(0);
    expect(api.callsTo('telemetry')).toHaveLength(0);
    expect(receiver.ofType('register')[0]?.telemetry).toBe('failed');
    expect(receiver.ofType('invoke').map((event) => event.requestId)).toEqual(['r1']);
  });

  it('explains every lost seq with a dropped record when the buffer overflows while the collector is down', async () => {
    const { api, receiver, exitCode, invoke } = await start({
      LIFELINE_BUFFER_MAX_EVENTS: '10',
      LIFELINE_INVOKE_WAIT_MS: '0',
    });
    await receiver.down();
    for (let i = 0; i < 30; i++) await invoke(`r${i}`);
    await receiver.up();
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'spindown' });
    expect(await exitCode).toBe(0);
    const events = ownEvents(receiver, api.extensionId);
    const covered = new Set(events.map((event) => event.seq));
    for (const dropped of events.filter(
      (event): event is DroppedEvent => event.type === 'dropped',
    )) {
      expect(dropped.reason).toBe('buffer-full');
      for (let seq = dropped.fromSeq; seq <= dropped.toSeq; seq++) covered.add(seq);
    }
    const last = Math.max(...covered);
    expect([...covered].sort((a, b) => a - b)).toEqual(
      Array.from({ length: last + 1 }, (_, i) => i),
    );
    const exit = events.find((event) => event.type === 'exit');
    expect(exit).toMatchObject({ type: 'exit' });
    expect((exit as { dropped: number }).dropped).toBeGreaterThan(0);
  });

  it('exits 0 before the deadline and spools what is unacknowledged when the collector is too slow', async () => {
    const { api, receiver, spoolDir, exitCode, invoke } = await start({
      LIFELINE_INVOKE_WAIT_MS: '0',
    });
    receiver.mode = { kind: 'slow', delayMs: 5000 };
    await invoke('r1');
    const deadlineMs = Date.now() + 800;
    api.send({ eventType: 'SHUTDOWN', deadlineMs, shutdownReason: 'spindown' });
    expect(await exitCode).toBe(0);
    expect(Date.now()).toBeLessThan(deadlineMs);
    const spooled = readFileSync(join(spoolDir, `pending-${api.extensionId}.ndjson`), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LifelineEvent);
    expect(spooled.map((event) => event.type)).toEqual(
      expect.arrayContaining(['invoke', 'shutdown', 'exit']),
    );
    receiver.mode = { kind: 'ok' };
  });

  it('delivers an earlier environment’s spooled leftovers first and removes their file when acknowledged', async () => {
    const leftovers = [
      {
        id: 'old:0',
        envId: 'old',
        seq: 0,
        time: 1,
        type: 'shutdown',
        shutdownReason: 'timeout',
        deadlineMs: 2,
      },
      {
        id: 'old:1',
        envId: 'old',
        seq: 1,
        time: 3,
        type: 'exit',
        delivered: 0,
        dropped: 0,
        pending: 1,
      },
    ];
    const { api, receiver, spoolDir, exitCode } = await start({}, (dir) => {
      writeFileSync(
        join(dir, 'pending-old.ndjson'),
        `${leftovers.map((event) => JSON.stringify(event)).join('\n')}\n`,
      );
      writeFileSync(
        join(dir, 'sandbox.json'),
        JSON.stringify({ sandboxId: 'sbx-1', lastEnvId: 'old' }),
      );
    });
    await receiver.waitFor(() => receiver.byId.has('old:1'), 10_000, 'leftovers');
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'spindown' });
    expect(await exitCode).toBe(0);
    expect(receiver.events.slice(0, 2).map((event) => event.id)).toEqual(['old:0', 'old:1']);
    expect(receiver.ofType('register')[0]).toMatchObject({
      sandboxId: 'sbx-1',
      previousEnvId: 'old',
    });
    expect(readdirSync(spoolDir).filter((name) => name.startsWith('pending-'))).toEqual([]);
  });

  it('persists and exits 0 at once when the SHUTDOWN deadline has already passed', async () => {
    const { api, receiver, spoolDir, exitCode } = await start();
    await receiver.down();
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() - 10, shutdownReason: 'failure' });
    expect(await exitCode).toBe(0);
    const spooled = readFileSync(join(spoolDir, `pending-${api.extensionId}.ndjson`), 'utf8');
    expect(spooled).toContain('"shutdownReason":"failure"');
  });

  it('re-sends on a fresh connection at the next event when a delivery hung across a long pause', async () => {
    const { api, receiver, exitCode, invoke } = await start({
      LIFELINE_REQUEST_TIMEOUT_MS: '60000',
    });
    await receiver.waitFor(() => receiver.ofType('register').length === 1, 10_000, 'register');
    receiver.mode = { kind: 'hang' };
    await invoke('r1');
    receiver.mode = { kind: 'ok' };
    // An idle gap like a freeze: the POST of r1 is still hanging on its connection when r2 arrives.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await invoke('r2');
    await receiver.waitFor(() => receiver.ofType('invoke').length === 2, 10_000, 'both invokes');
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'spindown' });
    expect(await exitCode).toBe(0);
    expect(receiver.ofType('invoke').map((event) => event.requestId)).toEqual(['r1', 'r2']);
  });

  it('logs one line per kind of bad telemetry body, however often it comes', async () => {
    const { api, exitCode, lines } = await start();
    const uri = api.subscription.destination.URI.replace('sandbox.localdomain', '127.0.0.1');
    const post = async (body: string) => {
      const res = await fetch(uri, { method: 'POST', body }).catch(() => undefined);
      await res?.text();
      return res?.status;
    };
    expect(await post('x'.repeat(1024 * 1024 + 10))).toBe(413);
    expect(await post('x'.repeat(1024 * 1024 + 20))).toBe(413);
    expect(await post('not json')).toBe(400);
    expect(await post('{"also":"not an array"}')).toBe(400);
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'spindown' });
    expect(await exitCode).toBe(0);
    expect(lines.filter((line) => line.includes('telemetry body'))).toHaveLength(2);
  });

  it('delivers every seq and the records after it when one telemetry record is nested 150,000 deep', async () => {
    const { api, exitCode, receiver } = await start();
    const uri = api.subscription.destination.URI.replace('sandbox.localdomain', '127.0.0.1');
    const depth = 150_000;
    const deep = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const record = (id: string) =>
      `{"type":"platform.start","time":"2024-01-01T00:00:00Z","record":{"requestId":"${id}"}}`;
    const body = `[${record('r1')},{"type":"platform.report","time":"2024-01-01T00:00:00Z","record":${deep}},${record('r2')}]`;
    const res = await fetch(uri, { method: 'POST', body });
    await res.text();
    expect(res.status).toBe(200);
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 3000, shutdownReason: 'spindown' });
    expect(await exitCode).toBe(0);
    const envId = receiver.ofType('register')[0]!.envId;
    const events = ownEvents(receiver, envId);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index));
    const platform = events.filter((event) => event.type === 'platform');
    expect(platform.map((event) => (event.record as { requestId?: string }).requestId)).toEqual(
      expect.arrayContaining(['r1', 'r2']),
    );
    expect(events.at(-1)?.type).toBe('exit');
  });

  it('ignores an unknown event type and keeps polling', async () => {
    const { api, receiver, exitCode, lines } = await start();
    api.send({ eventType: 'RESTORE', deadlineMs: 1 });
    await api.waitForCalls('event/next', 2);
    api.send({ eventType: 'SHUTDOWN', deadlineMs: Date.now() + 2000, shutdownReason: 'spindown' });
    expect(await exitCode).toBe(0);
    expect(lines.filter((line) => line.includes('unknown event'))).toHaveLength(1);
    expect(receiver.ofType('exit')).toHaveLength(1);
  });
});
