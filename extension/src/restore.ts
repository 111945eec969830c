import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Notices that this process is a copy restored from a SnapStart snapshot. Every environment restored from one
 * snapshot resumes the same process memory and presents the same extension identifier, so each must take a fresh
 * identity, once. Two signs, whichever comes first: the `platform.restoreStart` record, and the first INVOKE — the
 * process that ran Init at publish only ever lives on in its restored copies (extensions get no event at restore and
 * resume in the `/event/next` of their Init), so an INVOKE reaching it is an INVOKE reaching a copy. That sign needs
 * no telemetry and no clock: a restore may follow the snapshot within a second or after weeks.
 */
export class RestoreWatch {
  readonly #snapStart: boolean;
  #restored = false;

  constructor(snapStart: boolean) {
    this.#snapStart = snapStart;
  }

  /** A sign of a restore was seen: true the first time on a SnapStart function, then never again. */
  sign(): boolean {
    if (!this.#snapStart || this.#restored) return false;
    this.#restored = true;
    return true;
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
