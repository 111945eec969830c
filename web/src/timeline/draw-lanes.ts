import type { EnvironmentState } from '@lifeline/protocol';
import { cellIntensity, type LaneActivity } from './density.ts';
import { isNearTimeout } from './invoke-labels.ts';
import type { EnvLane } from './lane-model.ts';
import { barStatus, type InvokeBar, invokeEnd } from './lane-model.ts';
import { reasonKind } from './lane-state.ts';
import type { Palette } from './palette.ts';
import type { Row } from './row-model.ts';
import { SUB_LANE_H, slotOf, subLanesOf } from './sub-lanes.ts';
import { axisTicks, lowerBound, type TimeScale } from './time-scale.ts';

/** A row placed on the canvas (y relative to the canvas top). */
export interface PlacedRow {
  readonly row: Row;
  /** Position in the whole row list (for zebra striping that does not move while scrolling). */
  readonly index: number;
  readonly y: number;
  readonly height: number;
}

/** What one frame of the lanes canvas needs. */
export interface DrawLanesInput {
  readonly ctx: CanvasRenderingContext2D;
  readonly width: number;
  readonly height: number;
  readonly scale: TimeScale;
  readonly rows: readonly PlacedRow[];
  readonly palette: Palette;
  readonly now: number;
  readonly selectedEnv: string | null;
  readonly selectedReq: string | null;
  /** Moves the stripes of running bars; any number, e.g. time / 40. */
  readonly phase: number;
  /** Collector clock, for the shared status rule (running vs awaiting report). */
  readonly stateNow: number;
}

/** Draws the visible lanes; returns whether a running bar is visible (the caller keeps animating then). */
export function drawLanes(input: DrawLanesInput): { animating: boolean } {
  const { ctx, width, height, scale, rows, palette, now } = input;
  ctx.clearRect(0, 0, width, height);
  // Zebra stripes under the grid, keyed to the row index so they do not move while scrolling.
  ctx.fillStyle = palette.grid;
  ctx.globalAlpha = 0.4;
  for (const placed of rows) {
    if (placed.row.kind === 'lane' && placed.index % 2 === 1)
      ctx.fillRect(0, placed.y, width, placed.height);
  }
  ctx.globalAlpha = 1;
  drawGrid(ctx, scale, height, palette);
  const nowX = scale.toX(now);
  let animating = false;
  const peak = densityPeak(rows, scale.window.start, scale.window.end);
  rows.forEach((placed, i) => {
    if (placed.row.kind !== 'lane') return;
    const ran = drawLane(input, placed, placed.row.lane, rows[i - 1], peak);
    animating ||= ran;
  });
  if (nowX >= 0 && nowX <= width) {
    ctx.strokeStyle = palette.status.running;
    ctx.globalAlpha = 0.55;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(Math.round(nowX) + 0.5, 0);
    ctx.lineTo(Math.round(nowX) + 0.5, height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
  }
  return { animating };
}

function drawGrid(
  ctx: CanvasRenderingContext2D,
  scale: TimeScale,
  height: number,
  palette: Palette,
) {
  const { ticks } = axisTicks(scale.window, Math.max(2, Math.floor(scale.width / 110)));
  ctx.strokeStyle = palette.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const t of ticks) {
    const x = Math.round(scale.toX(t.time)) + 0.5;
    ctx.moveTo(x, 0);
    ctx.lineTo(x, height);
  }
  ctx.stroke();
}

function clampX(x: number, width: number): number {
  return Math.max(-2, Math.min(width + 2, x));
}

/** Where the life line ends: exit, the shutdown deadline, the last sign of life of a lost lane, else now. */
function laneEndTime(lane: EnvLane, state: EnvironmentState, now: number): number {
  if (lane.exitedAt !== null) return lane.exitedAt;
  if (lane.shutdown) return Math.min(lane.shutdown.deadlineMs, now);
  return state === 'lost' ? lane.lastActivityAt : now;
}

