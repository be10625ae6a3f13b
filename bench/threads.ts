// Two threads (or more) against one: linalg.syrkAsync / linalg.choleskyAsync on the workers of
// init({ threads }) against the synchronous one-thread calls, interleaved call by call (one, then
// the other, and again) so that a burst of load from elsewhere hits both. Each case also checks that
// the two results are identical bit for bit.
//
// A second, shorter series measures both after 10 ms of idling (a sleep before each call): the
// workers are asleep then, and their wake-up is paid (back to back, a worker is often still
// polling from the call before: see IDLE_SPIN_MS in src/tuning.ts).
//
// Then the optimizer: opt.stepAsync on the threads against opt.step on one, twin optimizers fed
// the same minibatches call by call (their params must stay identical bit for bit): 'lowrank' at
// d = 100,000, n = 128, f32 (decay 0: the latest batch, whose Gram matrix the threads split; and
// decay 0.95: the Frequent-Directions sketch, whose products and rotation they split, the eigh not);
// and opt.stepLayersAsync with 'kronecker' on the 784–1024–1024–10 MLP, n = 128 (its factors' syrk
// and gemms split; 'exact' refreshes through eigh of each factor, not split; 'pi' through potrf).
//
//   npm run bench -- --threads 2 [--block-ms 3] [--sizes 512,1024] [--quick] [--json file]

import { init, features, linalg, EmpiricalFisherOptimizer } from '../src/index.js';
import type { FloatArray, Precision } from './plain.js';
import { calibrateHost, formatHost, type HostCalibration } from './host.js';
import type { PeakMeter } from './peak.js';

export interface ThreadsCaseResult {
  name: string;
  op: 'syrk' | 'cholesky';
  d: number;
  n: number;
  precision: Precision;
  threads: number;
  flops: number;
  /** seconds per call, one per sample */
  oneSamples: number[];
  manySamples: number[];
  oneMedianGflops: number;
  oneBestGflops: number;
  manyMedianGflops: number;
  manyBestGflops: number;
  /** one-thread median time / many-thread median time, and the same for the best times */
  speedupMedian: number;
  speedupBest: number;
  /** the threaded result equals the one-thread result bit for bit */
  identical: boolean;
  /** the same after 10 ms of idling before each call (seconds per call) */
  oneColdSamples: number[];
  manyColdSamples: number[];
  speedupColdMedian: number;
  /** the SIMD peak (bench/peak.ts) on 1 and on `threads` threads around the case, the higher of
   *  the rounds right before and after (GFLOP/s), and the best samples' fractions of them */
  onePeakGflops?: number;
  manyPeakGflops?: number;
  oneFractionOfPeak?: number;
  manyFractionOfPeak?: number;
}

