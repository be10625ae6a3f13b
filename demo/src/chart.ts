/**
 * Loss and accuracy curves on a <canvas> 2D context: two panels side by side, one series per
 * optimizer, redrawn from scratch on every frame (a few thousand points at most).
 */
export interface Series {
  label: string;
  color: string;
  /** test-set points (step, value) */
  points: { x: number; y: number }[];
  /** optional thin line under it: the smoothed training-batch loss */
  faint?: { x: number; y: number }[];
}

export interface Panel {
  title: string;
  series: Series[];
  /** format of the y tick labels */
  format: (y: number) => string;
  /** fixed y range, or undefined to fit the data */
  yRange?: [number, number];
  /** include 0 in the fitted y range */
  fromZero?: boolean;
}

const FONT = '12px system-ui, -apple-system, "Segoe UI", sans-serif';

/** Draws `panels` side by side on `canvas`, sized to its CSS box and the device pixel ratio. */
export function draw(canvas: HTMLCanvasElement, panels: Panel[], xLabel: string): void {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth;
  const cssH = canvas.clientHeight;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const g = canvas.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, cssW, cssH);
  const gap = 24;
  const w = (cssW - gap * (panels.length - 1)) / panels.length;
  panels.forEach((p, i) => drawPanel(g, p, i * (w + gap), 0, w, cssH, xLabel));
}

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

function drawPanel(g: CanvasRenderingContext2D, p: Panel, x0: number, y0: number, w: number, h: number, xLabel: string): void {
  const left = x0 + 52;
  const right = x0 + w - 10;
  const top = y0 + 44;
  const bottom = y0 + h - 36;
  const all = p.series.flatMap((s) => [...s.points, ...(s.faint ?? [])]);
  const xmax = Math.max(10, ...all.map((q) => q.x));
  let [ymin, ymax] = p.yRange ?? [Infinity, -Infinity];
  if (!p.yRange) {
    for (const q of all) {
      if (Number.isFinite(q.y)) {
        ymin = Math.min(ymin, q.y);
        ymax = Math.max(ymax, q.y);
      }
    }
    if (!Number.isFinite(ymin)) [ymin, ymax] = [0, 1];
    if (p.fromZero) ymin = Math.min(0, ymin);
    if (ymax - ymin < 1e-9) ymax = ymin + 1;
    const pad = (ymax - ymin) * 0.05;
    ymax += pad;
    if (!p.fromZero) ymin -= pad;
  }
  const sx = (x: number) => left + (x / xmax) * (right - left);
  const sy = (y: number) => bottom - ((y - ymin) / (ymax - ymin)) * (bottom - top);

  // frame, grid and ticks
  g.font = FONT;
  g.fillStyle = '#222';
  g.textAlign = 'left';
  g.textBaseline = 'alphabetic';
  g.font = `600 ${FONT}`;
  g.fillText(p.title, left, y0 + 16);
  g.font = FONT;
  g.strokeStyle = '#e5e5e5';
  g.lineWidth = 1;
  g.fillStyle = '#666';
  const ys = niceStep(ymax - ymin, 5);
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let y = Math.ceil(ymin / ys) * ys; y <= ymax + 1e-12; y += ys) {
    g.beginPath();
    g.moveTo(left, sy(y));
    g.lineTo(right, sy(y));
    g.stroke();
    g.fillText(p.format(y), left - 6, sy(y));
  }
  const xs = niceStep(xmax, 6);
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (let x = 0; x <= xmax + 1e-9; x += xs) {
    g.beginPath();
    g.moveTo(sx(x), top);
    g.lineTo(sx(x), bottom);
    g.stroke();
    g.fillText(String(Math.round(x)), sx(x), bottom + 5);
  }
  g.fillText(xLabel, (left + right) / 2, bottom + 20);
  g.strokeStyle = '#999';
  g.strokeRect(left, top, right - left, bottom - top);

  // series, clipped to the frame
  g.save();
  g.beginPath();
  g.rect(left, top, right - left, bottom - top);
  g.clip();
  const line = (pts: { x: number; y: number }[], color: string, width: number, alpha: number) => {
    if (pts.length === 0) return;
    g.globalAlpha = alpha;
    g.strokeStyle = color;
    g.lineWidth = width;
    g.lineJoin = 'round';
    g.beginPath();
    pts.forEach((q, i) => (i === 0 ? g.moveTo(sx(q.x), sy(q.y)) : g.lineTo(sx(q.x), sy(q.y))));
    g.stroke();
    if (pts.length === 1) {
      g.fillStyle = color;
      g.beginPath();
      g.arc(sx(pts[0].x), sy(pts[0].y), 3, 0, 2 * Math.PI);
      g.fill();
    }
    g.globalAlpha = 1;
  };
  for (const s of p.series) if (s.faint) line(s.faint, s.color, 1, 0.35);
  for (const s of p.series) line(s.points, s.color, 2.25, 1);
  g.restore();

  // legend, on its own line under the title
  g.font = FONT;
  g.textAlign = 'left';
  g.textBaseline = 'middle';
  // five series do not fit after the axis at the default gap: start at the panel's edge, closer
  const widths = p.series.map((s) => g.measureText(s.label).width);
  const fits = widths.reduce((a, v) => a + 21 + v + 18, 0) <= right - left;
  let lx = fits ? left : x0 + 4;
  p.series.forEach((s, k) => {
    g.fillStyle = s.color;
    g.fillRect(lx, y0 + 31, 16, 3);
    g.fillStyle = '#333';
    g.fillText(s.label, lx + 21, y0 + 32);
    lx += 21 + widths[k] + (fits ? 18 : 9);
  });
}
