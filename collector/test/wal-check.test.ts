import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { checkWal } from '../src/wal-check.ts';
import { tempDir } from './helper.ts';

const HEADER = 32;
const FRAME_HEADER = 24;

/**
 * A database file and its WAL holding `commits` committed transactions, copied while the writer still has them
 * open (closing would checkpoint and delete the WAL), as a crash leaves them. `restartAfter` checkpoints after that
 * many commits so the WAL starts a new generation over the old frames.
 */
function crashedDatabase(commits: number, restartAfter?: number): string {
  const dir = tempDir();
  const live = join(dir, 'live.db');
  const db = new Database(live);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE batch (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO batch (body) VALUES (?)');
  for (let i = 0; i < commits; i++) {
    insert.run('x'.repeat(3000));
    if (restartAfter !== undefined && i + 1 === restartAfter) db.pragma('wal_checkpoint(RESTART)');
  }
  const copy = join(dir, 'crashed.db');
  copyFileSync(live, copy);
  copyFileSync(`${live}-wal`, `${copy}-wal`);
  db.close();
  return copy;
}

function rows(path: string): number {
  const db = new Database(path);
  try {
    return Number(db.prepare('SELECT count(*) FROM batch').pluck().get());
  } finally {
    db.close();
  }
}

function frameOffset(wal: Buffer, index: number): number {
  return HEADER + index * (FRAME_HEADER + wal.readUInt32BE(8));
}

describe('checkWal', () => {
  it('finds nothing without a WAL file, and nothing wrong in a WAL a crash left intact', () => {
    const dir = tempDir();
    expect(checkWal(join(dir, 'none.db'))).toBeUndefined();
    const path = crashedDatabase(20);
    const check = checkWal(path);
    expect(check).toMatchObject({ cutShort: false, discardedFrames: 0 });
    expect(check?.frames).toBeGreaterThanOrEqual(20);
    expect(check?.keptFrames).toBe(check?.frames);
    expect(rows(path)).toBe(20);
  });

  it('reports the frames SQLite discards after a damaged one, committed transactions included', () => {
    const path = crashedDatabase(20);
    const wal = readFileSync(`${path}-wal`);
    const frames = checkWal(path)?.frames ?? 0;
    // One flipped byte in the page of frame 5.
    const at = frameOffset(wal, 5) + FRAME_HEADER + 10;
    wal[at] = (wal[at] ?? 0) ^ 0x01;
    writeFileSync(`${path}-wal`, wal);
    const check = checkWal(path);
    expect(check?.cutShort).toBe(true);
    expect(check?.keptFrames).toBeLessThanOrEqual(5);
    expect(check?.discardedFrames).toBe(frames - (check?.keptFrames ?? 0));
    expect(check?.reason).toContain('WAL frame 5 is damaged');
    // And SQLite really drops them, silently.
    expect(rows(path)).toBeLessThan(20);
  });

  it('calls the whole WAL discarded when its header checksum is wrong', () => {
    const path = crashedDatabase(5);
    const wal = readFileSync(`${path}-wal`);
    wal[17] = (wal[17] ?? 0) ^ 0x01;
    writeFileSync(`${path}-wal`, wal);
    const check = checkWal(path);
    expect(check).toMatchObject({ cutShort: true, keptFrames: 0 });
    expect(check?.discardedFrames).toBe(check?.frames);
  });

  it('does not mistake the frames of an older WAL generation for damage', () => {
    const path = crashedDatabase(30, 25);
    const check = checkWal(path);
    expect(check?.cutShort).toBe(false);
    // The restarted WAL holds the last 5 commits, over the older generation's leftover frames.
    expect(check?.keptFrames).toBeLessThan(check?.frames ?? 0);
    expect(rows(path)).toBe(30);
  });

  it('does not report a damaged tail that no commit follows (a transaction that never committed)', () => {
    const path = crashedDatabase(3);
    const wal = readFileSync(`${path}-wal`);
    const frames = checkWal(path)?.frames ?? 0;
    // A copy of the last frame, not a commit and with a wrong checksum: a torn write of an unfinished transaction.
    const last = Buffer.from(wal.subarray(frameOffset(wal, frames - 1), frameOffset(wal, frames)));
    last.writeUInt32BE(0, 4);
    last.writeUInt32BE((last.readUInt32BE(16) + 1) >>> 0, 16);
    appendFileSync(`${path}-wal`, last);
    const check = checkWal(path);
    expect(check).toMatchObject({ cutShort: false, frames: frames + 1, keptFrames: frames });
    expect(rows(path)).toBe(3);
  });
});
