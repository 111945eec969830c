import { closeSync, openSync, readSync } from 'node:fs';

/**
 * A wall clock that moved this much further than the process's monotonic clock between two observations means the
 * process was restored from a snapshot: a freeze stops neither clock, a restore resumes the monotonic clock where the
 * snapshot left it while the wall clock is set to the present. Clock corrections by time sync are far smaller.
 */
export const RESTORE_CLOCK_JUMP_MS = 5_000;
/** A `platform.restoreStart` this soon after a restore the clock already revealed belongs to that restore. */
const RESTORE_RECORD_WINDOW_MS = 10_000;

/** The two clocks the watch compares (fakes in tests). */
export interface Clocks {
  wall(): number;
  monotonic(): number;
}

const SYSTEM_CLOCKS: Clocks = { wall: Date.now, monotonic: () => performance.now() };

/**
 * Notices that this process was restored from a SnapStart snapshot. Every environment restored from one snapshot
 * resumes the same process memory and presents the same extension identifier, so each must take a fresh identity.
 * Two signs: the `platform.restoreStart` record, and — without telemetry, or before it arrives — the jump of the
 * wall clock against the monotonic one. Only on SnapStart functions: elsewhere a stepped clock is not a restore.
 */
export class RestoreWatch {
  readonly #enabled: boolean;
  readonly #clocks: Clocks;
  #offset: number;
  #clockRestoreAt: number | undefined;

  constructor(snapStart: boolean, clocks: Clocks = SYSTEM_CLOCKS) {
    this.#enabled = snapStart;
    this.#clocks = clocks;
    this.#offset = clocks.wall() - clocks.monotonic();
  }

  /** Checks the clocks (call on every event); true once per restore they reveal. */
  clockJumped(): boolean {
    if (!this.#enabled) return false;
    const offset = this.#clocks.wall() - this.#clocks.monotonic();
    const jumped = offset - this.#offset >= RESTORE_CLOCK_JUMP_MS;
    this.#offset = offset;
    if (jumped) this.#clockRestoreAt = this.#clocks.wall();
    return jumped;
  }

  /** A `platform.restoreStart` arrived: true unless the clock already revealed this restore. */
  restoreRecord(): boolean {
    if (!this.#enabled) return false;
    this.#offset = this.#clocks.wall() - this.#clocks.monotonic();
    const seen = this.#clockRestoreAt;
    this.#clockRestoreAt = undefined;
    return seen === undefined || this.#clocks.wall() - seen > RESTORE_RECORD_WINDOW_MS;
  }
}

/**
 * A random UUID v4 from the kernel's generator, read at the moment of the call. Node's own `randomUUID` serves from a
 * cache of random bytes and OpenSSL keeps its generator state in process memory: both are part of a snapshot, so
 * every restored copy would draw the same "random" id. The kernel reseeds on restore.
 */
export function freshUuid(): string {
  const bytes = new Uint8Array(16);
  let fd: number | undefined;
  try {
    fd = openSync('/dev/urandom', 'r');
    if (readSync(fd, bytes, 0, 16, null) !== 16) throw new Error('short read');
  } catch {
    globalThis.crypto.getRandomValues(bytes);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
