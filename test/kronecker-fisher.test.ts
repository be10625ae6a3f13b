/**
 * 'kronecker' and 'ekfac' through EmpiricalFisher and EmpiricalFisherOptimizer (issue 15): options,
 * updateLayers / stepLayers against float64 references of the definitions, the refusal of rows of
 * G, the running average with decay and bias correction, updateEvery, save/load, merge.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EmpiricalFisher, EmpiricalFisherOptimizer, initSync } from '../src/index.js';
import type { LayerShape } from '../src/kronecker.js';
import { refSolveSPD } from './reference.js';
import {
  addScaled,
  basisVector,
  eigenResidual,
  matvec,
  maxAbs,
  maxAbsDiff,
  offsets,
  pOf,
  randomBatch,
  refEkfacMatrix,
  refFactors,
  refGradients,
  refKroneckerBlocks,
  relErr,
  rounded,
  scaled,
  sizeOf,
  traceOf,
  withShift,
  type Batch,
} from './kronecker-reference.js';
import { FLOAT_TYPES, Rng, expectSameBits, randomMatrix, typeName, type FloatArray, type FloatArrayCtor } from './util.js';

beforeAll(() => {
  initSync();
});

const SHAPES: LayerShape[] = [
  { inputs: 5, outputs: 3, bias: true },
  { inputs: 3, outputs: 4, bias: false },
  { inputs: 4, outputs: 2, bias: true },
];
const D = sizeOf(SHAPES);

/** the layer kit's statistics of a batch, in Type */
function stats(b: Batch, Type: FloatArrayCtor, shapes: readonly LayerShape[] = SHAPES) {
  return shapes.map((s, k) => ({ A: new Type(b.A[k]), E: new Type(b.E[k]), inputs: s.inputs, outputs: s.outputs, bias: s.bias }));
}

function meanGradient(b: Batch, shapes: readonly LayerShape[] = SHAPES): Float64Array {
  const d = sizeOf(shapes);
  const G = refGradients(shapes, b);
  const g = new Float64Array(d);
  for (let i = 0; i < b.n; i++) for (let j = 0; j < d; j++) g[j] += G[i * d + j] / b.n;
  return g;
}

/** the running averages of both factors over the batches (weights as EmpiricalFisher uses them) */
function runningFactors(batches: Batch[], beta: number, shapes: readonly LayerShape[] = SHAPES) {
  let A = shapes.map((s) => new Float64Array(pOf(s) ** 2) as Float64Array);
  let S = shapes.map((s) => new Float64Array(s.outputs ** 2) as Float64Array);
  let betaPow = 1;
  batches.forEach((b, t) => {
    const keep = t === 0 || beta === 0 ? 0 : beta;
    const w = beta === 0 ? 1 : 1 - beta;
    const f = shapes.map((s, k) => refFactors(s, b, k));
    A = A.map((a, k) => addScaled(a, keep, f[k].Ab, w));
    S = S.map((x, k) => addScaled(x, keep, f[k].S, w));
    betaPow *= beta;
  });
  const c = beta === 0 ? 1 : 1 / (1 - betaPow);
  return { A: A.map((a) => scaled(a, c)), S: S.map((x) => scaled(x, c)) };
}

/** the damped matrix of 'exact' or 'pi' for bias-corrected factors */
function dampedMatrix(kind: 'exact' | 'pi', A: Float64Array[], S: Float64Array[], lambda: number, shapes: readonly LayerShape[] = SHAPES) {
  const d = sizeOf(shapes);
  if (kind === 'exact') return withShift(refKroneckerBlocks(shapes, S, A), d, lambda);
  const root = Math.sqrt(lambda);
  const X: Float64Array[] = [];
  const Y: Float64Array[] = [];
  shapes.forEach((s, k) => {
    const p = pOf(s);
    const pi = Math.sqrt(traceOf(A[k], p) / p / (traceOf(S[k], s.outputs) / s.outputs));
    X.push(withShift(S[k], s.outputs, root / pi));
    Y.push(withShift(A[k], p, pi * root));
  });
  return refKroneckerBlocks(shapes, X, Y);
}

