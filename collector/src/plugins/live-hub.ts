import { LIVE_CLOSE, type LiveFrame, PROTOCOL_VERSION } from '@lifeline/protocol';
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { WebSocket } from 'ws';
import type { CollectorMetrics } from '../metrics.ts';
import type { EventLog, InsertResult, StoredRow } from '../storage/types.ts';

/** Limits and timings of the hub. */
export interface LiveHubOptions {
  heartbeatMs: number;
  /** Unsent bytes a socket may hold before the client is closed with 4408. */
  maxBufferedBytes: number;
  /** Live events a replaying client may have waiting before it is closed with 4408. */
  maxPendingEvents: number;
  replayPageSize: number;
  /**
   * A replay page the socket has not finished writing after this long (the client stopped reading) closes the
   * client with 4408, so a stalled replay does not hold its socket and queued rows forever. Default 30 s.
   */
  replayStallMs?: number;
}

/** What a client asked for. */
export interface LiveSubscription {
  after: number;
}

/**
 * Tracks live sockets and feeds them stored events in cursor order: replay from the event log, then the rows
 * committed since, by this collector or (on a shared database) by any other.
 */
export interface LiveHub {
  /**
   * Starts serving a connected socket. The client is registered for live rows before the head is read, so the
   * replay (cursor ≤ head) and the live rows (cursor > head) meet; rows are de-duplicated by cursor on the
   * hand-over.
   */
  attach(socket: WebSocket, subscription: LiveSubscription): void;
  /** Reports a local commit; call right after it, in commit order. */
  publish(result: InsertResult): void;
  clientCount(): number;
  /** Closes every socket (1001 when the collector stops) and stops the heartbeat. */
  closeAll(code: number, reason: string): void;
}

interface Client {
  socket: WebSocket;
  /** Highest cursor sent (or the `after` it connected with). */
  lastSent: number;
  replaying: boolean;
  pending: StoredRow[];
  lastSendAt: number;
}

const DEFAULT_REPLAY_STALL_MS = 30_000;
/** Rows read from the log per page when other collectors' commits are fetched. */
const FOLLOW_PAGE = 2000;

/** Builds a `events` frame from stored rows without parsing their JSON bodies. */
export function eventsFrame(rows: readonly StoredRow[]): string {
  let out = '{"type":"events","events":[';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as StoredRow;
    if (i > 0) out += ',';
    out += `{"cursor":${row.cursor},"receivedAt":${row.receivedAt},"event":${row.body}}`;
  }
  return `${out}]}`;
}

/**
 * Creates a hub over the event log, whose head is `head` now. With a single writer (SQLite) the rows of each local
 * commit are broadcast as they are. With several writers (PostgreSQL) a commit, local or another collector's
 * wake-up, makes the hub read the log after the last row it broadcast: the database is the only source of rows,
 * so every collector sends the same rows in the same cursor order. The heartbeat timer also reads the log, so a
 * missed wake-up delays rows by at most one heartbeat period.
 */
