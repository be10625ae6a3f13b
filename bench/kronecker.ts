// The optimizer's step with 'kronecker' ('exact', 'pi') and 'ekfac' against an SGD step of the
// same model (issue 15, item 4), and where the time goes.
//
// Models: the shipped MLP (src/models, forward and backward as gemms in wasm, tanh, softmax
// cross-entropy), f32, n = 128, 784–256–256–10 and 784–1024–1024–10 (784–32–10 too, for its
// first layer's input covariance). One process, the same batches for every contender:
// - SGD step: model.forwardBackward(params, x, labels, n, { gradient }) + sgd.step(gradient);
// - Kronecker step: model.forwardBackward(params, x, labels, n) + opt.stepLayers(layers, n), with
//   decay 0.95, damping 1e-3 and updateEvery U: steps t ≡ 0 (mod U) refresh the factors (eigh of
//   both factors for 'exact' and for the 'ekfac' basis, Cholesky and inverses for 'pi'), the others
//   reuse them. Refresh steps and ordinary steps are reported apart, and amortised:
//   (refresh + (U − 1)·ordinary)/U.
// One sample per contender per round, the order rotating; ms median (best).
//
// The breakdown times each part alone on the same shapes (the stores' own methods, reached
// through the library's internals): statistics (syrk of Ā and S), factor refresh, solve, the
// optimizer's GEMMs of the mean gradient and the per-example loss changes G δ, and the model's
// forward + backward.

import { EmpiricalFisher, EmpiricalFisherOptimizer, type DenseLayerStats } from '../src/index.js';
import { MLP, SGD } from '../src/models/index.js';
import { getEngine } from '../src/engine.js';
import { checkLayers, copyLayersIn } from '../src/layerstats.js';
import { gradientTimesInWasm, meanGradientInWasm, type LayerInWasm } from '../src/layers/inwasm.js';
import { fill, median } from './fisher.js';

type Rep = 'exact' | 'pi' | 'ekfac';
const REPS: readonly Rep[] = ['exact', 'pi', 'ekfac'];

export interface Timing {
  medianMs: number;
  bestMs: number;
  samples: number;
}

export interface KroneckerStepRow {
  rep: Rep;
  refresh: Timing;
  ordinary: Timing;
  /** (refresh + (U − 1)·ordinary)/U of the medians, and per SGD step */
  amortisedMs: number;
  ratioOrdinary: number;
  ratioAmortised: number;
  /** the same with updateEvery 100 (from the same medians) */
  ratioAmortised100: number;
}

export interface KroneckerBreakdown {
  /** ms, median of interleaved samples */
  forwardBackward: number;
  forwardBackwardGradient: number;
  sgdUpdate: number;
  copyIn: number;
  meanGradient: number;
  lossChanges: number;
  statistics: number;
  syrkOnly: number;
  refreshExact: number;
  denominators: number;
  refreshPi: number;
  solveExact: number;
  solvePi: number;
  solveEkfac: number;
  /** the step's solve, ḡ's rotation from the statistics where cheaper (solveMean) */
  solveMeanExact: number;
  solveMeanPi: number;
  solveMeanEkfac: number;
  ekfacStatistics: number;
  /** the solve's GEMMs alone (exact: 4 per layer), and the factored form's (E U_S, Ā U_Ā, ẼᵀÃ, then 2 back) */
  solveGemms: number;
  factoredGemms: number;
}

export interface KroneckerFlops {
  forward: number;
  backward: number;
  meanGradient: number;
  solveExact: number;
  solvePi: number;
  statistics: number;
  /** the step's solve (from the statistics on the layers where n(p² + q² + pq) < pq(p + q)) */
  solveMeanExact: number;
  solveMeanPi: number;
}

export interface KroneckerModelResult {
  sizes: number[];
  d: number;
  n: number;
  updateEvery: number;
  rounds: number;
  sgd: Timing;
  rows: KroneckerStepRow[];
  breakdown: KroneckerBreakdown;
  flops: KroneckerFlops;
}