/** The most invokes in one visible cell over the visible dense lanes (cells are drawn relative to it). */
export function densityPeak(rows: readonly PlacedRow[], start: number, end: number): number {
  let peak = 0;
  for (const placed of rows) {
    const activity = placed.row.kind === 'lane' ? placed.row.lane.activity : null;
    if (!activity) continue;
    const first = Math.floor(start / activity.step);
    const last = Math.floor(end / activity.step);
    for (const cell of activity.cells) {
      if (cell.bucket >= first && cell.bucket <= last && cell.invokes > peak) peak = cell.invokes;
    }
  }
  return peak;
}

/**
 * A dense lane's cells: fill strength from the invokes in the cell (against the busiest visible cell), a strip on
 * top when some failed, one at the bottom when some timed out.
 */
function drawCells(
  ctx: CanvasRenderingContext2D,
  palette: Palette,
  scale: TimeScale,
  activity: LaneActivity,
  top: number,
  h: number,
  peak: number,
) {
  const { step } = activity;
  const first = lowerBound(activity.cells, Math.floor(scale.window.start / step), (c) => c.bucket);
  const lastBucket = Math.floor(scale.window.end / step);
  for (let i = first; i < activity.cells.length; i++) {
    const cell = activity.cells[i]!;
    if (cell.bucket > lastBucket) break;
    const x0 = scale.toX(cell.bucket * step);
    const x1 = scale.toX((cell.bucket + 1) * step);
    // A hairline between neighbouring cells once they are wide enough to tell apart.
    const w = Math.max(1, x1 - x0 - (x1 - x0 > 3 ? 1 : 0));
    ctx.fillStyle = palette.status.success;
    ctx.globalAlpha = cellIntensity(cell.invokes, peak);
    ctx.fillRect(x0, top, w, h);
    ctx.globalAlpha = 1;
    if (cell.errors > 0) {
      ctx.fillStyle = palette.status.error;
      ctx.fillRect(x0, top, w, 3);
    }
    if (cell.timeouts > 0) {
      ctx.fillStyle = palette.status.timeout;
      ctx.fillRect(x0, top + h - 3, w, 3);
    }
  }
}

