import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LifelineEvent } from '@lifeline/protocol';
import { type BufferEntry, toEntry } from './event-buffer.ts';

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
}

const PREFIX = 'pending-';
const SUFFIX = '.ndjson';

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

  /** Reads every other environment's spool file, oldest first, deduplicated by id. */
  loadLeftovers(): Leftovers {
    const result: Leftovers = { entries: [], corruptFiles: 0, badLines: 0 };
    let names: string[];
    try {
      names = readdirSync(this.#options.dir);
    } catch {
      return result;
    }
    const files = names
      .filter((name) => name.startsWith(PREFIX) && name.endsWith(SUFFIX))
      .map((name) => join(this.#options.dir, name))
      .filter((path) => path !== this.#file)
      .map((path) => ({ path, mtime: mtimeOf(path) }))
      .sort((a, b) => a.mtime - b.mtime);
    const seen = new Set<string>();
    let budget = this.#options.maxBytes;
    for (const { path } of files) {
      this.#leftoverFiles.push(path);
      let text: string;
      try {
        if (statSync(path).size > budget) {
          result.corruptFiles++;
          continue;
        }
        text = readFileSync(path, 'utf8');
      } catch {
        result.corruptFiles++;
        continue;
      }
      budget -= text.length;
      let usable = 0;
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const event = parseEvent(line);
        if (event === undefined) {
          result.badLines++;
          continue;
        }
        usable++;
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        result.entries.push(toEntry(event, line));
      }
      if (usable === 0) result.corruptFiles++;
    }
    return result;
  }

  /**
   * Replaces this environment's file with `entries` (oldest first) up to `maxBytes`; `dropped` and `exit` records are
   * always kept. Removes leftover files it has taken over. Returns the entries that did not fit.
   */
  write(entries: readonly BufferEntry[]): BufferEntry[] {
    if (entries.length === 0) {
      this.clear();
      return [];
    }
    const { text, skipped } = this.#render(entries);
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
        const { text } = this.#render(entries);
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

  #render(entries: readonly BufferEntry[]): { text: string; skipped: BufferEntry[] } {
    const lines: string[] = [];
    const skipped: BufferEntry[] = [];
    let bytes = 0;
    for (const entry of entries) {
      const essential = entry.event.type === 'dropped' || entry.event.type === 'exit';
      if (!essential && bytes + entry.bytes + 1 > this.#options.maxBytes) {
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

  #removeLeftoverFiles(): void {
    for (const path of this.#leftoverFiles) tryUnlink(path);
    this.#leftoverFiles = [];
  }
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
