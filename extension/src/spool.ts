import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LifelineEvent } from '@lifeline/protocol';
import { type BufferEntry, type DroppedRun, toEntry, toRuns } from './event-buffer.ts';

/** Options of {@link Spool}. */
export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  envId: string;
}

/** What {@link Spool.loadLeftovers} found. */
export interface Leftovers {
  entries: BufferEntry[];
  /** Files that were unreadable or held no usable line. */
  corruptFiles: number;
  /** Lines that were skipped because they did not parse. */
  badLines: number;
  /** Events that did not fit in `maxBytes` and were left out (they need a `dropped` record of their envId). */
  lost: DroppedRun[];
}

const PREFIX = 'pending-';
const SUFFIX = '.ndjson';
const TEMP_SUFFIX = '.tmp';
/** Read past the budget, so `dropped` and `exit` records at the end of a slightly larger file are still found. */
const READ_SLACK_BYTES = 64 * 1024;

/**
 * Unacknowledged events on disk (`<dir>/pending-<envId>.ndjson`, one JSON event per line), so they survive the
 * extension process: across invokes of one environment and across a reset in the same sandbox, where the next
 * registration picks up the previous envId's leftovers. Writes are atomic (temp file + rename); corrupt files and
 * lines are skipped. Every method swallows file-system errors: the spool is best effort, memory stays authoritative.
 */
export class Spool {
  readonly #options: SpoolOptions;
  readonly #file: string;
  #written = false;
  #leftoverFiles: string[] = [];

  constructor(options: SpoolOptions) {
    this.#options = options;
    this.#file = join(options.dir, `${PREFIX}${safeName(options.envId)}${SUFFIX}`);
  }

  /** The file this environment writes. */
  get file(): string {
    return this.#file;
  }

