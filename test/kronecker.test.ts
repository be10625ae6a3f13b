/**
 * The 'kronecker' and 'ekfac' stores (src/kronecker.ts), tested directly through the engine
 * against float64 references of the definitions: the factors Ā = (1/n)Σ āāᵀ (ā = [a; 1]) and
 * S = (1/n)Σ eeᵀ, the block S ⊗ Ā laid out as the layer kit lays out parameters (W row-major, then
 * b), the per-example gradients g_i = vec(e_i a_iᵀ) (then e_i), and dense float64 solves.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initSync } from '../src/index.js';
import { getEngine, type Engine } from '../src/engine.js';
import { EkfacStore, KroneckerStore, type LayerInWasm, type LayerShape } from '../src/kronecker.js';
import { refSolveSPD } from './reference.js';
import {
  addScaled,
  basisVector,
  eigenResidual,
  idx,
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
import { FLOAT_TYPES, Rng, SENTINEL, expectSameBits, randomMatrix, typeName, type FloatArray, type FloatArrayCtor } from './util.js';

/** A saved store state checked as EmpiricalFisher.load checks it (the store class's checkState). */
function checkKroneckerState(
  st: Record<string, unknown>,
  kind: 'kronecker' | 'ekfac',
  precision: 'f32' | 'f64',
  shapes: readonly LayerShape[],
): void {
  let d = 0;
  for (const l of shapes) d += l.outputs * l.inputs + (l.bias === false ? 0 : l.outputs);
  const spec = { d, precision, layers: shapes };
  if (kind === 'ekfac') EkfacStore.checkState(st, spec, 'state.store');
  else KroneckerStore.checkState(st, spec, 'state.store');
}

let e: Engine;
beforeAll(() => {
  initSync();
  e = getEngine();
});

// ---------------------------------------------------------------------------------------------
// driving a store through wasm memory

type Store = KroneckerStore | EkfacStore;

/** copies a batch into wasm memory (the store's precision), accumulates it, frees the copies */
function accumulate(store: Store, Type: FloatArrayCtor, shapes: readonly LayerShape[], b: Batch, keep: number, weight: number): void {
  const prec = typeName(Type);
  const bytes = Type.BYTES_PER_ELEMENT;
  const ptrs: number[] = [];
  try {
    const list: LayerInWasm[] = shapes.map((s, k) => {
      const ap = e.alloc(Math.max(b.n * s.inputs, 1) * bytes);
      ptrs.push(ap);
      const ep = e.alloc(b.n * s.outputs * bytes);
      ptrs.push(ep);
      e.put(prec, ap, b.A[k]);
      e.put(prec, ep, b.E[k]);
      return { ap, ep, inputs: s.inputs, outputs: s.outputs, bias: s.bias };
    });
    store.accumulateLayers(list, b.n, keep, weight);
  } finally {
    for (const p of ptrs) e.free(p);
  }
}

const PAD = 5;

/** runs f on a copy of x in wasm memory with PAD sentinels each side; checks them; returns the copy */
function inWasm(Type: FloatArrayCtor, x: ArrayLike<number>, f: (xp: number) => void): Float64Array {
  const prec = typeName(Type);
  const b = Type.BYTES_PER_ELEMENT;
  const len = x.length;
  const ptr = e.alloc((len + 2 * PAD) * b);
  try {
    const buf = new Type(len + 2 * PAD).fill(SENTINEL);
    buf.set(x, PAD);
    e.put(prec, ptr, buf);
    f(ptr + PAD * b);
    const out = e.view(prec, ptr, len + 2 * PAD);
    for (let i = 0; i < PAD; i++) {
      expect(out[i], 'sentinel before').toBe(SENTINEL);
      expect(out[PAD + len + i], 'sentinel after').toBe(SENTINEL);
    }
    return Float64Array.from(out.subarray(PAD, PAD + len));
  } finally {
    e.free(ptr);
  }
}

function solve(store: Store, Type: FloatArrayCtor, g: ArrayLike<number>): Float64Array {
  return inWasm(Type, g, (xp) => store.solve(xp));
}
function quadratic(store: Store, Type: FloatArrayCtor, v: ArrayLike<number>, c: number): number {
  let q = 0;
  inWasm(Type, v, (vp) => {
    q = store.quadratic(vp, c);
  });
  return q;
}
function toDense(store: Store, Type: FloatArrayCtor, d: number, c: number): Float64Array {
  return inWasm(Type, new Float64Array(d * d).fill(7), (op) => store.toDense(op, c));
}

