// The bench page (`npm run bench:web`): the shared bench core (bench/core.ts) in this browser, on
// one thread and on two (init({ threads: 2 }) when the page is cross-origin isolated), with the
// peak measured by bench/peak.ts on this thread and in two Web Workers (bench/web/peak-worker.ts).
//   ?quick          the reduced case list (d ∈ {64, 256}, short timings)
//   ?sizes=64,128   other sizes d;  ?filter=regex   only the cases whose name matches
// When the run is done, window.benchResults holds the results (the JSON of `npm run bench -- --json`).

import { features, init } from '../../src/index.js';
import { CORE_OPS, OP_INFO, fmtFraction, fmtG, runCore, type BenchResults, type BenchRow, type CoreOp } from '../core.js';
import { PeakMeter, type PeakReply, type PeakRequest, type PeakWorkerPort } from '../peak.js';

interface BenchState {
  running: boolean;
  done: number;
  total: number;
  error?: string;
}

declare global {
  interface Window {
    benchResults?: BenchResults;
    benchState: BenchState;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: BenchState = { running: false, done: 0, total: 0 };
window.benchState = state;

const params = new URLSearchParams(location.search);
const quick = params.has('quick');
const sizes = params.get('sizes')?.split(',').map(Number).filter((x) => Number.isSafeInteger(x) && x > 0);
const filterText = params.get('filter');
const filter = filterText ? new RegExp(filterText, 'i') : undefined;

const COLORS: Record<CoreOp, string> = {
  syrk: '#1c7ed6', gemm: '#7048e8', cholesky: '#d9480f', solve: '#2b8a3e', eigh: '#c2255c', fisher: '#e67700', step: '#0b7285',
};

function webPeakWorker(): PeakWorkerPort {
  const w = new Worker(new URL('./peak-worker.js', import.meta.url), { type: 'module' });
  return {
    request: (msg: PeakRequest) =>
      new Promise<PeakReply>((resolve, reject) => {
        const done = (e: MessageEvent<PeakReply>) => {
          w.removeEventListener('error', fail);
          resolve(e.data);
        };
        const fail = (e: ErrorEvent) => {
          w.removeEventListener('message', done);
          reject(new Error(`peak worker: ${e.message}`));
        };
        w.addEventListener('message', done, { once: true });
        w.addEventListener('error', fail, { once: true });
        w.postMessage(msg);
      }),
    terminate: () => w.terminate(),
  };
}

function showMachine(): Record<string, unknown> {
  const f = features();
  const meta = {
    runtime: navigator.userAgent,
    cores: navigator.hardwareConcurrency ?? 1,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    date: new Date().toISOString(),
    features: f,
    quick,
  };
  const rows: [string, string][] = [
    ['browser', navigator.userAgent],
    ['cores', String(meta.cores)],
    ['SIMD128', f.simd ? 'yes' : 'no'],
    ['relaxed SIMD', `${f.relaxedSimd ? 'available' : 'not available'} (not used: it would change results across engines)`],
    ['threads available', `${f.threads}${f.threadsUnavailable ? ` — ${f.threadsUnavailable}` : ''}`],
    ['cross-origin isolated', meta.crossOriginIsolated ? 'yes (SharedArrayBuffer: threads possible)' : 'no (one thread: serve with COOP/COEP headers)'],
    ['case list', `${quick ? 'quick' : 'full'}${sizes ? `, d ∈ {${sizes.join(', ')}}` : ''}${filter ? `, filter /${filter.source}/i` : ''}`],
  ];
  $('machine').innerHTML = rows.map(([k, v]) => `<dt>${k}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  return meta;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

// ---------------------------------------------------------------------------------------------
// Charts: SVG, d on a log scale; one panel per (metric, precision)

function drawCharts(rows: readonly BenchRow[], allSizes: number[]): void {
  const panels: { metric: 'gflops' | 'fractionOfPeak'; precision: 'f32' | 'f64' }[] = [
    { metric: 'gflops', precision: 'f32' }, { metric: 'gflops', precision: 'f64' },
    { metric: 'fractionOfPeak', precision: 'f32' }, { metric: 'fractionOfPeak', precision: 'f64' },
  ];
  const W = 560, H = 300, L = 52, R = 24, T = 26, B = 36;
  const ds = [...new Set(allSizes)].sort((a, b) => a - b);
  const lx0 = Math.log2(ds[0] ?? 64), lx1 = Math.log2(ds[ds.length - 1] ?? 1024);
  const x = (d: number) => L + (lx1 > lx0 ? ((Math.log2(d) - lx0) / (lx1 - lx0)) * (W - L - R) : (W - L - R) / 2);
  const svgs = panels.map(({ metric, precision }) => {
    const mine = rows.filter((r) => r.precision === precision);
    const top = metric === 'gflops'
      ? niceCeil(Math.max(1, ...mine.map((r) => r.gflops)))
      : Math.max(1, niceCeil(Math.max(0, ...mine.map((r) => r.fractionOfPeak))));
    const y = (v: number) => T + (1 - v / top) * (H - T - B);
    const parts: string[] = [];
    parts.push(`<text x="${L}" y="16" font-size="13" font-weight="600">${metric === 'gflops' ? 'GFLOP/s' : 'fraction of peak'}, ${precision}</text>`);
    const ticks = tickCount(top);
    for (let k = 0; k <= ticks; k++) {
      const v = (top * k) / ticks;
      parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
      parts.push(`<text x="${L - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end" fill="#666">${v === 0 ? '0' : metric === 'gflops' ? fmtG(v) : v.toFixed(2)}</text>`);
    }
    for (const d of ds) {
      parts.push(`<line x1="${x(d)}" x2="${x(d)}" y1="${T}" y2="${H - B}" stroke="#f3f3f3"/>`);
      parts.push(`<text x="${x(d)}" y="${H - B + 16}" font-size="11" text-anchor="middle" fill="#666">${d}</text>`);
    }
    parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" font-size="11" text-anchor="middle" fill="#666">d</text>`);
    if (metric === 'fractionOfPeak') parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="2 3"/>`);
    for (const op of CORE_OPS) {
      for (const threads of [1, 2]) {
        const pts = mine.filter((r) => r.op === op && r.threads === threads).sort((a, b) => a.d - b.d);
        if (!pts.length) continue;
        const xy = pts.map((r) => `${x(r.d).toFixed(1)},${y(r[metric]).toFixed(1)}`);
        const dash = threads > 1 ? ' stroke-dasharray="6 4"' : '';
        parts.push(`<polyline fill="none" stroke="${COLORS[op]}" stroke-width="2"${dash} points="${xy.join(' ')}"/>`);
        for (const p of xy) {
          const [px, py] = p.split(',');
          parts.push(`<circle cx="${px}" cy="${py}" r="2.5" fill="${COLORS[op]}"/>`);
        }
      }
    }
    return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${metric} ${precision}" data-metric="${metric}" data-precision="${precision}">${parts.join('')}</svg>`;
  });
  $('charts').innerHTML = svgs.join('');
}

