import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freshUuid } from './restore.ts';

/** Who this registration is within its sandbox. */
export interface SandboxIdentity {
  /** Stable across resets of one sandbox (its marker lives in /tmp, which survives them). */
  sandboxId: string;
  /** The envId that registered before this one in the same sandbox. */
  previousEnvId: string | undefined;
}

const MARKER = 'sandbox.json';

/**
 * Reads the sandbox marker under `dir` and records `envId` as its latest registration. A missing or corrupt marker
 * starts a new sandbox; an unwritable directory still yields an identity (just not a persistent one). Never throws.
 */
export function claimSandboxIdentity(dir: string, envId: string): SandboxIdentity {
  const path = join(dir, MARKER);
  let sandboxId: string | undefined;
  let previousEnvId: string | undefined;
  try {
    const marker: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof marker === 'object' && marker !== null) {
      const { sandboxId: id, lastEnvId } = marker as Record<string, unknown>;
      if (typeof id === 'string' && id !== '' && id.length <= 256) sandboxId = id;
      if (
        sandboxId &&
        typeof lastEnvId === 'string' &&
        lastEnvId !== envId &&
        lastEnvId.length <= 256
      ) {
        previousEnvId = lastEnvId;
      }
    }
  } catch {
    // No marker yet, or a corrupt one: this is a new sandbox.
  }
  sandboxId ??= globalThis.crypto.randomUUID();
  writeMarker(path, sandboxId, envId);
  return { sandboxId, previousEnvId };
}

/**
 * A new sandbox for `envId`, whatever the marker says: after a SnapStart restore the marker (in the snapshot's /tmp)
 * names the snapshot's sandbox, shared by every copy. The id comes from {@link freshUuid}, which copies never share.
 */
export function newSandboxIdentity(dir: string, envId: string): SandboxIdentity {
  const sandboxId = freshUuid();
  writeMarker(join(dir, MARKER), sandboxId, envId);
  return { sandboxId, previousEnvId: undefined };
}

function writeMarker(path: string, sandboxId: string, envId: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ sandboxId, lastEnvId: envId }));
    renameSync(temp, path);
  } catch {
    // Identity still works for this registration; only the link to the next one is lost.
  }
}
