import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { claimSandboxIdentity } from '../src/sandbox-identity.ts';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-identity-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('claimSandboxIdentity', () => {
  it('keeps the sandboxId and links the previous envId when registrations follow each other', () => {
    const dir = tempDir();
    const first = claimSandboxIdentity(dir, 'env-1');
    const second = claimSandboxIdentity(dir, 'env-2');
    expect(first.previousEnvId).toBeUndefined();
    expect(second).toEqual({ sandboxId: first.sandboxId, previousEnvId: 'env-1' });
  });

  it('starts a new sandbox when the marker is corrupt', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'sandbox.json'), '{broken');
    const identity = claimSandboxIdentity(dir, 'env-1');
    expect(identity.sandboxId).toMatch(/^[0-9a-f-]{36}$/);
    expect(identity.previousEnvId).toBeUndefined();
  });

  it('still returns an identity when the directory cannot be written', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    const identity = claimSandboxIdentity(join(dir, 'file'), 'env-1');
    expect(identity.sandboxId).toBeTruthy();
  });
});