/** per layer Z_Ā, Z_S and D of a saved 'ekfac' state */
function ekfacParts(state: ReturnType<EmpiricalFisher['save']>, shapes: readonly LayerShape[] = SHAPES) {
  const U = Float64Array.from(state.store.basis as FloatArray);
  const Dall = Float64Array.from(state.store.D as FloatArray);
  let aTotal = 0;
  for (const s of shapes) aTotal += pOf(s) ** 2;
  const ZA: Float64Array[] = [];
  const ZS: Float64Array[] = [];
  const Dl: Float64Array[] = [];
  let ao = 0;
  let so = 0;
  let vo = 0;
  for (const s of shapes) {
    const p = pOf(s);
    const q = s.outputs;
    ZA.push(U.slice(ao, ao + p * p));
    ZS.push(U.slice(aTotal + so, aTotal + so + q * q));
    Dl.push(Dall.slice(vo, vo + q * p));
    ao += p * p;
    so += q * q;
    vo += q * p;
  }
  return { ZA, ZS, D: Dl };
}

/** D of the batches in a fixed basis: Σ_t weight_t·(w_saᵀ g_i)² averaged, as a running average */
function projectedDiagonal(batches: Batch[], beta: number, ZA: Float64Array[], ZS: Float64Array[], shapes: readonly LayerShape[] = SHAPES): Float64Array[] {
  const d = sizeOf(shapes);
  const off = offsets(shapes);
  let out = shapes.map((s) => new Float64Array(s.outputs * pOf(s)) as Float64Array);
  batches.forEach((b, t) => {
    const G = refGradients(shapes, b);
    const keep = t === 0 || beta === 0 ? 0 : beta;
    const w = beta === 0 ? 1 : 1 - beta;
    out = out.map((prev, k) => {
      const sh = shapes[k];
      const p = pOf(sh);
      const cur = new Float64Array(sh.outputs * p);
      for (let s = 0; s < sh.outputs; s++)
        for (let a = 0; a < p; a++) {
          const v = basisVector(sh, ZA[k], ZS[k], s, a);
          for (let i = 0; i < b.n; i++) {
            let x = 0;
            for (let j = 0; j < v.length; j++) x += G[i * d + off[k] + j] * v[j];
            cur[s * p + a] += (x * x) / b.n;
          }
        }
      return addScaled(prev, keep, cur, w);
    });
  });
  return out;
}

