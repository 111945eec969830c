import type { LifelineEvent } from '@lifeline/protocol';
import type { Page } from 'playwright-core';

/** POSTs events to the collector's ingest API in batches; throws with the answer when it is not 2xx. */
export async function ingest(baseUrl: string, events: readonly LifelineEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const res = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: events.slice(i, i + 1000) }),
    });
    if (!res.ok) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  }
}

/** Accessible names of the environment lanes currently rendered. */
export function laneNames(page: Page): Promise<string[]> {
  return page
    .getByRole('button', { name: /^Environment / })
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
}

/** Accessible names of the invoke targets currently rendered. */
export function invokeNames(page: Page): Promise<string[]> {
  return page
    .getByRole('button', { name: /^Invoke / })
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
}

/** Polls `read` until `accept` holds (event-driven pages update on their own frames; no fixed sleeps). */
export async function until<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const started = Date.now();
  let last: T | undefined;
  while (Date.now() - started < timeoutMs) {
    last = await read();
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}
