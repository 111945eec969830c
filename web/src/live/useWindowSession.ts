import { useCallback, useEffect, useRef, useState } from 'react';
import { apiUrl, liveUrl, loadToken, saveToken } from '../config.ts';
import type { EventStore } from './event-store.ts';
import type { LiveStatus } from './live-client.ts';
import { type LoadProgress, type SessionRange, WindowSession } from './window-session.ts';

/** Connection and loading state for the header. */
export interface WindowState {
  status: LiveStatus;
  /** Environments of the range loaded so far; null before the first page. */
  progress: LoadProgress | null;
  /** The token prompt was shown after a token was tried. */
  rejectedToken: boolean;
  submitToken: (token: string) => void;
}

/**
 * The timeline's lane width, px, for choosing detail or density before the timeline is laid out: the page width
 * less the label column (170–248 px). Only its order of magnitude matters (the density threshold is a scale).
 */
function estimatedLaneWidth(): number {
  return Math.max(300, document.documentElement.clientWidth - 248);
}

/** Settled ranges load after this pause, so a pan or zoom gesture loads once, not per frame. */
const SETTLE_MS = 250;

/**
 * Keeps the store loaded with `range` for the lifetime of the component: a new {@link WindowSession} per range (the
 * previous one is stopped; StrictMode mounts twice and each cleanup stops exactly the session its effect started).
 */
export function useWindowSession(
  store: EventStore,
  range: SessionRange,
  enabled: boolean,
): WindowState {
  const [status, setStatus] = useState<LiveStatus>(enabled ? 'connecting' : 'closed');
  const [progress, setProgress] = useState<LoadProgress | null>(null);
  const [rejectedToken, setRejected] = useState(false);
  const sessionRef = useRef<WindowSession | null>(null);
  /** The range of the last session started: a new range waits for the gesture to settle, a remount does not. */
  const startedRange = useRef<string | null>(null);
  // The range as plain values: a new session starts only when one of them changes, not per render.
  const following = range.following;
  const spanMs = range.following ? range.spanMs : 0;
  const from = range.following ? 0 : range.from;
  const to = range.following ? 0 : range.to;

  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    const session = new WindowSession({
      store,
      range: following ? { following, spanMs } : { following, from, to },
      apiUrl,
      liveUrl: liveUrl(),
      token: loadToken(),
      onStatus: (s) => {
        if (cancelled) return;
        setStatus(s);
        if (s === 'unauthorized') setRejected(loadToken() !== null);
      },
      onProgress: (p) => {
        if (!cancelled) setProgress(p);
      },
      laneWidthPx: estimatedLaneWidth,
    });
    sessionRef.current = session;
    const key = `${following}:${spanMs}:${from}:${to}`;
    const delay = startedRange.current === null || startedRange.current === key ? 0 : SETTLE_MS;
    startedRange.current = key;
    const timer = setTimeout(() => session.start(), delay);
    return () => {
      cancelled = true;
      clearTimeout(timer);
      session.stop();
      if (sessionRef.current === session) sessionRef.current = null;
    };
  }, [store, enabled, following, spanMs, from, to]);

  const submitToken = useCallback((token: string) => {
    saveToken(token);
    setRejected(false);
    sessionRef.current?.setToken(token);
  }, []);

  return { status, progress, rejectedToken, submitToken };
}
