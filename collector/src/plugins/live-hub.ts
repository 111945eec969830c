import { LIVE_CLOSE, type LiveFrame, PROTOCOL_VERSION } from '@lifeline/protocol';
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { WebSocket } from 'ws';
import type { CollectorMetrics } from '../metrics.ts';
import type { EventsRepository, InsertResult, StoredRow } from './events-repository.ts';

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
  functionName?: string | undefined;
}

/**
 * Tracks live sockets and feeds them stored events in cursor order: replay from storage, then the live rows
 * published after each commit.
 */
export interface LiveHub {
  /**
   * Starts serving a connected socket. Synchronous up to the first await: the client is registered for live rows
   * and the head is read in the same tick, so the replay (cursor ≤ head) and the live rows (cursor > head) meet
   * exactly; rows are still de-duplicated by cursor on the hand-over.
   */
  attach(socket: WebSocket, subscription: LiveSubscription): void;
  /** Broadcasts committed rows; call right after the commit, in commit order. */
  publish(result: InsertResult): void;
  clientCount(): number;
  /** Closes every socket (1001 when the collector stops) and stops the heartbeat. */
  closeAll(code: number, reason: string): void;
}

interface Client {
  socket: WebSocket;
  functionName: string | undefined;
  /** Highest cursor sent (or the `after` it connected with). */
  lastSent: number;
  replaying: boolean;
  pending: StoredRow[];
  lastSendAt: number;
}

const FUNCTION_CACHE_LIMIT = 100_000;
const DEFAULT_REPLAY_STALL_MS = 30_000;

/** Where a row sits in the stream a client resumes by (its own cursor unless it was sent late, see StoredRow). */
const positionOf = (row: StoredRow): number => row.position ?? row.cursor;

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

/** Creates a hub over a repository. */
export function createLiveHub(
  repository: EventsRepository,
  options: LiveHubOptions,
  log: FastifyBaseLogger,
  metrics: CollectorMetrics,
): LiveHub {
  const clients = new Set<Client>();
  const envFunctions = new Map<string, string>();
  let head = repository.head();

  const functionOf = (envId: string): string | null => {
    const cached = envFunctions.get(envId);
    if (cached !== undefined) return cached;
    const found = repository.functionOf(envId);
    if (found !== null) remember(envId, found);
    return found;
  };
  const remember = (envId: string, functionName: string) => {
    if (envFunctions.size >= FUNCTION_CACHE_LIMIT) envFunctions.clear();
    envFunctions.set(envId, functionName);
  };

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
    if (sendRaw(client, frame ?? eventsFrame(rows))) client.lastSent = positionOf(last);
  };

  const replay = async (client: Client, after: number, upTo: number): Promise<void> => {
    let cursor = after;
    for (;;) {
      if (!clients.has(client)) return;
      const rows = repository.eventsAfter(
        cursor,
        options.replayPageSize,
        upTo,
        client.functionName,
      );
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
    const pending = client.pending.filter((row) => positionOf(row) > client.lastSent);
    client.pending = [];
    if (pending.length > 0) sendRows(client, pending);
  };

  const timer = setInterval(() => {
    const now = Date.now();
    for (const client of clients) {
      if (client.replaying || now - client.lastSendAt < options.heartbeatMs) continue;
      if (!overloaded(client)) sendFrame(client, { type: 'heartbeat', head, time: now });
    }
  }, options.heartbeatMs);
  timer.unref();

  /**
   * The rows of one function in a published batch, in stream order: an environment this batch revealed gets its
   * earlier events (stored before its register, so never sent to this function's clients) right before the row
   * at its function cursor, the same order a replay gives (repository.eventsAfter).
   */
  const rowsOfFunction = (result: InsertResult, functionName: string): StoredRow[] => {
    const rows: StoredRow[] = [];
    for (const row of result.stored) {
      if (functionOf(row.envId) !== functionName) continue;
      const functionCursor = result.revealed?.get(row.envId);
      if (functionCursor !== undefined) {
        if (row.cursor < functionCursor) continue;
        if (row.cursor === functionCursor) {
          for (const early of repository.environmentEventsBefore(row.envId, functionCursor)) {
            rows.push({ ...early, position: functionCursor });
          }
        }
      }
      rows.push(row);
    }
    return rows;
  };

  return {
    attach(socket, subscription) {
      const client: Client = {
        socket,
        functionName: subscription.functionName,
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
      const upTo = repository.head();
      head = Math.max(head, upTo);
      sendFrame(client, { type: 'hello', protocolVersion: PROTOCOL_VERSION, head: upTo });
      replay(client, subscription.after, upTo).catch((error: unknown) => {
        log.error({ err: error }, 'live replay failed');
        drop(client, 1011, 'replay failed');
      });
    },

    publish(result) {
      const last = result.stored[result.stored.length - 1];
      if (last === undefined) return;
      head = Math.max(head, last.cursor);
      for (const [envId, functionName] of result.functions) remember(envId, functionName);
      if (clients.size === 0) return;
      let allFrame: string | undefined;
      const byFunction = new Map<string, StoredRow[]>();
      for (const client of clients) {
        let rows: readonly StoredRow[] = result.stored;
        if (client.functionName !== undefined) {
          let selected = byFunction.get(client.functionName);
          if (selected === undefined) {
            selected = rowsOfFunction(result, client.functionName);
            byFunction.set(client.functionName, selected);
          }
          rows = selected;
        }
        const first = rows[0];
        if (first === undefined) continue;
        if (positionOf(first) <= client.lastSent || rows !== result.stored)
          rows = rows.filter((row) => positionOf(row) > client.lastSent);
        if (client.replaying) {
          client.pending.push(...rows);
          if (client.pending.length > options.maxPendingEvents) {
            drop(
              client,
              LIVE_CLOSE.SLOW_CONSUMER,
              'slow consumer: reconnect with your last cursor',
            );
          }
          continue;
        }
        if (client.functionName === undefined && rows === result.stored) {
          allFrame ??= eventsFrame(result.stored);
          sendRows(client, rows, allFrame);
        } else {
          sendRows(client, rows);
        }
      }
    },

    clientCount: () => clients.size,

    closeAll(code, reason) {
      clearInterval(timer);
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
  const hub = createLiveHub(app.repository, options, app.log, options.metrics);
  app.decorate('liveHub', hub);
  app.addHook('preClose', async () => {
    hub.closeAll(LIVE_CLOSE.GOING_AWAY, 'collector stopping');
  });
};

/** Decorates `app.liveHub`; closes every live socket with 1001 when the app closes. */
export const liveHubPlugin = fp(plugin, {
  name: 'lifeline-live-hub',
  fastify: '5.x',
  dependencies: ['lifeline-events-repository'],
});