function drawLane(
  input: DrawLanesInput,
  placed: PlacedRow,
  lane: EnvLane,
  above: PlacedRow | undefined,
  peak: number,
): boolean {
  const { ctx, width, scale, palette, now, selectedEnv, selectedReq, phase } = input;
  const { y, height } = placed;
  const mid = Math.round(y + height / 2);
  const barTop = y + 6;
  const barH = height - 12;
  const start = lane.registeredAt ?? lane.firstActivityAt;
  const end = laneEndTime(lane, placed.row.kind === 'lane' ? placed.row.state : 'idle', now);
  const toX = scale.toX;
  const w = scale.window;

  if (lane.envId === selectedEnv) {
    ctx.fillStyle = palette.status.running;
    ctx.globalAlpha = 0.07;
    ctx.fillRect(0, y, width, height);
    ctx.globalAlpha = 1;
  }

  // Life line: registration → exit (or now).
  if (end >= w.start && start <= w.end) {
    ctx.strokeStyle = palette.lifeline;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(clampX(toX(start), width), mid);
    ctx.lineTo(clampX(toX(end), width), mid);
    ctx.stroke();
    ctx.lineWidth = 1;
  }
  // Lost: silent past the threshold with no SHUTDOWN; a dashed trail from the last sign of life to now.
  if (end < now && !lane.shutdown && lane.exitedAt === null && end <= w.end) {
    ctx.strokeStyle = palette.faint;
    ctx.setLineDash([2, 4]);
    ctx.beginPath();
    ctx.moveTo(clampX(toX(end), width), mid);
    ctx.lineTo(clampX(toX(now), width), mid);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = palette.faint;
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillText('?', clampX(toX(end), width) + 4, mid - 3);
  }

  // Re-initialisation link from the environment it replaced (drawn in the row above).
  if (placed.row.kind === 'lane' && placed.row.reinitOf && above && above.row.kind === 'lane') {
    const prevEnd = laneEndTime(above.row.lane, above.row.state, now);
    const x0 = toX(prevEnd);
    const x1 = toX(start);
    ctx.strokeStyle = palette.link;
    ctx.setLineDash([3, 2]);
    ctx.beginPath();
    ctx.moveTo(x0, above.y + above.height / 2);
    ctx.bezierCurveTo(x0 + 12, mid, x1 - 12, above.y + above.height / 2, x1, mid);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = palette.link;
    ctx.beginPath();
    ctx.arc(x1, mid, 2.5, 0, Math.PI * 2);
    ctx.fill();
  }

  // Init: runtime init (initStart → initRuntimeDone), then extensions finishing (→ initReport).
  for (const init of lane.inits) {
    const s = init.startAt ?? start;
    const rd = init.runtimeDoneAt ?? init.reportAt ?? now;
    const r = init.reportAt ?? rd;
    if (r < w.start || s > w.end) continue;
    const restore = init.phase === 'restore';
    ctx.fillStyle = restore ? palette.restore : palette.init;
    ctx.fillRect(toX(s), barTop + 2, Math.max(1, toX(rd) - toX(s)), barH - 4);
    // Name the phase where there is room: a SnapStart environment starts with RESTORE, not INIT.
    if (toX(rd) - toX(s) > 52) {
      ctx.fillStyle = palette.panel;
      ctx.font = '600 9.5px system-ui, sans-serif';
      ctx.fillText(restore ? 'RESTORE' : 'INIT', toX(s) + 4, mid + 3.5);
    }
    if (r > rd) {
      ctx.fillStyle = palette.initExt;
      ctx.fillRect(toX(rd), barTop + 2, Math.max(1, toX(r) - toX(rd)), barH - 4);
    }
    if (init.status && init.status !== 'success') {
      ctx.strokeStyle = palette.status.error;
      ctx.strokeRect(toX(s) + 0.5, barTop + 2.5, Math.max(1, toX(r) - toX(s)) - 1, barH - 5);
    }
  }

  // Dense range: the cells, with the few invokes held one by one (the last, running ones) drawn over them.
  const dense = lane.activity !== null;
  if (lane.activity) drawCells(ctx, palette, scale, lane.activity, barTop, barH, peak);

  // Invokes and the frozen gaps between them; concurrent invokes (Managed Instances) in stacked sub-lanes.
  const bars = lane.invokes;
  const sub = subLanesOf(lane);
  let from = lowerBound(bars, w.start, (b) => b.startAt);
  // A concurrent lane's long invokes may start well before the window; a serial lane's only the one before.
  from = sub ? 0 : Math.max(0, from - 1);
  let animating = false;
  let lastDrawnRight = -Infinity;
  let lastColor = '';
  for (let i = from; i < bars.length; i++) {
    const bar = bars[i]!;
    if (bar.startAt > w.end) {
      // The frozen gap before the first bar past the window still shows.
      if (!sub && !dense)
        drawFrozen(ctx, palette, toX, bars[i - 1], bar.startAt, barTop, barH, width);
      break;
    }
    const next = sub ? undefined : bars[i + 1];
    const knownEnd = invokeEnd(bar);
    const status = barStatus(bar, lane, input.stateNow);
    const running = status === 'running';
    // Without an end: a running bar reaches now; one awaiting its report stops at the next invoke, the SHUTDOWN,
    // or its own deadline, never drawn as running past it.
    const barEnd =
      knownEnd ??
      (running
        ? now
        : (next?.startAt ??
          lane.shutdown?.receivedAt ??
          lane.exitedAt ??
          Math.min(bar.deadlineMs ?? now, now)));
    // Frozen until the next invoke, else until the lane's end (SHUTDOWN, exit, last sign of life, or now). A dense
    // lane holds only some invokes one by one: it is known frozen only after its last one.
    if (!sub && (!dense || next === undefined))
      drawFrozen(
        ctx,
        palette,
        toX,
        bar,
        next ? next.startAt : (lane.shutdown?.receivedAt ?? end),
        barTop,
        barH,
        width,
      );
    if (barEnd < w.start) continue;
    const slot = slotOf(sub, i);
    const top = sub ? barTop + slot * SUB_LANE_H : barTop;
    const h = sub ? SUB_LANE_H - 1 : barH;
    const x0 = toX(bar.startAt);
    const x1 = toX(barEnd);
    const bw = Math.max(1, x1 - x0);
    const near = isNearTimeout(bar);
    const color =
      status === 'awaiting-report'
        ? palette.awaiting
        : running
          ? palette.status.running
          : near
            ? palette.near
            : palette.status[status];
    // Sub-pixel bars of the same colour collapse into one stroke when zoomed far out.
    if (!sub && bw < 1.5 && x0 < lastDrawnRight && color === lastColor) continue;
    lastDrawnRight = x0 + bw + 0.5;
    lastColor = color;
    ctx.fillStyle = color;
    if (running) {
      animating = true;
      ctx.globalAlpha = 0.35;
      ctx.fillRect(x0, top, bw, h);
      ctx.globalAlpha = 1;
      drawStripes(ctx, x0, top, bw, h, color, phase);
    } else if (status === 'awaiting-report') {
      // The end is not known yet: an outline, dashed, over a faint fill.
      ctx.globalAlpha = 0.25;
      ctx.fillRect(x0, top, bw, h);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = color;
      ctx.setLineDash([3, 2]);
      ctx.strokeRect(x0 + 0.5, top + 0.5, Math.max(1, bw - 1), h - 1);
      ctx.setLineDash([]);
    } else {
      ctx.fillRect(x0, top, bw, h);
      drawStreaming(ctx, palette, toX, bar, top, h);
      if (near && !sub) {
        ctx.fillStyle = palette.status.success;
        ctx.fillRect(x0, top + h - 3, bw, 3);
      }
    }
    if (!sub && (running || near || status === 'timeout') && bar.deadlineMs !== null) {
      const dx = Math.round(toX(bar.deadlineMs)) + 0.5;
      ctx.strokeStyle = palette.deadline;
      ctx.setLineDash([2, 2]);
      ctx.beginPath();
      ctx.moveTo(x0 + bw, mid);
      ctx.lineTo(dx, mid);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(dx, top - 3);
      ctx.lineTo(dx, top + h + 3);
      ctx.stroke();
    }
    if (bar.reportPending && !running && status !== 'awaiting-report' && bw > 6 && !sub) {
      ctx.fillStyle = palette.panel;
      ctx.beginPath();
      ctx.arc(x0 + bw - 3.5, top + 3.5, 1.6, 0, Math.PI * 2);
      ctx.fill();
    }
    if (bar.requestId === selectedReq) {
      ctx.strokeStyle = palette.text;
      ctx.lineWidth = 2;
      ctx.strokeRect(x0 - 1, top - 1, bw + 2, h + 2);
      ctx.lineWidth = 1;
    }
  }

  // Shutdown: budget (SHUTDOWN → deadline), the part used (→ exit), and the marker by reason.
  const sd = lane.shutdown;
  if (sd && sd.deadlineMs >= w.start && sd.receivedAt <= w.end) {
    const color = palette.reason[reasonKind(sd.reason)];
    const x0 = toX(sd.receivedAt);
    const xd = toX(sd.deadlineMs);
    ctx.strokeStyle = color;
    ctx.globalAlpha = 0.8;
    ctx.setLineDash([2, 2]);
    ctx.strokeRect(x0 + 0.5, barTop + 2.5, Math.max(1, xd - x0) - 1, barH - 5);
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    const usedEnd = sd.exitedAt ?? Math.min(now, sd.deadlineMs);
    ctx.fillStyle = color;
    ctx.globalAlpha = 0.55;
    ctx.fillRect(x0, barTop + 2, Math.max(1.5, toX(usedEnd) - x0), barH - 4);
    ctx.globalAlpha = 1;
    if (sd.exitedAt !== null) {
      ctx.fillRect(Math.round(toX(sd.exitedAt)) - 1, barTop, 2, barH);
    }
    ctx.beginPath();
    ctx.moveTo(x0, mid - 6);
    ctx.lineTo(x0 + 6, mid);
    ctx.lineTo(x0, mid + 6);
    ctx.lineTo(x0 - 6, mid);
    ctx.closePath();
    ctx.fill();
    ctx.strokeStyle = palette.panel;
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(xd + 0.5, barTop - 3);
    ctx.lineTo(xd + 0.5, barTop + barH + 3);
    ctx.strokeStyle = palette.deadline;
    ctx.stroke();
  }
  return animating;
}

