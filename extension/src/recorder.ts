import type { LifelineEvent } from '@lifeline/protocol';

type Envelope = 'id' | 'envId' | 'seq' | 'time';

/** An event before the recorder gave it its envelope. */
export type EventDraft = LifelineEvent extends infer E
  ? E extends LifelineEvent
    ? Omit<E, Envelope>
    : never
  : never;

/**
 * Assigns the envelope: `id` = `${envId}:${seq}`, `seq` gapless from 0 in the order events were observed, `time` on
 * the extension's clock (epoch ms).
 */
export class Recorder {
  #envId: string;
  readonly #now: () => number;
  #seq = 0;

  constructor(envId: string, now: () => number = Date.now) {
    this.#envId = envId;
    this.#now = now;
  }

  /** The environment events are recorded for. */
  get envId(): string {
    return this.#envId;
  }

  /** From now on, events belong to a new environment `envId`, numbered from 0 (a SnapStart restore). */
  switchTo(envId: string): void {
    this.#envId = envId;
    this.#seq = 0;
  }

  /** The seq the next event will get (= events recorded so far). */
  get nextSeq(): number {
    return this.#seq;
  }

  /** Gives `draft` its envelope. `time` defaults to now. */
  record(draft: EventDraft, time: number = this.#now()): LifelineEvent {
    const event = this.preview(draft, time);
    this.#seq++;
    return event;
  }

  /**
   * Gives `draft` the envelope of the next seq without taking it, so a caller can check the event (e.g. that it
   * serialises) before it consumes a seq with {@link Recorder.record}.
   */
  preview(draft: EventDraft, time: number = this.#now()): LifelineEvent {
    const seq = this.#seq;
    return { id: `${this.envId}:${seq}`, envId: this.envId, seq, time, ...draft } as LifelineEvent;
  }
}
