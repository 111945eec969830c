import type { StoredEvent } from '@lifeline/protocol';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { ErrorBoundary } from './app/ErrorBoundary.tsx';
import './app/app.css';
import { EventStore } from './live/event-store.ts';

declare global {
  interface Window {
    /** Test and benchmark hook: events to load before the first render (set by an init script). */
    __LIFELINE_PRELOAD__?: StoredEvent[];
    /** Test and benchmark hook: the store, to feed events without a collector. */
    __lifeline?: { store: EventStore };
    /** Benchmark hook: when an array, the timeline pushes each frame's draw time (ms) into it. */
    __LIFELINE_PERF__?: number[];
  }
}

const store = new EventStore();
const preload = window.__LIFELINE_PRELOAD__;
if (preload) {
  store.append(preload);
  store.flush();
  delete window.__LIFELINE_PRELOAD__;
}
window.__lifeline = { store };
const live = new URLSearchParams(window.location.search).get('live') !== '0';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ErrorBoundary>
      <App store={store} live={live} />
    </ErrorBoundary>
  </StrictMode>,
);
