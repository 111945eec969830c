import { useEffect, useState } from 'react';
import type { HoverFacts } from './hover-facts.ts';
import './HoverCard.css';

/** A card to show: its facts and the pointer position relative to the timeline. */
export interface Hover {
  readonly facts: HoverFacts;
  readonly x: number;
  readonly y: number;
}

/** Sets what the card shows (null hides it). */
export type ShowHover = (hover: Hover | null) => void;

interface HoverCardProps {
  /** Receives the setter: the timeline calls it from pointer moves without re-rendering its rows. */
  connect: (show: ShowHover | null) => void;
  /** Width of the area the card must stay inside (the timeline). */
  boundsWidth: number;
}

const CARD_W = 280;

/** The hover card over the timeline: facts of the lane or invoke under the pointer, near the pointer. */
export function HoverCard({ connect, boundsWidth }: HoverCardProps) {
  const [hover, setHover] = useState<Hover | null>(null);
  useEffect(() => {
    connect(setHover);
    return () => connect(null);
  }, [connect]);
  if (!hover) return null;
  // Right of the pointer, or left of it when that would cross the timeline's right edge.
  const left =
    hover.x + 16 + CARD_W > boundsWidth ? Math.max(0, hover.x - 16 - CARD_W) : hover.x + 16;
  return (
    <div className="hover-card" role="tooltip" style={{ left, top: hover.y + 14 }}>
      <div className="hover-title">{hover.facts.title}</div>
      <dl>
        {hover.facts.lines.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
