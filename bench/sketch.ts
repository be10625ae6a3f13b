// The low-rank running average at model scale: 'lowrank' with decay 0.95 (a Frequent-Directions
// sketch of ℓ = 256 rows plus a buffer) against decay 0 (the latest batch), d = 100,000, n = 128,
// f32, update + precondition amortised over 20 steps after the sketch reached its steady state
// (steps interleaved two by two: the sketch's cost repeats every two steps). The sketch's products
// (the new rows against the rows held, their own Gram matrix, the rotation at each shrink) are
// counted by the store; the same products run alone, shape for shape, give the rate they are
// held to in the same run.

import { EmpiricalFisher } from '../src/index.js';
import { getEngine } from '../src/engine.js';
import type { LowRankStore } from '../src/lowrank.js';
import { fill, median } from './fisher.js';

export interface SketchResult {
  d: number;
  n: number;
  rank: number;
  steps: number;
  /** amortised ms per step (update + precondition), median over rounds and best */
  sketchMs: number;
  sketchBestMs: number;
  decay0Ms: number;
  decay0BestMs: number;
  /** of the sketch's update alone */
  updateMs: number;
  preconditionMs: number;
  /** flops of the products per step, and their rate over the whole update (a lower bound) */
  productGflopPerStep: number;
  productGflops: number;
  /** the same products alone (gemm / gram on the same shapes) */
  referenceGflops: number;
  rowsHeld: number;
  sketchError: number;
}

/** Seconds of the sketch's products for one period of two steps, run alone with the kernels. */
function referenceProducts(d: number, n: number, rank: number, cap: number): { seconds: number; flops: number } {
  const e = getEngine();
  const b = 4;
  const rows = e.alloc(cap * d * b);
  const K = e.alloc(cap * cap * b);
  const T = e.alloc(rank * cap * b);
  const buf = e.alloc(rank * 1024 * b);
  try {
    e.view('f32', rows, cap * d).fill(0.25);
    e.view('f32', T, rank * cap).fill(0.01);
    const gemm = e.k('gemm', 'f32');
    const gram = e.k('gram', 'f32');
    let flops = 0;
    const t0 = performance.now();
    // the rotation of `cap` rows to `rank`, in column blocks of 1024
    for (let j0 = 0; j0 < d; j0 += 1024) {
      const nc = Math.min(1024, d - j0);
      gemm(rank, nc, cap, 1, T, cap, 0, rows + j0 * b, d, 0, 0, buf, nc, e.work);
    }
    flops += 2 * rank * cap * d;
    // two batches: against `rank` and `rank + n` rows, and their own Gram matrices
    for (const r0 of [rank, rank + n]) {
      gemm(n, r0, d, 1, rows + r0 * d * b, d, 0, rows, d, 1, 0, K + r0 * cap * b, cap, e.work);
      gram(n, d, 1, rows + r0 * d * b, d, 0, K + (r0 * cap + r0) * b, cap, e.work);
      flops += 2 * n * r0 * d + n * (n + 1) * d;
    }
    return { seconds: (performance.now() - t0) / 1e3, flops };
  } finally {
    for (const p of [rows, K, T, buf]) e.free(p);
  }
}

export function runSketchBench(options: { steps?: number } = {}): SketchResult {
  const d = 100_000;
  const n = 128;
  const rank = 256;
  const steps = options.steps ?? 20;
  const Gs = [fill(new Float32Array(n * d), 11), fill(new Float32Array(n * d), 12)];
  const g = fill(new Float32Array(d), 13);
  const out = new Float32Array(d);
  const S = new EmpiricalFisher(d, { representation: 'lowrank', decay: 0.95, rank, damping: 1e-3 });
  const Z = new EmpiricalFisher(d, { representation: 'lowrank', decay: 0, damping: 1e-3 });
  const store = (S as unknown as { store: LowRankStore }).store;
  let sink = 0;
  try {
    // steady state: the buffer fills and the first shrinks happen
    for (let t = 0; t < 6; t++) {
      S.update(Gs[t % 2], n).precondition(g, out);
      Z.update(Gs[t % 2], n).precondition(g, out);
    }
    const sk: number[] = [];
    const z0: number[] = [];
    let upd = 0;
    let pre = 0;
    const flops0 = store.productFlops;
    for (let t = 0; t < steps; t += 2) {
      let a = 0;
      for (let k = 0; k < 2; k++) {
        const t0 = performance.now();
        S.update(Gs[k], n);
        const t1 = performance.now();
        S.precondition(g, out);
        const t2 = performance.now();
        upd += t1 - t0;
        pre += t2 - t1;
        a += t2 - t0;
        sink += out[0];
      }
      sk.push(a / 2);
      let z = 0;
      for (let k = 0; k < 2; k++) {
        const t0 = performance.now();
        Z.update(Gs[k], n).precondition(g, out);
        z += performance.now() - t0;
        sink += out[0];
      }
      z0.push(z / 2);
    }
    const flops = store.productFlops - flops0;
    const cap = rank + n * Math.max(1, Math.round(rank / n));
    const refs: number[] = [];
    let refFlops = 0;
    for (let i = 0; i < 3; i++) {
      const r = referenceProducts(d, n, rank, cap);
      refs.push(r.seconds);
      refFlops = r.flops;
    }
    if (!Number.isFinite(sink)) throw new Error('non-finite result in the sketch bench');
    return {
      d,
      n,
      rank,
      steps,
      sketchMs: median(sk),
      sketchBestMs: Math.min(...sk),
      decay0Ms: median(z0),
      decay0BestMs: Math.min(...z0),
      updateMs: upd / steps,
      preconditionMs: pre / steps,
      productGflopPerStep: flops / steps / 1e9,
      productGflops: flops / (upd / 1e3) / 1e9,
      referenceGflops: refFlops / Math.min(...refs) / 1e9,
      rowsHeld: S.rank,
      sketchError: S.sketchError,
    };
  } finally {
    S.dispose();
    Z.dispose();
  }
}

export function formatSketchResult(r: SketchResult): string {
  return [
    `lowrank d=${r.d} n=${r.n} f32, ${r.steps} steps after the steady state, amortised ms per step (update + precondition), median of pairs and best:`,
    `  decay 0.95, sketch ℓ = ${r.rank} (rows held now ${r.rowsHeld}): ${r.sketchMs.toFixed(1)} (${r.sketchBestMs.toFixed(1)})   [update ${r.updateMs.toFixed(1)}, precondition ${r.preconditionMs.toFixed(1)}]`,
    `  decay 0 (the latest batch):             ${r.decay0Ms.toFixed(1)} (${r.decay0BestMs.toFixed(1)})`,
    `  ratio sketch / decay 0: ${(r.sketchMs / r.decay0Ms).toFixed(2)}×`,
    `  products ${r.productGflopPerStep.toFixed(2)} GFLOP per step at ${r.productGflops.toFixed(1)} GFLOP/s over the whole update; the same products alone ${r.referenceGflops.toFixed(1)} GFLOP/s: ${((100 * r.productGflops) / r.referenceGflops).toFixed(0)}%`,
    `  ρ (sketchError) ${r.sketchError.toExponential(3)}`,
  ].join('\n');
}