export interface KroneckerBenchResult {
  models: KroneckerModelResult[];
  /** 784–32–10: the first layer's input covariance (syrk, n × 785) against the model's forward + backward */
  narrow: { sizes: number[]; n: number; covarianceMs: number; forwardBackwardMs: number; ratio: number; covarianceBestMs: number; forwardBackwardBestMs: number };
}

function timing(xs: number[]): Timing {
  return { medianMs: median(xs), bestMs: Math.min(...xs), samples: xs.length };
}

function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

/** Labels in [0, 10) from a seed. */
function labelsFor(n: number, seed: number): Int32Array {
  const y = new Int32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    y[i] = s % 10;
  }
  return y;
}

function layerShapes(sizes: number[]) {
  return sizes.slice(1).map((outputs, l) => ({ inputs: sizes[l], outputs, bias: true }));
}

function flopsOf(sizes: number[], n: number): KroneckerFlops {
  let forward = 0;
  let backward = 0;
  let meanGradient = 0;
  let solveExact = 0;
  let solvePi = 0;
  let statistics = 0;
  let solveMeanExact = 0;
  let solveMeanPi = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const i = sizes[l];
    const q = sizes[l + 1];
    const p = i + 1;
    forward += 2 * n * q * i;
    if (l > 0) backward += 2 * n * q * i;
    meanGradient += 2 * n * q * p;
    solvePi += 2 * q * p * (p + q);
    solveExact += 4 * q * p * (p + q);
    statistics += n * (p * (p + 1) + q * (q + 1));
    const half = n * (p * p + q * q + p * q) < p * q * (p + q) ? 2 * n * (p * p + q * q + p * q) : 2 * q * p * (p + q);
    solveMeanPi += half;
    solveMeanExact += half + 2 * q * p * (p + q);
  }
  return { forward, backward, meanGradient, solveExact, solvePi, statistics, solveMeanExact, solveMeanPi };
}

