import { exampleLifecycle, type LifelineEvent } from '@lifeline/protocol';

/**
 * A realistic fleet for screenshots and browser tests, ending around `now`: three functions, cold starts, errors,
 * a near-timeout, a timeout that resets its sandbox (re-initialisation with previousEnvId), spindowns, and
 * environments still alive with an invoke running.
 */
export function demoFleet(now: number): LifelineEvent[] {
  const events: LifelineEvent[] = [];
  const add = (list: LifelineEvent[]) => events.push(...list);
  const minute = 60_000;
  // checkout-api: busy, mostly fast, a few errors; two spun down, three alive.
  for (let i = 0; i < 5; i++) {
    const alive = i >= 2;
    add(
      exampleLifecycle({
        envId: `c0ffee${i}a-4b1d-4c2e-9f00-${String(i).padStart(12, '0')}`,
        functionName: 'checkout-api',
        functionVersion: '14',
        memorySizeMb: 512,
        startAt: now - 9 * minute + i * 70_000,
        invokes: alive ? 14 + i : 9,
        durationMs: (k) => 80 + ((k * 37 + i * 11) % 260),
        gapMs: 6_000 + i * 900,
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
    startAt: now - 8 * minute,
    invokes: 4,
    durationMs: (k) => (k === 1 ? 4700 : 1800 + k * 300),
    gapMs: 20_000,
    timeoutMs: 5000,
    statusOf: (k) => (k === 3 ? 'timeout' : 'success'),
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
    invokes: 3,
    durationMs: 2100,
    gapMs: 15_000,
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
      startAt: now - 7 * minute,
      invokes: 3,
      durationMs: 9000,
      gapMs: 60_000,
      timeoutMs: 30_000,
      statusOf: (k) => (k === 2 ? 'error' : 'success'),
      shutdownReason: 'failure',
    }),
  );
  // A running invoke right now on checkout-api: INVOKE without its platform records yet.
  const running = exampleLifecycle({
    envId: 'c0ffee9f-4b1d-4c2e-9f00-000000000099',
    functionName: 'checkout-api',
    functionVersion: '14',
    memorySizeMb: 512,
    startAt: now - 2 * minute,
    invokes: 6,
    durationMs: 150,
    gapMs: 15_000,
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
