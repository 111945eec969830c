import type { LifelineEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { EventBuffer, toEntry, toRuns } from '../src/event-buffer.ts';
import { Recorder } from '../src/recorder.ts';

function invokes(recorder: Recorder, count: number) {
  return Array.from({ length: count }, (_, i) =>
    toEntry(
      recorder.record({
        type: 'invoke',
        requestId: `r${i}`,
        deadlineMs: 1,
        invokedFunctionArn: 'arn',
      }),
    ),
  );
}

describe('EventBuffer', () => {
  it('drops the oldest events and reports them as runs when over the count bound', () => {
    const buffer = new EventBuffer({ maxEvents: 3, maxBytes: 1_000_000 });
    const entries = invokes(new Recorder('e'), 5);
    const dropped = buffer.push(...entries);
    expect(dropped).toEqual([{ envId: 'e', fromSeq: 0, toSeq: 1, count: 2 }]);
    expect(buffer.entries.map((entry) => entry.event.seq)).toEqual([2, 3, 4]);
  });

  it('keeps in-flight entries and dropped records when over the bounds', () => {
    const recorder = new Recorder('e');
    const buffer = new EventBuffer({ maxEvents: 3, maxBytes: 1_000_000 });
    buffer.push(...invokes(recorder, 2));
    const inFlight = buffer.take(1, 1_000_000);
    buffer.push(
      toEntry(
        recorder.record({ type: 'dropped', count: 1, reason: 'rejected', fromSeq: 0, toSeq: 0 }),
      ),
    );
    const dropped = buffer.push(...invokes(recorder, 2));
    expect(dropped).toEqual([
      { envId: 'e', fromSeq: 1, toSeq: 1, count: 1 },
      { envId: 'e', fromSeq: 3, toSeq: 3, count: 1 },
    ]);
    expect(buffer.entries[0]).toBe(inFlight[0]);
    expect(buffer.entries.map((entry) => entry.event.type)).toContain('dropped');
  });

  it('drops by bytes when over the byte bound', () => {
    const entries = invokes(new Recorder('e'), 4);
    const buffer = new EventBuffer({ maxEvents: 100, maxBytes: entries[0]!.bytes * 2 + 10 });
    buffer.push(...entries);
    expect(buffer.size).toBe(2);
    expect(buffer.bytes).toBeLessThanOrEqual(entries[0]!.bytes * 2 + 10);
  });

  it('takes batches oldest first within bounds and releases or removes them', () => {
    const buffer = new EventBuffer({ maxEvents: 100, maxBytes: 1_000_000 });
    buffer.push(...invokes(new Recorder('e'), 5));
    const first = buffer.take(2, 1_000_000);
    const second = buffer.take(2, 1_000_000);
    expect(first.map((entry) => entry.event.seq)).toEqual([0, 1]);
    expect(second.map((entry) => entry.event.seq)).toEqual([2, 3]);
    buffer.release(second);
    buffer.remove(first);
    expect(buffer.size).toBe(3);
    expect(buffer.take(10, 1_000_000).map((entry) => entry.event.seq)).toEqual([2, 3, 4]);
    expect(buffer.hasSendable).toBe(false);
  });

  it('takes at least one entry even when it is larger than the byte bound', () => {
    const buffer = new EventBuffer({ maxEvents: 100, maxBytes: 1_000_000 });
    buffer.push(...invokes(new Recorder('e'), 2));
    expect(buffer.take(10, 1)).toHaveLength(1);
  });
});

describe('toRuns', () => {
  it('groups consecutive seqs per envId', () => {
    const events = [
      { envId: 'a', seq: 1 },
      { envId: 'a', seq: 2 },
      { envId: 'a', seq: 4 },
      { envId: 'b', seq: 5 },
    ] as LifelineEvent[];
    expect(toRuns(events)).toEqual([
      { envId: 'a', fromSeq: 1, toSeq: 2, count: 2 },
      { envId: 'a', fromSeq: 4, toSeq: 4, count: 1 },
      { envId: 'b', fromSeq: 5, toSeq: 5, count: 1 },
    ]);
  });
});
