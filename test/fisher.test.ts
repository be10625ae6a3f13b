/**
 * EmpiricalFisher (dense): minibatch and running-average F against the float64 reference,
 * damping, lazy refactorisation, quadratic, toDense, reset, dispose, the accuracy bars of
 * DESIGN §4 and the jitter retry.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EmpiricalFisher, initSync, NotPositiveDefiniteError } from '../src/index.js';
import { frobenius, refQuadratic, RefRunningFisher, refSyrkAbs, trace } from './reference.js';
import {
  FLOAT_TYPES,
  Rng,
  expectFinite,
  expectSameBits,
  maxScaledError,
  randomMatrix,
  solveBar,
  solveResidual,
  typeName,
  unitRoundoff,
  type FloatArray,
  type FloatArrayCtor,
} from './util.js';

beforeAll(() => {
  initSync();
});

const types = FLOAT_TYPES.map((T) => [typeName(T), T] as const);

/** Asserts toDense() matches the reference entrywise within (n + 8·steps + 8)·u of its scale. */
function expectMatchesReference(F: EmpiricalFisher, ref: RefRunningFisher, maxN: number, what: string): void {
  const dense = F.toDense();
  const want = ref.dense();
  const scale = ref.scale();
  const u = unitRoundoff(F.precision);
  const k = (maxN + 8 * ref.steps + 8) * u;
  const r = maxScaledError(dense, want, Array.from(scale, (s) => s * k));
  expect(r, `${what}: toDense vs reference (worst error / bound)`).toBeLessThanOrEqual(1);
  expect(F.steps, `${what}: steps`).toBe(ref.steps);
  expect(F.examples, `${what}: examples`).toBe(ref.examples);
}

/** ‖(F + λI)x − g‖ / (‖F + λI‖_F·‖x‖ + ‖g‖), F full symmetric d × d. */
function backwardError(F: ArrayLike<number>, d: number, x: ArrayLike<number>, g: ArrayLike<number>, lambda: number): number {
  const A = Float64Array.from(F);
  for (let i = 0; i < d; i++) A[i * d + i] += lambda;
  const r = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = -g[i];
    for (let j = 0; j < d; j++) s += A[i * d + j] * x[j];
    r[i] = s;
  }
  return frobenius(r) / (frobenius(A) * frobenius(x) + frobenius(g));
}

/** Exactly rank-deficient G (n = 4 < d): F_ij = 1 when i ≡ j (mod 2), else 0; pivot 3 is exactly 0. */
function parityGradients(d: number, Type: FloatArrayCtor): FloatArray {
  const G = new Type(4 * d);
  for (let j = 0; j < d; j++) G[(j % 2) * d + j] = 2;
  return G;
}

