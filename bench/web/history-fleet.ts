import { exampleLifecycle, type LifelineEvent } from '@lifeline/protocol';

/** The same fleet shape as `fleet-preload.ts`, as raw events for the ingest API. */
export function historyFleet(
  environments: number,
  invokesPerEnvironment: number,
  now: number,
): LifelineEvent[] {
  const events: LifelineEvent[] = [];
  const functions = ['checkout-api', 'image-resizer', 'nightly-report', 'search', 'auth-edge'];
  const span = 60 * 60_000;
  for (let i = 0; i < environments; i++) {
    const startAt = now - span + Math.floor((i / environments) * (span - 7 * 60_000));
    events.push(
      ...exampleLifecycle({
        envId: `${(0x10000000 + i * 7919).toString(16)}-h1st-4e00-8000-${String(i).padStart(12, '0')}`,
        functionName: functions[i % functions.length],
        startAt,
        invokes: invokesPerEnvironment,
        durationMs: (k) => 40 + ((k * 53 + i * 17) % 900),
        gapMs: 1000 + ((i * 31) % 2000),
        timeoutMs: 3000,
        statusOf: (k) => (k % 29 === 7 ? 'error' : k % 97 === 50 ? 'timeout' : 'success'),
        shutdownReason: i % 4 === 0 ? undefined : i % 11 === 0 ? 'timeout' : 'spindown',
      }),
    );
  }
  return events;
}
