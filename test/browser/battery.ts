/**
 * A fixed battery of computations whose output bytes must be identical in every JavaScript engine
 * (DESIGN §4): seeded inputs → syrk, cholesky, the solves, eigh, gemm, the layer kit, EmpiricalFisher in every
 * representation and precision, and 20 optimizer steps. Each result is reduced to an FNV-1a hash of its bytes.
 *
 * It takes the library as an argument, so the same code runs against the TypeScript sources
 * (vitest in Node and in Chromium) and against the built dist/index.js (a plain page with an
 * import map, a Web Worker): see battery.browser.test.ts and test/web-loading.node.test.ts.
 *
 * Inputs use only integer arithmetic and exact divisions by powers of two; the numeric path of the
 * battery uses only + − × ÷ (no Math.exp, Math.pow, **), so the inputs are the same bits
 * everywhere and any difference is the library's.
 */
import type * as EF from '../../src/index.js';
import type * as EFModels from '../../src/models/index.js';
import { SeededRandom } from '../../src/models/random.js';

export type Library = Pick<typeof EF, 'linalg' | 'layers' | 'EmpiricalFisher' | 'EmpiricalFisherOptimizer'>;

/** empirical-fisher/models (the models' forward and backward: gemm, exp/log/tanh in wasm). */
export type ModelsLibrary = Pick<typeof EFModels, 'MLP' | 'LogisticRegression'>;

/** One entry per result: the FNV-1a hash (8 hex digits) and the byte count, e.g. "1a2b3c4d/1024". */
export type BatteryResult = Record<string, string>;

/** FNV-1a, 32 bits, over the bytes of a typed array (or of a number as a float64). */
export function fnv1a(data: ArrayBufferView | number): string {
  const view =
    typeof data === 'number'
      ? new Uint8Array(new Float64Array([data]).buffer)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < view.length; i++) {
    h ^= view[i];
    h = Math.imul(h, 0x01000193);
  }
  return `${(h >>> 0).toString(16).padStart(8, '0')}/${view.length}`;
}

/** The package's mulberry32 generator: values k/2^24 − 1/2, exact in f32 and f64. */
class Inputs extends SeededRandom {
  /** uniform in [−½, ½), a multiple of 2^−24 */
  next(): number {
    return (this.nextU32() >>> 8) / 16777216 - 0.5;
  }
  fill<T extends Float32Array | Float64Array>(a: T): T {
    for (let i = 0; i < a.length; i++) a[i] = this.next();
    return a;
  }
}

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
const TYPES: [string, Ctor][] = [
  ['f32', Float32Array],
  ['f64', Float64Array],
];

/** A = GᵀG/n + I for a random n × d G, computed in plain float64 (exact operations only). */
function spd(T: Ctor, d: number, rng: Inputs): Float32Array | Float64Array {
  const n = d + 3;
  const G = rng.fill(new Float64Array(n * d));
  const A = new T(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += G[k * d + i] * G[k * d + j];
      const v = s / n + (i === j ? 1 : 0);
      A[i * d + j] = v;
      A[j * d + i] = v;
    }
  }
  return A;
}

/**
 * Per-example gradients of a least-squares problem at θ: g_i = (a_iᵀθ − b_i)·a_i, i.e. the
 * gradients of ½(a_iᵀθ − b_i)², with the a_i and b_i drawn from `rng`. + − × only.
 */
function leastSquaresGrads(theta: Float32Array | Float64Array, n: number, rng: Inputs, out: Float64Array): void {
  const d = theta.length;
  for (let i = 0; i < n; i++) {
    let r = -rng.next();
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const a = rng.next() + (j % 3 === 0 ? 0.25 : 0); // a little structure: not isotropic
      out[o + j] = a;
      r += a * theta[j];
    }
    for (let j = 0; j < d; j++) out[o + j] *= r;
  }
}

/**
 * Runs the whole battery with `ef` (initialised), and the models' part when `models` is given.
 * Deterministic: the same result every call.
 */
