// The layer kit on the MLP 784–1024–1024–10 (issue 14), n = 128, f32: gram (K = Σ (AAᵀ + 1)∘(EEᵀ)),
// gradientTimes (G v) and gradientTransposeTimes (Gᵀ u), as GFLOP/s of their GEMM work, two ways:
// the public calls (A and E copied into wasm memory and checked each call, the result copied out)
// and the @internal *InWasm functions on operands already in wasm memory (what F.updateLayers and
// opt.stepLayers call). Samples alternate between the operations; medians and bests.
import { layers } from '../src/index.js';
import { getEngine } from '../src/engine.js';
import { gradientTimesInWasm, gradientTransposeTimesInWasm, gramInWasm, type LayerInWasm } from '../src/layers/inwasm.js';

export interface LayersBenchRow {
  op: string;
  path: 'public' | 'in wasm';
  flops: number;
  medianGflops: number;
  bestGflops: number;
  medianMs: number;
}

export interface LayersBench {
  date: string;
  n: number;
  widths: number[];
  d: number;
  samples: number;
  rows: LayersBenchRow[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Deterministic uniform numbers in (−1, 1) (mulberry32). */
function fill(a: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    a[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1 + 1 / 4294967296;
  }
  return a;
}

export function runLayersBench(o: { quick?: boolean; samples?: number } = {}): LayersBench {
  const widths = [784, 1024, 1024, 10];
  const n = 128;
  const samples = o.samples ?? (o.quick ? 5 : 21);
  const list = widths.slice(1).map((outputs, l) => ({
    inputs: widths[l],
    outputs,
    A: fill(new Float32Array(n * widths[l]), 10 + l),
    E: fill(new Float32Array(n * outputs), 20 + l),
  }));
  const d = layers.size(list);
  const v = fill(new Float32Array(d), 31);
  const u = fill(new Float32Array(n), 32);
  const K = new Float32Array(n * n);
  const y = new Float32Array(n);
  const x = new Float32Array(d);
  // flops: the lower triangles of AAᵀ and EEᵀ (n·(n+1)·k, as syrk counts), 2·n·d for each product
  let gramFlops = 0;
  for (const l of list) gramFlops += n * (n + 1) * (l.inputs + l.outputs);
  const prodFlops = 2 * n * d;

  const e = getEngine();
  const ptrs: number[] = [];
  const put = (a: Float32Array): number => {
    const p = e.alloc(a.length * 4);
    ptrs.push(p);
    e.view32(p, a.length).set(a);
    return p;
  };
  const wl: LayerInWasm[] = list.map((l) => ({ ap: put(l.A), ep: put(l.E), inputs: l.inputs, outputs: l.outputs, bias: true }));
  const vp = put(v);
  const up = put(u);
  const kp = put(K);
  const yp = put(y);
  const xp = put(x);
  const wpRef = put(v.subarray(784 * 1024 + 1024, 784 * 1024 + 1024 + 1024 * 1024));
  const tRef = put(new Float32Array(n * 1024));
  let sink = 0;
  const ops: [string, LayersBenchRow['path'], number, () => void][] = [
    ['gram', 'public', gramFlops, () => { sink += layers.gram(list, n, K)[1]; }],
    ['gradientTimes', 'public', prodFlops, () => { sink += layers.gradientTimes(list, n, v, y)[1]; }],
    ['gradientTransposeTimes', 'public', prodFlops, () => { sink += layers.gradientTransposeTimes(list, n, u, x)[1]; }],
    ['gram', 'in wasm', gramFlops, () => gramInWasm(e, 'f32', wl, n, kp, n)],
    ['gradientTimes', 'in wasm', prodFlops, () => gradientTimesInWasm(e, 'f32', wl, n, vp, yp)],
    ['gradientTransposeTimes', 'in wasm', prodFlops, () => gradientTransposeTimesInWasm(e, 'f32', wl, n, 1, up, 0, xp)],
    // reference: the GEMM of the middle layer alone (E·W, n × 1024 · 1024 × 1024) on the same kernel
    ['gemm E·W, 1024 × 1024', 'in wasm', 2 * n * 1024 * 1024, () => e.k('gemm', 'f32')(n, 1024, 1024, 1, wl[1].ep, 1024, 0, wpRef, 1024, 0, 0, tRef, 1024, e.work)],
  ];
  const times = ops.map(() => [] as number[]);
  try {
    for (let w = 0; w < 2; w++) for (const op of ops) op[3]();
    for (let s = 0; s < samples; s++) {
      for (let q = 0; q < ops.length; q++) {
        const t0 = performance.now();
        ops[q][3]();
        times[q].push((performance.now() - t0) / 1e3);
      }
    }
    sink += e.view32(kp, 2)[1] + e.view32(yp, 2)[1] + e.view32(xp, 2)[1];
  } finally {
    for (const p of ptrs.reverse()) e.free(p);
  }
  if (!Number.isFinite(sink)) throw new Error('layers bench: a non-finite result');
  const rows = ops.map(([op, path, flops], q) => ({
    op,
    path,
    flops,
    medianGflops: flops / median(times[q]) / 1e9,
    bestGflops: flops / Math.min(...times[q]) / 1e9,
    medianMs: median(times[q]) * 1e3,
  }));
  return { date: new Date().toISOString(), n, widths, d, samples, rows };
}

/** `peakF32`: the one-thread f32 SIMD peak around the section (bench/peak.ts), for the fractions of peak. */
export function formatLayersBench(r: LayersBench, peakF32?: number): string {
  const lines = [
    `layers on the MLP ${r.widths.join('–')} (d = ${r.d}), n = ${r.n}, f32, one thread; ${r.samples} samples, ` +
      `GFLOP/s median (best) and ms median${peakF32 ? `, and the best over the one-thread f32 SIMD peak around this section (${peakF32.toFixed(1)} GFLOP/s)` : ''}; ` +
      `gram counts n·(n+1)·Σ(in+out), the products 2·n·d`,
  ];
  for (const row of r.rows) {
    lines.push(
      `  ${(row.op + ' (' + row.path + ')').padEnd(38)} ${row.medianGflops.toFixed(1).padStart(6)} (${row.bestGflops.toFixed(1)})  ${row.medianMs.toFixed(2)} ms` +
        (peakF32 ? `  ${(row.bestGflops / peakF32).toFixed(2)} of peak` : ''),
    );
  }
  return lines.join('\n');
}
