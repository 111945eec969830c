/**
 * The demo's simulated workload: a few functions with realistic behaviour, run under the emulator with the real built
 * layer, so the dashboard shows cold starts, concurrency, varied durations, timeouts and crashes (timeout and failure
 * shutdowns, then re-init) and idle environments spinning down.
 */
import { type InvokeOptions, LambdaFunction } from '@lifeline/emulator';

/** One simulated function: its configuration and how its traffic and invokes behave. */
export interface DemoFunction {
  name: string;
  version: string;
  memoryMb: number;
  timeoutMs: number;
  maxConcurrency: number;
  idleShutdownMs: number;
  /** Mean invokes per second. */
  rate: number;
  /** The next invoke's behaviour. */
  next: (random: () => number) => InvokeOptions;
}

const lognormal = (random: () => number, median: number, spread: number) => {
  const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.max(1, Math.round(median * Math.exp(spread * gaussian)));
};

/** The default demo: every shutdown reason shows up within a couple of minutes. */
export const DEMO_FUNCTIONS: DemoFunction[] = [
  {
    name: 'checkout-api',
    version: '8',
    memoryMb: 512,
    timeoutMs: 3000,
    maxConcurrency: 3,
    idleShutdownMs: 40_000,
    rate: 2.5,
    next: (random) => ({
      durationMs: lognormal(random, 60, 0.6),
      outcome: random() < 0.03 ? 'error' : 'success',
    }),
  },
  {
    name: 'checkout-api',
    version: '7',
    memoryMb: 512,
    timeoutMs: 3000,
    maxConcurrency: 1,
    idleShutdownMs: 20_000,
    rate: 0.4,
    next: (random) => ({ durationMs: lognormal(random, 90, 0.5) }),
  },
  {
    name: 'image-resizer',
    version: '$LATEST',
    memoryMb: 1024,
    timeoutMs: 2000,
    maxConcurrency: 2,
    idleShutdownMs: 30_000,
    rate: 0.7,
    // Slow and heavy-tailed: about one invoke in twelve runs into its timeout.
    next: (random) => {
      const durationMs = lognormal(random, 650, 0.75);
      return durationMs >= 2000 ? { outcome: 'timeout' } : { durationMs };
    },
  },
  {
    name: 'report-generator',
    version: '3',
    memoryMb: 256,
    timeoutMs: 6000,
    maxConcurrency: 1,
    idleShutdownMs: 15_000,
    rate: 0.25,
    // Occasionally crashes its runtime (an OOM-like failure): the sandbox resets with reason `failure`.
    next: (random) => ({
      durationMs: lognormal(random, 1200, 0.4),
      outcome: random() < 0.12 ? 'crash' : 'success',
    }),
  },
  {
    name: 'webhook-relay',
    version: '$LATEST',
    memoryMb: 128,
    timeoutMs: 1000,
    maxConcurrency: 2,
    idleShutdownMs: 6_000,
    rate: 0.12,
    next: (random) => ({ durationMs: lognormal(random, 25, 0.5) }),
  },
];

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** The built layer's `extensions/` directory. */
  extensionsDir: string;
  collectorUrl: string;
  token: string | undefined;
  functions?: DemoFunction[];
  /** Deterministic traffic for tests; Math.random by default. */
  random?: () => number;
  /** Called once per failed invoke call (not per failed invocation: those are part of the demo). */
  onError?: (error: unknown) => void;
}

/** A running demo. `stop()` ends the traffic and shuts every environment down (`spindown`). */
export interface RunningDemo {
  functions: LambdaFunction[];
  invokes(): number;
  stop(): Promise<void>;
}

/** Starts the simulated functions and their traffic. */
export function startDemo(options: DemoOptions): RunningDemo {
  const random = options.random ?? Math.random;
  const definitions = options.functions ?? DEMO_FUNCTIONS;
  let stopped = false;
  let invokes = 0;
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new Set<Promise<unknown>>();
  const functions = definitions.map((definition) => {
    const fn = new LambdaFunction({
      extensionsDir: options.extensionsDir,
      functionName: definition.name,
      functionVersion: definition.version,
      memoryMb: definition.memoryMb,
      timeoutMs: definition.timeoutMs,
      maxConcurrency: definition.maxConcurrency,
      idleShutdownMs: definition.idleShutdownMs,
      freeze: true,
      env: {
        LIFELINE_COLLECTOR_URL: options.collectorUrl,
        ...(options.token ? { LIFELINE_TOKEN: options.token } : {}),
      },
    });
    const schedule = () => {
      if (stopped) return;
      // Poisson arrivals, with the occasional burst that forces a scale-out (cold starts under concurrency).
      const burst = random() < 0.05 ? 1 + Math.floor(random() * definition.maxConcurrency * 2) : 1;
      const waitMs = (-Math.log(1 - random()) / definition.rate) * 1000;
      const timer = setTimeout(() => {
        timers.delete(timer);
        for (let i = 0; i < burst && inflight.size < 40; i++) {
          invokes++;
          const call = fn
            .invoke(definition.next(random))
            .catch((error: unknown) => {
              if (!stopped) options.onError?.(error);
            })
            .finally(() => inflight.delete(call));
          inflight.add(call);
        }
        schedule();
      }, waitMs);
      timers.add(timer);
    };
    schedule();
    return fn;
  });
  return {
    functions,
    invokes: () => invokes,
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.allSettled(functions.map((fn) => fn.close('spindown')));
      await Promise.allSettled([...inflight]);
    },
  };
}