function runModel(sizes: number[], updateEvery: number, rounds: number, partSamples: number): KroneckerModelResult {
  const n = 128;
  const model = new MLP({ sizes, activation: 'tanh' });
  const d = model.size;
  const init = model.initialize(new Float32Array(d), 1);
  const batches = [0, 1, 2].map((b) => ({ x: fill(new Float32Array(n * sizes[0]), 100 + b), y: labelsFor(n, 200 + b) }));
  const layers = layerShapes(sizes);
  const common = { decay: 0.95, damping: 1e-3, lr: 1e-3, updateEvery } as const;
  const opts: Record<Rep, ConstructorParameters<typeof EmpiricalFisherOptimizer>[1]> = {
    exact: { ...common, representation: 'kronecker', kroneckerDamping: 'exact', layers },
    pi: { ...common, representation: 'kronecker', kroneckerDamping: 'pi', layers },
    ekfac: { ...common, representation: 'ekfac', layers },
  };
  const params: Record<Rep | 'sgd', Float32Array> = { exact: init.slice(), pi: init.slice(), ekfac: init.slice(), sgd: init.slice() };
  const opt = Object.fromEntries(REPS.map((r) => [r, new EmpiricalFisherOptimizer(params[r], opts[r])])) as Record<Rep, EmpiricalFisherOptimizer>;
  const sgd = new SGD(params.sgd, { lr: 0.01 });
  const grad = new Float32Array(d);
  let sink = 0;
  let round = 0;
  const batch = () => batches[round % batches.length];
  const sgdStep = () =>
    time(() => {
      const b = batch();
      sink += model.forwardBackward(params.sgd, b.x, b.y, n, { gradient: grad }).loss;
      sgd.step(grad);
    });
  const kStep = (r: Rep) => {
    let refreshed = false;
    const ms = time(() => {
      const b = batch();
      const { layers: stats } = model.forwardBackward(params[r], b.x, b.y, n);
      const info = opt[r].stepLayers(stats, n);
      refreshed = info.refreshed;
      sink += info.stepNorm;
    });
    return { ms, refreshed };
  };
  const tSgd: number[] = [];
  const tRef: Record<Rep, number[]> = { exact: [], pi: [], ekfac: [] };
  const tOrd: Record<Rep, number[]> = { exact: [], pi: [], ekfac: [] };
  const runs: (() => void)[] = [
    () => tSgd.push(sgdStep()),
    ...REPS.map((r) => () => {
      const s = kStep(r);
      (s.refreshed ? tRef : tOrd)[r].push(s.ms);
    }),
  ];
  try {
    // warm-up: one SGD step (the Kronecker optimizers' first steps are their first refresh: timed)
    sgdStep();
    for (round = 0; round < rounds; round++) for (let k = 0; k < runs.length; k++) runs[(round + k) % runs.length]();
    const sgdT = timing(tSgd);
    const rows = REPS.map((rep): KroneckerStepRow => {
      const refresh = timing(tRef[rep]);
      const ordinary = timing(tOrd[rep]);
      const amortisedMs = (refresh.medianMs + (updateEvery - 1) * ordinary.medianMs) / updateEvery;
      return {
        rep,
        refresh,
        ordinary,
        amortisedMs,
        ratioOrdinary: ordinary.medianMs / sgdT.medianMs,
        ratioAmortised: amortisedMs / sgdT.medianMs,
        ratioAmortised100: (refresh.medianMs + 99 * ordinary.medianMs) / 100 / sgdT.medianMs,
      };
    });
    if (!Number.isFinite(sink)) throw new Error('kronecker bench: a non-finite result');
    const breakdown = breakdownOf(model, init, batches[0], sizes, n, partSamples);
    return { sizes, d, n, updateEvery, rounds, sgd: sgdT, rows, breakdown, flops: flopsOf(sizes, n) };
  } finally {
    for (const r of REPS) opt[r].dispose();
  }
}