/** the store's basis from save(): per layer Z_Ā (p × p, vectors in rows), Z_S (q × q) */
function basisOf(store: EkfacStore, shapes: readonly LayerShape[]): { ZA: Float64Array[]; ZS: Float64Array[]; D: Float64Array[] } {
  const st = store.save();
  const U = Float64Array.from(st.basis as FloatArray);
  const Dall = Float64Array.from(st.D as FloatArray);
  let aTotal = 0;
  for (const s of shapes) aTotal += pOf(s) ** 2;
  const ZA: Float64Array[] = [];
  const ZS: Float64Array[] = [];
  const D: Float64Array[] = [];
  let ao = 0;
  let so = 0;
  let vo = 0;
  for (const s of shapes) {
    const p = pOf(s);
    const q = s.outputs;
    ZA.push(U.slice(ao, ao + p * p));
    ZS.push(U.slice(aTotal + so, aTotal + so + q * q));
    D.push(Dall.slice(vo, vo + q * p));
    ao += p * p;
    so += q * q;
    vo += q * p;
  }
  return { ZA, ZS, D };
}




const tol = (Type: FloatArrayCtor, f64: number, f32: number) => (Type === Float64Array ? f64 : f32);

const SHAPE_SETS: LayerShape[][] = [
  [{ inputs: 1, outputs: 1, bias: true }],
  [{ inputs: 3, outputs: 2, bias: true }],
  [{ inputs: 4, outputs: 5, bias: false }],
  [
    { inputs: 5, outputs: 3, bias: true },
    { inputs: 3, outputs: 4, bias: false },
    { inputs: 4, outputs: 1, bias: true },
  ],
  [
    { inputs: 17, outputs: 4, bias: true },
    { inputs: 4, outputs: 9, bias: true },
  ],
  [{ inputs: 16, outputs: 5, bias: true }],
  [{ inputs: 33, outputs: 3, bias: false }],
];

