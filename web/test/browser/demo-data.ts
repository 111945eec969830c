import { exampleLifecycle, type LifelineEvent } from '@lifeline/protocol';

/**
 * A realistic fleet for screenshots and browser tests, ending around `now`: three functions, cold starts, errors,
 * a near-timeout, a timeout that resets its sandbox (re-initialisation with previousEnvId), spindowns, and
 * environments still alive with an invoke running.
 */
export function demoFleet(now: number): LifelineEvent[] {
  const events: LifelineEvent[] = [];
  const add = (list: LifelineEvent[]) => events.push(...list);
  // checkout-api: busy, mostly fast, a few errors; two spun down, three alive.
  for (let i = 0; i < 5; i++) {
    const alive = i >= 2;
    add(
      exampleLifecycle({
        envId: `c0ffee${i}a-4b1d-4c2e-9f00-${String(i).padStart(12, '0')}`,
        functionName: 'checkout-api',
        functionVersion: '14',
        memorySizeMb: 512,
        startAt: now - 170_000 + i * 22_000,
        invokes: alive ? 24 - i * 2 : 14,
        durationMs: (k) => 180 + ((k * 337 + i * 211) % 1100),
        gapMs: 1_800 + i * 500,
        timeoutMs: 3000,
        statusOf: (k) => (k % 7 === 3 && i % 2 === 0 ? 'error' : 'success'),
        shutdownReason: alive ? undefined : 'spindown',
      }),
    );
  }
  // image-resizer: slow invokes; one near-timeout; one timeout that resets the sandbox.
  const first = exampleLifecycle({
    envId: 'a11ce001-77aa-4d3e-8c1b-000000000001',
    functionName: 'image-resizer',
    functionVersion: '3',
    memorySizeMb: 1024,
    startAt: now - 160_000,
    invokes: 7,
    durationMs: (k) => (k === 2 ? 4700 : 1800 + ((k * 700) % 1900)),
    gapMs: 5_000,
    timeoutMs: 5000,
    statusOf: (k) => (k === 6 ? 'timeout' : k === 4 ? 'error' : 'success'),
    shutdownReason: 'timeout',
  });
  for (const e of first) if (e.type === 'register') e.sandboxId = 'sandbox-7f3a';
  add(first);
  const lastOfFirst = first[first.length - 1]!.time;
  const second = exampleLifecycle({
    envId: 'a11ce002-77aa-4d3e-8c1b-000000000002',
    functionName: 'image-resizer',
    functionVersion: '3',
    memorySizeMb: 1024,
    startAt: lastOfFirst + 400,
    invokes: 6,
    durationMs: (k) => 1600 + ((k * 900) % 2200),
    gapMs: 3_500,
    timeoutMs: 5000,
  });
  for (const e of second) {
    if (e.type === 'register')
      Object.assign(e, { sandboxId: 'sandbox-7f3a', previousEnvId: first[0]!.envId });
  }
  add(second);
  // nightly-report: a single long-lived environment, idle, then failed.
  add(
    exampleLifecycle({
      envId: 'beef0001-1234-4abc-8def-000000000009',
      functionName: 'nightly-report',
      functionVersion: '$LATEST',
      memorySizeMb: 256,
      startAt: now - 150_000,
      invokes: 4,
      durationMs: (k) => 9000 + k * 2500,
      gapMs: 14_000,
      timeoutMs: 30_000,
      statusOf: (k) => (k === 3 ? 'error' : 'success'),
      shutdownReason: 'failure',
    }),
  );
  // A running invoke right now on checkout-api: INVOKE without its platform records yet.
  const running = exampleLifecycle({
    envId: 'c0ffee9f-4b1d-4c2e-9f00-000000000099',
    functionName: 'checkout-api',
    functionVersion: '14',
    memorySizeMb: 512,
    startAt: now - 60_000,
    invokes: 12,
    durationMs: (k) => 250 + ((k * 431) % 900),
    gapMs: 2_500,
  });
  const lastInvoke = running.findLastIndex((e) => e.type === 'invoke');
  const cut = running.slice(0, lastInvoke + 1);
  const shift = now - 1200 - cut[lastInvoke]!.time;
  const inv = cut[lastInvoke]!;
  if (inv.type === 'invoke') {
    inv.time += shift;
    inv.deadlineMs += shift;
  }
  add(cut);
  // Vary how long each extension takes to shut down (the example uses one fixed value).
  const shutdownAt = new Map<string, number>();
  let k = 0;
  for (const e of events) {
    if (e.type === 'shutdown') shutdownAt.set(e.envId, e.time);
    if (e.type === 'exit' && shutdownAt.has(e.envId)) {
      const ms = [42, 180, 640, 1320, 95, 1810, 260][k++ % 7]!;
      e.shutdownMs = ms;
      e.time = shutdownAt.get(e.envId)! + ms;
    }
  }
  return events.filter((e) => e.time <= now);
}
