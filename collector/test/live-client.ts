import type { LiveFrame, StoredEvent } from '@lifeline/protocol';
import { onTestFinished } from 'vitest';
import WebSocket from 'ws';

/** A recording live client for tests: every frame, every event cursor, and event-driven waits. */
export class LiveTestClient {
  readonly frames: LiveFrame[] = [];
  readonly events: StoredEvent[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly socket: WebSocket;
  private readonly waiters = new Set<() => void>();
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, { headers });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.notify();
        resolve(code);
      });
    });
    this.socket.on('error', () => {});
    this.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as LiveFrame;
      this.frames.push(frame);
      if (frame.type === 'events') this.events.push(...frame.events);
      this.notify();
    });
    onTestFinished(() => {
      this.socket.terminate();
    });
  }

  /** Last event cursor received (or `fallback`). */
  lastCursor(fallback = 0): number {
    return this.events.at(-1)?.cursor ?? fallback;
  }

  /** Resolves when `predicate` holds, re-checked on every frame and on close. */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  caughtUp(): Promise<void> {
    return this.waitFor(() => this.frames.some((frame) => frame.type === 'caught-up'), 'caught-up');
  }

  untilCursor(cursor: number): Promise<void> {
    return this.waitFor(() => this.lastCursor() >= cursor, `cursor ${cursor}`);
  }

  close(): Promise<number> {
    this.socket.close();
    return this.closed;
  }

  private notify() {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** ws:// URL of the live endpoint of a collector at `httpUrl`. */
export function liveUrl(httpUrl: string, query: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/v1/live${query ? `?${query}` : ''}`;
}