// ---------------------------------------------------------------------------------------------
describe('kronecker store', () => {
  it('n = 1: S ⊗ Ā is the empirical Fisher block g gᵀ (toDense, layer kit layout)', () => {
    const rng = new Rng(1501);
    for (const Type of FLOAT_TYPES) {
      for (const shapes of SHAPE_SETS) {
        const d = sizeOf(shapes);
        const b = rounded(randomBatch(rng, shapes, 1), Type);
        const store = new KroneckerStore(e, typeName(Type), shapes, 'exact');
        try {
          accumulate(store, Type, shapes, b, 0, 1);
          const F = toDense(store, Type, d, 1);
          const g = refGradients(shapes, b);
          const ref = new Float64Array(d * d);
          const off = offsets(shapes);
          // g gᵀ restricted to the layer blocks (the store is block-diagonal across layers)
          shapes.forEach((s, k) => {
            const m = s.outputs * pOf(s);
            for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) ref[(off[k] + r) * d + off[k] + c] = g[off[k] + r] * g[off[k] + c];
          });
          const err = maxAbsDiff(F, ref) / maxAbs(ref);
          expect(err, `${typeName(Type)} ${JSON.stringify(shapes)}`).toBeLessThanOrEqual(tol(Type, 4e-16, 2e-7));
        } finally {
          store.free();
        }
      }
    }
  });

  for (const damping of ['exact', 'pi'] as const) {
    it(`'${damping}' solves equal a dense float64 solve of the damped blocks; toDense and quadratic match`, () => {
      const rng = new Rng(damping === 'exact' ? 1502 : 1503);
      for (const Type of FLOAT_TYPES) {
        for (const shapes of SHAPE_SETS) {
          for (const n of [1, 3, 40]) {
            for (const c of [1, 1.75]) {
              const d = sizeOf(shapes);
              const b = rounded(randomBatch(rng, shapes, n), Type);
              const store = new KroneckerStore(e, typeName(Type), shapes, damping);
              try {
                accumulate(store, Type, shapes, b, 0, 1 / n);
                const fac = shapes.map((s, k) => refFactors(s, b, k));
                const F = refKroneckerBlocks(
                  shapes,
                  fac.map((f) => scaled(f.S, c)),
                  fac.map((f) => scaled(f.Ab, c)),
                );
                const meanDiag = traceOf(F, d) / d;
                const lambda = 0.05 * meanDiag + 1e-3;
                const label = `${typeName(Type)} n=${n} c=${c} ${JSON.stringify(shapes)}`;
                // toDense and quadratic: c²·S ⊗ Ā
                const Fs = toDense(store, Type, d, c);
                expect(maxAbsDiff(Fs, F) / maxAbs(F), `toDense ${label}`).toBeLessThanOrEqual(tol(Type, 1e-14, 1e-6));
                const v = randomMatrix(rng, 1, d, Type);
                const qRef = matvec(F, d, v).reduce((t, y, i) => t + y * v[i], 0);
                const q = quadratic(store, Type, v, c);
                expect(Math.abs(q - qRef) / (maxAbs(F) * d * d), `quadratic ${label}`).toBeLessThanOrEqual(tol(Type, 1e-14, 1e-6));
                // the damped matrix of the definition
                let M: Float64Array;
                if (damping === 'exact') {
                  M = withShift(F, d, lambda);
                } else {
                  const root = Math.sqrt(lambda);
                  const X: Float64Array[] = [];
                  const Y: Float64Array[] = [];
                  shapes.forEach((s, k) => {
                    const p = pOf(s);
                    const qn = s.outputs;
                    const ta = traceOf(fac[k].Ab, p) / p;
                    const ts = traceOf(fac[k].S, qn) / qn;
                    const pi = Math.sqrt(ta / ts);
                    X.push(withShift(scaled(fac[k].S, c), qn, root / pi));
                    Y.push(withShift(scaled(fac[k].Ab, c), p, pi * root));
                  });
                  M = refKroneckerBlocks(shapes, X, Y);
                }
                expect(store.factor(c, lambda), `factor ${label}`).toBe(0);
                const g = randomMatrix(rng, 1, d, Type);
                const x = solve(store, Type, g);
                const ref = refSolveSPD(M, d, g, 1);
                expect(relErr(x, ref), `solve ${label}`).toBeLessThanOrEqual(tol(Type, 1e-10, 1e-4));
              } finally {
                store.free();
              }
            }
          }
        }
      }
    });
  }

  it("larger layers (across the kernels' tile and block sizes): residual of the damped system in factored form", () => {
    const rng = new Rng(1514);
    const shapes: LayerShape[] = [
      { inputs: 64, outputs: 65, bias: true },
      { inputs: 65, outputs: 33, bias: false },
      { inputs: 63, outputs: 4, bias: true },
    ];
    const d = sizeOf(shapes);
    const off = offsets(shapes);
    for (const Type of FLOAT_TYPES) {
      const b = rounded(randomBatch(rng, shapes, 70), Type);
      const fac = shapes.map((s, k) => refFactors(s, b, k));
      for (const kind of ['exact', 'pi', 'ekfac'] as const) {
        const store = kind === 'ekfac' ? new EkfacStore(e, typeName(Type), shapes) : new KroneckerStore(e, typeName(Type), shapes, kind);
        try {
          accumulate(store, Type, shapes, b, 0, 1 / b.n);
          const c = 1.25;
          const lambda = 0.05;
          expect(store.factor(c, lambda)).toBe(0);
          const g = randomMatrix(rng, 1, d, Type);
          const x = solve(store, Type, g);
          const basis = store instanceof EkfacStore ? basisOf(store, shapes) : undefined;
          // (M x − g) per layer, M applied as its definition: Σ X⊗Y or U diag Uᵀ, in float64
          let num = 0;
          let den = 0;
          shapes.forEach((s, k) => {
            const p = pOf(s);
            const q = s.outputs;
            const V = new Float64Array(q * p);
            for (let o = 0; o < q; o++) for (let i = 0; i < p; i++) V[o * p + i] = x[off[k] + idx(s, o, i)];
            const MV = new Float64Array(q * p);
            if (kind === 'ekfac') {
              const { ZA, ZS, D } = basis!;
              // T = Z_S V Z_Āᵀ, T ∘= cD + λ, MV = Z_Sᵀ T Z_Ā
              const T = new Float64Array(q * p);
              for (let s2 = 0; s2 < q; s2++)
                for (let a = 0; a < p; a++) {
                  let t = 0;
                  for (let o = 0; o < q; o++) for (let i = 0; i < p; i++) t += ZS[k][s2 * q + o] * V[o * p + i] * ZA[k][a * p + i];
                  T[s2 * p + a] = t * (c * D[k][s2 * p + a] + lambda);
                }
              for (let o = 0; o < q; o++)
                for (let i = 0; i < p; i++) {
                  let t = 0;
                  for (let s2 = 0; s2 < q; s2++) for (let a = 0; a < p; a++) t += ZS[k][s2 * q + o] * T[s2 * p + a] * ZA[k][a * p + i];
                  MV[o * p + i] = t;
                }
            } else {
              let X = scaled(fac[k].S, c);
              let Y = scaled(fac[k].Ab, c);
              let shift = lambda;
              if (kind === 'pi') {
                const pi = Math.sqrt(traceOf(fac[k].Ab, p) / p / (traceOf(fac[k].S, q) / q));
                X = withShift(X, q, Math.sqrt(lambda) / pi);
                Y = withShift(Y, p, pi * Math.sqrt(lambda));
                shift = 0;
              }
              // X V Y + shift·V
              const XV = new Float64Array(q * p);
              for (let o = 0; o < q; o++) for (let j = 0; j < q; j++) for (let i = 0; i < p; i++) XV[o * p + i] += X[o * q + j] * V[j * p + i];
              for (let o = 0; o < q; o++)
                for (let i = 0; i < p; i++) {
                  let t = shift * V[o * p + i];
                  for (let j = 0; j < p; j++) t += XV[o * p + j] * Y[j * p + i];
                  MV[o * p + i] = t;
                }
            }
            for (let o = 0; o < q; o++)
              for (let i = 0; i < p; i++) {
                const gi = g[off[k] + idx(s, o, i)];
                num += (MV[o * p + i] - gi) ** 2;
                den += gi * gi;
              }
          });
          expect(Math.sqrt(num / den), `${kind} ${typeName(Type)}`).toBeLessThanOrEqual(tol(Type, 1e-10, 1e-4));
        } finally {
          store.free();
        }
      }
    }
  });

  it('invariance: an invertible affine map of the inputs leaves the exact solve of the mean gradient unchanged', () => {
    const rng = new Rng(1504);
    for (const [inputs, outputs, n] of [
      [4, 3, 20],
      [7, 5, 31],
      [1, 2, 9],
    ]) {
      const s: LayerShape = { inputs, outputs, bias: true };
      const shapes = [s];
      const p = inputs + 1;
      const d = outputs * p;
      const b = randomBatch(rng, shapes, n);
      // ā' = T ā with T = [[M, t], [0, 1]], M = I + 0.3·R
      const T = new Float64Array(p * p);
      for (let i = 0; i < inputs; i++) {
        for (let j = 0; j < inputs; j++) T[i * p + j] = (i === j ? 1 : 0) + 0.3 * rng.normal();
        T[i * p + inputs] = rng.normal();
      }
      T[inputs * p + inputs] = 1;
      const A2 = new Float64Array(n * inputs);
      for (let i = 0; i < n; i++)
        for (let r = 0; r < inputs; r++) {
          let v = T[r * p + inputs];
          for (let j = 0; j < inputs; j++) v += T[r * p + j] * b.A[0][i * inputs + j];
          A2[i * inputs + r] = v;
        }
      const b2: Batch = { n, A: [A2], E: b.E };
      const stepOf = (batch: Batch): Float64Array => {
        const G = refGradients(shapes, batch);
        const mean = new Float64Array(d);
        for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += G[i * d + j] / n;
        const store = new KroneckerStore(e, 'f64', shapes, 'exact');
        try {
          accumulate(store, Float64Array, shapes, batch, 0, 1 / n);
          expect(store.factor(1, 1e-13)).toBe(0);
          return solve(store, Float64Array, mean);
        } finally {
          store.free();
        }
      };
      const x = stepOf(b);
      const x2 = stepOf(b2);
      // Δ' T = Δ, with Δ the q × p matrix of the step
      const mapped = new Float64Array(d);
      for (let o = 0; o < outputs; o++)
        for (let j = 0; j < p; j++) {
          let v = 0;
          for (let i = 0; i < p; i++) v += x2[idx(s, o, i)] * T[i * p + j];
          mapped[idx(s, o, j)] = v;
        }
      expect(relErr(mapped, x), `in=${inputs} out=${outputs} n=${n}`).toBeLessThanOrEqual(1e-8);
      // and it is not trivially so: the raw steps differ
      expect(relErr(x2, x)).toBeGreaterThan(1e-3);
    }
  });

  it('decay and bias correction: each factor is the running average, F = (c·S) ⊗ (c·Ā)', () => {
    const rng = new Rng(1505);
    const beta = 0.9;
    for (const Type of FLOAT_TYPES) {
      const shapes = SHAPE_SETS[3];
      const d = sizeOf(shapes);
      const store = new KroneckerStore(e, typeName(Type), shapes, 'exact');
      try {
        let runA: Float64Array[] = shapes.map((s) => new Float64Array(pOf(s) ** 2));
        let runS: Float64Array[] = shapes.map((s) => new Float64Array(s.outputs ** 2));
        let betaPow = 1;
        const ns = [3, 5, 2];
        ns.forEach((n, t) => {
          const b = rounded(randomBatch(rng, shapes, n), Type);
          accumulate(store, Type, shapes, b, t === 0 ? 0 : beta, (1 - beta) / n);
          const fac = shapes.map((s, k) => refFactors(s, b, k));
          runA = runA.map((a, k) => addScaled(a, t === 0 ? 0 : beta, fac[k].Ab, 1 - beta));
          runS = runS.map((a, k) => addScaled(a, t === 0 ? 0 : beta, fac[k].S, 1 - beta));
          betaPow *= beta;
        });
        const c = 1 / (1 - betaPow);
        const F = refKroneckerBlocks(
          shapes,
          runS.map((x) => scaled(x, c)),
          runA.map((x) => scaled(x, c)),
        );
        const Fs = toDense(store, Type, d, c);
        expect(maxAbsDiff(Fs, F) / maxAbs(F)).toBeLessThanOrEqual(tol(Type, 1e-14, 1e-6));
      } finally {
        store.free();
      }
    }
  });

  it('rescale(k) scales the S factors by 2^k exactly; reset zeroes; accumulate(G) is refused', () => {
    const rng = new Rng(1506);
    const shapes = SHAPE_SETS[4];
    const d = sizeOf(shapes);
    for (const Type of FLOAT_TYPES) {
      const store = new KroneckerStore(e, typeName(Type), shapes, 'exact');
      try {
        accumulate(store, Type, shapes, rounded(randomBatch(rng, shapes, 4), Type), 0, 0.25);
        const before = toDense(store, Type, d, 1);
        store.rescale(-6);
        const after = toDense(store, Type, d, 1);
        for (let i = 0; i < d * d; i++) expect(after[i]).toBe(before[i] / 64);
        store.reset();
        expect(maxAbs(toDense(store, Type, d, 1))).toBe(0);
        expect(() => store.accumulate()).toThrow(/updateLayers/);
      } finally {
        store.free();
      }
    }
  });

  it('factor reports failure (a pivot) on singular factors without damping', () => {
    const rng = new Rng(1507);
    const shapes = SHAPE_SETS[1];
    for (const damping of ['exact', 'pi'] as const) {
      const store = new KroneckerStore(e, 'f64', shapes, damping);
      try {
        accumulate(store, Float64Array, shapes, randomBatch(rng, shapes, 1), 0, 1);
        expect(store.factor(1, 0)).toBeGreaterThan(0);
        expect(store.factor(1, 0.1)).toBe(0);
      } finally {
        store.free();
      }
    }
  });

  for (const damping of ['exact', 'pi'] as const) {
    it(`save/load and factorState/restoreFactor round trips, bit for bit ('${damping}')`, () => {
      const rng = new Rng(1508);
      const shapes = SHAPE_SETS[3];
      const d = sizeOf(shapes);
      for (const Type of FLOAT_TYPES) {
        const prec = typeName(Type);
        const a = new KroneckerStore(e, prec, shapes, damping);
        const b = new KroneckerStore(e, prec, shapes, damping);
        try {
          accumulate(a, Type, shapes, randomBatch(rng, shapes, 6), 0, 0.1 / 6);
          accumulate(a, Type, shapes, randomBatch(rng, shapes, 4), 0.9, 0.1 / 4);
          expect(a.factor(1.3, 0.02)).toBe(0);
          const st = a.save();
          checkKroneckerState(st as Record<string, unknown>, 'kronecker', prec, shapes);
          b.load(structuredClone(st));
          b.restoreFactor(a.factorState());
          const st2 = b.save();
          expectSameBits(st2.A as FloatArray, st.A as FloatArray, 'A');
          expectSameBits(st2.S as FloatArray, st.S as FloatArray, 'S');
          const g = randomMatrix(rng, 1, d, Type);
          expectSameBits(new Type(solve(b, Type, g)), new Type(solve(a, Type, g)), 'restored factor solve');
          // continuing: the same bits after one more batch and a refactor
          const next = randomBatch(rng, shapes, 3);
          accumulate(a, Type, shapes, next, 0.9, 0.1 / 3);
          accumulate(b, Type, shapes, next, 0.9, 0.1 / 3);
          expect(a.factor(1.2, 0.03)).toBe(0);
          expect(b.factor(1.2, 0.03)).toBe(0);
          expectSameBits(new Type(solve(b, Type, g)), new Type(solve(a, Type, g)), 'continued solve');
        } finally {
          a.free();
          b.free();
        }
      }
    });
  }

  it('merge: each factor becomes a·X + b·X_other (S with the gradient-scale ratio)', () => {
    const rng = new Rng(1509);
    const shapes = SHAPE_SETS[3];
    const d = sizeOf(shapes);
    const x = new KroneckerStore(e, 'f64', shapes, 'exact');
    const y = new KroneckerStore(e, 'f64', shapes, 'exact');
    try {
      const bx = randomBatch(rng, shapes, 5);
      const by = randomBatch(rng, shapes, 3);
      accumulate(x, Float64Array, shapes, bx, 0, 1 / 5);
      accumulate(y, Float64Array, shapes, by, 0, 1 / 3);
      x.merge(y, 0.25, 0.75, 4);
      const fx = shapes.map((s, k) => refFactors(s, bx, k));
      const fy = shapes.map((s, k) => refFactors(s, by, k));
      const F = refKroneckerBlocks(
        shapes,
        fx.map((f, k) => addScaled(f.S, 0.25, fy[k].S, 3)),
        fx.map((f, k) => addScaled(f.Ab, 0.25, fy[k].Ab, 0.75)),
      );
      expect(maxAbsDiff(toDense(x, Float64Array, d, 1), F) / maxAbs(F)).toBeLessThanOrEqual(1e-14);
    } finally {
      x.free();
      y.free();
    }
  });

  it('checkKroneckerState names a bad field', () => {
    const shapes = SHAPE_SETS[1];
    const store = new KroneckerStore(e, 'f32', shapes, 'exact');
    try {
      const st = store.save() as Record<string, unknown>;
      expect(() => checkKroneckerState({ ...st, A: new Float64Array(9) }, 'kronecker', 'f32', shapes)).toThrow(TypeError);
      expect(() => checkKroneckerState({ ...st, S: new Float32Array(3) }, 'kronecker', 'f32', shapes)).toThrow(/state\.store\.S has length 3, expected 4/);
      const bad = new Float32Array(16);
      bad[5] = NaN;
      expect(() => checkKroneckerState({ ...st, A: bad }, 'kronecker', 'f32', shapes)).toThrow(/A\[5\] is NaN/);
    } finally {
      store.free();
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('ekfac store', () => {
  it('the diagonal from the data that built the basis is the EF block projected on that basis', () => {
    const rng = new Rng(1510);
    for (const Type of FLOAT_TYPES) {
      for (const shapes of SHAPE_SETS) {
        for (const n of [1, 6, 40]) {
          const d = sizeOf(shapes);
          const b = rounded(randomBatch(rng, shapes, n), Type);
          const store = new EkfacStore(e, typeName(Type), shapes);
          try {
            expect(store.basisComputed).toBe(false);
            accumulate(store, Type, shapes, b, 0, 1 / n);
            expect(store.basisComputed).toBe(true);
            const { ZA, ZS, D } = basisOf(store, shapes);
            const label = `${typeName(Type)} n=${n} ${JSON.stringify(shapes)}`;
            const G = refGradients(shapes, b);
            const off = offsets(shapes);
            shapes.forEach((sh, k) => {
              const p = pOf(sh);
              const q = sh.outputs;
              const fac = refFactors(sh, b, k);
              // the basis is the eigenbasis of the reference factors
              expect(eigenResidual(fac.Ab, ZA[k], p), `U_Ā ${label}`).toBeLessThanOrEqual(tol(Type, 1e-12, 1e-5));
              expect(eigenResidual(fac.S, ZS[k], q), `U_S ${label}`).toBeLessThanOrEqual(tol(Type, 1e-12, 1e-5));
              // D[s][a] = w_saᵀ F w_sa with F = (1/n) Σ g gᵀ (the exact EF block)
              let worst = 0;
              let scale = 0;
              for (let s = 0; s < q; s++)
                for (let a = 0; a < p; a++) {
                  const w = basisVector(sh, ZA[k], ZS[k], s, a);
                  let proj = 0;
                  for (let i = 0; i < n; i++) {
                    let t = 0;
                    for (let j = 0; j < w.length; j++) t += G[i * d + off[k] + j] * w[j];
                    proj += (t * t) / n;
                  }
                  worst = Math.max(worst, Math.abs(D[k][s * p + a] - proj));
                  scale = Math.max(scale, proj);
                }
              expect(worst / scale, `D ${label}`).toBeLessThanOrEqual(tol(Type, 1e-13, 1e-5));
            });
            // solve, toDense and quadratic of c·U diag(D) Uᵀ (+ λI)
            const c = 1.5;
            const M = refEkfacMatrix(shapes, ZA, ZS, D, c);
            const lambda = (0.05 * traceOf(M, d)) / d + 1e-3;
            expect(maxAbsDiff(toDense(store, Type, d, c), M) / maxAbs(M), `toDense ${label}`).toBeLessThanOrEqual(tol(Type, 1e-13, 1e-5));
            const v = randomMatrix(rng, 1, d, Type);
            const qRef = matvec(M, d, v).reduce((t, y, i) => t + y * v[i], 0);
            expect(Math.abs(quadratic(store, Type, v, c) - qRef) / (maxAbs(M) * d * d), `quadratic ${label}`).toBeLessThanOrEqual(
              tol(Type, 1e-14, 1e-6),
            );
            expect(store.factor(c, lambda)).toBe(0);
            const g = randomMatrix(rng, 1, d, Type);
            const x = solve(store, Type, g);
            expect(relErr(x, refSolveSPD(withShift(M, d, lambda), d, g, 1)), `solve ${label}`).toBeLessThanOrEqual(tol(Type, 1e-10, 1e-4));
          } finally {
            store.free();
          }
        }
      }
    }
  });

  it('running average: D goes on in a kept basis; refreshBasis() recomputes it at the next accumulate', () => {
    const rng = new Rng(1511);
    const beta = 0.8;
    const shapes = SHAPE_SETS[3];
    const d = sizeOf(shapes);
    const off = offsets(shapes);
    const store = new EkfacStore(e, 'f64', shapes);
    try {
      const batches = [4, 7, 5].map((n) => randomBatch(rng, shapes, n));
      /** the projection of a batch's EF block's diagonal on the given basis */
      const proj = (b: Batch, ZA: Float64Array[], ZS: Float64Array[]) => {
        const G = refGradients(shapes, b);
        return shapes.map((sh, k) => {
          const p = pOf(sh);
          const out = new Float64Array(sh.outputs * p);
          for (let s = 0; s < sh.outputs; s++)
            for (let a = 0; a < p; a++) {
              const w = basisVector(sh, ZA[k], ZS[k], s, a);
              for (let i = 0; i < b.n; i++) {
                let t = 0;
                for (let j = 0; j < w.length; j++) t += G[i * d + off[k] + j] * w[j];
                out[s * p + a] += (t * t) / b.n;
              }
            }
          return out;
        });
      };
      accumulate(store, Float64Array, shapes, batches[0], 0, (1 - beta) / batches[0].n);
      const first = basisOf(store, shapes);
      accumulate(store, Float64Array, shapes, batches[1], beta, (1 - beta) / batches[1].n);
      const second = basisOf(store, shapes);
      // the basis stayed; D is the running average of both batches in it
      for (let k = 0; k < shapes.length; k++) expectSameBits(second.ZA[k], first.ZA[k], 'kept basis');
      const p0 = proj(batches[0], first.ZA, first.ZS);
      const p1 = proj(batches[1], first.ZA, first.ZS);
      for (let k = 0; k < shapes.length; k++) {
        const ref = addScaled(p0[k], beta * (1 - beta), p1[k], 1 - beta);
        expect(maxAbsDiff(second.D[k], ref) / maxAbs(ref)).toBeLessThanOrEqual(1e-13);
      }
      // refresh: the basis of the running factors after batch 3, and D continues in it
      store.refreshBasis();
      accumulate(store, Float64Array, shapes, batches[2], beta, (1 - beta) / batches[2].n);
      const third = basisOf(store, shapes);
      shapes.forEach((sh, k) => {
        const p = pOf(sh);
        let Ab: Float64Array = new Float64Array(p * p);
        let S: Float64Array = new Float64Array(sh.outputs ** 2);
        batches.forEach((b, t) => {
          const f = refFactors(sh, b, k);
          Ab = addScaled(Ab, t === 0 ? 0 : beta, f.Ab, 1 - beta);
          S = addScaled(S, t === 0 ? 0 : beta, f.S, 1 - beta);
        });
        expect(eigenResidual(Ab, third.ZA[k], p)).toBeLessThanOrEqual(1e-12);
        expect(eigenResidual(S, third.ZS[k], sh.outputs)).toBeLessThanOrEqual(1e-12);
      });
      const p2 = proj(batches[2], third.ZA, third.ZS);
      for (let k = 0; k < shapes.length; k++) {
        const ref = addScaled(second.D[k], beta, p2[k], 1 - beta);
        expect(maxAbsDiff(third.D[k], ref) / maxAbs(ref)).toBeLessThanOrEqual(1e-13);
      }
    } finally {
      store.free();
    }
  });

  it('before any accumulate: the identity basis, F = 0, and the solve is g/λ', () => {
    const shapes = SHAPE_SETS[3];
    const d = sizeOf(shapes);
    const store = new EkfacStore(e, 'f64', shapes);
    try {
      expect(store.factor(0, 0.5)).toBe(0);
      const g = randomMatrix(new Rng(1512), 1, d, Float64Array);
      const x = solve(store, Float64Array, g);
      for (let i = 0; i < d; i++) expect(x[i]).toBe(g[i] / 0.5);
      expect(maxAbs(toDense(store, Float64Array, d, 1))).toBe(0);
      expect(store.factor(1, 0)).toBeGreaterThan(0);
    } finally {
      store.free();
    }
  });

  it('save/load, rescale, reset and merge', () => {
    const rng = new Rng(1513);
    const shapes = SHAPE_SETS[4];
    const d = sizeOf(shapes);
    for (const Type of FLOAT_TYPES) {
      const prec = typeName(Type);
      const a = new EkfacStore(e, prec, shapes);
      const b = new EkfacStore(e, prec, shapes);
      try {
        accumulate(a, Type, shapes, randomBatch(rng, shapes, 6), 0, 0.1 / 6);
        a.refreshBasis();
        accumulate(a, Type, shapes, randomBatch(rng, shapes, 3), 0.9, 0.1 / 3);
        a.refreshBasis();
        expect(a.factor(1.4, 0.01)).toBe(0);
        const st = a.save();
        checkKroneckerState(st as Record<string, unknown>, 'ekfac', prec, shapes);
        expect(() => checkKroneckerState({ ...st, basisDue: 2 }, 'ekfac', prec, shapes)).toThrow(/basisDue must be 0 or 1/);
        const negD = Float64Array.from(st.D as FloatArray);
        negD[2] = -1;
        expect(() => checkKroneckerState({ ...st, D: new Type(negD) }, 'ekfac', prec, shapes)).toThrow(/D\[2\] is -1/);
        b.load(structuredClone(st));
        b.restoreFactor(a.factorState());
        const st2 = b.save();
        for (const k of ['A', 'S', 'D', 'basis'] as const) expectSameBits(st2[k] as FloatArray, st[k] as FloatArray, k);
        expect(st2.basisDue).toBe(1);
        const g = randomMatrix(rng, 1, d, Type);
        expectSameBits(new Type(solve(b, Type, g)), new Type(solve(a, Type, g)), 'solve after load');
        // continuing: the pending refresh happens in both, the same bits
        const next = randomBatch(rng, shapes, 5);
        accumulate(a, Type, shapes, next, 0.9, 0.1 / 5);
        accumulate(b, Type, shapes, next, 0.9, 0.1 / 5);
        for (const s of [a, b]) expect(s.factor(1.3, 0.01)).toBe(0);
        expectSameBits(new Type(solve(b, Type, g)), new Type(solve(a, Type, g)), 'continued solve');
        // rescale: D and S scale by 2^k exactly
        const before = a.save();
        a.rescale(4);
        const after = a.save();
        const D0 = before.D as FloatArray;
        const D1 = after.D as FloatArray;
        for (let i = 0; i < D0.length; i++) expect(D1[i]).toBe(D0[i] * 16);
        expectSameBits(after.A as FloatArray, before.A as FloatArray, 'A unchanged by rescale');
        // merge of two stores sharing a basis: D becomes the weighted average, no refresh asked
        const m = new EkfacStore(e, prec, shapes);
        try {
          m.load(structuredClone(b.save()));
          const Db = b.save().D as FloatArray;
          const Dm = m.save().D as FloatArray;
          m.merge(b, 0.5, 0.25);
          const Dmerged = m.save().D as FloatArray;
          const want = Float64Array.from(Dm, (v, i) => 0.5 * v + 0.25 * Db[i]);
          expect(maxAbsDiff(Dmerged, want) / maxAbs(want)).toBeLessThanOrEqual(tol(Type, 1e-15, 1e-7));
          expect(m.save().basisDue).toBe(0);
          // a store with another basis: a refresh is asked for
          const other = new EkfacStore(e, prec, shapes);
          try {
            accumulate(other, Type, shapes, randomBatch(rng, shapes, 4), 0, 0.25);
            m.merge(other, 0.5, 0.5);
            expect(m.save().basisDue).toBe(1);
          } finally {
            other.free();
          }
        } finally {
          m.free();
        }
        a.reset();
        expect(a.basisComputed).toBe(false);
        expect(maxAbs(toDense(a, Type, d, 1))).toBe(0);
        expect(() => a.accumulate()).toThrow(/updateLayers/);
      } finally {
        a.free();
        b.free();
      }
    }
  });
});
