import type { ReasonKind } from '../timeline/lane-state.ts';

/** The colour of each shutdown reason, as CSS custom properties from app.css's theme. */
export const REASON_COLOR: Record<ReasonKind, string> = {
  spindown: 'var(--c-spindown)',
  timeout: 'var(--c-r-timeout)',
  failure: 'var(--c-r-failure)',
  other: 'var(--c-r-other)',
};