/** Internals of a Fisher: its store (the bench times the store's methods alone). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStore = any;
function storeOf(F: EmpiricalFisher): AnyStore {
  return (F as unknown as { store: AnyStore }).store;
}

function breakdownOf(model: MLP, params: Float32Array, b: { x: Float32Array; y: Int32Array }, sizes: number[], n: number, samples: number): KroneckerBreakdown {
  const e = getEngine();
  const d = model.size;
  const layers = layerShapes(sizes);
  const grad = new Float32Array(d);
  const sgdParams = params.slice();
  const sgd = new SGD(sgdParams, { lr: 1e-9 });
  const { layers: fbStats } = model.forwardBackward(params, b.x, b.y, n);
  // own copies: the model overwrites its arrays at the next pass
  const stats: DenseLayerStats[] = fbStats.map((s) => ({ ...s, A: (s.A as Float32Array).slice(), E: (s.E as Float32Array).slice() }));
  const block = copyLayersIn(e, 'f32', checkLayers(stats, n, d), n);
  const list: LayerInWasm[] = block.list;
  const Fx = new EmpiricalFisher(d, { representation: 'kronecker', kroneckerDamping: 'exact', layers, decay: 0.95 });
  const Fp = new EmpiricalFisher(d, { representation: 'kronecker', kroneckerDamping: 'pi', layers, decay: 0.95 });
  const Fe = new EmpiricalFisher(d, { representation: 'ekfac', layers, decay: 0.95 });
  for (const F of [Fx, Fp, Fe]) {
    F.updateLayers(stats, n);
    F.precondition(grad.fill(0.5));
  }
  const sx = storeOf(Fx);
  const sp = storeOf(Fp);
  const se = storeOf(Fe);
  const w = 0.05 / n;
  const maxPQ = Math.max(...sizes) + 1;
  const g = e.alloc(d * 4);
  const y = e.alloc(n * 4);
  const scratch = e.alloc(maxPQ * maxPQ * 4);
  const t1 = e.alloc(maxPQ * Math.max(maxPQ, n) * 4);
  const t2 = e.alloc(maxPQ * Math.max(maxPQ, n) * 4);
  const t3 = e.alloc(maxPQ * Math.max(maxPQ, n) * 4);
  const gemm = e.k('gemm', 'f32');
  const syrk = e.k('syrk', 'f32');
  // out ← op(A)·op(B) with natural leading dimensions (as the stores call it)
  const mm = (m: number, nn: number, k: number, a: number, ta: boolean, bb: number, tb: boolean, c: number) =>
    gemm(m, nn, k, 1, a, ta ? m : k, ta ? 1 : 0, bb, tb ? k : nn, tb ? 1 : 0, 0, c, nn, e.work);
  e.view('f32', g, d).set(fill(new Float32Array(d), 5));
  // random values in the scratch matrices (no subnormals in the timed GEMMs)
  for (const [ptr, len] of [[scratch, maxPQ * maxPQ], [t1, maxPQ * Math.max(maxPQ, n)], [t2, maxPQ * Math.max(maxPQ, n)], [t3, maxPQ * Math.max(maxPQ, n)]]) {
    e.view('f32', ptr, len).set(fill(new Float32Array(len), ptr));
  }
  let sink = 0;
  const parts: Record<keyof KroneckerBreakdown, () => void> = {
    forwardBackward: () => (sink += model.forwardBackward(params, b.x, b.y, n).loss),
    forwardBackwardGradient: () => (sink += model.forwardBackward(params, b.x, b.y, n, { gradient: grad }).loss),
    sgdUpdate: () => sgd.step(grad),
    copyIn: () => e.free(copyLayersIn(e, 'f32', checkLayers(stats, n, d), n).ptr),
    meanGradient: () => meanGradientInWasm(e, 'f32', list, n, g),
    lossChanges: () => gradientTimesInWasm(e, 'f32', list, n, g, y),
    statistics: () => sx.accumulateLayers(list, n, 0.95, w),
    syrkOnly: () => {
      for (let l = 0; l < layers.length; l++) {
        syrk(n, layers[l].inputs, w, list[l].ap, layers[l].inputs, 0.95, scratch, layers[l].inputs + 1, e.work);
        syrk(n, layers[l].outputs, w, list[l].ep, layers[l].outputs, 0.95, scratch, layers[l].outputs, e.work);
      }
    },
    refreshExact: () => {
      sx.version++;
      sx.factor(1, 1e-3);
    },
    denominators: () => {
      // the eigendecompositions held count as current (statistics in between would redo them)
      sx.eigenVersion = sx.version;
      sx.factor(1, 1e-3);
    },
    refreshPi: () => sp.factor(1, 1e-3),
    solveExact: () => sx.solve(g),
    solvePi: () => sp.solve(g),
    solveEkfac: () => se.solve(g),
    solveMeanExact: () => sx.solveMean(list, n, g, 1),
    solveMeanPi: () => sp.solveMean(list, n, g, 1),
    solveMeanEkfac: () => se.solveMean(list, n, g, 1),
    ekfacStatistics: () => se.accumulateLayers(list, n, 0.95, w),
    solveGemms: () => {
      for (const l of layers) {
        const p = l.inputs + 1;
        const q = l.outputs;
        mm(q, p, q, scratch, false, t1, false, t2);
        mm(q, p, p, t2, false, scratch, true, t1);
        mm(q, p, q, scratch, true, t1, false, t2);
        mm(q, p, p, t2, false, scratch, false, t1);
      }
    },
    factoredGemms: () => {
      for (let k = 0; k < layers.length; k++) {
        const l = layers[k];
        const p = l.inputs + 1;
        const q = l.outputs;
        // Ẽ = E U_S (n × q), Ã = Ā U_Ā (n × p), T = ẼᵀÃ (q × p), then U_S T U_Āᵀ
        mm(n, q, q, list[k].ep, false, scratch, true, t1);
        mm(n, p, p, t3, false, scratch, true, t2);
        mm(q, p, n, t1, true, t2, false, t3);
        mm(q, p, q, scratch, true, t3, false, t1);
        mm(q, p, p, t1, false, scratch, false, t3);
      }
    },
  };
  const keys = Object.keys(parts) as (keyof KroneckerBreakdown)[];
  const t: Record<string, number[]> = Object.fromEntries(keys.map((k) => [k, []]));
  try {
    for (const k of keys) parts[k]();
    for (let s = 0; s < samples; s++) for (let j = 0; j < keys.length; j++) {
      const k = keys[(s + j) % keys.length];
      // the refresh parts are long on the big MLP: fewer samples
      if (s >= 3 && (k === 'refreshExact' || k === 'refreshPi')) continue;
      t[k].push(time(parts[k]));
    }
    if (!Number.isFinite(sink)) throw new Error('kronecker bench: a non-finite result');
    return Object.fromEntries(keys.map((k) => [k, median(t[k])])) as unknown as KroneckerBreakdown;
  } finally {
    for (const p of [g, y, scratch, t1, t2, t3, block.ptr]) e.free(p);
    Fx.dispose();
    Fp.dispose();
    Fe.dispose();
  }
}

/** 784–32–10: the first layer's input covariance (syrk of the n × 785 inputs) against forward + backward. */
function runNarrow(samples: number): KroneckerBenchResult['narrow'] {
  const sizes = [784, 32, 10];
  const n = 128;
  const e = getEngine();
  const model = new MLP({ sizes, activation: 'tanh' });
  const params = model.initialize(new Float32Array(model.size), 3);
  const x = fill(new Float32Array(n * 784), 7);
  const y = labelsFor(n, 8);
  const grad = new Float32Array(model.size);
  const p = 785;
  const abar = e.alloc(n * p * 4);
  const cov = e.alloc(p * p * 4);
  const v = e.view('f32', abar, n * p);
  for (let i = 0; i < n; i++) {
    v.set(x.subarray(i * 784, (i + 1) * 784), i * p);
    v[i * p + 784] = 1;
  }
  const syrk = e.k('syrk', 'f32');
  let sink = 0;
  const fb = () => time(() => (sink += model.forwardBackward(params, x, y, n, { gradient: grad }).loss));
  const cv = () => time(() => syrk(n, p, 1 / n, abar, p, 0.95, cov, p, e.work));
  try {
    fb();
    cv();
    const tf: number[] = [];
    const tc: number[] = [];
    const runs = [() => tf.push(fb()), () => tc.push(cv())];
    for (let s = 0; s < samples; s++) for (let k = 0; k < 2; k++) runs[(s + k) % 2]();
    if (!Number.isFinite(sink)) throw new Error('kronecker bench: a non-finite result');
    return {
      sizes,
      n,
      covarianceMs: median(tc),
      covarianceBestMs: Math.min(...tc),
      forwardBackwardMs: median(tf),
      forwardBackwardBestMs: Math.min(...tf),
      ratio: median(tc) / median(tf),
    };
  } finally {
    e.free(abar);
    e.free(cov);
  }
}