describe("EmpiricalFisher with representation 'kronecker' / 'ekfac'", () => {
  it('n = 1, decay 0: toDense is the empirical Fisher block g gᵀ of each layer', () => {
    const rng = new Rng(1520);
    for (const Type of FLOAT_TYPES) {
      const b = rounded(randomBatch(rng, SHAPES, 1), Type);
      const F = new EmpiricalFisher(D, { precision: typeName(Type), representation: 'kronecker', layers: SHAPES });
      try {
        F.updateLayers(stats(b, Type), 1);
        const g = refGradients(SHAPES, b);
        const off = offsets(SHAPES);
        const ref = new Float64Array(D * D);
        SHAPES.forEach((s, k) => {
          const m = s.outputs * pOf(s);
          for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) ref[(off[k] + r) * D + off[k] + c] = g[off[k] + r] * g[off[k] + c];
        });
        expect(maxAbsDiff(F.toDense(), ref) / maxAbs(ref)).toBeLessThanOrEqual(Type === Float64Array ? 4e-16 : 2e-7);
      } finally {
        F.dispose();
      }
    }
  });

  for (const kind of ['exact', 'pi'] as const) {
    it(`'kronecker' (${kind}) with decay and bias correction: precondition, quadratic and toDense against the definition`, () => {
      const rng = new Rng(kind === 'exact' ? 1521 : 1522);
      for (const Type of FLOAT_TYPES) {
        const beta = 0.9;
        const F = new EmpiricalFisher(D, { precision: typeName(Type), representation: 'kronecker', layers: SHAPES, decay: beta, damping: 0.03, kroneckerDamping: kind });
        try {
          expect(F.kroneckerDamping).toBe(kind);
          const batches = [6, 3, 9].map((n) => rounded(randomBatch(rng, SHAPES, n), Type));
          for (const b of batches) F.updateLayers(stats(b, Type), b.n);
          const { A, S } = runningFactors(batches, beta);
          const Fref = refKroneckerBlocks(SHAPES, S, A);
          const tol = Type === Float64Array ? 1e-13 : 1e-5;
          expect(maxAbsDiff(F.toDense(), Fref) / maxAbs(Fref)).toBeLessThanOrEqual(tol);
          const v = randomMatrix(rng, 1, D, Type);
          const qRef = matvec(Fref, D, v).reduce((t, y, i) => t + y * v[i], 0);
          expect(Math.abs(F.quadratic(v) - qRef) / Math.abs(qRef)).toBeLessThanOrEqual(tol);
          const g = randomMatrix(rng, 1, D, Type);
          const x = F.precondition(g);
          expect(relErr(x, refSolveSPD(dampedMatrix(kind, A, S, 0.03), D, g, 1))).toBeLessThanOrEqual(Type === Float64Array ? 1e-10 : 1e-4);
          // a new λ alone ('exact': the eigendecompositions kept, the denominators recomputed)
          const made = F.factorizations;
          F.damping = 0.2;
          const x2 = F.precondition(g);
          expect(F.factorizations).toBe(made + 1);
          expect(relErr(x2, refSolveSPD(dampedMatrix(kind, A, S, 0.2), D, g, 1))).toBeLessThanOrEqual(Type === Float64Array ? 1e-10 : 1e-4);
        } finally {
          F.dispose();
        }
      }
    });
  }

  it("gradients far from 1 (the σ² scaling of E): the same solve as the definition's", () => {
    const rng = new Rng(1523);
    const b = randomBatch(rng, SHAPES, 7);
    const tiny: Batch = { n: b.n, A: b.A, E: b.E.map((e) => scaled(e, 2 ** -60)) };
    const F = new EmpiricalFisher(D, { precision: 'f64', representation: 'kronecker', layers: SHAPES, damping: 0.05 * 2 ** -120 });
    try {
      F.updateLayers(stats(tiny, Float64Array), tiny.n);
      const { A, S } = runningFactors([tiny], 0);
      const g = randomMatrix(rng, 1, D, Float64Array);
      const x = F.precondition(g);
      expect(relErr(x, refSolveSPD(dampedMatrix('exact', A, S, 0.05 * 2 ** -120), D, g, 1))).toBeLessThanOrEqual(1e-10);
    } finally {
      F.dispose();
    }
  });

  it("'ekfac': the basis is the factors' eigenbasis, D the projected EF diagonal; precondition solves c·U diag(D) Uᵀ + λI", () => {
    const rng = new Rng(1524);
    for (const Type of FLOAT_TYPES) {
      const beta = 0.8;
      const F = new EmpiricalFisher(D, { precision: typeName(Type), representation: 'ekfac', layers: SHAPES, decay: beta, damping: 0.02 });
      try {
        const b1 = rounded(randomBatch(rng, SHAPES, 8), Type);
        F.updateLayers(stats(b1, Type), b1.n);
        const s1 = F.save();
        const p1 = ekfacParts(s1);
        const f1 = runningFactors([b1], beta);
        SHAPES.forEach((s, k) => {
          expect(eigenResidual(f1.A[k], p1.ZA[k], pOf(s))).toBeLessThanOrEqual(Type === Float64Array ? 1e-12 : 1e-5);
          expect(eigenResidual(f1.S[k], p1.ZS[k], s.outputs)).toBeLessThanOrEqual(Type === Float64Array ? 1e-12 : 1e-5);
        });
        // no precondition in between: the basis stays, D goes on in it
        const b2 = rounded(randomBatch(rng, SHAPES, 5), Type);
        F.updateLayers(stats(b2, Type), b2.n);
        const p2 = ekfacParts(F.save());
        for (let k = 0; k < SHAPES.length; k++) expectSameBits(p2.ZA[k], p1.ZA[k], 'kept basis');
        const Dref = projectedDiagonal([b1, b2], beta, p1.ZA, p1.ZS);
        for (let k = 0; k < SHAPES.length; k++) {
          expect(maxAbsDiff(p2.D[k], Dref[k]) / maxAbs(Dref[k])).toBeLessThanOrEqual(Type === Float64Array ? 1e-13 : 1e-5);
        }
        const c = 1 / (1 - beta * beta);
        const M = refEkfacMatrix(SHAPES, p2.ZA, p2.ZS, p2.D, c);
        expect(maxAbsDiff(F.toDense(), M) / maxAbs(M)).toBeLessThanOrEqual(Type === Float64Array ? 1e-13 : 1e-5);
        const g = randomMatrix(rng, 1, D, Type);
        const x = F.precondition(g);
        expect(relErr(x, refSolveSPD(withShift(M, D, 0.02), D, g, 1))).toBeLessThanOrEqual(Type === Float64Array ? 1e-10 : 1e-4);
        // precondition asked for a new basis: the next update computes it from the factors with its batch
        const b3 = rounded(randomBatch(rng, SHAPES, 6), Type);
        F.updateLayers(stats(b3, Type), b3.n);
        const p3 = ekfacParts(F.save());
        const f3 = runningFactors([b1, b2, b3], beta);
        SHAPES.forEach((s, k) => {
          expect(eigenResidual(f3.A[k], p3.ZA[k], pOf(s))).toBeLessThanOrEqual(Type === Float64Array ? 1e-12 : 1e-5);
        });
      } finally {
        F.dispose();
      }
    }
  });

  it('options and inputs: clear errors, nothing changed', () => {
    const rng = new Rng(1525);
    const G = randomMatrix(rng, 2, D, Float32Array);
    for (const representation of ['kronecker', 'ekfac'] as const) {
      const F = new EmpiricalFisher(D, { representation, layers: SHAPES });
      try {
        expect(() => F.update(G, 2)).toThrow(/updateLayers\(list, n\)/);
        // same d, another split into layers
        const other: LayerShape[] = [
          { inputs: 5, outputs: 3, bias: true },
          { inputs: 2, outputs: 4, bias: true },
          { inputs: 4, outputs: 2, bias: true },
        ];
        expect(sizeOf(other)).toBe(D);
        const b = randomBatch(rng, other, 2);
        expect(() => F.updateLayers(stats(b, Float32Array, other), 2)).toThrow(/list\[1\] is a layer of 2 inputs, 4 outputs, bias true; options\.layers\[1\] has 3, 4, bias false/);
        expect(F.steps).toBe(0);
        expect(F.layers).toEqual(SHAPES);
      } finally {
        F.dispose();
      }
    }
    expect(() => new EmpiricalFisher(D, { representation: 'kronecker' })).toThrow(/needs options\.layers/);
    expect(() => new EmpiricalFisher(D + 1, { representation: 'kronecker', layers: SHAPES })).toThrow('options.layers describe 40 parameters (Σ outputs·inputs, + outputs with bias), expected d = 41');
    expect(() => new EmpiricalFisher(D, { representation: 'dense', layers: SHAPES })).toThrow(/only for representations 'kronecker' and 'ekfac'/);
    expect(() => new EmpiricalFisher(D, { representation: 'ekfac', layers: SHAPES, kroneckerDamping: 'pi' })).toThrow(RangeError);
    expect(() => new EmpiricalFisher(D, { representation: 'kronecker', layers: SHAPES, kroneckerDamping: 'x' as never })).toThrow(/'exact' or 'pi'/);
    expect(() => new EmpiricalFisher(D, { representation: 'kronecker', layers: [{ inputs: 0, outputs: 1 }] })).toThrow(/options\.layers\[0\]\.inputs/);
    expect(() => new EmpiricalFisher(D, { representation: 'kronecker', layers: 'x' as never })).toThrow(TypeError);
    expect(() => new EmpiricalFisher(D, { representation: 'kronecker', layers: SHAPES, maxBytes: 100 })).toThrow(/maxBytes/);
    const opt = new EmpiricalFisherOptimizer(new Float32Array(D), { representation: 'kronecker', layers: SHAPES });
    try {
      expect(() => opt.step(G, 2)).toThrow(/stepLayers\(list, n\)/);
      expect(opt.steps).toBe(0);
    } finally {
      opt.dispose();
    }
  });

  for (const representation of ['kronecker', 'ekfac'] as const) {
    it(`save/load round trip, bit for bit, and merge (${representation})`, () => {
      const rng = new Rng(representation === 'kronecker' ? 1526 : 1527);
      for (const Type of FLOAT_TYPES) {
        const options = { precision: typeName(Type), representation, layers: SHAPES, decay: 0.9, damping: 0.01 } as const;
        const F = new EmpiricalFisher(D, options);
        let G2: EmpiricalFisher | undefined;
        try {
          for (const n of [4, 6]) {
            const b = randomBatch(rng, SHAPES, n);
            F.updateLayers(stats(b, Type), n);
          }
          F.precondition(randomMatrix(rng, 1, D, Type));
          F.updateLayers(stats(randomBatch(rng, SHAPES, 3), Type), 3);
          const st = structuredClone(F.save());
          expect(st.layers).toEqual(SHAPES);
          G2 = EmpiricalFisher.load(st);
          const g = randomMatrix(rng, 1, D, Type);
          expectSameBits(G2.precondition(g), F.precondition(g), 'precondition after load');
          const b = randomBatch(rng, SHAPES, 5);
          F.updateLayers(stats(b, Type), 5);
          G2.updateLayers(stats(b, Type), 5);
          expectSameBits(G2.precondition(g), F.precondition(g), 'after one more update');
          expectSameBits(G2.toDense(), F.toDense(), 'toDense');
          // a damaged state names the field
          const bad = structuredClone(F.save());
          bad.layers = [{ inputs: 5, outputs: 3, bias: true }];
          expect(() => EmpiricalFisher.load(bad)).toThrow(/state\.layers describe/);
          const bad2 = structuredClone(F.save());
          (bad2.store.A as FloatArray)[3] = Number.NaN;
          expect(() => EmpiricalFisher.load(bad2)).toThrow(/state\.store\.A\[3\] is NaN/);
        } finally {
          F.dispose();
          G2?.dispose();
        }
      }
      // merge, decay 0: the factors averaged with the examples as weights
      const x = new EmpiricalFisher(D, { precision: 'f64', representation, layers: SHAPES });
      const y = new EmpiricalFisher(D, { precision: 'f64', representation, layers: SHAPES });
      try {
        const bx = randomBatch(rng, SHAPES, 3);
        const by = randomBatch(rng, SHAPES, 5);
        x.updateLayers(stats(bx, Float64Array), 3);
        y.updateLayers(stats(by, Float64Array), 5);
        x.merge(y);
        const fx = runningFactors([bx], 0);
        const fy = runningFactors([by], 0);
        const A = fx.A.map((a, k) => addScaled(a, 3 / 8, fy.A[k], 5 / 8));
        const S = fx.S.map((a, k) => addScaled(a, 3 / 8, fy.S[k], 5 / 8));
        const st = x.save();
        const sA = Float64Array.from(st.store.A as FloatArray);
        let o = 0;
        for (const a of A) {
          expect(maxAbsDiff(sA.subarray(o, o + a.length), a)).toBeLessThanOrEqual(1e-14 * maxAbs(a));
          o += a.length;
        }
        if (representation === 'kronecker') {
          const Fref = refKroneckerBlocks(SHAPES, S, A);
          expect(maxAbsDiff(x.toDense(), Fref) / maxAbs(Fref)).toBeLessThanOrEqual(1e-14);
        } else {
          // D averaged in x's basis; a refresh is asked for (y's basis differs)
          expect(st.store.basisDue).toBe(1);
        }
      } finally {
        x.dispose();
        y.dispose();
      }
    });
  }
});

