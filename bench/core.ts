// The bench core shared by `npm run bench` (Node, bench/main.ts) and the page (`npm run bench:web`,
// bench/web/main.ts): the same cases, the same timing rule, the same JSON rows, each with its
// GFLOP/s and its fraction of the machine's SIMD peak measured in the same run (bench/peak.ts).
//
// Cases: syrk, gemm, cholesky, the Cholesky solve (64 right-hand sides), eigh (values and vectors),
// EmpiricalFisher update + precondition and one EmpiricalFisherOptimizer step (both 'dense'),
// f32 and f64, on one thread and, where the library has a threaded call (syrkAsync, choleskyAsync,
// eighAsync), on the workers of init({ threads: 2 }).
//
// Timing (the rule of benchmark.js, rewritten here because benchmark.js does not load in a page
// without globals and cannot time promises in a loop): after a first call (its result checked
// finite) and warm-up calls (≥ 3 and ≥ 3 · minTime: V8 tiers wasm up between calls, never within
// one), each sample runs the call `count` times back to back, `count` chosen so a sample lasts
// ≥ minTime; samples until ≥ minSamples and ≥ maxTime seconds. GFLOP/s from the mean of the
// samples' seconds per call (benchmark.js's hz is 1 / mean too) and from the best, with the flop
// counts of DESIGN §4.
//
// Peak: interleaved with the samples: before each sample and after the last, a ~5 ms burst of the
// peak probe (bench/peak.ts) in the case's precision on as many threads (for two: both workers at
// once, summed). The row's peak is its fastest burst, its fraction of peak the fastest sample's
// GFLOP/s (bestGflops) ÷ that: each the nearest to a stretch the thread ran undisturbed, out of
// the same seconds, so the fraction says how much of the SIMD arithmetic the kernel uses when it
// runs, whatever the load took; the burst being the shorter, under load the fraction errs low.
// (Tried first on this shared machine, under `npm test` and three busy loops: rounds before and
// after each case read fractions up to 1.07; the median sample against the median burst, and the
// mean against the bursts' mean rate, up to 2.97 and 2.27, a few long preemptions landing in one
// or the other; bursts as long as the samples, best against best, up to 1.66.)
//
// No Node or DOM imports here: the host (Node or the page) passes its environment in.

import { EmpiricalFisher, EmpiricalFisherOptimizer, features, linalg, type FloatArray } from '../src/index.js';
import type { PeakBurst, PeakMeter, Precision } from './peak.js';

export type CoreOp = 'syrk' | 'gemm' | 'cholesky' | 'solve' | 'eigh' | 'fisher' | 'step';

export const CORE_OPS: readonly CoreOp[] = ['syrk', 'gemm', 'cholesky', 'solve', 'eigh', 'fisher', 'step'];

/** Ops with a threaded call in the library. */
const THREADED: ReadonlySet<CoreOp> = new Set(['syrk', 'cholesky', 'eigh']);

/** What each op computes and how its flops are counted (also in the page's legend and the README). */
export const OP_INFO: Record<CoreOp, { what: string; flops: string }> = {
  syrk: { what: 'linalg.syrk (GᵀG, n = 256)', flops: 'n·d·(d+1)' },
  gemm: { what: 'linalg.gemm (d × d times d × d)', flops: '2·d³' },
  cholesky: { what: 'linalg.cholesky', flops: 'd³/3' },
  solve: { what: 'CholeskyFactor.solve, 64 right-hand sides', flops: '2·d²·64' },
  eigh: { what: 'linalg.eigh, values and vectors', flops: '10/3·d³ (nominal)' },
  fisher: { what: "EmpiricalFisher 'dense': update(G, 256) + precondition(g)", flops: 'n·d·(d+1) + d³/3 + 2·d²' },
  step: { what: "EmpiricalFisherOptimizer 'dense' step(G, 256)", flops: 'n·d·(d+1) + d³/3 + 2·d² + 2·n·d' },
};

export const N = 256;
export const NRHS = 64;
const EIGH_MAX_D = 512;

export interface CoreCase {
  name: string;
  op: CoreOp;
  precision: Precision;
  d: number;
  n: number;
  nrhs: number;
  threads: number;
  flops: number;
}

