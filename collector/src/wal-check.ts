import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** What the start-up check found in a SQLite write-ahead log. */
export interface WalCheck {
  /** Whole frames in the file. */
  frames: number;
  /** Frames SQLite will replay: those up to the last commit frame whose checksum chain is intact. */
  keptFrames: number;
  /**
   * Frames of the current WAL generation that SQLite will discard although they follow a damaged one: the first
   * frame whose checksum fails and every later frame with the same salts. Committed (and so acknowledged) batches
   * may be among them. 0 when nothing is damaged (frames left from an older generation, or an interrupted
   * transaction that never committed, are normal and not counted).
   */
  discardedFrames: number;
  /** True when discardedFrames > 0 or the header itself is damaged while frames follow it. */
  cutShort: boolean;
  /** One sentence for the log when cutShort. */
  reason?: string;
}

const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;
const MAGIC_LITTLE_ENDIAN = 0x377f0682;
const MAGIC_BIG_ENDIAN = 0x377f0683;

/**
 * Reads `${dbPath}-wal` the way SQLite recovers it, before SQLite opens it, and reports frames that recovery will
 * throw away. SQLite's recovery is silent: it replays frames while their salts match the header and their
 * cumulative checksum holds, and stops at the first one that fails, discarding it and everything after, committed
 * or not. Format (sqlite.org/fileformat2.html, "WAL file format"): a 32-byte header (magic whose low bit gives the
 * checksum byte order, page size at 8, salts at 16 and 20, header checksum at 24), then frames of a 24-byte header
 * (page number, database size for a commit frame, the two salts, the cumulative checksum) and one page.
 * Returns undefined when there is no WAL file.
 */
export function checkWal(dbPath: string): WalCheck | undefined {
  let fd: number;
  try {
    fd = openSync(`${dbPath}-wal`, 'r');
  } catch {
    return undefined;
  }
  try {
    return inspect(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

function inspect(fd: number, size: number): WalCheck {
  const clean: WalCheck = { frames: 0, keptFrames: 0, discardedFrames: 0, cutShort: false };
  if (size < WAL_HEADER_BYTES) return clean;
  const header = Buffer.alloc(WAL_HEADER_BYTES);
  readSync(fd, header, 0, WAL_HEADER_BYTES, 0);
  const magic = header.readUInt32BE(0);
  const pageSize = header.readUInt32BE(8);
  const validPageSize =
    (pageSize >= 512 && pageSize <= 32768 && (pageSize & (pageSize - 1)) === 0) || pageSize === 1;
  if ((magic !== MAGIC_LITTLE_ENDIAN && magic !== MAGIC_BIG_ENDIAN) || !validPageSize) {
    return size > WAL_HEADER_BYTES
      ? {
          ...clean,
          cutShort: true,
          reason: 'the WAL header is not valid: SQLite ignores the whole WAL',
        }
      : clean;
  }
  const bigEndian = magic === MAGIC_BIG_ENDIAN;
  const page = pageSize === 1 ? 65536 : pageSize;
  const frameBytes = FRAME_HEADER_BYTES + page;
  const frames = Math.floor((size - WAL_HEADER_BYTES) / frameBytes);
  let sum = checksum(header, 0, 24, bigEndian, [0, 0]);
  if (sum[0] !== header.readUInt32BE(24) || sum[1] !== header.readUInt32BE(28)) {
    return frames > 0
      ? {
          frames,
          keptFrames: 0,
          discardedFrames: frames,
          cutShort: true,
          reason: 'the WAL header checksum is wrong: SQLite ignores every frame',
        }
      : { ...clean };
  }
  const salt1 = header.readUInt32BE(16);
  const salt2 = header.readUInt32BE(20);
  const frame = Buffer.alloc(frameBytes);
  let keptFrames = 0;
  /** The first frame recovery stops at, and whether a commit of this generation follows from there. */
  let firstBad: number | undefined;
  let laterFrames = 0;
  let lostCommit = false;
  for (let index = 0; index < frames; index++) {
    readSync(fd, frame, 0, frameBytes, WAL_HEADER_BYTES + index * frameBytes);
    const sameGeneration = frame.readUInt32BE(8) === salt1 && frame.readUInt32BE(12) === salt2;
    const commit = frame.readUInt32BE(4) !== 0;
    if (firstBad !== undefined) {
      if (sameGeneration) {
        laterFrames += 1;
        lostCommit ||= commit;
      }
      continue;
    }
    if (!sameGeneration) {
      // A frame of an older generation (the WAL restarted after a checkpoint) ends the current one; a later frame
      // with the current salts would mean this one was damaged, so keep looking.
      firstBad = index;
      continue;
    }
    sum = checksum(frame, 0, 8, bigEndian, sum);
    sum = checksum(frame, FRAME_HEADER_BYTES, frameBytes, bigEndian, sum);
    if (
      frame.readUInt32BE(0) === 0 ||
      sum[0] !== frame.readUInt32BE(16) ||
      sum[1] !== frame.readUInt32BE(20)
    ) {
      firstBad = index;
      lostCommit = commit;
      continue;
    }
    if (commit) keptFrames = index + 1;
  }
  // Frames after the last intact commit that never reached a commit are an interrupted transaction: never
  // acknowledged, so nothing is lost.
  if (firstBad === undefined || !lostCommit) {
    return { frames, keptFrames, discardedFrames: 0, cutShort: false };
  }
  const discardedFrames = firstBad - keptFrames + 1 + laterFrames;
  return {
    frames,
    keptFrames,
    discardedFrames,
    cutShort: true,
    reason: `WAL frame ${firstBad} is damaged: SQLite discards it and ${discardedFrames - 1} other frame(s), committed transactions among them`,
  };
}

/** SQLite's WAL checksum over `data[start, end)` (a multiple of 8 bytes), continuing from `seed`. */
function checksum(
  data: Buffer,
  start: number,
  end: number,
  bigEndian: boolean,
  seed: readonly [number, number],
): [number, number] {
  let s0 = seed[0];
  let s1 = seed[1];
  for (let i = start; i < end; i += 8) {
    const x0 = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i);
    const x1 = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}
