// The optimizer's step through the layer kit against one forward + backward pass of the same MLP
// (issue 14: within 4×). MLP 784–1024–1024–10 (1,863,690 parameters), n = 128, f32.
//
// forward + backward: written here on the public linalg.gemm (copies in and out included, as a
// user would call it): H1 = s(X W1ᵀ + b1), H2 = s(H1 W2ᵀ + b2), Y = H2 W3ᵀ + b3, E3 = Y − T, then
// per layer the weight gradient Eᵀ A / n, the bias gradient and E_{l−1} = (E_l W_l)∘s'; s is the
// softsign h/(1 + |h|) (the flops are the gemms). The step: opt.stepLayers on the statistics that
// pass produced (A = X, H1, H2; E = E1, E2, E3), 'lowrank' with decay 0; and F.updateLayers +
// F.precondition(ḡ) on the same. Samples interleave the three, rotating the order.
//
// Also the peak wasm memory (allocator bytes live at the peak, minus those live before) of the
// layers path against the materialised one (layers → G → update / step) on a mid-size MLP.

import { EmpiricalFisher, EmpiricalFisherOptimizer, linalg } from '../src/index.js';
import { getEngine } from '../src/engine.js';
import type { DenseLayerStats } from '../src/index.js';
import { fill, median } from './fisher.js';

export interface LayersStepResult {
  sizes: number[];
  d: number;
  n: number;
  samples: number;
  /** ms per call: median and best */
  forwardBackwardMs: number;
  forwardBackwardBestMs: number;
  updatePreconditionMs: number;
  updatePreconditionBestMs: number;
  stepLayersMs: number;
  stepLayersBestMs: number;
  /** stepLayers / forward + backward, of the medians and the bests (same run) */
  stepRatioMedians: number;
  stepRatioBests: number;
  updateRatioMedians: number;
  updateRatioBests: number;
  memory: { sizes: number[]; d: number; n: number; layersPeakBytes: number; materialisedPeakBytes: number; stepLayersPeakBytes: number; stepMaterialisedPeakBytes: number };
}

interface Mlp {
  sizes: number[];
  W: Float32Array[];
  b: Float32Array[];
}

function makeMlp(sizes: number[], seed: number): Mlp {
  const W: Float32Array[] = [];
  const b: Float32Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const w = fill(new Float32Array(sizes[l + 1] * sizes[l]), seed + l);
    const s = 1 / Math.sqrt(sizes[l]);
    for (let i = 0; i < w.length; i++) w[i] *= s;
    W.push(w);
    b.push(fill(new Float32Array(sizes[l + 1]), seed + 100 + l));
  }
  return { sizes, W, b };
}

/** Buffers of one forward + backward pass (allocated once, outside the timed calls). */
function passBuffers(m: Mlp, n: number) {
  const L = m.sizes.length - 1;
  const H = m.sizes.slice(1).map((s) => new Float32Array(n * s)); // pre-activations, then activations
  const E = m.sizes.slice(1).map((s) => new Float32Array(n * s));
  const dW = m.W.map((w) => new Float32Array(w.length));
  const db = m.b.map((b) => new Float32Array(b.length));
  const P = m.sizes.slice(1, L).map((s) => new Float32Array(n * s)); // E_l W_l before s'
  return { H, E, dW, db, P };
}

/** One forward + backward pass; fills the statistics list (A = inputs, E = output gradients). */
function forwardBackward(m: Mlp, X: Float32Array, T: Float32Array, n: number, buf: ReturnType<typeof passBuffers>): number {
  const L = m.sizes.length - 1;
  const { H, E, dW, db, P } = buf;
  let A = X;
  for (let l = 0; l < L; l++) {
    const out = m.sizes[l + 1];
    linalg.gemm(A, m.W[l], n, out, m.sizes[l], { transB: true, out: H[l] });
    const h = H[l];
    const bl = m.b[l];
    if (l + 1 < L) {
      for (let i = 0, k = 0; i < n; i++) for (let o = 0; o < out; o++, k++) {
        const z = h[k] + bl[o];
        h[k] = z / (1 + (z < 0 ? -z : z));
      }
    } else {
      for (let i = 0, k = 0; i < n; i++) for (let o = 0; o < out; o++, k++) h[k] += bl[o];
    }
    A = h;
  }
  // squared error: E_L = Y − T (per-example loss gradients)
  const y = H[L - 1];
  const eL = E[L - 1];
  for (let k = 0; k < eL.length; k++) eL[k] = y[k] - T[k];
  for (let l = L - 1; l >= 0; l--) {
    const inputs = m.sizes[l];
    const out = m.sizes[l + 1];
    const Al = l === 0 ? X : H[l - 1];
    linalg.gemm(E[l], Al, out, inputs, n, { transA: true, alpha: 1 / n, out: dW[l] });
    const e = E[l];
    const g = db[l];
    g.fill(0);
    for (let i = 0, k = 0; i < n; i++) for (let o = 0; o < out; o++, k++) g[o] += e[k] / n;
    if (l > 0) {
      const p = P[l - 1];
      linalg.gemm(e, m.W[l], n, inputs, out, { out: p });
      // s'(z) = (1 − |h|)² for the softsign h = z/(1 + |z|)
      const h = H[l - 1];
      const prev = E[l - 1];
      for (let k = 0; k < p.length; k++) {
        const a = 1 - (h[k] < 0 ? -h[k] : h[k]);
        prev[k] = p[k] * a * a;
      }
    }
  }
  return dW[0][1] + db[L - 1][0];
}