export function runKroneckerBench(o: { quick?: boolean; updateEvery?: number } = {}): KroneckerBenchResult {
  const U = o.updateEvery ?? 10;
  const models = [runModel([784, 256, 256, 10], U, o.quick ? 2 * U + 1 : 4 * U + 1, o.quick ? 5 : 15)];
  if (!o.quick) models.push(runModel([784, 1024, 1024, 10], U, 2 * U + 1, 7));
  models.push(runModel([784, 32, 10], U, o.quick ? 2 * U + 1 : 4 * U + 1, o.quick ? 5 : 15));
  return { models, narrow: runNarrow(o.quick ? 11 : 41) };
}

const ms = (t: Timing) => `${t.medianMs.toFixed(2)} (${t.bestMs.toFixed(2)})`;

export function formatKroneckerBench(r: KroneckerBenchResult): string {
  const out: string[] = [];
  for (const m of r.models) {
    const f = m.flops;
    const b = m.breakdown;
    out.push(
      `kronecker step: MLP ${m.sizes.join('–')} (d = ${m.d}), n = ${m.n}, f32, decay 0.95, updateEvery ${m.updateEvery}; ${m.rounds} interleaved rounds, ms median (best)`,
      `  SGD step (forward + backward + update)   ${ms(m.sgd)}`,
    );
    for (const row of m.rows) {
      out.push(
        `  ${(row.rep === 'ekfac' ? "'ekfac'" : `'kronecker' ${row.rep}`).padEnd(20)} refresh ${ms(row.refresh)} [${row.refresh.samples}]  ordinary ${ms(row.ordinary)} [${row.ordinary.samples}]  ` +
          `amortised ${row.amortisedMs.toFixed(2)}   × SGD: ordinary ${row.ratioOrdinary.toFixed(2)}, amortised ${row.ratioAmortised.toFixed(2)} (updateEvery 100: ${row.ratioAmortised100.toFixed(2)})`,
      );
    }
    const gf = (x: number) => `${(x / 1e6).toFixed(1)} MFLOP`;
    out.push(
      `  parts alone, ms median: forward + backward ${b.forwardBackward.toFixed(2)} (with the mean gradient ${b.forwardBackwardGradient.toFixed(2)}), SGD update ${b.sgdUpdate.toFixed(2)}`,
      `    optimizer: copy in + checks ${b.copyIn.toFixed(2)}, mean gradient ${b.meanGradient.toFixed(2)}, per-example loss changes Gδ ${b.lossChanges.toFixed(2)}`,
      `    statistics (Ā, S: syrk + augment + mirror) ${b.statistics.toFixed(2)} (syrk alone ${b.syrkOnly.toFixed(2)}); ekfac statistics + projection ${b.ekfacStatistics.toFixed(2)}`,
      `    refresh: exact (eigh of every factor) ${b.refreshExact.toFixed(2)}, pi (Cholesky + inverses) ${b.refreshPi.toFixed(2)}; exact denominators alone ${b.denominators.toFixed(2)}`,
      `    solve of a vector: exact ${b.solveExact.toFixed(2)} (its 4 GEMMs per layer alone ${b.solveGemms.toFixed(2)}), pi ${b.solvePi.toFixed(2)}, ekfac ${b.solveEkfac.toFixed(2)}; all layers from the statistics, GEMMs alone ${b.factoredGemms.toFixed(2)}`,
      `    the step's solve of ḡ (from the statistics where cheaper): exact ${b.solveMeanExact.toFixed(2)}, pi ${b.solveMeanPi.toFixed(2)}, ekfac ${b.solveMeanEkfac.toFixed(2)}`,
      `  flops: forward ${gf(f.forward)}, backward ${gf(f.backward)}, mean gradient ${gf(f.meanGradient)}; statistics ${gf(f.statistics)}; solve of a vector exact ${gf(f.solveExact)}, pi ${gf(f.solvePi)}; the step's solve of ḡ exact ${gf(f.solveMeanExact)}, pi ${gf(f.solveMeanPi)}`,
    );
  }
  const nw = r.narrow;
  out.push(
    `MLP ${nw.sizes.join('–')}, n = ${nw.n}: first-layer input covariance (syrk n × 785) ${nw.covarianceMs.toFixed(3)} (${nw.covarianceBestMs.toFixed(3)}) ms against forward + backward ${nw.forwardBackwardMs.toFixed(3)} (${nw.forwardBackwardBestMs.toFixed(3)}) ms: ratio ${nw.ratio.toFixed(2)}`,
  );
  return out.join('\n');
}
