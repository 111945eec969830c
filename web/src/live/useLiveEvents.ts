import { useCallback, useEffect, useRef, useState } from 'react';
import { apiUrl, liveUrl, loadToken, saveToken } from '../config.ts';
import type { EventStore } from './event-store.ts';
import { LiveClient, type LiveStatus } from './live-client.ts';

/** Replays longer than this many events publish snapshots every {@link REPLAY_NOTIFY_MS} instead of every frame. */
const REPLAY_THROTTLE_ABOVE = 20_000;
const REPLAY_NOTIFY_MS = 250;

/** Connection state for the header, plus replay progress. */
export interface LiveState {
  status: LiveStatus;
  /** Collector head at connect (hello), and whether the replay has caught up. */
  head: number;
  caughtUp: boolean;
  /** The token prompt was shown after a token was tried. */
  rejectedToken: boolean;
  submitToken: (token: string) => void;
}

/**
 * Connects the store to the collector's live socket for the lifetime of the component. The client lives outside
 * React; the cleanup stops exactly the client this effect started (StrictMode mounts twice).
 */
export function useLiveEvents(store: EventStore, enabled: boolean): LiveState {
  const [status, setStatus] = useState<LiveStatus>(enabled ? 'connecting' : 'closed');
  const [head, setHead] = useState(0);
  const [caughtUp, setCaughtUp] = useState(false);
  const [rejectedToken, setRejected] = useState(false);
  const clientRef = useRef<LiveClient | null>(null);

  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    const client = new LiveClient({
      url: liveUrl(),
      after: store.lastCursor,
      token: loadToken(),
      onEvents: (events) => store.append(events),
      onReset: () => store.reset(),
      onStatus: (s) => {
        if (cancelled) return;
        setStatus(s);
        if (s === 'unauthorized') setRejected(loadToken() !== null);
        if (s === 'connecting') setCaughtUp(false);
      },
      onFrame: (frame) => {
        if (cancelled) return;
        if (frame.type === 'hello') {
          setHead(frame.head);
          // A long history is coming: publish a few snapshots a second until it is in.
          if (frame.head - store.lastCursor > REPLAY_THROTTLE_ABOVE)
            store.setNotifyInterval(REPLAY_NOTIFY_MS);
        }
        if (frame.type === 'caught-up') {
          store.setNotifyInterval(0);
          setCaughtUp(true);
        }
      },
    });
    clientRef.current = client;
    // A collector that answers the upgrade with HTTP 401 looks like a dropped socket to the browser: ask the
    // query API, which says 401 plainly, before connecting.
    const token = loadToken();
    fetch(apiUrl('/v1/functions?limit=1'), {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    })
      .then((res) => {
        if (cancelled) return;
        if (res.status === 401) {
          setStatus('unauthorized');
          setRejected(token !== null);
          return;
        }
        client.start();
      })
      .catch(() => {
        if (!cancelled) client.start();
      });
    return () => {
      cancelled = true;
      store.setNotifyInterval(0);
      client.stop();
      if (clientRef.current === client) clientRef.current = null;
    };
  }, [store, enabled]);

  const submitToken = useCallback((token: string) => {
    saveToken(token);
    setRejected(false);
    const client = clientRef.current;
    if (!client) return;
    client.setToken(token);
    client.start();
  }, []);

  return { status, head, caughtUp, rejectedToken, submitToken };
}