export function createLiveHub(
  eventLog: EventLog,
  head: number,
  options: LiveHubOptions,
  log: FastifyBaseLogger,
  metrics: CollectorMetrics,
): LiveHub {
  const clients = new Set<Client>();
  /** Highest cursor handed to clients (every row up to it was delivered or was before a client's start). */
  let broadcastHead = head;
  let following: Promise<void> | undefined;
  let followAgain = false;

  const drop = (client: Client, code: number, reason: string) => {
    if (!clients.delete(client)) return;
    client.pending = [];
    if (code === LIVE_CLOSE.SLOW_CONSUMER) metrics.liveSlowConsumerCloses += 1;
    try {
      client.socket.close(code, reason);
    } catch (error) {
      log.debug({ err: error }, 'live socket close failed');
      client.socket.terminate();
    }
  };

  const overloaded = (client: Client): boolean => {
    if (client.socket.bufferedAmount <= options.maxBufferedBytes) return false;
    drop(client, LIVE_CLOSE.SLOW_CONSUMER, 'slow consumer: reconnect with your last cursor');
    return true;
  };

  const sendRaw = (client: Client, frame: string, done?: (error?: Error) => void): boolean => {
    if (client.socket.readyState !== client.socket.OPEN) return false;
    client.lastSendAt = Date.now();
    client.socket.send(frame, done);
    return true;
  };

  const sendFrame = (client: Client, frame: LiveFrame) => sendRaw(client, JSON.stringify(frame));

  const sendRows = (client: Client, rows: readonly StoredRow[], frame?: string): void => {
    const last = rows[rows.length - 1];
    if (last === undefined || overloaded(client)) return;
    if (sendRaw(client, frame ?? eventsFrame(rows))) client.lastSent = last.cursor;
  };

  /** Hands committed rows (cursor order, all above broadcastHead) to every client. */
  const deliver = (rows: readonly StoredRow[]) => {
    const last = rows[rows.length - 1];
    if (last === undefined) return;
    broadcastHead = Math.max(broadcastHead, last.cursor);
    let frame: string | undefined;
    for (const client of clients) {
      const first = rows[0] as StoredRow;
      const fresh =
        first.cursor > client.lastSent ? rows : rows.filter((row) => row.cursor > client.lastSent);
      if (fresh.length === 0) continue;
      if (client.replaying) {
        client.pending.push(...fresh);
        if (client.pending.length > options.maxPendingEvents) {
          drop(client, LIVE_CLOSE.SLOW_CONSUMER, 'slow consumer: reconnect with your last cursor');
        }
        continue;
      }
      if (fresh === rows) {
        frame ??= eventsFrame(rows);
        sendRows(client, rows, frame);
      } else sendRows(client, fresh);
    }
  };

  /** Reads the log after broadcastHead until it is exhausted; one reader at a time, re-run when woken meanwhile. */
  const follow = (): void => {
    if (following) {
      followAgain = true;
      return;
    }
    following = (async () => {
      do {
        followAgain = false;
        if (clients.size === 0) {
          // Nobody to send rows to (an ingest-only collector): move the head instead of reading every commit's
          // rows back. Only while still nobody is attached after the read: a client attached meanwhile may have
          // read an older head, and its rows above that head must still come from here.
          const head = await eventLog.head();
          if (clients.size === 0) {
            broadcastHead = Math.max(broadcastHead, head);
            continue;
          }
        }
        for (;;) {
          const rows = await eventLog.eventsAfter(broadcastHead, FOLLOW_PAGE);
          deliver(rows);
          if (rows.length < FOLLOW_PAGE) break;
        }
      } while (followAgain);
    })()
      .catch((error: unknown) => log.error({ err: error }, 'live: reading the event log failed'))
      .finally(() => {
        following = undefined;
      });
  };

  const replay = async (client: Client, after: number, upTo: number): Promise<void> => {
    let cursor = after;
    for (;;) {
      if (!clients.has(client)) return;
      const rows = await eventLog.eventsAfter(cursor, options.replayPageSize, upTo);
      const last = rows[rows.length - 1];
      if (last === undefined) break;
      cursor = last.cursor;
      if (overloaded(client)) return;
      client.lastSent = last.cursor;
      // Waiting for the page to reach the socket is the replay's backpressure, bounded by the stall limit.
      const written = await new Promise<boolean>((resolve) => {
        const stall = setTimeout(() => {
          drop(
            client,
            LIVE_CLOSE.SLOW_CONSUMER,
            'slow consumer: replay not read; reconnect with your last cursor',
          );
          resolve(false);
        }, options.replayStallMs ?? DEFAULT_REPLAY_STALL_MS);
        stall.unref();
        const sent = sendRaw(client, eventsFrame(rows), (error) => {
          clearTimeout(stall);
          resolve(!error);
        });
        if (!sent) {
          clearTimeout(stall);
          resolve(false);
        }
      });
      if (!written) {
        // Handing over after a failed page would leave a gap: end the connection, the client resumes.
        drop(client, 1011, 'replay write failed: reconnect with your last cursor');
        return;
      }
      if (rows.length < options.replayPageSize) break;
    }
    if (!clients.has(client)) return;
    client.lastSent = Math.max(client.lastSent, upTo);
    client.replaying = false;
    sendFrame(client, { type: 'caught-up', cursor: client.lastSent });
    const pending = client.pending.filter((row) => row.cursor > client.lastSent);
    client.pending = [];
    if (pending.length > 0) sendRows(client, pending);
  };

  const unsubscribe = eventLog.onRemoteCommit(follow);
  const heartbeat = () => {
    const now = Date.now();
    for (const client of clients) {
      if (client.replaying || now - client.lastSendAt < options.heartbeatMs) continue;
      if (!overloaded(client)) {
        sendFrame(client, { type: 'heartbeat', head: broadcastHead, time: now });
      }
    }
  };
  const timer = setInterval(() => {
    if (eventLog.singleWriter) {
      heartbeat();
      return;
    }
    // Read the log first, so the heartbeat's head is one the client has been sent.
    follow();
    void following?.then(heartbeat);
  }, options.heartbeatMs);
  timer.unref();

  return {
    attach(socket, subscription) {
      const client: Client = {
        socket,
        lastSent: subscription.after,
        replaying: true,
        pending: [],
        lastSendAt: Date.now(),
      };
      clients.add(client);
      socket.on('close', () => {
        clients.delete(client);
        client.pending = [];
      });
      socket.on('error', (error) => log.debug({ err: error }, 'live socket error'));
      // Every row delivered before this point is committed, so the head read now is at or above it.
      eventLog
        .head()
        .then(async (upTo) => {
          if (!clients.has(client)) return;
          sendFrame(client, { type: 'hello', protocolVersion: PROTOCOL_VERSION, head: upTo });
          await replay(client, subscription.after, upTo);
        })
        .catch((error: unknown) => {
          log.error({ err: error }, 'live replay failed');
          drop(client, 1011, 'replay failed');
        });
    },

    publish(result) {
      if (!eventLog.singleWriter) {
        follow();
        return;
      }
      deliver(result.stored);
    },

    clientCount: () => clients.size,

    closeAll(code, reason) {
      clearInterval(timer);
      unsubscribe();
      for (const client of [...clients]) drop(client, code, reason);
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    liveHub: LiveHub;
  }
}

const plugin: FastifyPluginAsync<LiveHubOptions & { metrics: CollectorMetrics }> = async (
  app,
  options,
) => {
  const eventLog = app.storage.eventLog;
  const hub = createLiveHub(eventLog, await eventLog.head(), options, app.log, options.metrics);
  app.decorate('liveHub', hub);
  app.addHook('preClose', async () => {
    hub.closeAll(LIVE_CLOSE.GOING_AWAY, 'collector stopping');
  });
};

/** Decorates `app.liveHub`; closes every live socket with 1001 when the app closes. */
export const liveHubPlugin = fp(plugin, {
  name: 'lifeline-live-hub',
  fastify: '5.x',
  dependencies: ['lifeline-db'],
});