export function runBattery(ef: Library, models?: ModelsLibrary): BatteryResult {
  const { linalg, layers, EmpiricalFisher, EmpiricalFisherOptimizer } = ef;
  const out: BatteryResult = {};
  const put = (name: string, v: ArrayBufferView | number) => {
    out[name] = fnv1a(v);
  };

  for (const [p, T] of TYPES) {
    const rng = new Inputs(p === 'f32' ? 101 : 202);

    // syrk: odd sizes across the kernels' tile edges; with α, β and an accumulated out
    for (const [n, d] of [
      [37, 29],
      [130, 67],
    ] as const) {
      const G = rng.fill(new T(n * d));
      put(`syrk.${p}.${n}x${d}`, linalg.syrk(G, n, d));
      const C = rng.fill(new T(d * d));
      for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) C[j * d + i] = C[i * d + j];
      put(`syrk.${p}.${n}x${d}.alpha-beta`, linalg.syrk(G, n, d, { alpha: 0.375, beta: -1.5, out: C }));
    }

    // cholesky, choleskySolve, solveSPD, choleskyFactor: d = 45 and d = 131 (past a block edge)
    for (const d of [45, 131]) {
      const A = spd(T, d, rng);
      const L = linalg.cholesky(A, d);
      put(`cholesky.${p}.${d}`, L);
      put(`cholesky.${p}.${d}.shift`, linalg.cholesky(A, d, { shift: 0.125 }));
      const nrhs = 3;
      const B = rng.fill(new T(d * nrhs));
      put(`choleskySolve.${p}.${d}`, linalg.choleskySolve(L, d, B, { nrhs }));
      put(`solveSPD.${p}.${d}`, linalg.solveSPD(A, d, B, { nrhs, shift: 0.5 }));
      const f = linalg.choleskyFactor(A, d, { shift: 1e-3 });
      put(`choleskyFactor.${p}.${d}.lower`, f.lower());
      put(`choleskyFactor.${p}.${d}.solve`, f.solve(B, { nrhs }));
      f.dispose();
    }

    // eigh: an indefinite matrix (only its lower triangle is read), across a panel and a block of
    // the back-transformation; values and vectors, and values only (own inputs: the draws above
    // and below stay as they were)
    const eighInputs = new Inputs(p === 'f32' ? 303 : 404);
    for (const d of [45, 131]) {
      const A = eighInputs.fill(new T(d * d));
      const r = linalg.eigh(A, d);
      put(`eigh.${p}.${d}.values`, r.values);
      put(`eigh.${p}.${d}.vectors`, r.vectors);
      put(`eigh.${p}.${d}.valuesOnly`, linalg.eigh(A, d, { valuesOnly: true }).values);
    }

    // gemm: every transpose combination across tile edges and a KC block (depth 261), α/β into an
    // out, and a B of the other float type (own inputs, as eigh)
    const gemmInputs = new Inputs(p === 'f32' ? 505 : 606);
    const Other: Ctor = p === 'f32' ? Float64Array : Float32Array;
    for (const [m, n, k] of [
      [13, 11, 7],
      [37, 45, 261],
    ] as const) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const tag = `gemm.${p}.${m}x${n}x${k}.${transA ? 't' : 'n'}${transB ? 't' : 'n'}`;
          const A = gemmInputs.fill(new T(m * k));
          const B = gemmInputs.fill(new T(k * n));
          put(tag, linalg.gemm(A, B, m, n, k, { transA, transB }));
          const C = gemmInputs.fill(new T(m * n));
          put(`${tag}.alpha-beta`, linalg.gemm(A, B, m, n, k, { transA, transB, alpha: -0.625, beta: 1.75, out: C }));
        }
      }
      const A = gemmInputs.fill(new T(m * k));
      const B = gemmInputs.fill(new Other(k * n));
      put(`gemm.${p}.${m}x${n}x${k}.other-B`, linalg.gemm(A, B, m, n, k));
    }

    // the layer kit: two layers (one without bias) across tile edges, every call (own inputs)
    const layerInputs = new Inputs(p === 'f32' ? 707 : 808);
    {
      const n = 13;
      const shapes = [
        { inputs: 37, outputs: 9, bias: true },
        { inputs: 9, outputs: 5, bias: false },
      ];
      const list = shapes.map((s) => ({ ...s, A: layerInputs.fill(new T(n * s.inputs)), E: layerInputs.fill(new T(n * s.outputs)) }));
      const dl = layers.size(list);
      const G = new T(n * (dl + 3));
      layers.perExampleGradients(list[0], n, { out: G, offset: 1, ld: dl + 3 });
      layers.perExampleGradients(list[1], n, { out: G, offset: 1 + 37 * 9 + 9, ld: dl + 3 });
      put(`layers.${p}.rows`, G);
      put(`layers.${p}.mean`, layers.meanGradient(list, n));
      put(`layers.${p}.diagonal`, layers.diagonal(list, n));
      put(`layers.${p}.gram`, layers.gram(list, n));
      put(`layers.${p}.times`, layers.gradientTimes(list, n, layerInputs.fill(new T(dl))));
      put(`layers.${p}.transposeTimes`, layers.gradientTransposeTimes(list, n, layerInputs.fill(new T(n))));
    }

    // EmpiricalFisher in every representation: three updates with a running average
    const d = 40;
    const reps: [string, Record<string, unknown>][] = [
      ['dense', { representation: 'dense' }],
      ['lowrank', { representation: 'lowrank', rank: 24 }],
      // a sketch that shrinks (capacity 8 + 12 rows: the second batch does not fit)
      ['lowrank.sketch', { representation: 'lowrank', rank: 8 }],
      ['blockdiag', { representation: 'blockdiag', blocks: [16, 7, 17] }],
      ['diag', { representation: 'diag' }],
    ];
    const grads = [rng.fill(new T(12 * d)), rng.fill(new T(9 * d)), rng.fill(new T(15 * d))];
    const g = rng.fill(new T(d));
    for (const [name, opts] of reps) {
      const F = new EmpiricalFisher(d, { precision: p as 'f32' | 'f64', damping: 0.01, decay: 0.9, ...opts });
      for (const G of grads) F.update(G, G.length / d);
      const v = F.precondition(g);
      put(`fisher.${p}.${name}.precondition`, v);
      put(`fisher.${p}.${name}.quadratic`, F.quadratic(v));
      put(`fisher.${p}.${name}.toDense`, F.toDense());
      F.damping = 0.25;
      put(`fisher.${p}.${name}.precondition.damping`, F.precondition(g));
      put(`fisher.${p}.${name}.effectiveDamping`, F.effectiveDamping);
      put(`fisher.${p}.${name}.sketchError`, F.sketchError);
      F.dispose();
    }

    // 20 optimizer steps on a least-squares problem, in every representation
    const dOpt = 33;
    const nOpt = 16;
    const optReps: [string, Record<string, unknown>][] = [
      ['dense', { representation: 'dense' }],
      ['lowrank', { representation: 'lowrank', rank: 32 }],
      ['blockdiag', { representation: 'blockdiag', blocks: [11, 11, 11] }],
      ['diag', { representation: 'diag' }],
      ['dense.bounded-momentum', { representation: 'dense', lossChangeBound: 1e-3, momentum: 0.5, weightDecay: 0.01 }],
    ];
    for (const [name, opts] of optReps) {
      const data = new Inputs(p === 'f32' ? 7 : 8); // the same problem for every representation
      const params = new T(dOpt);
      for (let j = 0; j < dOpt; j++) params[j] = (j % 5) / 8 - 0.25;
      const opt = new EmpiricalFisherOptimizer(params, { lr: 0.5, damping: 0.05, decay: 0.9, ...opts });
      const G = new Float64Array(nOpt * dOpt);
      const Gt = new T(nOpt * dOpt);
      const infos = new Float64Array(20 * 5);
      for (let s = 0; s < 20; s++) {
        leastSquaresGrads(params, nOpt, data, G);
        Gt.set(G);
        const info = opt.step(Gt, nOpt);
        infos.set([info.rate, info.stepNorm, info.predictedLossChange, info.predictedLossChangeRms, info.damping], s * 5);
      }
      put(`optimizer.${p}.${name}.params`, params);
      put(`optimizer.${p}.${name}.info`, infos);
      opt.dispose();
    }

    // 'kronecker' (both dampings) and 'ekfac' from layer statistics: three updates with a running
    // average, then 6 optimizer steps with updateEvery 2 (stale factors, a kept ekfac basis)
    const kronInputs = new Inputs(p === 'f32' ? 919 : 1020);
    const kronShapes = [
      { inputs: 17, outputs: 5, bias: true },
      { inputs: 5, outputs: 4, bias: false },
    ];
    const dk = layers.size(kronShapes);
    const kronBatch = (n: number) =>
      kronShapes.map((s) => ({ ...s, A: kronInputs.fill(new T(n * s.inputs)), E: kronInputs.fill(new T(n * s.outputs)) }));
    const kronReps: [string, Record<string, unknown>][] = [
      ['kronecker', { representation: 'kronecker' }],
      ['kronecker.pi', { representation: 'kronecker', kroneckerDamping: 'pi' }],
      ['ekfac', { representation: 'ekfac' }],
    ];
    for (const [name, opts] of kronReps) {
      const F = new EmpiricalFisher(dk, { precision: p as 'f32' | 'f64', damping: 0.01, decay: 0.9, layers: kronShapes, ...opts });
      const gk = kronInputs.fill(new T(dk));
      for (const n of [7, 12, 5]) {
        F.updateLayers(kronBatch(n), n);
        if (n === 12) F.precondition(gk);
      }
      const v = F.precondition(gk);
      put(`fisher.${p}.${name}.precondition`, v);
      put(`fisher.${p}.${name}.quadratic`, F.quadratic(v));
      put(`fisher.${p}.${name}.toDense`, F.toDense());
      F.damping = 0.25;
      put(`fisher.${p}.${name}.precondition.damping`, F.precondition(gk));
      F.dispose();
      const params = new T(dk);
      for (let j = 0; j < dk; j++) params[j] = (j % 7) / 8 - 0.375;
      const opt = new EmpiricalFisherOptimizer(params, {
        lr: 0.5,
        damping: 0.05,
        decay: 0.9,
        layers: kronShapes,
        updateEvery: 2,
        lossChangeBound: 1e-2,
        ...opts,
      });
      const infos = new Float64Array(6 * 5);
      for (let s = 0; s < 6; s++) {
        const info = opt.stepLayers(kronBatch(9), 9);
        infos.set([info.rate, info.stepNorm, info.predictedLossChange, info.predictedLossChangeRms, info.damping], s * 5);
      }
      put(`optimizer.${p}.${name}.params`, params);
      put(`optimizer.${p}.${name}.info`, infos);
      opt.dispose();
    }

    // the models: every activation and loss on a 37–19–13–10 MLP (tile edges) and logistic
    // regression, n = 21; inputs and parameters scaled ×4 (exact) into the curved part of tanh,
    // sigmoid and the softmax
    if (models) {
      const modelInputs = new Inputs(p === 'f32' ? 909 : 1010);
      const n = 21;
      const x = modelInputs.fill(new T(n * 37));
      for (let i = 0; i < x.length; i++) x[i] *= 4;
      const labels = new Uint8Array(n);
      for (let i = 0; i < n; i++) labels[i] = modelInputs.nextU32() % 10;
      const nets: [string, InstanceType<ModelsLibrary['MLP']> | InstanceType<ModelsLibrary['LogisticRegression']>][] = [
        ['logistic', new models.LogisticRegression({ inputs: 37, classes: 10 })],
      ];
      for (const activation of ['tanh', 'relu', 'sigmoid'] as const) {
        for (const loss of ['softmax-cross-entropy', 'squared-error'] as const) {
          nets.push([`mlp.${activation}.${loss}`, new models.MLP({ sizes: [37, 19, 13, 10], activation, loss })]);
        }
      }
      for (const [name, model] of nets) {
        const params = modelInputs.fill(new T(model.size));
        for (let i = 0; i < params.length; i++) params[i] *= 4;
        const G = new T(n * model.size);
        put(`models.${p}.${name}.loss`, model.perExampleGradients(params, x, labels, n, G));
        put(`models.${p}.${name}.G`, G);
        const g = new T(model.size);
        const fb = model.forwardBackward(params, x, labels, n, { gradient: g });
        put(`models.${p}.${name}.gradient`, g);
        fb.layers.forEach((s, l) => put(`models.${p}.${name}.E${l}`, s.E));
        put(`models.${p}.${name}.logits`, model.logits(params, x, n));
        const ev = model.evaluate(params, x, labels, n);
        put(`models.${p}.${name}.evaluate`, new Float64Array([ev.loss, ev.accuracy]));
      }
    }
  }
  return out;
}
