import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { SendResult } from '../src/collector-client.ts';
import { Delivery, STALE_AFTER_PAUSE_MS } from '../src/delivery.ts';
import { EventBuffer } from '../src/event-buffer.ts';
import { RECORDS_LINGER_MS } from '../src/flush-policy.ts';
import { createLogger } from '../src/logger.ts';
import { Recorder } from '../src/recorder.ts';
import { Spool } from '../src/spool.ts';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A scripted sender: answers from `script` in order, then acks. Records every body. */
function scriptedSender(script: SendResult[] = []) {
  const bodies: { ids: string[] }[] = [];
  return {
    bodies,
    aborts: 0,
    abort() {
      this.aborts++;
    },
    async send(body: string): Promise<SendResult> {
      const ids = (JSON.parse(body) as { events: { id: string }[] }).events.map(
        (event) => event.id,
      );
      bodies.push({ ids });
      return script.shift() ?? { kind: 'ack', accepted: ids.length, duplicates: 0 };
    },
  };
}

function setUp(
  options: { script?: SendResult[]; maxEvents?: number; spool?: boolean; now?: () => number } = {},
) {
  const recorder = new Recorder('env');
  const sender = scriptedSender(options.script);
  const lines: string[] = [];
  let spool: Spool | undefined;
  let dir = '';
  if (options.spool) {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-delivery-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    spool = new Spool({ dir, maxBytes: 1_000_000, envId: 'env' });
  }
  const delivery = new Delivery({
    recorder,
    buffer: new EventBuffer({ maxEvents: options.maxEvents ?? 1000, maxBytes: 1_000_000 }),
    sender,
    spool,
    logger: createLogger('warn', { write: (line) => lines.push(line) }),
    batchMaxEvents: 100,
    requestTimeoutMs: 1000,
    now: options.now,
  });
  onTestFinished(() => delivery.stop());
  const invoke = (i: number) =>
    delivery.record({
      type: 'invoke',
      requestId: `r${i}`,
      deadlineMs: 1,
      invokedFunctionArn: 'arn',
    });
  return { delivery, sender, lines, invoke, dir };
}

