import type { InvocationStatus } from '@lifeline/protocol';
import type { ReasonKind } from './lane-state.ts';

/** Colours the canvas uses, read from the CSS custom properties so the theme lives in one place (app.css). */
export interface Palette {
  grid: string;
  text: string;
  muted: string;
  faint: string;
  panel: string;
  init: string;
  initExt: string;
  /** SnapStart RESTORE phase. */
  restore: string;
  /** An invoke whose end is not known yet but which can no longer be running. */
  awaiting: string;
  lifeline: string;
  frozen: string;
  near: string;
  deadline: string;
  link: string;
  status: Record<InvocationStatus, string>;
  reason: Record<ReasonKind, string>;
}

const FALLBACK: Palette = {
  grid: '#e9ecf1',
  text: '#14181f',
  muted: '#5b6573',
  faint: '#8a93a1',
  panel: '#ffffff',
  init: '#8b5cf6',
  initExt: '#c4b5fd',
  restore: '#0891b2',
  awaiting: '#64748b',
  lifeline: '#cbd2db',
  frozen: '#94a3b8',
  near: '#f59e0b',
  deadline: '#e11d48',
  link: '#8b5cf6',
  status: {
    running: '#3b82f6',
    success: '#14a37f',
    error: '#f97316',
    timeout: '#e11d48',
    failure: '#a21caf',
  },
  reason: { spindown: '#0ea5e9', timeout: '#e11d48', failure: '#a21caf', other: '#64748b' },
};

/** Reads the palette from the document's computed style; falls back to the light theme outside a browser. */
export function readPalette(
  element: Element | null = globalThis.document?.documentElement ?? null,
): Palette {
  if (!element || typeof getComputedStyle !== 'function') return FALLBACK;
  const style = getComputedStyle(element);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    grid: v('--grid', FALLBACK.grid),
    text: v('--text', FALLBACK.text),
    muted: v('--muted', FALLBACK.muted),
    faint: v('--faint', FALLBACK.faint),
    panel: v('--panel', FALLBACK.panel),
    init: v('--c-init', FALLBACK.init),
    initExt: v('--c-init-ext', FALLBACK.initExt),
    restore: v('--c-restore', FALLBACK.restore),
    awaiting: v('--c-awaiting', FALLBACK.awaiting),
    lifeline: v('--c-lifeline', FALLBACK.lifeline),
    frozen: v('--c-frozen', FALLBACK.frozen),
    near: v('--c-near', FALLBACK.near),
    deadline: v('--c-deadline', FALLBACK.deadline),
    link: v('--c-link', FALLBACK.link),
    status: {
      running: v('--c-running', FALLBACK.status.running),
      success: v('--c-success', FALLBACK.status.success),
      error: v('--c-error', FALLBACK.status.error),
      timeout: v('--c-timeout', FALLBACK.status.timeout),
      failure: v('--c-failure', FALLBACK.status.failure),
    },
    reason: {
      spindown: v('--c-spindown', FALLBACK.reason.spindown),
      timeout: v('--c-r-timeout', FALLBACK.reason.timeout),
      failure: v('--c-r-failure', FALLBACK.reason.failure),
      other: v('--c-r-other', FALLBACK.reason.other),
    },
  };
}