/** 4, 5, 3 or 6 intervals, the first whose step is a round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k). */
function tickCount(top: number): number {
  const round = (x: number) => {
    const m = x / Math.pow(10, Math.floor(Math.log10(x)));
    return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].some((r) => Math.abs(m - r) < 1e-9);
  };
  return [4, 5, 3, 6].find((k) => round(top / k)) ?? 4;
}

function niceCeil(v: number): number {
  const e = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

function drawLegend(): void {
  $('legend').innerHTML = CORE_OPS.map(
    (op) => `<span title="${escapeHtml(OP_INFO[op].flops)}"><i style="background:${COLORS[op]}"></i>${op}: ${escapeHtml(OP_INFO[op].what)}, ${escapeHtml(OP_INFO[op].flops)}</span>`,
  ).join('');
}

// ---------------------------------------------------------------------------------------------
// Table

function tableHead(): void {
  const cols = ['case', 'op', 'd', 'precision', 'threads', 'GFLOP/s', 'best', 'ms', 'peak GFLOP/s', 'fraction of peak'];
  $('table').querySelector('thead')!.innerHTML = `<tr>${cols.map((c) => `<th>${c}</th>`).join('')}</tr>`;
}

function addRow(r: BenchRow): void {
  const tr = document.createElement('tr');
  const cells = [r.name, r.op, String(r.d), r.precision, String(r.threads), fmtG(r.gflops), fmtG(r.bestGflops),
    r.meanMs >= 10 ? r.meanMs.toFixed(1) : r.meanMs.toFixed(3), fmtG(r.peakGflops), fmtFraction(r.fractionOfPeak)];
  tr.innerHTML = cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('');
  $('table').querySelector('tbody')!.appendChild(tr);
}

// ---------------------------------------------------------------------------------------------
// Run

let meter: PeakMeter | undefined;

async function run(meta: Record<string, unknown>): Promise<void> {
  state.running = true;
  state.error = undefined;
  state.done = 0;
  window.benchResults = undefined;
  ($('run') as HTMLButtonElement).disabled = true;
  ($('copy') as HTMLButtonElement).disabled = true;
  $('table').querySelector('tbody')!.innerHTML = '';
  ($('json') as HTMLTextAreaElement).value = '';
  const progress = $('progress') as HTMLProgressElement;
  const status = $('status');
  status.className = '';
  const rows: BenchRow[] = [];
  const allSizes = sizes ?? (quick ? [64, 256] : [64, 128, 256, 512, 1024]);
  try {
    status.textContent = 'measuring the peak…';
    meter ??= await PeakMeter.create(features().threads, webPeakWorker);
    const t0 = performance.now();
    const results = await runCore({
      quick, sizes, filter, meter,
      meta: { ...(meta as { runtime: string; cores: number; date: string }), date: new Date().toISOString() },
      progress: (done, total, label, row) => {
        state.done = done;
        state.total = total;
        progress.max = total;
        progress.value = done;
        if (row) {
          rows.push(row);
          addRow(row);
          drawCharts(rows, allSizes);
        } else status.textContent = `${done + 1}/${total}: ${label}`;
      },
    });
    window.benchResults = results;
    const json = JSON.stringify(results, null, 2);
    ($('json') as HTMLTextAreaElement).value = json;
    status.textContent = `done: ${results.rows.length} cases in ${((performance.now() - t0) / 1e3).toFixed(1)} s`;
    ($('copy') as HTMLButtonElement).disabled = false;
  } catch (e) {
    state.error = String((e as Error)?.stack ?? e);
    status.textContent = `error: ${(e as Error)?.message ?? e}`;
    status.className = 'error';
  } finally {
    state.running = false;
    ($('run') as HTMLButtonElement).disabled = false;
  }
}

async function start(): Promise<void> {
  drawLegend();
  tableHead();
  drawCharts([], sizes ?? (quick ? [64, 256] : [64, 128, 256, 512, 1024]));
  $('notes').textContent =
    'Timing: after warm-up calls, samples of ≥ minTime each until ≥ minSamples and ≥ maxTime; GFLOP/s from the mean time per call, ' +
    'best: the fastest sample. Peak: bench/peak.ts, a ~5 ms burst before each sample and after the last on as many threads as the case ' +
    '(two: both workers at once, summed), the fastest burst. Fraction of peak: best ÷ peak, the two stretches nearest to running undisturbed.';
  state.running = true;
  try {
    // two threads where the page may share memory (COOP/COEP); init falls back to one otherwise
    await init({ threads: Math.max(1, Math.min(2, navigator.hardwareConcurrency ?? 1)) });
  } catch (e) {
    state.error = String(e);
    state.running = false;
    $('status').textContent = `init failed: ${(e as Error)?.message ?? e}`;
    return;
  }
  const meta = showMachine();
  $('run').addEventListener('click', () => void run(meta));
  $('copy').addEventListener('click', async () => {
    const text = ($('json') as HTMLTextAreaElement).value;
    try {
      await navigator.clipboard.writeText(text);
      $('status').textContent = 'copied the JSON to the clipboard';
    } catch {
      // no clipboard permission (e.g. http on another host): select the text for Ctrl-C
      const ta = $('json') as HTMLTextAreaElement;
      ta.focus();
      ta.select();
      $('status').textContent = 'the JSON is selected below: press Ctrl-C';
    }
  });
  await run(meta);
}

void start();
