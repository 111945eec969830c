import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    expect(skipped).toHaveLength(7);
    const lines = readFileSync(spool.file, 'utf8').trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).seq)).toEqual([0, 1, 2, 10]);
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