describe("EmpiricalFisherOptimizer.stepLayers with 'kronecker' / 'ekfac'", () => {
  it("a step: δ = −η (F + λI)⁻¹ ḡ with the ε bound, and the predicted loss changes, against the definition ('kronecker' exact)", () => {
    const rng = new Rng(1530);
    const params = randomMatrix(rng, 1, D, Float64Array);
    const before = Float64Array.from(params);
    const opt = new EmpiricalFisherOptimizer(params, { representation: 'kronecker', layers: SHAPES, lr: 1, damping: 0.05, lossChangeBound: 1e-3 });
    try {
      const b = randomBatch(rng, SHAPES, 9);
      const info = opt.stepLayers(stats(b, Float64Array), b.n);
      const { A, S } = runningFactors([b], 0.95);
      const Fref = refKroneckerBlocks(SHAPES, S, A);
      const v = refSolveSPD(withShift(Fref, D, 0.05), D, meanGradient(b), 1);
      const q = matvec(Fref, D, v).reduce((t, y, i) => t + y * v[i], 0);
      const eta = Math.min(1, Math.sqrt(1e-3 / q));
      expect(eta).toBeLessThan(1);
      expect(Math.abs(info.rate - eta) / eta).toBeLessThanOrEqual(1e-10);
      const delta = params.map((p, i) => p - before[i]);
      expect(relErr(delta, scaled(v, -eta))).toBeLessThanOrEqual(1e-10);
      const G = refGradients(SHAPES, b);
      let sum = 0;
      for (let i = 0; i < b.n; i++) for (let j = 0; j < D; j++) sum += (G[i * D + j] * delta[j]) / b.n;
      expect(Math.abs(info.predictedLossChange - sum) / Math.abs(sum)).toBeLessThanOrEqual(1e-10);
    } finally {
      opt.dispose();
    }
  });

  // with n small against the widths (n = 1, 2: layers 1 and 2 of SHAPES, not layer 3) the step
  // takes the rotated mean gradient from the statistics, (E Z_Sᵀ)ᵀ(Ā Z_Āᵀ)/n, instead of from ḡ
  for (const kind of ['exact', 'pi', 'ekfac'] as const) {
    it(`n ≤ 2: the step from the statistics equals the definition (${kind}; gradients of order 1 and 2⁻⁶⁰)`, () => {
      const rng = new Rng(1540);
      for (const n of [1, 2]) {
        for (const scale of [1, 2 ** -60]) {
          const b0 = randomBatch(rng, SHAPES, n);
          const b: Batch = { n, A: b0.A, E: b0.E.map((e) => scaled(e, scale)) };
          const lambda = 0.05 * scale * scale;
          const params = randomMatrix(rng, 1, D, Float64Array);
          const before = Float64Array.from(params);
          const opt = new EmpiricalFisherOptimizer(params, {
            representation: kind === 'ekfac' ? 'ekfac' : 'kronecker',
            ...(kind === 'ekfac' ? {} : { kroneckerDamping: kind }),
            layers: SHAPES,
            lr: 1,
            damping: lambda,
          });
          try {
            opt.stepLayers(stats(b, Float64Array), n);
            const { A, S } = runningFactors([b], 0);
            let M: Float64Array;
            if (kind !== 'ekfac') M = dampedMatrix(kind, A, S, lambda);
            else {
              const parts = ekfacParts(opt.save().fisher);
              M = withShift(refEkfacMatrix(SHAPES, parts.ZA, parts.ZS, projectedDiagonal([b], 0, parts.ZA, parts.ZS), 1), D, lambda);
            }
            const v = refSolveSPD(M, D, meanGradient(b), 1);
            expect(relErr(params.map((x, i) => x - before[i]), scaled(v, -1)), `n = ${n}, scale ${scale}`).toBeLessThanOrEqual(1e-10);
          } finally {
            opt.dispose();
          }
        }
      }
    });
  }

  it("updateEvery: 'kronecker' reuses the factors between refreshes; 'ekfac' keeps its basis but uses the current diagonal", () => {
    const rng = new Rng(1531);
    const beta = 0.9;
    const lambda = 0.04;
    const batches = [5, 7, 4].map((n) => randomBatch(rng, SHAPES, n));
    // kronecker exact, updateEvery 2: step 2 solves with the factor of step 1
    {
      const params = new Float64Array(D);
      const opt = new EmpiricalFisherOptimizer(params, { representation: 'kronecker', layers: SHAPES, lr: 1, damping: lambda, decay: beta, updateEvery: 2 });
      try {
        opt.stepLayers(stats(batches[0], Float64Array), batches[0].n);
        const after1 = Float64Array.from(params);
        const info2 = opt.stepLayers(stats(batches[1], Float64Array), batches[1].n);
        expect(info2.refreshed).toBe(false);
        const f1 = runningFactors([batches[0]], beta);
        const v2 = refSolveSPD(withShift(refKroneckerBlocks(SHAPES, f1.S, f1.A), D, lambda), D, meanGradient(batches[1]), 1);
        expect(relErr(params.map((p, i) => p - after1[i]), scaled(v2, -1))).toBeLessThanOrEqual(1e-10);
        const after2 = Float64Array.from(params);
        const info3 = opt.stepLayers(stats(batches[2], Float64Array), batches[2].n);
        expect(info3.refreshed).toBe(true);
        const f3 = runningFactors(batches, beta);
        const v3 = refSolveSPD(withShift(refKroneckerBlocks(SHAPES, f3.S, f3.A), D, lambda), D, meanGradient(batches[2]), 1);
        expect(relErr(params.map((p, i) => p - after2[i]), scaled(v3, -1))).toBeLessThanOrEqual(1e-10);
      } finally {
        opt.dispose();
      }
    }
    // ekfac, updateEvery 2: step 2 in the basis of step 1 with D of both batches; step 3 a new basis
    {
      const params = new Float64Array(D);
      const opt = new EmpiricalFisherOptimizer(params, { representation: 'ekfac', layers: SHAPES, lr: 1, damping: lambda, decay: beta, updateEvery: 2 });
      try {
        opt.stepLayers(stats(batches[0], Float64Array), batches[0].n);
        const p1 = ekfacParts(opt.save().fisher);
        const after1 = Float64Array.from(params);
        opt.stepLayers(stats(batches[1], Float64Array), batches[1].n);
        const p2 = ekfacParts(opt.save().fisher);
        for (let k = 0; k < SHAPES.length; k++) expectSameBits(p2.ZA[k], p1.ZA[k], 'basis kept between refreshes');
        const Dref = projectedDiagonal(batches.slice(0, 2), beta, p1.ZA, p1.ZS);
        const M = refEkfacMatrix(SHAPES, p1.ZA, p1.ZS, Dref, 1 / (1 - beta * beta));
        const v2 = refSolveSPD(withShift(M, D, lambda), D, meanGradient(batches[1]), 1);
        expect(relErr(params.map((p, i) => p - after1[i]), scaled(v2, -1))).toBeLessThanOrEqual(1e-10);
        opt.stepLayers(stats(batches[2], Float64Array), batches[2].n);
        const p3 = ekfacParts(opt.save().fisher);
        const f3 = runningFactors(batches, beta);
        SHAPES.forEach((s, k) => expect(eigenResidual(f3.A[k], p3.ZA[k], pOf(s))).toBeLessThanOrEqual(1e-12));
      } finally {
        opt.dispose();
      }
    }
  });

  for (const representation of ['kronecker', 'ekfac'] as const) {
    it(`save/load between refreshes continues bit for bit (${representation}, momentum, updateEvery 3)`, () => {
      const rng = new Rng(1532);
      for (const Type of FLOAT_TYPES) {
        const options = { representation, layers: SHAPES, lr: 0.5, damping: 0.02, updateEvery: 3, momentum: 0.5, lossChangeBound: 0.1 } as const;
        const pa = randomMatrix(rng, 1, D, Type);
        const a = new EmpiricalFisherOptimizer(pa, options);
        let b: EmpiricalFisherOptimizer | undefined;
        try {
          const batches = [4, 6, 5, 3, 7, 2].map((n) => randomBatch(rng, SHAPES, n));
          for (const bt of batches.slice(0, 4)) a.stepLayers(stats(bt, Type), bt.n);
          const pb = new Type(pa);
          b = EmpiricalFisherOptimizer.load(structuredClone(a.save()), pb);
          for (const bt of batches.slice(4)) {
            const ia = a.stepLayers(stats(bt, Type), bt.n);
            const ib = b.stepLayers(stats(bt, Type), bt.n);
            expect(ib).toEqual(ia);
          }
          expectSameBits(pb, pa, 'params');
        } finally {
          a.dispose();
          b?.dispose();
        }
      }
    });
  }
});
