import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DroppedEvent, LifelineEvent } from '@lifeline/protocol';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { SendResult } from '../src/collector-client.ts';
import { Delivery } from '../src/delivery.ts';
import { EventBuffer, toEntry } from '../src/event-buffer.ts';
import { createLogger } from '../src/logger.ts';
import type { EventDraft } from '../src/recorder.ts';
import { Recorder } from '../src/recorder.ts';
import { Spool } from '../src/spool.ts';

/** A sender whose collector is down: every send fails after a tick. */
function downSender() {
  let sends = 0;
  return {
    get sends() {
      return sends;
    },
    abort() {},
    send(): Promise<SendResult> {
      sends++;
      return new Promise((resolve) =>
        setImmediate(() => resolve({ kind: 'retry', status: undefined, detail: 'ECONNREFUSED' })),
      );
    },
  };
}

function setUp(maxEvents: number, spool?: Spool) {
  const recorder = new Recorder('env');
  const buffer = new EventBuffer({ maxEvents, maxBytes: 4 * 1024 * 1024 });
  const sender = downSender();
  const delivery = new Delivery({
    recorder,
    buffer,
    sender,
    spool,
    logger: createLogger('silent'),
    batchMaxEvents: 10,
    requestTimeoutMs: 1000,
  });
  onTestFinished(() => delivery.stop());
  return { recorder, buffer, delivery, sender };
}

/** Every seq 0..next-1 is either present or inside some dropped record's range. */
function unexplained(events: readonly LifelineEvent[], next: number): number[] {
  const covered = new Set(events.map((event) => event.seq));
  for (const event of events)
    if (event.type === 'dropped')
      for (let seq = event.fromSeq; seq <= event.toSeq; seq++) covered.add(seq);
  const missing: number[] = [];
  for (let seq = 0; seq < next; seq++) if (!covered.has(seq)) missing.push(seq);
  return missing;
}

