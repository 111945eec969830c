import type { StoredEvent } from '@lifeline/protocol';
import { applyEvent, draftOf, type EnvLane, type LaneDraft, newLane } from './lane-model.ts';

/** An immutable view of everything received so far; a new object per applied batch. */
export interface TimelineSnapshot {
  /** Increases by one per applied batch that changed something. */
  readonly revision: number;
  readonly lanes: ReadonlyMap<string, EnvLane>;
  /** Highest cursor applied; resume the live stream after it. */
  readonly lastCursor: number;
  readonly eventCount: number;
  readonly invokeCount: number;
  /** Earliest and latest event time seen (extension clock), NaN when empty. */
  readonly minTime: number;
  readonly maxTime: number;
}

/** The snapshot before any event. */
export const EMPTY_SNAPSHOT: TimelineSnapshot = {
  revision: 0,
  lanes: new Map(),
  lastCursor: 0,
  eventCount: 0,
  invokeCount: 0,
  minTime: Number.NaN,
  maxTime: Number.NaN,
};

/**
 * Builds the timeline model incrementally: each batch touches only the lanes its events belong to (copy-on-write),
 * so a live batch costs O(batch), not O(history). Events at or below the last applied cursor are ignored, which makes
 * replays and reconnect overlaps harmless.
 */
export class TimelineBuilder {
  #snapshot: TimelineSnapshot = EMPTY_SNAPSHOT;
  readonly #indexes = new Map<string, Map<string, number>>();

  get snapshot(): TimelineSnapshot {
    return this.#snapshot;
  }

  /** Applies a batch in cursor order and returns the new snapshot (the same object if nothing was new). */
  apply(batch: readonly StoredEvent[]): TimelineSnapshot {
    const prev = this.#snapshot;
    let lastCursor = prev.lastCursor;
    const drafts = new Map<string, LaneDraft>();
    let invokeDelta = 0;
    let applied = 0;
    let minTime = prev.minTime;
    const owned = new Set<object>();
    let maxTime = prev.maxTime;
    for (const stored of batch) {
      if (!(stored.cursor > lastCursor)) continue;
      lastCursor = stored.cursor;
      const { envId, time } = stored.event;
      let draft = drafts.get(envId);
      if (!draft) {
        const lane = prev.lanes.get(envId);
        draft = lane ? draftOf(lane) : draftOf(newLane(envId, time, []));
        drafts.set(envId, draft);
      }
      let index = this.#indexes.get(envId);
      if (!index) {
        index = new Map();
        this.#indexes.set(envId, index);
      }
      const before = draft.invokes.length;
      applyEvent(draft, { index, owned }, stored);
      invokeDelta += draft.invokes.length - before;
      applied++;
      if (!(time >= minTime)) minTime = Number.isNaN(minTime) ? time : Math.min(minTime, time);
      if (!(time <= maxTime)) maxTime = Number.isNaN(maxTime) ? time : Math.max(maxTime, time);
    }
    if (applied === 0) return prev;
    const lanes = new Map(prev.lanes);
    for (const [envId, draft] of drafts) lanes.set(envId, draft);
    this.#snapshot = {
      revision: prev.revision + 1,
      lanes,
      lastCursor,
      eventCount: prev.eventCount + applied,
      invokeCount: prev.invokeCount + invokeDelta,
      minTime,
      maxTime,
    };
    return this.#snapshot;
  }
}
