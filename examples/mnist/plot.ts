/**
 * A dependency-free SVG line chart: training loss against epoch and against wall-clock time, two
 * panels side by side, one line per run, logarithmic loss axis, ticks, grid and a shared legend.
 */

export interface Series {
  label: string;
  color: string;
  /** SVG stroke-dasharray ('' for a solid line) */
  dash: string;
  /** epochs done at each point (fractional; 0: before training) */
  epochs: number[];
  /** loss at each point */
  loss: number[];
  /** seconds of training at each of those points */
  time: number[];
}

const W = 1060;
const PANEL_W = 430;
const PANEL_H = 300;
const TOP = 74;
const LEFT = [78, 598];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Format a tick value without float noise (0.30000000000000004 → 0.3). */
function fmt(v: number): string {
  return String(Number(v.toPrecision(6)));
}

/** About `count` round tick values (steps of 1, 2 or 5 × 10^k) covering [lo, hi]. */
export function linearTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Ticks at 1, 2, 3 and 5 × 10^k inside [lo, hi] (lo > 0), for a log axis. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 3, 5]) {
      const t = Number((m * 10 ** k).toPrecision(12));
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(t);
    }
  }
  return ticks;
}

interface Panel {
  title: string;
  xLabel: string;
  xs: (s: Series) => number[];
  xMax: number;
}

/**
 * The SVG document.
 * @param series one entry per run
 * @param subtitle a line under the title (data set, epochs, batch…)
 */
export function renderLossPlot(series: readonly Series[], title: string, subtitle: string, yLabel = 'training loss (cross-entropy, log scale)'): string {
  const losses = series.flatMap((s) => s.loss.filter((v) => Number.isFinite(v) && v > 0));
  const yLo = Math.min(...losses) * 0.9;
  const yHi = Math.max(...losses) * 1.1;
  const ly = (v: number) => TOP + PANEL_H * (1 - (Math.log10(v) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo)));
  let yTicks = logTicks(yLo, yHi);
  if (yTicks.length < 3) {
    // a narrow range: 1, 1.5, 2, 3, 4, 5, 6, 8 × 10^k
    const more: number[] = [];
    for (let k = Math.floor(Math.log10(yLo)); k <= Math.ceil(Math.log10(yHi)); k++) {
      for (const m of [1, 1.5, 2, 3, 4, 5, 6, 8]) {
        const t = Number((m * 10 ** k).toPrecision(12));
        if (t >= yLo && t <= yHi) more.push(t);
      }
    }
    yTicks = more;
  }
  const maxEpoch = Math.max(1, ...series.map((s) => s.epochs[s.epochs.length - 1] ?? 0));
  const maxTime = Math.max(1e-3, ...series.map((s) => s.time[s.time.length - 1] ?? 0));
  const panels: Panel[] = [
    { title: 'Training loss vs epoch', xLabel: 'epoch', xs: (s) => s.epochs, xMax: maxEpoch },
    { title: 'Training loss vs wall-clock time', xLabel: 'training time (s)', xs: (s) => s.time, xMax: maxTime },
  ];
  const legendRows = Math.ceil(series.length / 3);
  const H = TOP + PANEL_H + 70 + 24 * legendRows + 10;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600">${esc(title)}</text>`,
    `<text x="${W / 2}" y="44" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`,
  );
  panels.forEach((panel, p) => {
    const left = LEFT[p];
    const lx = (v: number) => left + (PANEL_W * v) / panel.xMax;
    out.push(`<g>`);
    out.push(`<text x="${left + PANEL_W / 2}" y="${TOP - 8}" text-anchor="middle" font-weight="600">${esc(panel.title)}</text>`);
    // grid and ticks
    for (const t of yTicks) {
      const y = ly(t).toFixed(1);
      out.push(`<line x1="${left}" x2="${left + PANEL_W}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
      out.push(`<line x1="${left - 5}" x2="${left}" y1="${y}" y2="${y}" stroke="#333"/>`);
      out.push(`<text x="${left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`);
    }
    const xTicks = p === 0 && maxEpoch <= 12 && Number.isInteger(maxEpoch) ? Array.from({ length: maxEpoch + 1 }, (_, i) => i) : linearTicks(0, panel.xMax);
    for (const t of xTicks) {
      const x = lx(t).toFixed(1);
      out.push(`<line x1="${x}" x2="${x}" y1="${TOP}" y2="${TOP + PANEL_H}" stroke="#f0f0f0"/>`);
      out.push(`<line x1="${x}" x2="${x}" y1="${TOP + PANEL_H}" y2="${TOP + PANEL_H + 5}" stroke="#333"/>`);
      out.push(`<text x="${x}" y="${TOP + PANEL_H + 18}" text-anchor="middle">${fmt(t)}</text>`);
    }
    out.push(`<rect x="${left}" y="${TOP}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#333"/>`);
    out.push(`<text x="${left + PANEL_W / 2}" y="${TOP + PANEL_H + 38}" text-anchor="middle">${esc(panel.xLabel)}</text>`);
    out.push(
      `<text transform="translate(${left - 52} ${TOP + PANEL_H / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    );
    // lines
    out.push(`<g clip-path="url(#clip${p})">`);
    for (const s of series) {
      const xs = panel.xs(s);
      const pts: string[] = [];
      for (let i = 0; i < s.loss.length; i++) {
        if (!Number.isFinite(s.loss[i]) || s.loss[i] <= 0) break;
        pts.push(`${lx(xs[i]).toFixed(1)},${ly(s.loss[i]).toFixed(1)}`);
      }
      if (pts.length === 0) continue;
      const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
      out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}><title>${esc(s.label)}</title></polyline>`);
      for (const pt of pts) {
        const [x, y] = pt.split(',');
        out.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${s.color}"/>`);
      }
    }
    out.push(`</g>`);
    out.push(`<clipPath id="clip${p}"><rect x="${left - 4}" y="${TOP - 4}" width="${PANEL_W + 8}" height="${PANEL_H + 8}"/></clipPath>`);
    out.push(`</g>`);
  });
  // legend
  const legendTop = TOP + PANEL_H + 62;
  series.forEach((s, i) => {
    const x = LEFT[0] + (i % 3) * 320;
    const y = legendTop + 24 * Math.floor(i / 3);
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<line x1="${x}" x2="${x + 36}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2.5"${dash}/>`);
    out.push(`<text x="${x + 44}" y="${y}" dominant-baseline="middle">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
