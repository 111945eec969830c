import { describe, expect, it } from 'vitest';
import { Recorder } from '../src/recorder.ts';

describe('Recorder', () => {
  it('assigns gapless seqs from 0 and ids envId:seq when recording', () => {
    let now = 100;
    const recorder = new Recorder('env-1', () => now++);
    const a = recorder.record({ type: 'shutdown', shutdownReason: 'spindown', deadlineMs: 5 });
    const b = recorder.record({ type: 'shutdown', shutdownReason: 'spindown', deadlineMs: 5 }, 42);
    expect(a).toMatchObject({ id: 'env-1:0', envId: 'env-1', seq: 0, time: 100 });
    expect(b).toMatchObject({ id: 'env-1:1', seq: 1, time: 42 });
    expect(recorder.nextSeq).toBe(2);
  });
});
