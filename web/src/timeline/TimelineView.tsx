import type { EnvironmentState } from '@lifeline/protocol';
import { useVirtualizer } from '@tanstack/react-virtual';
import {
  type CSSProperties,
  type KeyboardEvent,
  type MouseEvent,
  type PointerEvent,
  startTransition,
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type WheelEvent,
} from 'react';
import { cellAt } from './density.ts';
import { drawAxis, drawLanes, type PlacedRow } from './draw-lanes.ts';
import { HoverCard, type ShowHover } from './HoverCard.tsx';
import { cellHoverFacts, invokeHoverFacts, laneHoverFacts } from './hover-facts.ts';
import { invokeAt, invokeEnd } from './lane-model.ts';
import { type Palette, readPalette } from './palette.ts';
import { buildRows, type Row, type RowGrouping, type RowOrder, rowCounts } from './row-model.ts';
import { SeriesStrip } from './SeriesStrip.tsx';
import { laneHeight } from './sub-lanes.ts';
import { GroupRowView, LaneRowView } from './TimelineRow.tsx';
import {
  createTimeScale,
  fitWindow,
  followWindow,
  panWindow,
  type TimeWindow,
  zoomWindow,
} from './time-scale.ts';
import type { TimelineSnapshot } from './timeline-builder.ts';

const GROUP_H = 34;
const LABEL_W = 248;
/** Below this timeline width the label column narrows, so the lanes keep most of the room. */
const NARROW_W = 900;
const LABEL_W_NARROW = 170;
const SETTLE_MS = 140;
const DEFAULT_SPAN_MS = 5 * 60_000;

/** Props of {@link TimelineView}. */
export interface TimelineViewProps {
  snapshot: TimelineSnapshot;
  /** Wall clock, refreshed about once a second (state badges, running bars). */
  now: number;
  functionName: string | null;
  version: string | null;
  /** Tenant isolation: only this tenant's environments. */
  tenant?: string | null;
  /** What lanes are grouped by (the URL's `group`); the toolbar changes it through `onGroupChange`. */
  group?: RowGrouping;
  onGroupChange?: (group: RowGrouping) => void;
  states: ReadonlySet<EnvironmentState> | null;
  /** Time range from the URL: the initial window when set. */
  from: number | null;
  to: number | null;
  /** The relative range's length while it follows live (`range=` in the URL): the initial window; else null. */
  spanMs?: number | null;
  selectedEnv: string | null;
  selectedReq: string | null;
  onSelect: (envId: string, requestId: string | null) => void;
  /** Called with the settled window when the user pans or zooms (to put it in the URL). */
  onWindowChange?: (window: TimeWindow, follow: boolean) => void;
}

function initialWindow(
  snapshot: TimelineSnapshot,
  from: number | null,
  to: number | null,
  spanMs: number | null,
) {
  if (from !== null && to !== null && to > from)
    return { window: { start: from, end: to }, follow: false };
  const now = Date.now();
  // A relative range longer than an hour shows all of itself (a week opens as a week, drawn dense); shorter ones
  // frame their data as before.
  if (spanMs !== null && spanMs > 3_600_000) {
    return { window: followWindow({ start: now - spanMs, end: now }, now), follow: true };
  }
  if (Number.isNaN(snapshot.maxTime) || now - snapshot.maxTime < 10 * 60_000) {
    const span = Number.isNaN(snapshot.minTime)
      ? DEFAULT_SPAN_MS
      : Math.min(30 * 60_000, Math.max(60_000, (now - snapshot.minTime) * 1.1));
    return { window: followWindow({ start: now - span, end: now }, now), follow: true };
  }
  return { window: fitWindow(snapshot.minTime, snapshot.maxTime), follow: false };
}

/**
 * The live timeline: lanes virtualised with @tanstack/react-virtual, bars drawn on one canvas for the viewport
 * (DOM cannot keep 100k bars at 60 fps), with a focusable, labelled button per visible invoke laid over the canvas.
 */
