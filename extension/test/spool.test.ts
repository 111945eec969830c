import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { toEntry } from '../src/event-buffer.ts';
import { Recorder } from '../src/recorder.ts';
import { Spool } from '../src/spool.ts';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-spool-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function entries(envId: string, count: number) {
  const recorder = new Recorder(envId);
  return Array.from({ length: count }, () =>
    toEntry(recorder.record({ type: 'shutdown', shutdownReason: 'spindown', deadlineMs: 1 })),
  );
}

describe('Spool', () => {
  it('hands one environment’s leftovers to the next registration in the same directory', () => {
    const dir = tempDir();
    new Spool({ dir, maxBytes: 1_000_000, envId: 'old' }).write(entries('old', 3));
    const next = new Spool({ dir, maxBytes: 1_000_000, envId: 'new' });
    const leftovers = next.loadLeftovers();
    expect(leftovers.entries.map((entry) => entry.event.id)).toEqual(['old:0', 'old:1', 'old:2']);
    next.write([...leftovers.entries, ...entries('new', 1)]);
    expect(readdirSync(dir)).toEqual(['pending-new.ndjson']);
    next.clear();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('skips corrupt lines and files when loading', () => {
    const dir = tempDir();
    const good = entries('a', 2);
    writeFileSync(
      join(dir, 'pending-a.ndjson'),
      `${good[0]!.json}\n{not json\n${good[1]!.json}\n{"id":1}\n`,
    );
    writeFileSync(join(dir, 'pending-b.ndjson'), '\u0000\u0001garbage');
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    const leftovers = new Spool({ dir, maxBytes: 1_000_000, envId: 'c' }).loadLeftovers();
    expect(leftovers.entries.map((entry) => entry.event.id)).toEqual(['a:0', 'a:1']);
    expect(leftovers.badLines).toBe(3);
    expect(leftovers.corruptFiles).toBe(1);
  });

  it('keeps within maxBytes but always keeps dropped and exit records when writing', () => {
    const dir = tempDir();
    const recorder = new Recorder('e');
    const many = Array.from({ length: 10 }, () =>
      toEntry(recorder.record({ type: 'shutdown', shutdownReason: 'spindown', deadlineMs: 1 })),
    );
    const exit = toEntry(recorder.record({ type: 'exit', delivered: 0, dropped: 0, pending: 10 }));
    const spool = new Spool({ dir, maxBytes: many[0]!.bytes * 3 + 3, envId: 'e' });
    const skipped = spool.write([...many, exit]);
    expect(skipped).toHaveLength(8);
    const text = readFileSync(spool.file, 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(many[0]!.bytes * 3 + 3);
    expect(
      text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).seq),
    ).toEqual([0, 1, 10]);
  });

  it('loads the oldest events that fit and reports the rest as lost when a file is over budget', () => {
    const dir = tempDir();
    const recorder = new Recorder('old');
    const many = Array.from({ length: 10 }, () =>
      toEntry(recorder.record({ type: 'shutdown', shutdownReason: 'spindown', deadlineMs: 1 })),
    );
    const exit = toEntry(recorder.record({ type: 'exit', delivered: 0, dropped: 0, pending: 10 }));
    new Spool({ dir, maxBytes: 1_000_000, envId: 'old' }).write([...many, exit]);
    const next = new Spool({ dir, maxBytes: many[0]!.bytes * 4 + exit.bytes + 5, envId: 'new' });
    const leftovers = next.loadLeftovers();
    expect(leftovers.entries.map((entry) => entry.event.seq)).toEqual([0, 1, 2, 3, 10]);
    expect(leftovers.lost).toEqual([{ envId: 'old', fromSeq: 4, toSeq: 9, count: 6 }]);
    expect(leftovers.corruptFiles).toBe(0);
  });

  it('leaves a file it did not read in place when the budget is used up', () => {
    const dir = tempDir();
    const first = entries('a', 3);
    new Spool({ dir, maxBytes: 1_000_000, envId: 'a' }).write(first);
    const older = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'pending-a.ndjson'), older, older);
    new Spool({ dir, maxBytes: 1_000_000, envId: 'b' }).write(entries('b', 3));
    const next = new Spool({ dir, maxBytes: first[0]!.bytes * 3 + 3, envId: 'c' });
    const leftovers = next.loadLeftovers();
    expect(leftovers.entries.map((entry) => entry.event.id)).toEqual(['a:0', 'a:1', 'a:2']);
    next.write(leftovers.entries);
    expect(readdirSync(dir).sort()).toEqual(['pending-b.ndjson', 'pending-c.ndjson']);
  });

  it('removes temp files of failed writes by other processes when loading', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pending-x.ndjson.999999.tmp'), 'half a li');
    new Spool({ dir, maxBytes: 1_000_000, envId: 'c' }).loadLeftovers();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes and clears in the background like the synchronous write, taking over leftover files', async () => {
    const dir = tempDir();
    new Spool({ dir, maxBytes: 1_000_000, envId: 'old' }).write(entries('old', 1));
    const spool = new Spool({ dir, maxBytes: 1_000_000, envId: 'new' });
    const leftovers = spool.loadLeftovers().entries;
    await spool.writeInBackground([...leftovers, ...entries('new', 2)]);
    expect(readdirSync(dir)).toEqual(['pending-new.ndjson']);
    expect(readFileSync(spool.file, 'utf8').trim().split('\n')).toHaveLength(3);
    await spool.writeInBackground([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('returns everything as not written when the directory is unusable', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    const spool = new Spool({ dir: join(dir, 'file', 'sub'), maxBytes: 1000, envId: 'e' });
    expect(spool.write(entries('e', 2))).toHaveLength(2);
    expect(spool.loadLeftovers().entries).toEqual([]);
    await expect(spool.writeInBackground(entries('e', 2))).resolves.toBeUndefined();
  });
});
