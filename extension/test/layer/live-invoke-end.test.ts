import type { PlatformEvent } from '@lifeline/protocol';
import { describe, expect, it } from 'vitest';
import { eventsOf, expectGapless, layerSandbox, logOf } from '../helpers/layer-sandbox.ts';

const runtimeDoneOf = (events: readonly { type: string }[], requestId: string) =>
  (events as PlatformEvent[]).find(
    (event) =>
      event.type === 'platform' &&
      event.recordType === 'platform.runtimeDone' &&
      (event.record as { requestId?: string }).requestId === requestId,
  );

describe('the live invoke end under the emulator', () => {
  it('has each invoke’s platform.runtimeDone at the collector when the invoke phase ends, before any thaw', async () => {
    const { sandbox, receiver } = await layerSandbox({ env: { LIFELINE_LIVE_INVOKE_END: 'on' } });
    for (let i = 0; i < 3; i++) {
      const invoke = await sandbox.invoke({ durationMs: 20 });
      expect(invoke.status).toBe('success');
      // The environment is frozen now: whatever reached the collector got there before the extension's /next.
      expect(runtimeDoneOf(receiver.events, invoke.requestId)).toBeDefined();
    }
    await sandbox.shutdown('spindown');
    await receiver.waitFor(() => receiver.ofType('exit').length === 1, 10_000, 'exit record');
    expectGapless(
      eventsOf(receiver.events, logOf(sandbox.log, 'extension.register')[0]!.extensionId!),
    );
  });
});