export interface ThreadsOptions {
  threads: number;
  /** init's blockMs (default: init's default) */
  blockMs?: number;
  sizes?: number[];
  quick?: boolean;
  filter?: RegExp;
  progress?: (line: string) => void;
  /** the peak meter (with `threads` workers): a peak column beside every rate */
  meter?: PeakMeter;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function sameBits(a: FloatArray, b: FloatArray): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function inputs(P: Float32ArrayConstructor | Float64ArrayConstructor, n: number, d: number): { G: FloatArray; A: FloatArray } {
  let s = 0x2545f491 ^ d;
  const G = new P(n * d);
  for (let i = 0; i < G.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    G[i] = s / 4294967296 - 0.4999;
  }
  const A = linalg.syrk(G, n, d, { alpha: 1 / n });
  for (let i = 0; i < d; i++) A[i * d + i] += 0.05;
  return { G, A };
}

export interface StepCaseResult {
  name: string;
  d: number;
  n: number;
  decay: number;
  threads: number;
  /** seconds per step, one per sample */
  oneSamples: number[];
  manySamples: number[];
  speedupMedian: number;
  speedupBest: number;
  /** the params of the two optimizers stayed identical bit for bit */
  identical: boolean;
}

export interface ThreadsReport {
  features: unknown;
  cases: ThreadsCaseResult[];
  steps: StepCaseResult[];
  /** the host's ceiling (see bench/host.ts), measured before and after the cases */
  host?: { before: HostCalibration; after: HostCalibration };
}

/** Initialises with `threads` workers (must be the first init of the process) and measures. */
export async function runThreadsBench(o: ThreadsOptions): Promise<ThreadsReport> {
  await init(o.blockMs === undefined ? { threads: o.threads } : { threads: o.threads, blockMs: o.blockMs });
  const f = features();
  const progress = o.progress ?? (() => {});
  const n = 256;
  const sizes = o.sizes ?? (o.quick ? [256, 512] : [512, 1024]);
  const samples = o.quick ? 5 : 21;
  const coldSamples = o.quick ? 3 : 11;
  const cases: ThreadsCaseResult[] = [];
  const calibrate = async (when: string): Promise<HostCalibration | null> => {
    if (f.threads < 2) return null;
    const h = await calibrateHost(f.threads, o.quick ? { ms: 150, rounds: 2 } : {});
    progress(formatHost(h, when));
    return h;
  };
  const before = await calibrate('before');
  for (const op of ['syrk', 'cholesky'] as const) {
    for (const d of sizes) {
      for (const precision of ['f32', 'f64'] as const) {
        const name = `${op} d=${d} ${precision}`;
        if (o.filter && !o.filter.test(name)) continue;
        progress(`[threads] ${name}`);
        const P = precision === 'f32' ? Float32Array : Float64Array;
        const { G, A } = inputs(P, n, d);
        const out1 = new P(d * d);
        const outN = new P(d * d);
        const one = op === 'syrk' ? () => linalg.syrk(G, n, d, { out: out1 }) : () => linalg.cholesky(A, d, { out: out1 });
        const many = op === 'syrk' ? () => linalg.syrkAsync(G, n, d, { out: outN }) : () => linalg.choleskyAsync(A, d, { out: outN });
        for (let i = 0; i < 3; i++) {
          one();
          await many();
        }
        const peaks = async (): Promise<[number, number] | undefined> => {
          const m = o.meter;
          if (!m) return undefined;
          await new Promise((resolve) => setTimeout(resolve, 5)); // the workers poll ~2 ms after a call
          return [await m.round(precision, 1), m.maxThreads >= f.threads ? await m.round(precision, f.threads) : NaN];
        };
        const peakBefore = await peaks();
        const identical = sameBits(out1, outN);
        const t1: number[] = [];
        const tN: number[] = [];
        for (let s = 0; s < samples; s++) {
          let t = performance.now();
          one();
          t1.push((performance.now() - t) / 1e3);
          t = performance.now();
          await many();
          tN.push((performance.now() - t) / 1e3);
        }
        const c1: number[] = [];
        const cN: number[] = [];
        const idle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));
        for (let s = 0; s < coldSamples; s++) {
          await idle();
          let t = performance.now();
          one();
          c1.push((performance.now() - t) / 1e3);
          await idle();
          t = performance.now();
          await many();
          cN.push((performance.now() - t) / 1e3);
        }
        const peakAfter = await peaks();
        const flops = op === 'syrk' ? n * d * (d + 1) : (d * d * d) / 3;
        const r: ThreadsCaseResult = {
          name, op, d, n, precision, threads: f.threads, flops, oneSamples: t1, manySamples: tN,
          oneMedianGflops: flops / median(t1) / 1e9,
          oneBestGflops: flops / Math.min(...t1) / 1e9,
          manyMedianGflops: flops / median(tN) / 1e9,
          manyBestGflops: flops / Math.min(...tN) / 1e9,
          speedupMedian: median(t1) / median(tN),
          speedupBest: Math.min(...t1) / Math.min(...tN),
          identical,
          oneColdSamples: c1,
          manyColdSamples: cN,
          speedupColdMedian: median(c1) / median(cN),
        };
        if (peakBefore && peakAfter) {
          r.onePeakGflops = Math.max(peakBefore[0], peakAfter[0]);
          r.manyPeakGflops = Math.max(peakBefore[1], peakAfter[1]);
          r.oneFractionOfPeak = r.oneBestGflops / r.onePeakGflops;
          r.manyFractionOfPeak = r.manyBestGflops / r.manyPeakGflops;
        }
        progress(`  1 thread ${r.oneMedianGflops.toFixed(1)}, ${f.threads} threads ${r.manyMedianGflops.toFixed(1)} GFLOP/s: ${r.speedupMedian.toFixed(2)}× (after idling ${r.speedupColdMedian.toFixed(2)}×)`);
        cases.push(r);
      }
    }
  }
  const steps: StepCaseResult[] = [];
  for (const decay of [0, 0.95]) {
    const d = o.quick ? 20_000 : 100_000;
    const n = 128;
    const name = `stepAsync lowrank d=${d} n=${n} f32 decay ${decay}`;
    if (o.filter && !o.filter.test(name)) continue;
    progress(`[threads] ${name}`);
    const G = new Float32Array(n * d);
    let s = 0x9e3779b9 ^ d;
    for (let i = 0; i < G.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      G[i] = s / 4294967296 - 0.4999;
    }
    const p0 = new Float32Array(d).fill(0.01);
    const options = { representation: 'lowrank', decay, lr: 1e-3, damping: 1 } as const;
    const one = new EmpiricalFisherOptimizer(p0.slice(), options);
    const many = new EmpiricalFisherOptimizer(p0.slice(), options);
    try {
      // decay 0.95: past the first shrinks (ℓ = 256, two batches of buffer: a shrink every second step)
      const warm = decay === 0 ? 3 : 6;
      for (let i = 0; i < warm; i++) {
        one.step(G, n);
        await many.stepAsync(G, n);
      }
      const count = o.quick ? 4 : decay === 0 ? 15 : 8;
      const t1: number[] = [];
      const tN: number[] = [];
      for (let i = 0; i < count; i++) {
        let t = performance.now();
        one.step(G, n);
        t1.push((performance.now() - t) / 1e3);
        t = performance.now();
        await many.stepAsync(G, n);
        tN.push((performance.now() - t) / 1e3);
      }
      const r: StepCaseResult = {
        name, d, n, decay, threads: f.threads, oneSamples: t1, manySamples: tN,
        speedupMedian: median(t1) / median(tN),
        speedupBest: Math.min(...t1) / Math.min(...tN),
        identical: sameBits(one.params, many.params),
      };
      progress(`  1 thread ${(median(t1) * 1e3).toFixed(1)} ms, ${f.threads} threads ${(median(tN) * 1e3).toFixed(1)} ms: ${r.speedupMedian.toFixed(2)}×`);
      steps.push(r);
    } finally {
      one.dispose();
      many.dispose();
    }
  }
  // 'kronecker' on the 784–1024–1024–10 MLP through the layer kit (stepLayersAsync), n = 128, f32
  for (const kroneckerDamping of ['exact', 'pi'] as const) {
    const sizes = o.quick ? [196, 256, 256, 10] : [784, 1024, 1024, 10];
    const n = 128;
    const shapes = sizes.slice(1).map((outputs, l) => ({ inputs: sizes[l], outputs, bias: true }));
    let d = 0;
    for (const l of shapes) d += l.outputs * (l.inputs + 1);
    const name = `stepLayersAsync kronecker '${kroneckerDamping}' MLP ${sizes.join('–')} n=${n} f32`;
    if (o.filter && !o.filter.test(name)) continue;
    progress(`[threads] ${name}`);
    let s = 0x51ed ^ d;
    const rnd = (len: number, scale: number) => {
      const a = new Float32Array(len);
      for (let i = 0; i < len; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        a[i] = scale * (s / 4294967296 - 0.4999);
      }
      return a;
    };
    const list = shapes.map((l) => ({ ...l, A: rnd(n * l.inputs, 1), E: rnd(n * l.outputs, 0.01) }));
    const p0 = new Float32Array(d).fill(0.01);
    const options = { representation: 'kronecker', layers: shapes, kroneckerDamping, lr: 1e-3, damping: 1e-2 } as const;
    const one = new EmpiricalFisherOptimizer(p0.slice(), options);
    const many = new EmpiricalFisherOptimizer(p0.slice(), options);
    try {
      for (let i = 0; i < 2; i++) {
        one.stepLayers(list, n);
        await many.stepLayersAsync(list, n);
      }
      const count = o.quick ? 3 : 7;
      const t1: number[] = [];
      const tN: number[] = [];
      for (let i = 0; i < count; i++) {
        let t = performance.now();
        one.stepLayers(list, n);
        t1.push((performance.now() - t) / 1e3);
        t = performance.now();
        await many.stepLayersAsync(list, n);
        tN.push((performance.now() - t) / 1e3);
      }
      const r: StepCaseResult = {
        name, d, n, decay: 0.95, threads: f.threads, oneSamples: t1, manySamples: tN,
        speedupMedian: median(t1) / median(tN),
        speedupBest: Math.min(...t1) / Math.min(...tN),
        identical: sameBits(one.params, many.params),
      };
      progress(`  1 thread ${(median(t1) * 1e3).toFixed(1)} ms, ${f.threads} threads ${(median(tN) * 1e3).toFixed(1)} ms: ${r.speedupMedian.toFixed(2)}×`);
      steps.push(r);
    } finally {
      one.dispose();
      many.dispose();
    }
  }
  const after = await calibrate('after');
  return before && after ? { features: f, cases, steps, host: { before, after } } : { features: f, cases, steps };
}