/** One row of the results (Node's `--json` and the page's window.benchResults). */
export interface BenchRow extends CoreCase {
  /** GFLOP/s from the mean seconds per call, and from the best sample */
  gflops: number;
  bestGflops: number;
  /** ms per call: mean and median of the samples */
  meanMs: number;
  medianMs: number;
  samples: number;
  /** the peak of this precision and thread count interleaved with the case (its fastest burst,
   *  GFLOP/s), and bestGflops / peakGflops */
  peakGflops: number;
  fractionOfPeak: number;
}

/** The peak bursts of one case. */
export interface PeakRound {
  name: string;
  precision: Precision;
  threads: number;
  /** the fastest burst (the row's peakGflops), the median and the slowest (GFLOP/s) */
  gflops: number;
  median: number;
  min: number;
  bursts: number;
  /** ms since the run started, at the case's start */
  atMs: number;
}

export interface CoreSettings {
  quick: boolean;
  sizes: number[];
  threads: number[];
  minTime: number;
  maxTime: number;
  minSamples: number;
  maxSamples: number;
  filter?: string;
}

export interface BenchResults {
  schema: 'empirical-fisher-bench/1';
  meta: Record<string, unknown> & { runtime: string; cores: number; date: string };
  settings: CoreSettings;
  peak: { rule: string; rounds: PeakRound[] };
  rows: BenchRow[];
  sink: number;
}

export interface CoreOptions {
  quick?: boolean;
  sizes?: number[];
  /** thread counts to run (default [1] and 2 when the library has 2 workers) */
  threads?: number[];
  filter?: RegExp;
  maxTime?: number;
  /** the environment, copied into results.meta */
  meta: BenchResults['meta'];
  /** the peak meter (started by the host, with workers for 2 threads) */
  meter: PeakMeter;
  /** progress: cases done, total, the case about to run (or the one done) */
  progress?: (done: number, total: number, label: string, row?: BenchRow) => void;
}

export function caseName(op: CoreOp, d: number, precision: Precision, threads: number): string {
  return `${op} d=${d}${op === 'solve' ? ` nrhs=${NRHS}` : ''} ${precision} t=${threads}`;
}

function flopsOf(op: CoreOp, d: number, n: number): number {
  switch (op) {
    case 'syrk': return n * d * (d + 1);
    case 'gemm': return 2 * d * d * d;
    case 'cholesky': return (d * d * d) / 3;
    case 'solve': return 2 * d * d * NRHS;
    case 'eigh': return (10 / 3) * d * d * d;
    case 'fisher': return n * d * (d + 1) + (d * d * d) / 3 + 2 * d * d;
    case 'step': return n * d * (d + 1) + (d * d * d) / 3 + 2 * d * d + 2 * n * d;
  }
}

export function settingsFor(o: Omit<CoreOptions, 'meta' | 'meter'>, availableThreads: number): CoreSettings {
  const quick = !!o.quick;
  const threads = (o.threads ?? [1, 2]).filter((t) => t <= availableThreads);
  return {
    quick,
    sizes: o.sizes ?? (quick ? [64, 256] : [64, 128, 256, 512, 1024]),
    threads: threads.length ? threads : [1],
    minTime: quick ? 0.01 : 0.05,
    maxTime: o.maxTime ?? (quick ? 0.15 : 1),
    minSamples: quick ? 3 : 5,
    maxSamples: 100,
    filter: o.filter?.source,
  };
}

