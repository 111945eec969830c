import { describeError, LifelineError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { ExtensionsApi, NextEvent } from './runtime-api/extensions-api.ts';

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5_000;

/** `/event/next` answered 5xx: Lambda's own instruction is to exit promptly (the environment is beyond repair). */
export class PlatformFailure extends Error {
  override readonly name = 'PlatformFailure';
}

/**
 * The next event, asked again after any answer that leaves the extension registered: a network failure (the
 * platform no longer holds a request whose connection it lost) or a 4xx (e.g. `InvalidExtensionState`: Lambda sees
 * a `/next` of ours still parked, writes the next event to it, and then accepts ours again; or an identifier it does
 * not know, for which it waits on nothing of ours). Asking again costs nothing, while exiting would fail the invoke
 * in progress with `Extension.Crash`. Retries back off from 100 ms to 5 s and are logged once.
 * @throws PlatformFailure on a 5xx.
 */
export async function nextEvent(api: ExtensionsApi, logger: Logger): Promise<NextEvent> {
  for (let attempt = 0; ; attempt++) {
    try {
      const event = await api.next();
      if (attempt > 0) logger.resolve('next', 'event/next answers again');
      return event;
    } catch (error) {
      const status = error instanceof LifelineError ? error.status : undefined;
      if (status !== undefined && status >= 500) throw new PlatformFailure(describeError(error));
      logger.once('next', 'event/next failed; asking again', { detail: describeError(error) });
      await sleep(Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt, 16)));
    }
  }
}

/** Registered but recording nothing: answers every event until SHUTDOWN. Resolves with the exit code. */
export async function passThrough(api: ExtensionsApi, logger: Logger): Promise<number> {
  for (;;) {
    let event: NextEvent;
    try {
      event = await nextEvent(api, logger);
    } catch (error) {
      logger.error('event/next failed; exiting', { detail: describeError(error) });
      return 1;
    }
    if (event.eventType === 'SHUTDOWN') return 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