export function formatThreadsReport(r: ThreadsReport, header: string[]): string {
  const threads = (r.features as { threads: number }).threads;
  const cols = ['op', 'd', 'prec', '1 thread med', 'best', 'of peak', `${threads} threads med`, 'best', 'of peak', 'speed-up med', 'best', 'after idling', 'same bits'];
  const frac = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(2));
  const rows = r.cases.map((c) => [
    c.op, String(c.d), c.precision,
    c.oneMedianGflops.toFixed(1), c.oneBestGflops.toFixed(1), frac(c.oneFractionOfPeak),
    c.manyMedianGflops.toFixed(1), c.manyBestGflops.toFixed(1), frac(c.manyFractionOfPeak),
    `${c.speedupMedian.toFixed(2)}×`, `${c.speedupBest.toFixed(2)}×`, `${c.speedupColdMedian.toFixed(2)}×`, c.identical ? 'yes' : 'NO',
  ]);
  const widths = cols.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const fmt = (x: string[]) => x.map((s, i) => (i === 0 || i === 2 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ').trimEnd();
  const note = threads > 1 ? [] : [`threads unavailable: ${JSON.stringify(r.features)}`];
  // the ceiling of the speed-ups, in the same minutes
  if (r.host) note.push(formatHost(r.host.before, 'before'), formatHost(r.host.after, 'after'));
  if (r.cases.some((c) => c.onePeakGflops !== undefined)) {
    note.push(`of peak: the best sample over the wasm SIMD128 multiply-add peak (bench/peak.ts) on as many threads, the fastest burst of the rounds right before and after the case`);
  }
  const lines = [...header, ...note, '', fmt(cols), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmt)];
  if (r.steps.length) {
    const sc = ['optimizer step', '1 thread ms med', 'best', `${threads} threads ms med`, 'best', 'speed-up med', 'best', 'same bits'];
    const sr = r.steps.map((c) => [
      c.name, (median(c.oneSamples) * 1e3).toFixed(1), (Math.min(...c.oneSamples) * 1e3).toFixed(1),
      (median(c.manySamples) * 1e3).toFixed(1), (Math.min(...c.manySamples) * 1e3).toFixed(1),
      `${c.speedupMedian.toFixed(2)}×`, `${c.speedupBest.toFixed(2)}×`, c.identical ? 'yes' : 'NO',
    ]);
    const sw = sc.map((h, i) => Math.max(h.length, ...sr.map((x) => x[i].length)));
    const sf = (x: string[]) => x.map((v, i) => (i === 0 ? v.padEnd(sw[i]) : v.padStart(sw[i]))).join('  ').trimEnd();
    lines.push('', sf(sc), sw.map((w) => '─'.repeat(w)).join('  '), ...sr.map(sf));
  }
  return lines.join('\n') + '\n';
}