export function TimelineView(props: TimelineViewProps) {
  const {
    snapshot,
    now,
    functionName,
    version,
    tenant = null,
    group = 'function',
    onGroupChange,
    states,
    from,
    to,
    selectedEnv,
    selectedReq,
    onSelect,
  } = props;
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const spanMs = props.spanMs ?? null;
  const [init] = useState(() => initialWindow(snapshot, from, to, spanMs));
  const windowRef = useRef<TimeWindow>(init.window);
  const [follow, setFollow] = useState(init.follow);
  const followRef = useRef(follow);
  followRef.current = follow;
  const [settled, setSettled] = useState<TimeWindow>(windowRef.current);
  const settleTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const hadData = useRef(!Number.isNaN(snapshot.maxTime));

  // Invoke targets are positioned relative to this (an hour boundary), so CSS works with small numbers.
  const origin = Math.floor(settled.start / 3_600_000) * 3_600_000;
  const [order, setOrder] = useState<RowOrder>('function');
  const rows = useMemo(() => {
    const lanes = [...snapshot.lanes.values()].filter((l) => !tenant || l.tenantId === tenant);
    return buildRows(lanes, { now, collapsed, functionName, version, states, order, group });
  }, [snapshot, now, collapsed, functionName, version, states, tenant, order, group]);
  const counts = useMemo(() => rowCounts(rows), [rows]);
  const dense = useMemo(
    () => [...snapshot.lanes.values()].some((lane) => lane.activity !== null),
    [snapshot],
  );

  const scrollRef = useRef<HTMLDivElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const lanesCanvas = useRef<HTMLCanvasElement>(null);
  const axisCanvas = useRef<HTMLCanvasElement>(null);
  const timelineRef = useRef<HTMLDivElement>(null);
  const sizeRef = useRef({ width: 0, height: 0, axisWidth: 0 });
  const paletteRef = useRef<Palette | null>(null);
  const rowsRef = useRef<Row[]>(rows);
  rowsRef.current = rows;
  const propsRef = useRef({ snapshot, selectedEnv, selectedReq, now });
  propsRef.current = { snapshot, selectedEnv, selectedReq, now };
  const drawnOnce = useRef(false);
  const [labelW, setLabelW] = useState(LABEL_W);
  const labelWRef = useRef(labelW);
  labelWRef.current = labelW;
  const [boundsWidth, setBoundsWidth] = useState(0);
  const showHover = useRef<ShowHover | null>(null);
  const connectHover = useCallback((show: ShowHover | null) => {
    showHover.current = show;
  }, []);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => {
      const row = rows[i];
      return row?.kind === 'lane' ? laneHeight(row.lane) : GROUP_H;
    },
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 8,
  });
  const virtualizerRef = useRef(virtualizer);
  virtualizerRef.current = virtualizer;
  // A lane's height follows its concurrency (sub-lanes), which live invokes can raise.
  const heights = rows.map((r) => (r.kind === 'lane' ? laneHeight(r.lane) : GROUP_H)).join();
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-measure exactly when a height changed.
  useEffect(() => virtualizerRef.current.measure(), [heights]);

  const frame = useRef<number | null>(null);
  const animating = useRef(false);

  const draw = useCallback(() => {
    frame.current = null;
    const started = performance.now();
    const canvas = lanesCanvas.current;
    const axis = axisCanvas.current;
    const scroll = scrollRef.current;
    if (!canvas || !axis || !scroll) return;
    const ctx = canvas.getContext('2d');
    const actx = axis.getContext('2d');
    if (!ctx || !actx) return;
    if (!paletteRef.current) paletteRef.current = readPalette(timelineRef.current);
    const palette = paletteRef.current;
    const { width, height, axisWidth } = sizeRef.current;
    if (width <= 0 || height <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    const wallNow = Date.now();
    if (followRef.current) windowRef.current = followWindow(windowRef.current, wallNow);
    const scale = createTimeScale(windowRef.current, width);
    const scrollTop = scroll.scrollTop;
    const placed: PlacedRow[] = [];
    const current = rowsRef.current;
    for (const item of virtualizerRef.current.getVirtualItems()) {
      const row = current[item.index];
      if (!row) continue;
      const y = item.start - scrollTop;
      if (y + item.size < 0 || y > height) continue;
      placed.push({ row, y, height: item.size, index: item.index });
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const { selectedEnv: env, selectedReq: req } = propsRef.current;
    const result = drawLanes({
      ctx,
      width,
      height,
      scale,
      rows: placed,
      palette,
      now: wallNow,
      selectedEnv: env,
      selectedReq: req,
      phase: wallNow / 40,
      stateNow: propsRef.current.now,
    });
    actx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawAxis(
      actx,
      createTimeScale(windowRef.current, axisWidth),
      axisWidth,
      30,
      palette,
      '11px system-ui, sans-serif',
    );
    animating.current = result.animating || followRef.current;
    const laneCount = placed.filter((p) => p.row.kind === 'lane').length;
    if (laneCount > 0 && !drawnOnce.current) {
      drawnOnce.current = true;
      performance.mark('lifeline:lanes-drawn');
    }
    timelineRef.current?.setAttribute('data-drawn-lanes', String(laneCount));
    window.__LIFELINE_PERF__?.push(performance.now() - started);
    if (animating.current) scheduleDrawRef.current();
  }, []);

  const lastAnimated = useRef(0);
  const scheduleDraw = useCallback(() => {
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame((t) => {
      // Live following and running stripes need ~30 fps, not 60: halve the work when only time moves.
      if (animating.current && t - lastAnimated.current < 30 && !dirty.current) {
        frame.current = null;
        frame.current = requestAnimationFrame(() => draw());
        return;
      }
      lastAnimated.current = t;
      dirty.current = false;
      draw();
    });
  }, [draw]);
  const scheduleDrawRef = useRef(scheduleDraw);
  scheduleDrawRef.current = scheduleDraw;
  const dirty = useRef(false);

  const invalidate = useCallback(() => {
    dirty.current = true;
    scheduleDraw();
  }, [scheduleDraw]);

  // Settle: after pan/zoom stops, move the accessible invoke targets and report the window.
  const onWindowChange = props.onWindowChange;
  const settle = useCallback(() => {
    if (settleTimer.current) clearTimeout(settleTimer.current);
    settleTimer.current = setTimeout(() => {
      // A transition: React renders the moved targets in slices, so a settle never blocks a frame.
      startTransition(() => {
        setSettled(windowRef.current);
        onWindowChange?.(windowRef.current, followRef.current);
      });
    }, SETTLE_MS);
  }, [onWindowChange]);

  useEffect(
    () => () => {
      if (settleTimer.current) clearTimeout(settleTimer.current);
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      // StrictMode runs effects twice: a cancelled frame must not look pending to the next scheduleDraw.
      frame.current = null;
    },
    [],
  );

  // While following, the accessible targets follow too (a few times a second, not per frame).
  useEffect(() => {
    if (!follow) return;
    const id = setInterval(() => setSettled(windowRef.current), 1000);
    return () => clearInterval(id);
  }, [follow]);

  // A time range chosen outside (URL, range picker) moves the window there.
  useEffect(() => {
    if (from === null || to === null || !(to > from)) return;
    const w = windowRef.current;
    if (Math.abs(w.start - from) < 1 && Math.abs(w.end - to) < 1) return;
    windowRef.current = { start: from, end: to };
    followRef.current = false;
    setFollow(false);
    setSettled(windowRef.current);
    invalidate();
  }, [from, to, invalidate]);

  // Another relative range chosen outside (range picker) shows all of itself. A range changed by zooming while
  // following (the window already lies between the previous range and this one) leaves the window alone.
  const shownSpan = useRef(spanMs);
  useEffect(() => {
    const previous = shownSpan.current;
    shownSpan.current = spanMs;
    if (spanMs === null || previous === null || spanMs === previous || !followRef.current) return;
    const w = windowRef.current;
    const span = w.end - w.start;
    if (span <= spanMs * 1.001 && (span > previous || previous > spanMs)) return;
    const wallNow = Date.now();
    windowRef.current = followWindow({ start: wallNow - spanMs, end: wallNow }, wallNow);
    setSettled(windowRef.current);
    invalidate();
  }, [spanMs, invalidate]);

  // First data after an empty start: frame it.
  useEffect(() => {
    if (hadData.current || Number.isNaN(snapshot.maxTime)) return;
    hadData.current = true;
    const next = initialWindow(snapshot, from, to, spanMs);
    windowRef.current = next.window;
    setFollow(next.follow);
    setSettled(next.window);
  }, [snapshot, from, to, spanMs]);

  useLayoutEffect(() => {
    const wrap = wrapRef.current;
    const canvas = lanesCanvas.current;
    const axis = axisCanvas.current;
    if (!wrap || !canvas || !axis) return;
    const resize = () => {
      const dpr = window.devicePixelRatio || 1;
      const label = wrap.clientWidth < NARROW_W ? LABEL_W_NARROW : LABEL_W;
      if (label !== labelWRef.current) {
        labelWRef.current = label;
        setLabelW(label);
      }
      setBoundsWidth(wrap.clientWidth);
      const width = Math.max(0, wrap.clientWidth - label);
      const height = wrap.clientHeight;
      const axisWidth = axis.parentElement ? axis.parentElement.clientWidth : width;
      sizeRef.current = { width, height, axisWidth };
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.height = `${height}px`;
      axis.width = Math.round(axisWidth * dpr);
      axis.height = Math.round(30 * dpr);
      invalidate();
    };
    resize();
    const observer = new ResizeObserver(resize);
    observer.observe(wrap);
    const media = window.matchMedia?.('(prefers-color-scheme: dark)');
    const onTheme = () => {
      paletteRef.current = null;
      invalidate();
    };
    media?.addEventListener('change', onTheme);
    return () => {
      observer.disconnect();
      media?.removeEventListener('change', onTheme);
    };
  }, [invalidate]);

  const virtualItems = virtualizer.getVirtualItems();
  // biome-ignore lint/correctness/useExhaustiveDependencies: redraw whenever what is drawn changes.
  useEffect(() => {
    invalidate();
  }, [invalidate, rows, virtualItems, selectedEnv, selectedReq, follow]);

  const changeWindow = useCallback(
    (next: TimeWindow, keepFollow: boolean) => {
      windowRef.current = next;
      if (!keepFollow && followRef.current) {
        followRef.current = false;
        setFollow(false);
      }
      invalidate();
      settle();
    },
    [invalidate, settle],
  );

  // Selecting pauses follow live and brings the selection into view: its row scrolled to, its time centred.
  const centred = useRef<string | null>(null);
  useEffect(() => {
    const key = selectedEnv ? `${selectedEnv}/${selectedReq ?? ''}` : null;
    if (key === null || centred.current === key) return;
    const lane = snapshot.lanes.get(selectedEnv!);
    if (!lane) return;
    centred.current = key;
    const index = rows.findIndex((r) => r.kind === 'lane' && r.lane.envId === selectedEnv);
    if (index >= 0) virtualizerRef.current.scrollToIndex(index, { align: 'auto' });
    const bar = selectedReq ? lane.invokes.find((b) => b.requestId === selectedReq) : undefined;
    const start = bar ? bar.startAt : (lane.registeredAt ?? lane.firstActivityAt);
    const end = bar
      ? (invokeEnd(bar) ?? Math.max(bar.startAt, Date.now()))
      : (lane.exitedAt ?? lane.shutdown?.receivedAt ?? lane.lastActivityAt);
    const w = windowRef.current;
    const inView = start >= w.start && end <= w.end;
    if (inView && !followRef.current) return;
    const span = w.end - w.start;
    const next =
      end - start > span * 0.9
        ? fitWindow(start, end)
        : { start: (start + end) / 2 - span / 2, end: (start + end) / 2 + span / 2 };
    changeWindow(next, false);
  }, [selectedEnv, selectedReq, snapshot, rows, changeWindow]);

  const zoomBy = useCallback(
    (factor: number, anchorX?: number) => {
      const w = windowRef.current;
      const scale = createTimeScale(w, sizeRef.current.width);
      // While following, zoom around the live edge so "now" stays in view.
      const anchor = followRef.current
        ? Date.now()
        : anchorX !== undefined
          ? scale.toTime(anchorX)
          : undefined;
      changeWindow(zoomWindow(w, factor, anchor), true);
    },
    [changeWindow],
  );

  const panBy = useCallback(
    (ratio: number) => {
      const w = windowRef.current;
      changeWindow(panWindow(w, (w.end - w.start) * ratio), false);
    },
    [changeWindow],
  );

  const fitAll = useCallback(() => {
    const s = propsRef.current.snapshot;
    if (Number.isNaN(s.minTime)) return;
    changeWindow(
      fitWindow(s.minTime, Math.max(s.maxTime, Math.min(Date.now(), s.maxTime + 60_000))),
      false,
    );
  }, [changeWindow]);

  const toggleFollow = useCallback(() => {
    const next = !followRef.current;
    followRef.current = next;
    setFollow(next);
    if (next) windowRef.current = followWindow(windowRef.current, Date.now());
    invalidate();
    settle();
  }, [invalidate, settle]);

  const onWheel = useCallback(
    (e: WheelEvent<HTMLDivElement>) => {
      const rect = wrapRef.current?.getBoundingClientRect();
      const x = rect ? e.clientX - rect.left - labelWRef.current : undefined;
      if (e.ctrlKey || e.metaKey) {
        // Pinch gestures arrive as ctrl+wheel.
        zoomBy(Math.exp(-e.deltaY * 0.0025), x);
        return;
      }
      if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        const dx = e.shiftKey && e.deltaX === 0 ? e.deltaY : e.deltaX;
        panBy(dx / Math.max(1, sizeRef.current.width));
      }
    },
    [zoomBy, panBy],
  );

  // Native listener: React's wheel listener is passive, and ctrl+wheel must not zoom the page.
  useEffect(() => {
    const el = timelineRef.current;
    if (!el) return;
    const block = (e: globalThis.WheelEvent) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY))
        e.preventDefault();
    };
    el.addEventListener('wheel', block, { passive: false });
    return () => el.removeEventListener('wheel', block);
  }, []);

  const drag = useRef<{ x: number; window: TimeWindow; moved: boolean; id: number } | null>(null);
  const suppressClick = useRef(false);
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    const rect = wrapRef.current?.getBoundingClientRect();
    if (rect && e.clientX - rect.left < labelWRef.current) return;
    drag.current = { x: e.clientX, window: windowRef.current, moved: false, id: e.pointerId };
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d?.moved) hoverAt(e);
    if (!d) return;
    const dx = e.clientX - d.x;
    if (!d.moved && Math.abs(dx) < 4) return;
    if (!d.moved) {
      d.moved = true;
      scrollRef.current?.setPointerCapture?.(d.id);
      scrollRef.current?.classList.add('dragging');
    }
    const ms = dx / createTimeScale(d.window, sizeRef.current.width).pxPerMs;
    changeWindow(panWindow(d.window, -ms), false);
  };
  // The hover card: the invoke under the pointer (canvas hit test, as for clicks), else the lane.
  const hoverAt = (e: PointerEvent<HTMLDivElement>) => {
    const show = showHover.current;
    const bounds = timelineRef.current?.getBoundingClientRect();
    if (!show || !bounds || e.pointerType === 'touch') return;
    const target = e.target as HTMLElement;
    const li = target.closest<HTMLElement>('li.row');
    const chart = li?.querySelector<HTMLElement>('.lane-chart');
    const envId = chart?.dataset.env;
    const lane = envId ? propsRef.current.snapshot.lanes.get(envId) : undefined;
    if (!chart || !lane) {
      show(null);
      return;
    }
    const rect = chart.getBoundingClientRect();
    const scale = createTimeScale(windowRef.current, rect.width);
    const bar =
      e.clientX >= rect.left
        ? invokeAt(lane.invokes, scale.toTime(e.clientX - rect.left), 4 / scale.pxPerMs)
        : null;
    const wallNow = Date.now();
    const row = rowsRef.current.find((r) => r.kind === 'lane' && r.lane.envId === envId);
    const cell =
      !bar && lane.activity && e.clientX >= rect.left
        ? cellAt(lane.activity, scale.toTime(e.clientX - rect.left))
        : null;
    show({
      facts: bar
        ? invokeHoverFacts(lane, bar, wallNow)
        : cell && lane.activity
          ? cellHoverFacts(lane, cell, lane.activity.step)
          : laneHoverFacts(lane, row?.kind === 'lane' ? row.state : 'idle', wallNow),
      x: e.clientX - bounds.left,
      y: e.clientY - bounds.top,
    });
  };

  const endDrag = () => {
    const d = drag.current;
    drag.current = null;
    if (!d) return;
    scrollRef.current?.classList.remove('dragging');
    if (d.moved) suppressClick.current = true;
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    switch (e.key) {
      case '+':
      case '=':
        zoomBy(1.5);
        break;
      case '-':
      case '_':
        zoomBy(1 / 1.5);
        break;
      case 'ArrowLeft':
        panBy(-0.15);
        break;
      case 'ArrowRight':
        panBy(0.15);
        break;
      case 'f':
        toggleFollow();
        break;
      case '0':
        fitAll();
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const toggleGroup = useCallback((key: string) => {
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  }, []);

  const onChartClick = (e: MouseEvent<HTMLDivElement>) => {
    if (suppressClick.current) {
      suppressClick.current = false;
      e.stopPropagation();
      e.preventDefault();
      return;
    }
    const target = e.target as HTMLElement;
    if (target.closest('.invoke-hit')) return;
    const chart = target.closest<HTMLElement>('.lane-chart');
    const envId = chart?.dataset.env;
    if (!chart || !envId) return;
    // Hit-test the canvas: the targets may lag a moving window, the click must not.
    const lane = propsRef.current.snapshot.lanes.get(envId);
    const rect = chart.getBoundingClientRect();
    const scale = createTimeScale(windowRef.current, rect.width);
    const hit = lane
      ? invokeAt(lane.invokes, scale.toTime(e.clientX - rect.left), 4 / scale.pxPerMs)
      : null;
    onSelect(envId, hit?.requestId ?? null);
  };

  return (
    <div className="view" style={{ ['--label-w' as string]: `${labelW}px` }}>
      <div className="timeline-toolbar">
        <div className="btn-group">
          <button
            type="button"
            className="btn"
            onClick={() => zoomBy(1 / 1.5)}
            aria-label="Zoom out"
            title="Zoom out (−)"
          >
            −
          </button>
          <button type="button" className="btn" onClick={fitAll} title="Fit everything (0)">
            Fit
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => zoomBy(1.5)}
            aria-label="Zoom in"
            title="Zoom in (+)"
          >
            +
          </button>
        </div>
        <button
          type="button"
          className="btn"
          aria-pressed={follow}
          onClick={toggleFollow}
          title="Keep the newest activity in view (f)"
        >
          {follow ? '● ' : '○ '}Follow live
        </button>
        <button
          type="button"
          className="btn"
          aria-pressed={order === 'newest'}
          onClick={() => setOrder((o) => (o === 'newest' ? 'function' : 'newest'))}
          title="Order functions and environments by their latest activity"
        >
          Newest first
        </button>
        <fieldset className="btn-group" aria-label="Group lanes by">
          {(
            [
              ['function', 'By function'],
              ['tenant', 'By tenant'],
            ] as const
          ).map(([value, label]) => (
            <button
              key={value}
              type="button"
              className="btn"
              aria-pressed={group === value}
              onClick={() => onGroupChange?.(value)}
            >
              {label}
            </button>
          ))}
        </fieldset>
        <span className="progress" aria-live="polite">
          {counts.environments.toLocaleString('en-US')} environments · {counts.alive} alive ·{' '}
          {counts.invokes.toLocaleString('en-US')} invokes
        </span>
        <span className="spacer" />
        <TimelineLegend dense={dense} />
      </div>
      <SeriesStrip window={settled} functionName={functionName} tenant={tenant} follow={follow} />
      <section
        className="timeline"
        ref={timelineRef}
        aria-label="Timeline: one lane per execution environment. Plus and minus zoom, arrow keys pan, f follows live, 0 fits."
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the timeline takes keyboard zoom and pan.
        tabIndex={0}
        onKeyDown={onKeyDown}
      >
        <HoverCard connect={connectHover} boundsWidth={boundsWidth} />
        <div className="axis-row">
          <div className="corner">Environment</div>
          <div style={{ position: 'relative' }}>
            <canvas ref={axisCanvas} className="axis-canvas" />
          </div>
        </div>
        <div className="lanes-wrap" ref={wrapRef}>
          <canvas ref={lanesCanvas} className="lanes-canvas" />
          <div
            className="lanes-scroll"
            ref={scrollRef}
            onWheel={onWheel}
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={endDrag}
            onPointerCancel={endDrag}
            onPointerLeave={() => showHover.current?.(null)}
            onScroll={invalidate}
            onClickCapture={onChartClick}
          >
            <ul
              className="rows"
              aria-label="Execution environments"
              style={
                {
                  height: virtualizer.getTotalSize(),
                  '--ws': settled.start - origin,
                  '--k': 100 / Math.max(1e-9, settled.end - settled.start),
                } as CSSProperties
              }
            >
              {virtualItems.map((item) => {
                const row = rows[item.index];
                if (!row) return null;
                return (
                  <li
                    key={item.key}
                    className={row.kind === 'group' ? 'row row-group' : 'row'}
                    data-selected={row.kind === 'lane' && row.lane.envId === selectedEnv}
                    data-odd={item.index % 2 === 1}
                    style={{ top: item.start, height: item.size }}
                  >
                    {row.kind === 'group' ? (
                      <GroupRowView row={row} onToggle={toggleGroup} />
                    ) : (
                      <LaneRowView
                        row={row}
                        window={settled}
                        origin={origin}
                        now={now}
                        selectedEnv={selectedEnv}
                        selectedReq={selectedReq}
                        onSelect={onSelect}
                      />
                    )}
                  </li>
                );
              })}
            </ul>
          </div>
        </div>
      </section>
    </div>
  );
}

