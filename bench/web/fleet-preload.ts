/**
 * Bundled by esbuild into an init script for the benchmark page: generates a fleet of StoredEvents with the
 * protocol's own `exampleLifecycle` and hands them to the dashboard through its preload hook
 * (`window.__LIFELINE_PRELOAD__`), before any dashboard code runs. Parameters come from `window.__LIFELINE_BENCH__`.
 */
import type { StoredEvent } from '@lifeline/protocol';
import { exampleLifecycle } from '../../protocol/src/examples.ts';

declare global {
  interface Window {
    __LIFELINE_BENCH__?: { environments: number; invokesPerEnvironment: number; now: number };
    __LIFELINE_PRELOAD__?: StoredEvent[];
  }
}

const params = window.__LIFELINE_BENCH__;
if (params) {
  const started = performance.now();
  const { environments, invokesPerEnvironment, now } = params;
  const stored: StoredEvent[] = [];
  let cursor = 1;
  const functions = ['checkout-api', 'image-resizer', 'nightly-report', 'search', 'auth-edge'];
  // Spread environments over the last hour; each lives ~6 minutes with 1-3 s between invokes.
  const span = 60 * 60_000;
  for (let i = 0; i < environments; i++) {
    const startAt = now - span + Math.floor((i / environments) * (span - 7 * 60_000));
    const events = exampleLifecycle({
      envId: `${(0x10000000 + i * 7919).toString(16)}-b3nc-4e00-8000-${String(i).padStart(12, '0')}`,
      functionName: functions[i % functions.length],
      startAt,
      invokes: invokesPerEnvironment,
      durationMs: (k) => 40 + ((k * 53 + i * 17) % 900),
      gapMs: 1000 + ((i * 31) % 2000),
      timeoutMs: 3000,
      statusOf: (k) => (k % 29 === 7 ? 'error' : k % 97 === 50 ? 'timeout' : 'success'),
      shutdownReason: i % 4 === 0 ? undefined : i % 11 === 0 ? 'timeout' : 'spindown',
    });
    for (const event of events) stored.push({ cursor: cursor++, receivedAt: event.time, event });
  }
  window.__LIFELINE_PRELOAD__ = stored;
  performance.measure('lifeline:bench-generate', { start: started, end: performance.now() });
}