function statsOf(m: Mlp, X: Float32Array, buf: ReturnType<typeof passBuffers>): DenseLayerStats[] {
  const L = m.sizes.length - 1;
  const list: DenseLayerStats[] = [];
  for (let l = 0; l < L; l++) {
    list.push({ A: l === 0 ? X : buf.H[l - 1], E: buf.E[l], inputs: m.sizes[l], outputs: m.sizes[l + 1], bias: true });
  }
  return list;
}

/** The layout of the layer kit: per layer W row-major then b. */
function flatParams(m: Mlp): Float32Array {
  let d = 0;
  for (let l = 0; l < m.W.length; l++) d += m.W[l].length + m.b[l].length;
  const p = new Float32Array(d);
  let o = 0;
  for (let l = 0; l < m.W.length; l++) {
    p.set(m.W[l], o);
    o += m.W[l].length;
    p.set(m.b[l], o);
    o += m.b[l].length;
  }
  return p;
}

function materialise(list: DenseLayerStats[], n: number, d: number): Float32Array {
  const G = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let c = i * d;
    for (const l of list) {
      for (let o = 0; o < l.outputs; o++) {
        const e = l.E[i * l.outputs + o];
        for (let j = 0; j < l.inputs; j++) G[c++] = e * l.A[i * l.inputs + j];
      }
      for (let o = 0; o < l.outputs; o++) G[c++] = l.E[i * l.outputs + o];
    }
  }
  return G;
}

function peak(f: () => void): number {
  const e = getEngine();
  const live = e.allocator.stats().allocatedBytes;
  e.allocator.resetPeak();
  f();
  return e.allocator.stats().peakBytes - live;
}

/** Peak wasm memory of the layers path against the materialised one, mid-size MLP. */
function memoryComparison(sizes: number[], n: number): LayersStepResult['memory'] {
  const m = makeMlp(sizes, 7);
  const X = fill(new Float32Array(n * sizes[0]), 1);
  const T = fill(new Float32Array(n * sizes[sizes.length - 1]), 2);
  const buf = passBuffers(m, n);
  forwardBackward(m, X, T, n, buf);
  const list = statsOf(m, X, buf);
  const params = flatParams(m);
  const d = params.length;
  const g = fill(new Float32Array(d), 3);
  const opts = { representation: 'lowrank', decay: 0, damping: 1e-3 } as const;
  const F1 = new EmpiricalFisher(d, opts);
  const layersPeakBytes = peak(() => {
    F1.updateLayers(list, n);
    F1.precondition(g);
  });
  F1.dispose();
  const O1 = new EmpiricalFisherOptimizer(params.slice(), opts);
  const stepLayersPeakBytes = peak(() => O1.stepLayers(list, n));
  O1.dispose();
  const G = materialise(list, n, d);
  const F2 = new EmpiricalFisher(d, opts);
  const materialisedPeakBytes = peak(() => {
    F2.update(G, n);
    F2.precondition(g);
  });
  F2.dispose();
  const O2 = new EmpiricalFisherOptimizer(params.slice(), opts);
  const stepMaterialisedPeakBytes = peak(() => O2.step(G, n));
  O2.dispose();
  return { sizes, d, n, layersPeakBytes, materialisedPeakBytes, stepLayersPeakBytes, stepMaterialisedPeakBytes };
}

