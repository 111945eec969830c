import { type Static, Type } from 'typebox';
import { LifelineEvent } from './events.ts';

/** An event as the collector stored it: `cursor` orders the live stream and resumes it (commit order). */
export const StoredEvent = Type.Object({
  cursor: Type.Integer({ minimum: 1 }),
  /** Collector clock, epoch ms: when the batch was committed. Not comparable with event times. */
  receivedAt: Type.Number(),
  event: LifelineEvent,
});
export type StoredEvent = Static<typeof StoredEvent>;

/**
 * Frames the collector sends on `GET /v1/live?after=CURSOR[&token=T]` (WebSocket, JSON text frames).
 * The client sends nothing; it resumes after a disconnect by reconnecting with the last cursor it saw.
 */
export type LiveFrame =
  /** First frame: the collector's newest cursor at connect time. */
  | { type: 'hello'; protocolVersion: number; head: number }
  /** Stored events, each exactly once per connection, in cursor order. Resume with the highest cursor seen. */
  | { type: 'events'; events: StoredEvent[] }
  /** Replay from storage is done; what follows is live. */
  | { type: 'caught-up'; cursor: number }
  /** Sent when idle so clients can tell a quiet stream from a dead one. */
  | { type: 'heartbeat'; head: number; time: number };