/**
 * Response streaming: the bar's first part (request → first byte) stays solid, the streaming part (first → last
 * byte) is lighter, split at the first byte.
 */
function drawStreaming(
  ctx: CanvasRenderingContext2D,
  palette: Palette,
  toX: (t: number) => number,
  bar: InvokeBar,
  top: number,
  h: number,
) {
  if (bar.responseLatencyMs === null || bar.responseDurationMs === null) return;
  const base = bar.platformStartAt ?? bar.startAt;
  const x0 = toX(base + bar.responseLatencyMs);
  const x1 = toX(base + bar.responseLatencyMs + bar.responseDurationMs);
  if (x1 - x0 < 1) return;
  ctx.fillStyle = palette.panel;
  ctx.globalAlpha = 0.45;
  ctx.fillRect(x0, top + 2, x1 - x0, h - 4);
  ctx.globalAlpha = 1;
  ctx.fillStyle = palette.text;
  ctx.fillRect(Math.round(x0), top, 1, h);
}

function drawFrozen(
  ctx: CanvasRenderingContext2D,
  palette: Palette,
  toX: (t: number) => number,
  bar: { startAt: number } | undefined,
  until: number,
  barTop: number,
  barH: number,
  width: number,
) {
  if (!bar) return;
  const end = invokeEnd(bar as Parameters<typeof invokeEnd>[0]);
  if (end === null) return;
  const x0 = clampX(toX(end), width);
  const x1 = clampX(toX(until), width);
  if (x1 - x0 < 3) return;
  const top = barTop + barH / 2 - 3;
  ctx.fillStyle = palette.frozen;
  ctx.globalAlpha = 0.22;
  ctx.fillRect(x0, top, x1 - x0, 6);
  ctx.globalAlpha = 0.5;
  ctx.strokeStyle = palette.frozen;
  ctx.beginPath();
  // Hatching, aligned to absolute x so it does not shimmer while panning a little.
  const step = 5;
  const first = Math.ceil(x0 / step) * step;
  for (let x = first; x < x1 && x < first + 4000; x += step) {
    ctx.moveTo(x, top + 6);
    ctx.lineTo(Math.min(x + 6, x1), top);
  }
  ctx.stroke();
  ctx.globalAlpha = 1;
}