  /**
   * Reads other environments' spool files, oldest first, deduplicated by id, up to `maxBytes` in all. `dropped` and
   * `exit` records are always taken; of the rest, the OLDEST events that fit are, in order, and the newer ones are
   * reported as `lost`: the collector then gets a gapless prefix of each environment and one `dropped` record for the
   * tail, and delivery order stays seq order. Only files that were read are taken over (and later removed).
   */
  loadLeftovers(): Leftovers {
    const result: Leftovers = { entries: [], corruptFiles: 0, badLines: 0, lost: [] };
    let names: string[];
    try {
      names = readdirSync(this.#options.dir);
    } catch {
      return result;
    }
    this.#removeStaleTemps(names);
    const files = names
      .filter((name) => name.startsWith(PREFIX) && name.endsWith(SUFFIX))
      .map((name) => join(this.#options.dir, name))
      .filter((path) => path !== this.#file)
      .map((path) => ({ path, mtime: mtimeOf(path) }))
      .sort((a, b) => a.mtime - b.mtime);
    const seen = new Set<string>();
    let budget = this.#options.maxBytes;
    const lost: LifelineEvent[] = [];
    for (const { path } of files) {
      if (budget <= 0) break;
      let text: string;
      try {
        text = readHead(path, budget + READ_SLACK_BYTES);
      } catch {
        this.#leftoverFiles.push(path);
        result.corruptFiles++;
        continue;
      }
      this.#leftoverFiles.push(path);
      const events: { event: LifelineEvent; line: string }[] = [];
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const event = parseEvent(line);
        if (event === undefined) {
          result.badLines++;
          continue;
        }
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        events.push({ event, line });
      }
      if (events.length === 0) {
        result.corruptFiles++;
        continue;
      }
      for (const { event, line } of events) if (isEssential(event)) budget -= line.length + 1;
      for (const { event, line } of events) {
        if (!isEssential(event)) {
          if (line.length + 1 > budget) {
            lost.push(event);
            continue;
          }
          budget -= line.length + 1;
        }
        result.entries.push(toEntry(event, line));
      }
    }
    result.lost = toRuns(lost);
    return result;
  }

  /**
   * Replaces this environment's file with `entries` (oldest first) up to `maxBytes`; `dropped` and `exit` records are
   * always kept, and room is reserved for them first. `reserveBytes` more are left free (for records that will
   * explain what did not fit). Removes leftover files it has taken over. Returns the entries that did not fit.
   */
  write(entries: readonly BufferEntry[], reserveBytes = 0): BufferEntry[] {
    if (entries.length === 0) {
      this.clear();
      return [];
    }
    const { text, skipped } = this.#render(entries, reserveBytes);
    try {
      mkdirSync(this.#options.dir, { recursive: true });
      const temp = `${this.#file}.${process.pid}.tmp`;
      writeFileSync(temp, text);
      renameSync(temp, this.#file);
      this.#written = true;
      this.#removeLeftoverFiles();
    } catch {
      return [...entries];
    }
    return skipped;
  }

  /**
   * Like {@link Spool.write} (or {@link Spool.clear} for no entries) without blocking the event loop: between
   * invokes, where a busy disk must not delay the next event. Never rejects.
   */
  async writeInBackground(entries: readonly BufferEntry[]): Promise<void> {
    try {
      if (entries.length === 0) {
        if (this.#written) {
          this.#written = false;
          await unlink(this.#file).catch(() => {});
        }
      } else {
        const { text } = this.#render(entries, 0);
        await mkdir(this.#options.dir, { recursive: true });
        const temp = `${this.#file}.${process.pid}.tmp`;
        await writeFile(temp, text);
        await rename(temp, this.#file);
        this.#written = true;
      }
      const leftovers = this.#leftoverFiles;
      this.#leftoverFiles = [];
      await Promise.all(leftovers.map((path) => unlink(path).catch(() => {})));
    } catch {
      // Best effort: memory stays authoritative and the final write at exit is synchronous.
    }
  }

  #render(
    entries: readonly BufferEntry[],
    reserveBytes: number,
  ): { text: string; skipped: BufferEntry[] } {
    const lines: string[] = [];
    const skipped: BufferEntry[] = [];
    let bytes = reserveBytes;
    for (const entry of entries) if (isEssential(entry.event)) bytes += entry.bytes + 1;
    for (const entry of entries) {
      const essential = isEssential(entry.event);
      if (essential) {
        lines.push(entry.json);
        continue;
      }
      if (bytes + entry.bytes + 1 > this.#options.maxBytes) {
        skipped.push(entry);
        continue;
      }
      lines.push(entry.json);
      bytes += entry.bytes + 1;
    }
    return { text: `${lines.join('\n')}\n`, skipped };
  }

  /** Removes this environment's file (everything was acknowledged) and the leftover files it took over. */
  clear(): void {
    if (this.#written) {
      tryUnlink(this.#file);
      this.#written = false;
    }
    this.#removeLeftoverFiles();
  }

  /** Temp files of writes that failed midway (a crashed or killed process): nobody will rename them any more. */
  #removeStaleTemps(names: readonly string[]): void {
    for (const name of names)
      if (
        name.startsWith(PREFIX) &&
        name.endsWith(TEMP_SUFFIX) &&
        !name.endsWith(`.${process.pid}${TEMP_SUFFIX}`)
      )
        tryUnlink(join(this.#options.dir, name));
  }

  #removeLeftoverFiles(): void {
    for (const path of this.#leftoverFiles) tryUnlink(path);
    this.#leftoverFiles = [];
  }
}

/** `dropped` and `exit` records explain the rest: they are always written and always loaded. */
function isEssential(event: LifelineEvent): boolean {
  return event.type === 'dropped' || event.type === 'exit';
}

function parseEvent(line: string): LifelineEvent | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) return undefined;
    const { id, envId, seq, type, time } = value as Record<string, unknown>;
    const valid =
      typeof id === 'string' &&
      typeof envId === 'string' &&
      typeof type === 'string' &&
      typeof time === 'number' &&
      typeof seq === 'number' &&
      Number.isInteger(seq) &&
      seq >= 0;
    return valid ? (value as LifelineEvent) : undefined;
  } catch {
    return undefined;
  }
}

function safeName(envId: string): string {
  return envId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 200);
}

/** At most `maxBytes` of the file; a line cut in the middle then fails to parse and is counted as bad. */
function readHead(path: string, maxBytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const size = Math.min(fstatSync(fd).size, maxBytes);
    const buffer = Buffer.alloc(size);
    let read = 0;
    for (let round = 0; round < 1_000_000 && read < size; round++) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