describe.each(types)('EmpiricalFisher %s', (name, Type) => {
  const precision = typeName(Type);

  it('defaults and readable properties', () => {
    const F = new EmpiricalFisher(5);
    try {
      expect(F.d).toBe(5);
      expect(F.precision).toBe('f32');
      expect(F.damping).toBe(1e-3);
      expect(F.decay).toBe(0);
      expect(F.biasCorrection).toBe(true);
      expect(F.representation).toBe('dense');
      expect(F.steps).toBe(0);
      expect(F.examples).toBe(0);
      expect(F.factorizations).toBe(0);
      expect(F.disposed).toBe(false);
    } finally {
      F.dispose();
    }
    const F2 = new EmpiricalFisher(3, { precision, damping: 0.5, decay: 0.9, biasCorrection: false, representation: 'dense' });
    expect(F2.precision).toBe(precision);
    expect(F2.damping).toBe(0.5);
    expect(F2.decay).toBe(0.9);
    expect(F2.biasCorrection).toBe(false);
    expect(F2.representation).toBe('dense');
    expect(F2.toDense()).toBeInstanceOf(Type);
    F2.dispose();
  });

  it('before any update F = 0: toDense is zero, quadratic is 0, precondition is g / λ', () => {
    // λ = 0.25: √λ = 0.5 is exact, so the two triangular solves give exactly g / λ = 4g
    const F = new EmpiricalFisher(6, { precision, damping: 0.25 });
    expect(Array.from(F.toDense())).toEqual(new Array(36).fill(0));
    expect(F.quadratic(new Type([1, 2, 3, 4, 5, 6]))).toBe(0);
    const x = F.precondition(new Type([1, 2, 3, 4, 5, 6]));
    expect(Array.from(x)).toEqual([4, 8, 12, 16, 20, 24]);
    F.dispose();
  });

  it.each([1, 2, 5, 17, 64, 129])('d = %i, decay 0: F is (1/n)GᵀG of the latest minibatch only', (d) => {
    const rng = new Rng(1000 + d);
    const F = new EmpiricalFisher(d, { precision });
    const ref = new RefRunningFisher(d, 0);
    let maxN = 0;
    for (const n of [1, 3, d + 2]) {
      const G = randomMatrix(rng, n, d, Type);
      expect(F.update(G, n), 'update returns this').toBe(F);
      ref.update(G, n);
      maxN = Math.max(maxN, n);
      expectMatchesReference(F, ref, maxN, `d=${d} n=${n}`);
    }
    // the last batch alone defines F (bit for bit the same as a fresh object fed that batch)
    const G = randomMatrix(rng, 7, d, Type);
    F.update(G, 7);
    const fresh = new EmpiricalFisher(d, { precision });
    fresh.update(G, 7);
    expectSameBits(F.toDense(), fresh.toDense(), 'decay 0 forgets earlier batches');
    F.dispose();
    fresh.dispose();
  });

  it.each([
    [0.9, true],
    [0.9, false],
    [0.5, true],
    [0.99, true],
  ] as const)('decay %s, biasCorrection %s: running average over several steps', (decay, biasCorrection) => {
    const rng = new Rng(2000 + Math.round(decay * 100));
    for (const d of [3, 33, 70]) {
      const F = new EmpiricalFisher(d, { precision, decay, biasCorrection });
      const ref = new RefRunningFisher(d, decay, biasCorrection);
      let maxN = 0;
      for (let t = 1; t <= 6; t++) {
        const n = 1 + ((t * 7) % 11);
        // batches of different scales: the average must weight them, not just copy the last
        const G = randomMatrix(rng, n, d, Type);
        const s = t % 2 === 0 ? 3 : 0.5;
        for (let i = 0; i < G.length; i++) G[i] *= s;
        F.update(G, n);
        ref.update(G, n);
        maxN = Math.max(maxN, n);
        expectMatchesReference(F, ref, maxN, `d=${d} step ${t}`);
      }
      F.dispose();
    }
  });

  it('bias correction at step 1 gives the minibatch Fisher itself', () => {
    const rng = new Rng(3);
    const d = 9;
    const G = randomMatrix(rng, 4, d, Type);
    const F = new EmpiricalFisher(d, { precision, decay: 0.95 });
    F.update(G, 4);
    const ref = new RefRunningFisher(d, 0);
    ref.update(G, 4);
    expectMatchesReference(F, ref, 4, 'β = 0.95, t = 1');
    F.dispose();
  });

  it('G of the other float type is converted (same bits as converting it first)', () => {
    const Other = Type === Float32Array ? Float64Array : Float32Array;
    const rng = new Rng(4);
    const d = 11;
    const G = randomMatrix(rng, 5, d, Other);
    const A = new EmpiricalFisher(d, { precision, decay: 0.5 });
    const B = new EmpiricalFisher(d, { precision, decay: 0.5 });
    A.update(G, 5);
    B.update(Type.from(G), 5);
    expectSameBits(A.toDense(), B.toDense(), 'toDense');
    const g = randomMatrix(rng, 1, d, Other);
    expectSameBits(A.precondition(g), B.precondition(Type.from(g)), 'precondition');
    expect(A.precondition(g)).toBeInstanceOf(Type);
    expect(A.quadratic(g)).toBe(B.quadratic(Type.from(g)));
    A.dispose();
    B.dispose();
  });

  /*
   * DESIGN §4: ‖(F+λI)x − g‖/‖g‖ ≤ 1e-4 (f32), 1e-10 (f64) for λ ≥ 1e-3·trace(F)/d.
   *
   * For f32 this bar is attainable only when F has full rank (n ≥ d): with n < d the eigenvalues
   * of F + λI range from λ to ≈ 1000·d/n·λ, and the residual of the *exactly rounded* f32 solution,
   * u·‖A‖‖x‖/‖g‖, is already 1.0e-4 (d = 7, n = 1) to 1.5e-4 (d = 513, n = 16): no f32 result can
   * meet it. So f32 with n < d is held to the bar a backward stable solve does meet, a normwise
   * backward error ‖r‖ / (‖F+λI‖_F‖x‖ + ‖g‖) ≤ 10·d·u; f64 and f32 with n ≥ d to the DESIGN bar.
   */
  it.each([1, 7, 33, 64, 129, 200])('d = %i: precondition meets the DESIGN §4 bar at λ = 1e-3·trace(F)/d', (d) => {
    const rng = new Rng(4000 + d);
    for (const n of [Math.max(1, d >> 2), 2 * d + 1]) {
      const F = new EmpiricalFisher(d, { precision });
      const G = randomMatrix(rng, n, d, Type);
      F.update(G, n);
      const dense = F.toDense();
      const lambda = (1e-3 * trace(dense, d)) / d;
      F.damping = lambda;
      for (let k = 0; k < 3; k++) {
        const g = randomMatrix(rng, 1, d, Type);
        const x = F.precondition(g);
        expect(x).toBeInstanceOf(Type);
        expect(x.length).toBe(d);
        if (Type === Float32Array && n < d) {
          const eta = backwardError(dense, d, x, g, lambda);
          expect(eta, `d=${d} n=${n}: normwise backward error`).toBeLessThanOrEqual(10 * d * unitRoundoff(Type));
        } else {
          const res = solveResidual(dense, d, x, g, 1, lambda);
          expect(res, `d=${d} n=${n} λ=${lambda}: ‖(F+λI)x − g‖/‖g‖`).toBeLessThanOrEqual(solveBar(Type));
        }
      }
      expect(F.effectiveDamping).toBe(lambda);
      F.dispose();
    }
  });

  it('precondition with out, and out aliasing g', () => {
    const rng = new Rng(5);
    const d = 20;
    const F = new EmpiricalFisher(d, { precision, damping: 0.1 });
    F.update(randomMatrix(rng, 8, d, Type), 8);
    const g = randomMatrix(rng, 1, d, Type);
    const x = F.precondition(g);
    const out = new Type(d).fill(NaN);
    expect(F.precondition(g, out)).toBe(out);
    expectSameBits(out, x, 'out');
    const g2 = g.slice();
    expect(F.precondition(g2, g2)).toBe(g2);
    expectSameBits(g2, x, 'out = g');
    F.dispose();
  });

  it('damping setter: readable, changes the solve, validated', () => {
    const rng = new Rng(6);
    const d = 15;
    const F = new EmpiricalFisher(d, { precision, damping: 1 });
    F.update(randomMatrix(rng, 6, d, Type), 6);
    const dense = F.toDense();
    const g = randomMatrix(rng, 1, d, Type);
    const x1 = F.precondition(g);
    expect(solveResidual(dense, d, x1, g, 1, 1)).toBeLessThanOrEqual(solveBar(Type));
    F.damping = 0.25;
    expect(F.damping).toBe(0.25);
    const x2 = F.precondition(g);
    expect(solveResidual(dense, d, x2, g, 1, 0.25)).toBeLessThanOrEqual(solveBar(Type));
    expect(F.effectiveDamping).toBe(0.25);
    F.damping = 0;
    expect(F.damping).toBe(0);
    F.damping = 1;
    expectSameBits(F.precondition(g), x1, 'back to λ = 1');
    F.dispose();
  });

  it('lazy refactorisation: factorizations changes only when F or λ changed', () => {
    const rng = new Rng(7);
    const d = 12;
    const F = new EmpiricalFisher(d, { precision, damping: 0.1, decay: 0.5 });
    const g = randomMatrix(rng, 1, d, Type);
    expect(F.factorizations).toBe(0);
    F.update(randomMatrix(rng, 5, d, Type), 5);
    expect(F.factorizations, 'update alone does not factor').toBe(0);
    const x = F.precondition(g);
    expect(F.factorizations).toBe(1);
    expectSameBits(F.precondition(g), x, 'second solve');
    F.precondition(randomMatrix(rng, 1, d, Type));
    F.quadratic(g);
    F.toDense();
    expect(F.factorizations, 'solves, quadratic and toDense reuse the factor').toBe(1);
    F.damping = 0.1; // the same value: nothing changed
    F.precondition(g);
    expect(F.factorizations, 'same damping').toBe(1);
    F.damping = 0.2;
    expect(F.factorizations, 'setting damping is lazy').toBe(1);
    F.precondition(g);
    expect(F.factorizations).toBe(2);
    F.precondition(g);
    expect(F.factorizations).toBe(2);
    F.update(randomMatrix(rng, 3, d, Type), 3);
    expect(F.factorizations).toBe(2);
    F.precondition(g);
    expect(F.factorizations).toBe(3);
    // a rejected update changes nothing, so the factor stays valid
    const bad = randomMatrix(rng, 2, d, Type);
    bad[5] = NaN;
    expect(() => F.update(bad, 2)).toThrow(RangeError);
    F.precondition(g);
    expect(F.factorizations, 'rejected update').toBe(3);
    F.reset();
    F.precondition(g);
    expect(F.factorizations, 'after reset').toBe(4);
    F.dispose();
  });

  it('quadratic: vᵀFv against the reference (no damping)', () => {
    const rng = new Rng(8);
    for (const [d, decay] of [[1, 0], [6, 0], [33, 0.9], [100, 0.5]] as const) {
      const F = new EmpiricalFisher(d, { precision, damping: 3, decay });
      const ref = new RefRunningFisher(d, decay);
      for (let t = 0; t < 3; t++) {
        const G = randomMatrix(rng, 4 + t, d, Type);
        F.update(G, 4 + t);
        ref.update(G, 4 + t);
      }
      const v = randomMatrix(rng, 1, d, Type);
      const q = F.quadratic(v);
      expect(typeof q).toBe('number');
      const want = refQuadratic(ref.dense(), d, v);
      // scale: |v|ᵀ |F|-scale |v|
      const absV = Float64Array.from(v, Math.abs);
      const s = refQuadratic(ref.scale(), d, absV);
      const u = unitRoundoff(Type);
      expect(Math.abs(q - want), `d=${d} decay=${decay}`).toBeLessThanOrEqual(s * (2 * d + 40) * u);
      expect(q).toBeGreaterThanOrEqual(0);
      F.dispose();
    }
  });

  it('toDense: full symmetric, out returned, independent of later updates', () => {
    const rng = new Rng(9);
    const d = 10;
    const F = new EmpiricalFisher(d, { precision });
    F.update(randomMatrix(rng, 3, d, Type), 3);
    const D = F.toDense();
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) expect(D[i * d + j]).toBe(D[j * d + i]);
    const out = new Type(d * d).fill(NaN);
    expect(F.toDense(out)).toBe(out);
    expectSameBits(out, D, 'toDense(out)');
    const copy = D.slice();
    F.update(randomMatrix(rng, 3, d, Type), 3);
    expectSameBits(D, copy, 'an earlier toDense result is a copy');
    F.dispose();
  });

  it('reset: F = 0, steps = examples = 0; the running average restarts (bias correction from t = 1)', () => {
    const rng = new Rng(10);
    const d = 14;
    const F = new EmpiricalFisher(d, { precision, decay: 0.8, damping: 0.25 });
    for (let t = 0; t < 3; t++) F.update(randomMatrix(rng, 5, d, Type), 5);
    const g = randomMatrix(rng, 1, d, Type);
    F.precondition(g);
    F.reset();
    expect(F.steps).toBe(0);
    expect(F.examples).toBe(0);
    expect(Array.from(F.toDense())).toEqual(new Array(d * d).fill(0));
    const x = F.precondition(g);
    const want = Array.from(g, (v) => 4 * v); // λ = 0.25, √λ exact
    expect(Array.from(x)).toEqual(want);
    const G = randomMatrix(rng, 6, d, Type);
    F.update(G, 6);
    const fresh = new EmpiricalFisher(d, { precision, decay: 0.8, damping: 0.25 });
    fresh.update(G, 6);
    expectSameBits(F.toDense(), fresh.toDense(), 'after reset = fresh');
    expectSameBits(F.precondition(g), fresh.precondition(g), 'precondition after reset = fresh');
    expect(F.steps).toBe(1);
    expect(F.examples).toBe(6);
    F.dispose();
    fresh.dispose();
  });

  it('dispose and [Symbol.dispose]: use afterwards throws "disposed"; a second dispose is a no-op', () => {
    for (const how of ['dispose', 'symbol'] as const) {
      const F = new EmpiricalFisher(4, { precision });
      F.update(new Type(8).fill(1), 2);
      if (how === 'dispose') F.dispose();
      else F[Symbol.dispose]();
      expect(F.disposed).toBe(true);
      const g = new Type(4).fill(1);
      expect(() => F.update(new Type(4), 1), how).toThrow(/disposed/);
      expect(() => F.precondition(g), how).toThrow(/disposed/);
      expect(() => F.quadratic(g), how).toThrow(/disposed/);
      expect(() => F.toDense(), how).toThrow(/disposed/);
      expect(() => F.reset(), how).toThrow(/disposed/);
      expect(() => {
        F.damping = 2;
      }, how).toThrow(/disposed/);
      expect(() => F.dispose()).not.toThrow();
      expect(() => F[Symbol.dispose]()).not.toThrow();
    }
  });

  it('jitter: λ = 0 with an exactly rank-deficient F (n < d) retries and succeeds', () => {
    for (const d of [3, 10, 33, 130]) {
      const F = new EmpiricalFisher(d, { precision, damping: 0 });
      F.update(parityGradients(d, Type), 4);
      const rng = new Rng(d);
      const g = randomMatrix(rng, 1, d, Type);
      const x = F.precondition(g);
      expectFinite(x, `d=${d}`);
      expect(F.effectiveDamping, `d=${d}`).toBeGreaterThan(0);
      expect(F.damping, 'damping itself is unchanged').toBe(0);
      expect(F.factorizations, 'the failed attempt and the retry').toBeGreaterThanOrEqual(2);
      // mean(diag F) = 1: the first jitter is 1e-6 (f32) / 1e-8 (f64), at most ×100 after 3 tries
      const j0 = Type === Float32Array ? 1e-6 : 1e-8;
      expect(F.effectiveDamping).toBeGreaterThanOrEqual(j0 * 0.999);
      expect(F.effectiveDamping).toBeLessThanOrEqual(j0 * 100 * 1.001);
      // x solves (F + effectiveDamping·I) x = g
      // (condition ≈ d / jitter: judge by the normwise backward error, not the relative residual)
      const eta = backwardError(F.toDense(), d, x, g, F.effectiveDamping);
      expect(eta, `d=${d} backward error with the jittered damping`).toBeLessThanOrEqual(10 * d * unitRoundoff(Type));
      // the retry is remembered: no new factorisation for the next solve
      const k = F.factorizations;
      F.precondition(g);
      expect(F.factorizations).toBe(k);
      F.dispose();
    }
  });

  it('jitter is not sticky: once F has full rank, the next factorisation uses λ itself', () => {
    const d = 10;
    const F = new EmpiricalFisher(d, { precision, damping: 0 });
    F.update(parityGradients(d, Type), 4);
    const g = new Type(d).fill(1);
    F.precondition(g);
    expect(F.effectiveDamping).toBeGreaterThan(0);
    const rng = new Rng(15);
    F.update(randomMatrix(rng, 3 * d, d, Type), 3 * d);
    const k = F.factorizations;
    const x = F.precondition(g);
    expect(F.factorizations, 'one factorisation, no retry').toBe(k + 1);
    expect(F.effectiveDamping).toBe(0);
    expect(solveResidual(F.toDense(), d, x, g, 1, 0)).toBeLessThanOrEqual(Type === Float32Array ? 1e-3 : 1e-9);
    F.dispose();
  });

  it('jitter: λ = 0 with random rank-deficient F (n < d): the solve succeeds and is finite', () => {
    const rng = new Rng(11);
    for (const [n, d] of [[1, 8], [2, 20], [5, 64]]) {
      const F = new EmpiricalFisher(d, { precision, damping: 0 });
      F.update(randomMatrix(rng, n, d, Type), n);
      const x = F.precondition(randomMatrix(rng, 1, d, Type));
      expectFinite(x, `n=${n} d=${d}`);
      expect(F.effectiveDamping, `n=${n} d=${d}`).toBeGreaterThanOrEqual(0);
      if (F.factorizations > 1) expect(F.effectiveDamping).toBeGreaterThan(0);
      F.dispose();
    }
  });

  it('jitter cannot help F = 0 with λ = 0: NotPositiveDefiniteError, nothing accumulated is lost', () => {
    const d = 6;
    const F = new EmpiricalFisher(d, { precision, damping: 0 });
    const g = new Type(d).fill(1);
    // before any update F = 0
    expect(() => F.precondition(g)).toThrow(NotPositiveDefiniteError);
    // a batch of zero gradients: F = 0 again
    F.update(new Type(3 * d), 3);
    let err: unknown;
    try {
      F.precondition(g);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotPositiveDefiniteError);
    expect((err as NotPositiveDefiniteError).pivot).toBe(1);
    expect(F.steps).toBe(1);
    expect(F.examples).toBe(3);
    // a positive damping fixes it
    F.damping = 4; // √4 exact: x = g / 4 exactly
    expect(Array.from(F.precondition(g))).toEqual(new Array(d).fill(0.25));
    expect(F.effectiveDamping).toBe(4);
    F.dispose();
  });

  it('a large d (513) stays accurate in a few steps', () => {
    const rng = new Rng(12);
    const d = 513;
    const F = new EmpiricalFisher(d, { precision, decay: 0.9 });
    const ref = new RefRunningFisher(d, 0.9);
    for (let t = 0; t < 2; t++) {
      const G = randomMatrix(rng, 16, d, Type);
      F.update(G, 16);
      ref.update(G, 16);
    }
    expectMatchesReference(F, ref, 16, 'd = 513');
    const dense = F.toDense();
    const lambda = (1e-3 * trace(dense, d)) / d;
    F.damping = lambda;
    const g = randomMatrix(rng, 1, d, Type);
    const x = F.precondition(g);
    // n = 16 < d: for f32 the DESIGN bar is out of reach of any f32 result (see above)
    if (Type === Float32Array) {
      expect(backwardError(dense, d, x, g, lambda)).toBeLessThanOrEqual(10 * d * unitRoundoff(Type));
    } else {
      expect(solveResidual(dense, d, x, g, 1, lambda)).toBeLessThanOrEqual(solveBar(Type));
    }
    F.dispose();
  });

  it('d = 513 with n > d: the f32 DESIGN bar holds', () => {
    const rng = new Rng(14);
    const d = 513;
    const F = new EmpiricalFisher(d, { precision });
    F.update(randomMatrix(rng, 600, d, Type), 600);
    const dense = F.toDense();
    const lambda = (1e-3 * trace(dense, d)) / d;
    F.damping = lambda;
    const g = randomMatrix(rng, 1, d, Type);
    expect(solveResidual(dense, d, F.precondition(g), g, 1, lambda)).toBeLessThanOrEqual(solveBar(Type));
    F.dispose();
  });

  it(`${name}: F is positive semidefinite-shaped: diag ≥ 0 and |F_ij| ≤ scale`, () => {
    const rng = new Rng(13);
    const d = 8;
    const G = randomMatrix(rng, 5, d, Type);
    const F = new EmpiricalFisher(d, { precision });
    F.update(G, 5);
    const D = F.toDense();
    const S = refSyrkAbs(G, 5, d);
    for (let i = 0; i < d; i++) expect(D[i * d + i]).toBeGreaterThan(0);
    for (let t = 0; t < d * d; t++) expect(Math.abs(D[t])).toBeLessThanOrEqual((S[t] / 5) * (1 + 1e-5));
    expect(frobenius(D)).toBeGreaterThan(0);
    F.dispose();
  });
});