describe('Delivery', () => {
  it('removes events only after their batch is acknowledged', async () => {
    const { delivery, sender, invoke } = setUp();
    const entry = invoke(0);
    delivery.kick('invoke');
    await delivery.waitFor(entry, 1000);
    expect(delivery.pending).toBe(0);
    expect(delivery.snapshot()).toEqual({ delivered: 1, dropped: 0, pending: 0 });
    expect(sender.bodies).toEqual([{ ids: ['env:0'] }]);
  });

  it('re-sends the same ids after a retryable failure and logs the problem once', async () => {
    const retry: SendResult = { kind: 'retry', status: 503, detail: 'collector answered 503' };
    const { delivery, sender, invoke, lines } = setUp({ script: [retry, retry, retry] });
    invoke(0);
    invoke(1);
    await delivery.drain(Date.now() + 5000);
    expect(delivery.pending).toBe(0);
    expect(sender.bodies.map((body) => body.ids)).toEqual([
      ['env:0', 'env:1'],
      ['env:0', 'env:1'],
      ['env:0', 'env:1'],
      ['env:0', 'env:1'],
    ]);
    expect(lines).toHaveLength(1);
  });

  it('keeps the events and says once that the token was rejected when the collector answers 401/403', async () => {
    const refused: SendResult = {
      kind: 'retry',
      status: 401,
      detail: 'collector answered 401',
      problem: 'auth',
    };
    const { delivery, sender, invoke, lines } = setUp({
      script: [refused, { ...refused, status: 403 }, refused],
    });
    invoke(0);
    await delivery.drain(Date.now() + 5000);
    expect(delivery.snapshot()).toEqual({ delivered: 1, dropped: 0, pending: 0 });
    expect(sender.bodies.map((body) => body.ids)).toEqual([
      ['env:0'],
      ['env:0'],
      ['env:0'],
      ['env:0'],
    ]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'warn',
      msg: 'collector rejected the token; keeping events for later',
      detail: 'collector answered 401',
    });
  });

  it('logs a token problem under its own message once when no token can be read', async () => {
    const noToken: SendResult = {
      kind: 'retry',
      status: undefined,
      detail: 'EXT_ERR_TOKEN: GetSecretValue answered 400 AccessDeniedException',
      problem: 'token',
    };
    const { delivery, invoke, lines } = setUp({ script: [noToken, noToken] });
    invoke(0);
    await delivery.drain(Date.now() + 5000);
    expect(delivery.pending).toBe(0);
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual([
      'could not read the ingest token; keeping events for later',
    ]);
  });

  it('stops holding the invoke when the attempt to send it failed', async () => {
    const retry: SendResult = { kind: 'retry', status: 503, detail: 'collector answered 503' };
    const { delivery, invoke } = setUp({ script: [retry] });
    const entry = invoke(0);
    delivery.kick('invoke');
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      delivery.waitFor(entry, 30_000).then(() => 'done' as const),
      new Promise<'held'>((resolve) => {
        timer = setTimeout(() => resolve('held'), 10_000);
      }),
    ]);
    clearTimeout(timer);
    expect(waited).toBe('done');
    expect(delivery.pending).toBe(1);
  });

  it('drops a rejected batch and records a dropped event for it', async () => {
    const rejected: SendResult = {
      kind: 'rejected',
      status: 401,
      badIndexes: undefined,
      detail: 'collector answered 401',
    };
    const { delivery, sender, invoke } = setUp({ script: [rejected] });
    invoke(0);
    invoke(1);
    await delivery.drain(Date.now() + 5000);
    expect(sender.bodies[1]?.ids).toEqual(['env:2']);
    expect(delivery.snapshot()).toMatchObject({ delivered: 1, dropped: 2, pending: 0 });
  });

  it('drops only the named events when a 400 lists indexes', async () => {
    const rejected: SendResult = {
      kind: 'rejected',
      status: 400,
      badIndexes: [1],
      detail: 'collector answered 400',
    };
    const { delivery, sender, invoke } = setUp({ script: [rejected] });
    invoke(0);
    invoke(1);
    invoke(2);
    await delivery.drain(Date.now() + 5000);
    expect(sender.bodies[1]?.ids).toEqual(['env:0', 'env:2', 'env:3']);
    expect(delivery.snapshot()).toMatchObject({ delivered: 3, dropped: 1 });
  });

  it('does not loop when a batch of dropped records is rejected too', async () => {
    const rejected: SendResult = {
      kind: 'rejected',
      status: 403,
      badIndexes: undefined,
      detail: 'collector answered 403',
    };
    const { delivery, sender, invoke } = setUp({
      script: Array.from({ length: 50 }, () => rejected),
    });
    invoke(0);
    await delivery.drain(Date.now() + 5000);
    expect(sender.bodies.length).toBeLessThanOrEqual(3);
    expect(delivery.pending).toBe(0);
  });

  it('records one growing dropped record when the buffer overflows', async () => {
    const { delivery, sender, invoke } = setUp({ maxEvents: 10 });
    for (let i = 0; i < 30; i++) invoke(i);
    await delivery.drain(Date.now() + 5000);
    const ids = sender.bodies.flatMap((body) => body.ids);
    expect(ids.length).toBeLessThanOrEqual(11);
    expect(delivery.snapshot().dropped).toBeGreaterThan(0);
  });

  it('stops sending once the shutdown deadline has passed', async () => {
    const retry: SendResult = { kind: 'retry', status: undefined, detail: 'down' };
    let now = 1_000;
    const { delivery, sender, invoke } = setUp({ script: [retry], now: () => now });
    const entry = invoke(0);
    delivery.kick('invoke');
    await delivery.waitFor(entry, 50);
    const attempts = sender.bodies.length;
    expect(attempts).toBe(1);
    delivery.setDeadline(now);
    now += 10_000;
    delivery.kick('shutdown');
    delivery.kick('retry');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sender.bodies).toHaveLength(attempts);
    expect(delivery.pending).toBe(1);
  });

  it('abandons a delivery that was in flight across a long pause and re-sends it on thaw', async () => {
    const sent: string[][] = [];
    let release: ((result: SendResult) => void) | undefined;
    let aborts = 0;
    const hanging = {
      send(body: string): Promise<SendResult> {
        sent.push(
          (JSON.parse(body) as { events: { id: string }[] }).events.map((event) => event.id),
        );
        if (sent.length > 1) return Promise.resolve({ kind: 'ack', accepted: 1, duplicates: 0 });
        return new Promise((resolve) => {
          release = resolve;
        });
      },
      abort() {
        aborts++;
        release?.({ kind: 'retry', status: undefined, detail: 'aborted', aborted: true });
      },
    };
    let now = 1_000;
    const stuck = new Delivery({
      now: () => now,
      recorder: new Recorder('env'),
      buffer: new EventBuffer({ maxEvents: 100, maxBytes: 1_000_000 }),
      sender: hanging,
      spool: undefined,
      logger: createLogger('silent'),
      batchMaxEvents: 100,
      requestTimeoutMs: 60_000,
    });
    onTestFinished(() => stuck.stop());
    const first = stuck.record({
      type: 'invoke',
      requestId: 'r0',
      deadlineMs: 1,
      invokedFunctionArn: 'a',
    });
    stuck.kick('invoke');
    await stuck.waitFor(first, 20);
    stuck.mayFreeze();
    now += 100;
    stuck.thawed();
    expect(aborts).toBe(0);
    stuck.mayFreeze();
    now += STALE_AFTER_PAUSE_MS;
    stuck.thawed();
    const second = stuck.record({
      type: 'invoke',
      requestId: 'r1',
      deadlineMs: 1,
      invokedFunctionArn: 'a',
    });
    stuck.kick('invoke');
    await stuck.waitFor(second, 5_000);
    expect(aborts).toBe(1);
    expect(sent).toEqual([['env:0'], ['env:0', 'env:1']]);
    expect(stuck.snapshot()).toMatchObject({ delivered: 2, pending: 0 });
  });

  it('leaves a delivery alone on thaw when it started after the freeze point', async () => {
    let now = 1_000;
    const { delivery, sender, invoke } = setUp({ now: () => now });
    delivery.mayFreeze();
    const entry = invoke(0);
    delivery.kick('invoke');
    now += 10 * STALE_AFTER_PAUSE_MS;
    delivery.thawed();
    await delivery.waitFor(entry, 1000);
    expect(sender.aborts).toBe(0);
  });

  it('retries at once, ignoring the backoff, when an INVOKE came while the failing batch was in flight', async () => {
    const sent: string[][] = [];
    let fail: ((result: SendResult) => void) | undefined;
    const sender = {
      send(body: string): Promise<SendResult> {
        sent.push(
          (JSON.parse(body) as { events: { id: string }[] }).events.map((event) => event.id),
        );
        if (sent.length > 1) return Promise.resolve({ kind: 'ack', accepted: 2, duplicates: 0 });
        return new Promise<SendResult>((resolve) => {
          fail = resolve;
        });
      },
      abort() {},
    };
    const delivery = new Delivery({
      recorder: new Recorder('env'),
      buffer: new EventBuffer({ maxEvents: 100, maxBytes: 1_000_000 }),
      sender,
      spool: undefined,
      logger: createLogger('silent'),
      batchMaxEvents: 100,
      requestTimeoutMs: 60_000,
      now: () => 1_000,
    });
    onTestFinished(() => delivery.stop());
    delivery.record({ type: 'invoke', requestId: 'r0', deadlineMs: 1, invokedFunctionArn: 'a' });
    delivery.kick('record');
    // A record kick sends once it lingered: then the batch is in flight.
    await sleep(RECORDS_LINGER_MS + 5);
    const second = delivery.record({
      type: 'invoke',
      requestId: 'r1',
      deadlineMs: 1,
      invokedFunctionArn: 'a',
    });
    delivery.kick('invoke');
    fail?.({ kind: 'retry', status: 503, detail: 'collector answered 503' });
    await delivery.waitFor(second, 5_000);
    expect(sent).toEqual([['env:0'], ['env:0', 'env:1']]);
    expect(delivery.pending).toBe(0);
  });

  it('lets the woken invoke go on before it sends the records that came during its flight', async () => {
    const sent: string[][] = [];
    let ack: (() => void) | undefined;
    const sender = {
      send(body: string): Promise<SendResult> {
        const ids = (JSON.parse(body) as { events: { id: string }[] }).events.map((e) => e.id);
        sent.push(ids);
        return new Promise<SendResult>((resolve) => {
          ack = () => resolve({ kind: 'ack', accepted: ids.length, duplicates: 0 });
        });
      },
      abort() {},
    };
    const delivery = new Delivery({
      recorder: new Recorder('env'),
      buffer: new EventBuffer({ maxEvents: 100, maxBytes: 1_000_000 }),
      sender,
      spool: undefined,
      logger: createLogger('silent'),
      batchMaxEvents: 100,
      requestTimeoutMs: 60_000,
    });
    onTestFinished(() => delivery.stop());
    const invoke = delivery.record({
      type: 'invoke',
      requestId: 'r0',
      deadlineMs: 1,
      invokedFunctionArn: 'a',
    });
    delivery.kick('invoke');
    // The previous invoke's records, delivered by the platform at the thaw, while the INVOKE is on its way.
    delivery.record({ type: 'platform', recordType: 'platform.report', recordTime: 1, record: {} });
    delivery.kick('record');
    const waited = delivery.waitFor(invoke, 5_000);
    ack?.();
    await waited;
    // Here the extension calls /event/next: nothing else may have been built and sent before it.
    expect(sent).toEqual([['env:0']]);
    await sleep(RECORDS_LINGER_MS + 5);
    expect(sent).toEqual([['env:0'], ['env:1']]);
  });

  it('lets records linger so an INVOKE coming meanwhile carries them instead of waiting for their batch', async () => {
    const { delivery, sender, invoke } = setUp();
    // Records handed over right after /event/next, and the next INVOKE before they lingered their time.
    delivery.record({ type: 'platform', recordType: 'platform.report', recordTime: 1, record: {} });
    delivery.kick('record');
    const entry = invoke(1);
    delivery.kick('invoke');
    await delivery.waitFor(entry, 1000);
    expect(sender.bodies).toEqual([{ ids: ['env:0', 'env:1'] }]);
    // Records alone still go out, once they lingered.
    delivery.record({ type: 'platform', recordType: 'platform.start', recordTime: 2, record: {} });
    delivery.kick('record');
    expect(sender.bodies).toHaveLength(1);
    await sleep(RECORDS_LINGER_MS + 5);
    expect(sender.bodies).toEqual([{ ids: ['env:0', 'env:1'] }, { ids: ['env:2'] }]);
  });

  it('writes pending events to the spool and clears it when all are acknowledged', async () => {
    const retry: SendResult = { kind: 'retry', status: undefined, detail: 'down' };
    const { delivery, invoke, dir } = setUp({ spool: true, script: [retry] });
    invoke(0);
    delivery.kick('invoke');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await delivery.persist();
    expect(readdirSync(dir)).toEqual(['pending-env.ndjson']);
    await delivery.drain(Date.now() + 5000);
    await delivery.persist();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('skips the spool while the collector is healthy and writes once events survived a pause', async () => {
    let now = 1_000;
    let answer: ((result: SendResult) => void) | undefined;
    const sender = {
      send: () =>
        new Promise<SendResult>((resolve) => {
          answer = resolve;
        }),
      abort() {},
    };
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-delivery-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const delivery = new Delivery({
      recorder: new Recorder('env', () => now),
      buffer: new EventBuffer({ maxEvents: 100, maxBytes: 1_000_000 }),
      sender,
      spool: new Spool({ dir, maxBytes: 1_000_000, envId: 'env' }),
      logger: createLogger('silent'),
      batchMaxEvents: 100,
      requestTimeoutMs: 60_000,
      now: () => now,
    });
    onTestFinished(() => delivery.stop());
    delivery.record({ type: 'invoke', requestId: 'r0', deadlineMs: 1, invokedFunctionArn: 'a' });
    delivery.kick('invoke');
    delivery.mayFreeze();
    await delivery.persist();
    expect(readdirSync(dir)).toEqual([]);
    now += 10;
    delivery.mayFreeze();
    await delivery.persist();
    expect(readdirSync(dir)).toEqual(['pending-env.ndjson']);
    answer?.({ kind: 'ack', accepted: 1, duplicates: 0 });
    await delivery.drain(Date.now() + 1000);
    await delivery.persist();
    expect(readdirSync(dir)).toEqual([]);
  });
});