/** `dense`: some lane shows its invokes as cells (a long range), which the legend then names. */
function TimelineLegend({ dense }: { dense: boolean }) {
  const item = (label: string, style: CSSProperties, className = '') => (
    <span className="legend-item">
      <span className={`swatch ${className}`} style={style} aria-hidden="true" />
      {label}
    </span>
  );
  return (
    <div className="legend">
      {item('init', { background: 'var(--c-init)' })}
      {item('ext. init', { background: 'var(--c-init-ext)' })}
      {item('restore', { background: 'var(--c-restore)' })}
      {item('running', {}, 'striped')}
      {item('awaiting report', {}, 'awaiting')}
      {item('success', { background: 'var(--c-success)' })}
      {item('near timeout', { background: 'var(--c-near)' })}
      {item('error', { background: 'var(--c-error)' })}
      {item('timeout', { background: 'var(--c-timeout)' })}
      {dense &&
        item('invokes per cell (fewer → more)', {
          background:
            'linear-gradient(90deg, color-mix(in srgb, var(--c-success) 20%, transparent), var(--c-success))',
        })}
      {item('frozen', {}, 'hatched')}
      {item('deadline', { background: 'var(--c-deadline)' }, 'tick')}
      {item('spindown', { background: 'var(--c-spindown)' }, 'diamond')}
      {item('shutdown: timeout', { background: 'var(--c-r-timeout)' }, 'diamond')}
      {item('failure', { background: 'var(--c-r-failure)' }, 'diamond')}
    </div>
  );
}
