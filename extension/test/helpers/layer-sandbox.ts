import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmulatorLogEntry, Sandbox, type SandboxOptions } from '@lifeline/emulator';
import type { LifelineEvent } from '@lifeline/protocol';
import { expect, inject, onTestFinished } from 'vitest';
import { startReceiver } from './receiver.ts';

/** A sandbox running the built layer plus a recording receiver, both cleaned up when the test ends. */
export async function layerSandbox(
  options: { env?: Record<string, string>; sandbox?: SandboxOptions; extensionsDir?: string } = {},
) {
  const receiver = await startReceiver(onTestFinished);
  const tmpDir = mkdtempSync(join(tmpdir(), 'lifeline-sbx-'));
  onTestFinished(() => rmSync(tmpDir, { recursive: true, force: true }));
  const sandbox = new Sandbox({
    extensionsDir: options.extensionsDir ?? join(inject('layerDir'), 'extensions'),
    freeze: true,
    tmpDir,
    timeoutMs: 3000,
    env: {
      LIFELINE_COLLECTOR_URL: receiver.url,
      LIFELINE_TOKEN: 'test-token',
      LIFELINE_TELEMETRY_PORT: '0',
      ...options.env,
    },
    ...options.sandbox,
  });
  onTestFinished(() => sandbox.close());
  return { sandbox, receiver, tmpDir };
}

/** Committed events of one envId, by seq. */
export function eventsOf(events: readonly LifelineEvent[], envId: string): LifelineEvent[] {
  return events.filter((event) => event.envId === envId).sort((a, b) => a.seq - b.seq);
}

/** Asserts seqs 0..last with no gap and no repeat, and that ids are `${envId}:${seq}`. */
export function expectGapless(events: readonly LifelineEvent[]): void {
  expect(events.length).toBeGreaterThan(0);
  expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index));
  for (const event of events) expect(event.id).toBe(`${event.envId}:${event.seq}`);
}

/** The Lifeline extension's log entries of one kind. */
export function logOf(
  log: readonly EmulatorLogEntry[],
  kind: EmulatorLogEntry['kind'],
): EmulatorLogEntry[] {
  return log.filter((entry) => entry.kind === kind && entry.extension === 'lifeline');
}

/**
 * Hold per invoke from the emulator's log: INVOKE written to the extension → its next `/event/next`.
 */
export function holdTimes(log: readonly EmulatorLogEntry[]): number[] {
  const holds: number[] = [];
  let invokedAt: number | undefined;
  for (const entry of log) {
    if (entry.extension !== 'lifeline') continue;
    if (entry.kind === 'event.invoke') invokedAt = entry.mono;
    else if (entry.kind === 'extension.next' && invokedAt !== undefined) {
      holds.push(entry.mono - invokedAt);
      invokedAt = undefined;
    }
  }
  return holds;
}