describe('Delivery drop accounting', () => {
  it('keeps a bounded number of dropped records when the collector stays down for many invokes', async () => {
    const { buffer, delivery, recorder } = setUp(100);
    for (let i = 0; i < 3000; i++) {
      delivery.record({
        type: 'invoke',
        requestId: `r${i}`,
        deadlineMs: 0,
        invokedFunctionArn: 'a',
      });
      delivery.kick('invoke');
      delivery.record({
        type: 'platform',
        recordType: 'platform.report',
        recordTime: 1,
        record: { requestId: `r${i}` },
      });
      await new Promise((resolve) => setImmediate(resolve));
    }
    const drops = buffer.entries.filter((entry) => entry.event.type === 'dropped');
    expect(drops.length).toBeLessThanOrEqual(4);
    expect(buffer.size).toBeLessThanOrEqual(100);
    const events = buffer.entries.map((entry) => entry.event);
    const counted = drops.reduce((sum, entry) => sum + (entry.event as DroppedEvent).count, 0);
    expect(counted).toBe(delivery.stats.dropped);
    expect(unexplained(events, recorder.nextSeq)).toEqual([]);
  });

  it('records a placeholder instead of throwing when an event cannot be serialised', () => {
    const { buffer, delivery, recorder } = setUp(100);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    const draft: EventDraft = {
      type: 'platform',
      recordType: 'platform.report',
      recordTime: 1,
      record: deep,
    };
    expect(() => delivery.record(draft)).not.toThrow();
    delivery.record({ type: 'invoke', requestId: 'r', deadlineMs: 0, invokedFunctionArn: 'a' });
    const events = buffer.entries.map((entry) => entry.event);
    expect(events.map((event) => event.seq)).toEqual([0, 1]);
    expect(recorder.nextSeq).toBe(2);
    expect(buffer.entries[0]!.json.length).toBeLessThan(1000);
  });

  it('records a dropped event in the old envId numbering when adopted leftovers overflow the buffer', () => {
    const { buffer, delivery } = setUp(10);
    const old = new Recorder('old');
    const leftovers = Array.from({ length: 15 }, (_, i) =>
      toEntry(
        old.record({ type: 'invoke', requestId: `o${i}`, deadlineMs: 0, invokedFunctionArn: 'a' }),
      ),
    );
    delivery.adoptLeftovers(leftovers);
    const drops = buffer.entries
      .map((entry) => entry.event)
      .filter((event): event is DroppedEvent => event.type === 'dropped');
    expect(drops).toEqual([
      expect.objectContaining({
        id: 'old:15',
        envId: 'old',
        seq: 15,
        count: 6,
        fromSeq: 0,
        toSeq: 5,
        reason: 'buffer-full',
      }),
    ]);
    expect(delivery.stats.dropped).toBe(0);
  });

  it('keeps the final spool write within its limit and explains what did not fit when the spool is small', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-drops-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const spool = new Spool({ dir, maxBytes: 4096, envId: 'env' });
    const { delivery, recorder } = setUp(1000, spool);
    for (let i = 0; i < 100; i++)
      delivery.record({
        type: 'invoke',
        requestId: `r${i}`,
        deadlineMs: 0,
        invokedFunctionArn: 'a',
      });
    delivery.record({ type: 'exit', delivered: 0, dropped: 0, pending: 100 });
    delivery.persistFinal();
    expect(statSync(spool.file).size).toBeLessThanOrEqual(4096);
    const events = readFileSync(spool.file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LifelineEvent);
    expect(events.filter((event) => event.type === 'invoke').length).toBeGreaterThan(10);
    expect(unexplained(events, recorder.nextSeq)).toEqual([]);
    const reloaded = new Spool({ dir, maxBytes: 4096, envId: 'next' }).loadLeftovers();
    expect(reloaded.entries).toHaveLength(events.length);
    expect(reloaded.lost).toEqual([]);
  });

  it('puts drops that came while the dropped record was in flight into a new record once it was acknowledged', async () => {
    const recorder = new Recorder('env');
    const buffer = new EventBuffer({ maxEvents: 5, maxBytes: 1_000_000 });
    const acks: (() => void)[] = [];
    const sent: LifelineEvent[] = [];
    const delivery = new Delivery({
      recorder,
      buffer,
      sender: {
        abort() {},
        send(body: string): Promise<SendResult> {
          const events = (JSON.parse(body) as { events: LifelineEvent[] }).events;
          return new Promise((resolve) =>
            acks.push(() => {
              sent.push(...events);
              resolve({ kind: 'ack', accepted: events.length, duplicates: 0 });
            }),
          );
        },
      },
      spool: undefined,
      logger: createLogger('silent'),
      batchMaxEvents: 100,
      requestTimeoutMs: 1000,
    });
    onTestFinished(() => delivery.stop());
    const invoke = (i: number) =>
      delivery.record({
        type: 'invoke',
        requestId: `r${i}`,
        deadlineMs: 0,
        invokedFunctionArn: 'a',
      });
    for (let i = 0; i < 8; i++) invoke(i);
    delivery.kick('invoke');
    expect(acks).toHaveLength(1);
    for (let i = 8; i < 20; i++) invoke(i);
    expect(buffer.entries.filter((entry) => entry.event.type === 'dropped')).toHaveLength(1);
    for (let round = 0; round < 20 && acks.length > 0; round++) {
      acks.shift()!();
      // The next batch goes out once the acknowledgement was handled; one holding only the drop record may
      // linger first (RECORDS_LINGER_MS), so wait for it by its effect, not by a count of ticks.
      await vi.waitFor(() => expect(acks.length > 0 || buffer.size === 0).toBe(true), {
        timeout: 5_000,
        interval: 1,
      });
    }
    expect(buffer.size).toBe(0);
    expect(unexplained(sent, recorder.nextSeq)).toEqual([]);
    const drops = sent.filter((event): event is DroppedEvent => event.type === 'dropped');
    expect(drops.reduce((sum, event) => sum + event.count, 0)).toBe(delivery.stats.dropped);
  });
});