function drawStripes(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  w: number,
  h: number,
  color: string,
  phase: number,
) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, w, h);
  ctx.clip();
  ctx.strokeStyle = color;
  ctx.lineWidth = 3;
  ctx.beginPath();
  const offset = phase % 8;
  for (let sx = x - h - 8 + offset; sx < x + w; sx += 8) {
    ctx.moveTo(sx, y + h);
    ctx.lineTo(sx + h, y);
  }
  ctx.stroke();
  ctx.restore();
  ctx.strokeStyle = color;
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
}

/** Draws the time axis: tick labels in UTC and a "now" marker. */
export function drawAxis(
  ctx: CanvasRenderingContext2D,
  scale: TimeScale,
  width: number,
  height: number,
  palette: Palette,
  font: string,
) {
  ctx.clearRect(0, 0, width, height);
  const { ticks } = axisTicks(scale.window, Math.max(2, Math.floor(width / 110)));
  ctx.font = font;
  ctx.textBaseline = 'middle';
  ctx.fillStyle = palette.muted;
  ctx.strokeStyle = palette.faint;
  ctx.beginPath();
  const reserved = ctx.measureText('UTC').width + 12;
  for (const t of ticks) {
    const x = Math.round(scale.toX(t.time)) + 0.5;
    ctx.moveTo(x, height - 6);
    ctx.lineTo(x, height);
    if (x + 4 + ctx.measureText(t.label).width < width - reserved)
      ctx.fillText(t.label, x + 4, height / 2 - 1);
  }
  ctx.stroke();
  ctx.fillStyle = palette.faint;
  ctx.textAlign = 'right';
  ctx.fillText('UTC', width - 6, height / 2 - 1);
  ctx.textAlign = 'left';
}
