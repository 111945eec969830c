import { monoNow } from './clock.ts';
import type { EmulatorLogEntry } from './types.ts';

/** A log entry before the log stamps it. */
export type LogInput = Omit<EmulatorLogEntry, 'time' | 'mono' | 'sandboxId' | 'generation'>;

/**
 * Bounded, append-only log of every API call and lifecycle transition of one sandbox.
 * Listener errors are swallowed: a faulty `onLog` must not break the sandbox.
 */
export class EventLog {
  readonly entries: EmulatorLogEntry[] = [];
  generation = 0;
  readonly #sandboxId: string;
  readonly #limit: number;
  readonly #listeners = new Set<(entry: EmulatorLogEntry) => void>();

  constructor(sandboxId: string, limit: number) {
    this.#sandboxId = sandboxId;
    this.#limit = Math.max(1, limit);
  }

  /** Adds a listener called synchronously for every new entry; returns a function that removes it. */
  subscribe(listener: (entry: EmulatorLogEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stamps and appends one entry, then notifies listeners. */
  add(input: LogInput): EmulatorLogEntry {
    const entry: EmulatorLogEntry = {
      time: Date.now(),
      mono: Math.round(monoNow() * 1000) / 1000,
      sandboxId: this.#sandboxId,
      generation: this.generation,
      ...input,
    };
    this.entries.push(entry);
    // Trim in chunks: splicing the front of a large array on every entry would be O(n) per entry.
    if (this.entries.length > this.#limit + Math.ceil(this.#limit / 10)) {
      this.entries.splice(0, this.entries.length - this.#limit);
    }
    for (const listener of this.#listeners) {
      try {
        listener(entry);
      } catch {
        // A listener's failure is its own business.
      }
    }
    return entry;
  }
}