/** The cases of a run, in order (op, d, precision, threads). */
export function planCases(s: CoreSettings, filter?: RegExp): CoreCase[] {
  const out: CoreCase[] = [];
  for (const op of CORE_OPS) {
    for (const d of s.sizes) {
      if (op === 'eigh' && d > (s.quick ? 256 : EIGH_MAX_D)) continue;
      for (const precision of ['f32', 'f64'] as const) {
        for (const threads of s.threads) {
          if (threads > 1 && !THREADED.has(op)) continue;
          const name = caseName(op, d, precision, threads);
          if (filter && !filter.test(name)) continue;
          out.push({ name, op, precision, d, n: N, nrhs: op === 'solve' ? NRHS : 0, threads, flops: flopsOf(op, d, N) });
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Inputs and calls

interface Inputs {
  G: FloatArray;
  A: FloatArray;
  M: FloatArray;
  B: FloatArray;
  g: FloatArray;
}

function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.4999;
  };
}

/** Seeded G (n × d), A = GᵀG/n + shift·I (SPD), M (d × d), B (nrhs × d), g (d). */
function makeInputs(d: number, n: number, precision: Precision): Inputs {
  const P = precision === 'f32' ? Float32Array : Float64Array;
  const rnd = random(0x5eed ^ (d * 7919) ^ (precision === 'f32' ? 1 : 2));
  const fill = (len: number) => {
    const a = new P(len);
    for (let i = 0; i < len; i++) a[i] = rnd();
    return a;
  };
  const G = fill(n * d);
  const A = linalg.syrk(G, n, d, { alpha: 1 / n });
  // trace(GᵀG/n)/d ≈ 1/12 for uniform entries: a shift of a tenth of it keeps A well conditioned
  for (let i = 0; i < d; i++) A[i * d + i] += 1 / 120;
  return { G, A, M: fill(d * d), B: fill(NRHS * d), g: fill(d) };
}

interface Prepared {
  run(): number | Promise<number>;
  dispose?(): void;
}

function prepare(c: CoreCase, x: Inputs): Prepared {
  const P = c.precision === 'f32' ? Float32Array : Float64Array;
  const { d, n } = c;
  const t = c.threads > 1;
  switch (c.op) {
    case 'syrk': {
      const C = new P(d * d);
      return t ? { run: async () => (await linalg.syrkAsync(x.G, n, d, { out: C }))[d] } : { run: () => linalg.syrk(x.G, n, d, { out: C })[d] };
    }
    case 'gemm': {
      const C = new P(d * d);
      return { run: () => linalg.gemm(x.A, x.M, d, d, d, { out: C })[d] };
    }
    case 'cholesky': {
      const L = new P(d * d);
      return t ? { run: async () => (await linalg.choleskyAsync(x.A, d, { out: L }))[d] } : { run: () => linalg.cholesky(x.A, d, { out: L })[d] };
    }
    case 'solve': {
      const chol = linalg.choleskyFactor(x.A, d);
      const X = new P(NRHS * d);
      return { run: () => chol.solve(x.B, { nrhs: NRHS, out: X })[d - 1], dispose: () => chol.dispose() };
    }
    case 'eigh': {
      const values = new P(d);
      const vectors = new P(d * d);
      return t
        ? { run: async () => (await linalg.eighAsync(x.A, d, { values, vectors })).vectors[d] }
        : { run: () => linalg.eigh(x.A, d, { values, vectors }).vectors[d] };
    }
    case 'fisher': {
      const F = new EmpiricalFisher(d, { precision: c.precision, representation: 'dense', damping: 1e-3 });
      const out = new P(d);
      return {
        run: () => {
          F.update(x.G, n);
          return F.precondition(x.g, out)[d - 1];
        },
        dispose: () => F.dispose(),
      };
    }
    case 'step': {
      const params = new P(d);
      for (let i = 0; i < d; i++) params[i] = x.g[i];
      const opt = new EmpiricalFisherOptimizer(params, { lr: 1e-3, damping: 1e-3, decay: 0.95, representation: 'dense' });
      return {
        run: () => opt.step(x.G, n).stepNorm,
        dispose: () => opt.dispose(),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Milliseconds of a peak burst: shorter than a sample (≥ 10 ms), so that the fastest burst is
 *  nearer an undisturbed stretch than the fastest sample: under load the fraction errs low. */
const BURST_MS = 5;

/** Times one prepared call by the rule above, a peak burst before each sample and after the last:
 *  seconds per call (one per sample) and the bursts' GFLOP/s. */
async function timeCall(p: Prepared, s: CoreSettings, sinkAdd: (x: number) => void, burst: (ms: number) => Promise<PeakBurst>): Promise<{ samples: number[]; peaks: PeakBurst[] }> {
  const call = async (): Promise<number> => {
    const r = p.run();
    return typeof r === 'number' ? r : await r;
  };
  const first = await call();
  if (!Number.isFinite(first)) throw new Error(`the call returned ${first}`);
  sinkAdd(first);
  // warm-up
  let t0 = now();
  let calls = 0;
  while (calls < 3 || now() - t0 < 3e3 * s.minTime) {
    sinkAdd(await call());
    calls++;
    if (now() - t0 > 500 * s.maxTime) break;
  }
  const once = (now() - t0) / 1e3 / calls;
  const count = Math.max(1, Math.ceil(s.minTime / Math.max(once, 1e-9)));
  const samples: number[] = [];
  const peaks: PeakBurst[] = [];
  const start = now();
  while (samples.length < s.maxSamples && (samples.length < s.minSamples || now() - start < 1e3 * s.maxTime)) {
    peaks.push(await burst(BURST_MS));
    t0 = now();
    for (let i = 0; i < count; i++) sinkAdd(await call());
    samples.push((now() - t0) / 1e3 / count);
  }
  peaks.push(await burst(BURST_MS));
  return { samples, peaks };
}

/** Runs the cases; returns the results (rows in plan order). */
export async function runCore(o: CoreOptions): Promise<BenchResults> {
  const available = Math.min(features().threads, o.meter.maxThreads);
  const settings = settingsFor(o, available);
  const plan = planCases(settings, o.filter);
  const rounds: PeakRound[] = [];
  const rows: BenchRow[] = [];
  let sink = 0;
  const sinkAdd = (x: number) => {
    sink += x;
  };
  const started = now();

  const inputs = new Map<string, Inputs>();
  for (let i = 0; i < plan.length; i++) {
    const c = plan[i];
    o.progress?.(i, plan.length, c.name);
    const key = `${c.d} ${c.precision}`;
    let x = inputs.get(key);
    if (!x) {
      inputs.clear(); // keep one size in memory at a time
      x = makeInputs(c.d, c.n, c.precision);
      inputs.set(key, x);
    }
    const atMs = now() - started;
    const p = prepare(c, x);
    // one burst of each thread (bench/peak.ts); the library's workers poll ~2 ms after a call, so
    // a two-thread burst waits for them to sleep first
    const burst = async (ms: number) => {
      if (c.threads > 1) await sleep(3);
      return o.meter.burst(c.precision, c.threads, ms);
    };
    let samples: number[];
    let peaks: PeakBurst[];
    try {
      ({ samples, peaks } = await timeCall(p, settings, sinkAdd, burst));
    } finally {
      p.dispose?.();
    }
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const rates = peaks.map((b) => b.gflops);
    const peakGflops = Math.max(...rates);
    rounds.push({ name: c.name, precision: c.precision, threads: c.threads, gflops: peakGflops, median: median(rates), min: Math.min(...rates), bursts: peaks.length, atMs });
    const bestGflops = c.flops / Math.min(...samples) / 1e9;
    const row: BenchRow = {
      ...c,
      gflops: c.flops / mean / 1e9,
      bestGflops,
      meanMs: mean * 1e3,
      medianMs: median(samples) * 1e3,
      samples: samples.length,
      peakGflops,
      fractionOfPeak: bestGflops / peakGflops,
    };
    rows.push(row);
    o.progress?.(i + 1, plan.length, c.name, row);
    await sleep(0); // let the page paint / the event loop breathe
  }
  return {
    schema: 'empirical-fisher-bench/1',
    meta: o.meta,
    settings,
    peak: {
      rule: 'per case: a ~5 ms burst of peak_f32/peak_f64 (on each of the case\'s threads at once, summed) before each sample and after the last; peakGflops: the fastest burst; fractionOfPeak = bestGflops / peakGflops',
      rounds,
    },
    rows,
    sink,
  };
}

// ---------------------------------------------------------------------------------------------
// Text

export function fmtG(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toFixed(3);
}

export function fmtFraction(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : '—';
}

/** The rows as an aligned text table (op, d, prec, threads, GFLOP/s median and best, peak, fraction). */
export function formatRows(rows: readonly BenchRow[]): string {
  const cols = ['op', 'd', 'prec', 'thr', 'GFLOP/s', 'best', 'ms', 'peak', 'of peak'];
  const cells = rows.map((r) => [
    r.op + (r.op === 'solve' ? ` ×${r.nrhs}` : ''), String(r.d), r.precision, String(r.threads),
    fmtG(r.gflops), fmtG(r.bestGflops), r.meanMs >= 10 ? r.meanMs.toFixed(1) : r.meanMs.toFixed(3), fmtG(r.peakGflops), fmtFraction(r.fractionOfPeak),
  ]);
  const numeric = (i: number) => i === 1 || i >= 3;
  const widths = cols.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((s, i) => (numeric(i) ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(cols), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