export function runLayersStepBench(o: { quick?: boolean; samples?: number } = {}): LayersStepResult {
  const sizes = o.quick ? [784, 256, 256, 10] : [784, 1024, 1024, 10];
  const n = 128;
  const samples = o.samples ?? (o.quick ? 5 : 21);
  const m = makeMlp(sizes, 1);
  const X = fill(new Float32Array(n * sizes[0]), 11);
  const T = fill(new Float32Array(n * sizes[sizes.length - 1]), 12);
  const buf = passBuffers(m, n);
  const list = statsOf(m, X, buf);
  const params = flatParams(m);
  const d = params.length;
  const opts = { representation: 'lowrank', decay: 0, damping: 1e-3, lr: 1e-6 } as const;
  const opt = new EmpiricalFisherOptimizer(params, opts);
  const F = new EmpiricalFisher(d, { representation: 'lowrank', decay: 0, damping: 1e-3 });
  const gbar = new Float32Array(d);
  const x = new Float32Array(d);
  let sink = 0;
  const time = (f: () => void) => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  };
  const fb = () => time(() => (sink += forwardBackward(m, X, T, n, buf)));
  const up = () =>
    time(() => {
      F.updateLayers(list, n);
      // ḡ from the pass (the layout of the layer kit)
      let off = 0;
      for (let l = 0; l < buf.dW.length; l++) {
        gbar.set(buf.dW[l], off);
        off += buf.dW[l].length;
        gbar.set(buf.db[l], off);
        off += buf.db[l].length;
      }
      sink += F.precondition(gbar, x)[0];
    });
  const st = () => time(() => (sink += opt.stepLayers(list, n).stepNorm));
  try {
    fb();
    for (let w = 0; w < 2; w++) {
      fb();
      up();
      st();
    }
    const tf: number[] = [];
    const tu: number[] = [];
    const ts: number[] = [];
    const runs = [() => tf.push(fb()), () => tu.push(up()), () => ts.push(st())];
    for (let s = 0; s < samples; s++) for (let k = 0; k < 3; k++) runs[(s + k) % 3]();
    if (!Number.isFinite(sink)) throw new Error('layers-step: a non-finite result');
    const memory = memoryComparison(o.quick ? [64, 32, 10] : [784, 256, 256, 10], n);
    return {
      sizes,
      d,
      n,
      samples,
      forwardBackwardMs: median(tf),
      forwardBackwardBestMs: Math.min(...tf),
      updatePreconditionMs: median(tu),
      updatePreconditionBestMs: Math.min(...tu),
      stepLayersMs: median(ts),
      stepLayersBestMs: Math.min(...ts),
      stepRatioMedians: median(ts) / median(tf),
      stepRatioBests: Math.min(...ts) / Math.min(...tf),
      updateRatioMedians: median(tu) / median(tf),
      updateRatioBests: Math.min(...tu) / Math.min(...tf),
      memory,
    };
  } finally {
    opt.dispose();
    F.dispose();
  }
}

const MiB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

export function formatLayersStep(r: LayersStepResult): string {
  return [
    `layers step: MLP ${r.sizes.join('–')} (d = ${r.d}), n = ${r.n}, f32, 'lowrank' decay 0; ${r.samples} interleaved samples, ms median (best)`,
    `  forward + backward (linalg.gemm)   ${r.forwardBackwardMs.toFixed(1)} (${r.forwardBackwardBestMs.toFixed(1)})`,
    `  F.updateLayers + precondition      ${r.updatePreconditionMs.toFixed(1)} (${r.updatePreconditionBestMs.toFixed(1)})   ratio ${r.updateRatioMedians.toFixed(2)} (${r.updateRatioBests.toFixed(2)})`,
    `  opt.stepLayers                     ${r.stepLayersMs.toFixed(1)} (${r.stepLayersBestMs.toFixed(1)})   ratio ${r.stepRatioMedians.toFixed(2)} (${r.stepRatioBests.toFixed(2)})`,
    `  peak wasm memory, MLP ${r.memory.sizes.join('–')} (d = ${r.memory.d}), n = ${r.memory.n}: update + precondition ` +
      `layers ${MiB(r.memory.layersPeakBytes)} vs materialised ${MiB(r.memory.materialisedPeakBytes)}; step ` +
      `layers ${MiB(r.memory.stepLayersPeakBytes)} vs materialised ${MiB(r.memory.stepMaterialisedPeakBytes)} (n·d·4 = ${MiB(r.memory.n * r.memory.d * 4)})`,
  ].join('\n');
}
