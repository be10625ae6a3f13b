/**
 * The scalable representations of F (issue 3): 'lowrank' (Woodbury), 'blockdiag', 'diag', and
 * 'auto', against float64 references; save/load and merge for every representation.
 *
 * Accuracy (DESIGN §4): the relative residual ‖(F + λI)x − g‖/‖g‖ of the damped system, computed
 * against the float64 reference F, is ≤ 1e-10 in f64 and ≤ 1e-4 in f32 for λ ≥ 1e-3·trace(F)/d.
 * In f32 that bar is reachable only when F has full rank: with fewer rows than parameters the
 * eigenvalues of F + λI span λ … ≈ 1000·(d/r)·λ and even the exactly rounded f32 solution misses
 * 1e-4 (test/fisher.test.ts shows the dense path does too). There f32 is held to the bar a
 * backward-stable solve meets, a normwise backward error ≤ 10·d·u, as the dense tests do.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EmpiricalFisher, initSync, memoryInfo, NotPositiveDefiniteError } from '../src/index.js';
import type { EmpiricalFisherOptions } from '../src/index.js';
import { frobenius, frobeniusDiff, refEigenvaluesJacobi, refQuadratic, RefRunningFisher, trace } from './reference.js';
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
import {
  RefLowRank,
  blockMask,
  concatRows,
  insideRows,
  lowRankBackwardError,
  lowRankResidual,
  lowRankTrace,
  orthogonalToRows,
  relErr,
  woodbury64,
} from './helpers-scale.js';

beforeAll(() => {
  initSync();
});

const types = FLOAT_TYPES.map((T) => [typeName(T), T] as const);

/** The right-hand side as the Fisher sees it: rounded once to its precision. */
function asPrecision(g: ArrayLike<number>, Type: FloatArrayCtor): FloatArray {
  return Type.from(g as ArrayLike<number>);
}

/** ‖(F + λI)x − g‖ / (‖F + λI‖_F·‖x‖ + ‖g‖) for a full symmetric d × d F. */
function denseBackwardError(F: ArrayLike<number>, d: number, x: ArrayLike<number>, g: ArrayLike<number>, lambda: number): number {
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

/**
 * Asserts x solves (F + λI)x = g to the DESIGN §4 bar (see the file comment): the relative
 * residual for f64, and for f32 when F has full rank; else the normwise backward error ≤ 10·d·u.
 */
function expectSolves(
  F: ArrayLike<number>,
  d: number,
  x: ArrayLike<number>,
  g: ArrayLike<number>,
  lambda: number,
  Type: FloatArrayCtor,
  fullRank: boolean,
  what: string,
): void {
  expectFinite(x, `${what}: x`);
  if (Type === Float64Array || fullRank) {
    const res = solveResidual(F, d, x, g, 1, lambda);
    expect(res, `${what}: ‖(F+λI)x − g‖/‖g‖`).toBeLessThanOrEqual(solveBar(Type));
  } else {
    const eta = denseBackwardError(F, d, x, g, lambda);
    expect(eta, `${what}: normwise backward error`).toBeLessThanOrEqual(10 * d * unitRoundoff(Type));
  }
}

/** toDense() against a float64 F: every entry within k·u of the largest |F_ij| (a normwise check). */
function expectDenseClose(got: ArrayLike<number>, want: ArrayLike<number>, Type: FloatArrayCtor, k: number, what: string): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  const err = maxScaledError(got, want, scale * k * unitRoundoff(Type));
  expect(err, `${what}: max |F − F_ref| / (${k}·u·max|F_ref|)`).toBeLessThanOrEqual(1);
}

// ---------------------------------------------------------------------------------------------
/**
 * Asserts x solves (UᵀU + λI)x = g (F = UᵀU, the float64 reference rows U, r × d) to the DESIGN §4
 * bar where an f32 answer can meet it: the relative residual is ≤ 1e-10 in f64; in f32 it is
 * ≤ max(1e-4, 100 × the residual of the correctly rounded answer) — the exact solution (float64
 * Woodbury) rounded once to f32. With r < d the rounded answer itself misses 1e-4 for a generic g
 * (see the file comment); a backward-stable solve (the dense Cholesky) stays within ≈ 4–30× of it
 * (d = 50 … 2000). For g inside the span of the rows the rounded answer's residual is ≈ 1e-8 and
 * the bar is the DESIGN's 1e-4.
 */
function expectLowRankSolves(
  U: Float64Array,
  r: number,
  d: number,
  x: ArrayLike<number>,
  g: ArrayLike<number>,
  lambda: number,
  Type: FloatArrayCtor,
  what: string,
): void {
  expectFinite(x, `${what}: x`);
  const res = lowRankResidual(U, r, d, lambda, x, g);
  if (Type === Float64Array) {
    expect(res, `${what}: ‖(F+λI)x − g‖/‖g‖`).toBeLessThanOrEqual(1e-10);
    return;
  }
  const best = lowRankResidual(U, r, d, lambda, Float32Array.from(woodbury64(U, r, d, lambda, g)), g);
  const bar = Math.max(solveBar(Type), 100 * best);
  expect(res, `${what}: ‖(F+λI)x − g‖/‖g‖ (the correctly rounded x gets ${best.toExponential(2)})`).toBeLessThanOrEqual(bar);
}

/** The mean of the rows of G (n × d) in its type: the optimizer's ḡ, inside the span of the rows. */
function meanRow(G: FloatArray, n: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m[j] += G[i * d + j];
  for (let j = 0; j < d; j++) m[j] /= n;
  return m;
}

describe.each(types)('lowrank %s', (name, Type) => {
  const precision = typeName(Type);

  it('before any update: F = 0, precondition = g/λ, rank 0', () => {
    const d = 9;
    const F = new EmpiricalFisher(d, { precision, representation: 'lowrank', damping: 0.25 });
    expect(F.representation).toBe('lowrank');
    expect(F.rank).toBe(0);
    expect(Array.from(F.toDense())).toEqual(new Array(d * d).fill(0));
    expect(F.quadratic(new Type(d).fill(3))).toBe(0);
    const g = new Type([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(F.precondition(g))).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36]);
    F.dispose();
  });

  it.each([
    [60, 8],
    [37, 1],
    [130, 17],
  ])('decay 0, d = %i, n = %i: toDense, quadratic, and solves of a generic g and of g outside the span', (d, n) => {
    const rng = new Rng(100 + d + n);
    const L = new EmpiricalFisher(d, { precision, representation: 'lowrank' });
    // an earlier batch that decay 0 must forget
    const G0 = randomMatrix(rng, n + 3, d, Type);
    L.update(G0, n + 3);
    const G = randomMatrix(rng, n, d, Type);
    L.update(G, n);
    expect(L.rank, 'rows kept = the latest batch').toBe(n);
    expect(L.steps).toBe(2);
    expect(L.examples).toBe(2 * n + 3);
    const Fref = new RefRunningFisher(d, 0).update(G, n).dense();
    expectDenseClose(L.toDense(), Fref, Type, n + 8, 'lowrank toDense');
    const lambda = (1e-3 * trace(Fref, d)) / d;
    L.damping = lambda;
    const U = Float64Array.from(G, (v) => v / Math.sqrt(n));
    for (let k = 0; k < 3; k++) {
      const g = randomMatrix(rng, 1, d, Type);
      const x = L.precondition(g);
      expect(x).toBeInstanceOf(Type);
      expectLowRankSolves(U, n, d, x, g, lambda, Type, `random g ${k}`);
    }
    // outside the span the exact answer is g/λ (a span-restricted solve would return ≈ 0)
    const gPerp = asPrecision(orthogonalToRows(rng, U, n, d), Type);
    const xPerp = L.precondition(gPerp);
    expectLowRankSolves(U, n, d, xPerp, gPerp, lambda, Type, 'g ⟂ rows');
    const want = Float64Array.from(gPerp, (v) => v / lambda);
    const tol = Type === Float64Array ? 1e-10 : 1e-4;
    expect(frobeniusDiff(xPerp, want) / frobenius(want), 'outside the span: x = g/λ').toBeLessThanOrEqual(tol);
    // quadratic vᵀFv
    const v = randomMatrix(rng, 1, d, Type);
    expect(relErr(L.quadratic(v), refQuadratic(Fref, d, v)), 'quadratic').toBeLessThanOrEqual((n + 8) * 4 * unitRoundoff(Type));
    expect(L.quadratic(gPerp) / L.quadratic(v), 'quadratic of a vector outside the span ≈ 0').toBeLessThanOrEqual(1e3 * unitRoundoff(Type));
    L.dispose();
  });

  it.each([
    [0.9, true],
    [0.5, false],
    [0.99, true],
  ] as const)('decay %s (biasCorrection %s), a window of 5 batches, rank > rows seen: equals the dense running average', (decay, biasCorrection) => {
    const d = 50;
    const rng = new Rng(200 + Math.round(decay * 100));
    for (const rank of [undefined, 60]) {
      const opts: EmpiricalFisherOptions = { precision, representation: 'lowrank', decay, biasCorrection, rank };
      const L = new EmpiricalFisher(d, opts);
      const ref = new RefRunningFisher(d, decay, biasCorrection);
      const model = new RefLowRank(d, decay, biasCorrection, rank);
      const sizes = [7, 12, 3, 9, 11];
      for (let t = 0; t < sizes.length; t++) {
        const n = sizes[t];
        const G = randomMatrix(rng, n, d, Type);
        // batches of different scales: the rows must carry their running-average weights
        const s = t % 2 === 0 ? 2 : 0.5;
        for (let i = 0; i < G.length; i++) G[i] *= s;
        L.update(G, n);
        ref.update(G, n);
        model.update(G, n);
      }
      const rows = sizes.reduce((a, b) => a + b, 0);
      expect(L.rank, `rank option ${rank}: every row of the window kept`).toBe(rows);
      expect(model.rowCount).toBe(rows);
      expect(L.steps).toBe(5);
      expect(L.examples).toBe(rows);
      const Fref = ref.dense();
      expectDenseClose(L.toDense(), Fref, Type, 64, `rank ${rank}: toDense vs running average`);
      const lambda = (1e-3 * trace(Fref, d)) / d;
      L.damping = lambda;
      const { U, r } = model.scaledRows();
      for (let k = 0; k < 3; k++) {
        const g = randomMatrix(rng, 1, d, Type);
        const x = L.precondition(g);
        // the residual against the dense running average itself, and against the row model
        if (Type === Float64Array) expect(solveResidual(Fref, d, x, g, 1, lambda)).toBeLessThanOrEqual(1e-10);
        expectLowRankSolves(U, r, d, x, g, lambda, Type, `rank ${rank}, rhs ${k}`);
      }
      const gPerp = asPrecision(orthogonalToRows(rng, U, r, d), Type);
      expectLowRankSolves(U, r, d, L.precondition(gPerp), gPerp, lambda, Type, `rank ${rank}, g ⟂ rows`);
      expect(L.effectiveDamping).toBe(lambda);
      L.dispose();
    }
  });

  it.each([
    // [rank ℓ, decay, batch sizes]: shrinks between batches, a batch larger than ℓ, decay 0 with ℓ < n
    [20, 0.9, [8, 8, 8, 8, 8, 8, 8]],
    [13, 0.8, [5, 9, 4, 7, 6, 11, 3]],
    [10, 0.9, [4, 25, 3, 6]],
    [6, 0, [4, 9, 2]],
    [4, 0.95, [3, 3, 3, 3, 3, 3, 3, 3, 3, 3]],
  ] as const)('rank %i < rows seen (decay %s, batches %j): a Frequent-Directions sketch of the running average', (rank, decay, sizes) => {
    const d = 40;
    const rng = new Rng(300 + rank);
    const L = new EmpiricalFisher(d, { precision, representation: 'lowrank', decay, rank });
    const ref = new RefRunningFisher(d, decay, true);
    const u = unitRoundoff(Type);
    let seen = 0;
    let maxN = 0;
    for (let t = 0; t < sizes.length; t++) {
      const n = sizes[t];
      const G = randomMatrix(rng, n, d, Type);
      // batches of different scales and a few strong directions, so the spectrum is not flat
      const s = 1 + t;
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) G[i * d + j] *= s * (j < 3 ? 4 : 1);
      L.update(G, n);
      ref.update(G, n);
      seen = decay === 0 ? n : seen + n;
      const what = `after batch ${t} (n = ${n})`;
      const F = ref.dense();
      const Fs = L.toDense();
      const rho = L.sketchError;
      const scale = refEigenvaluesJacobi(F, d)[d - 1];
      const tol = 200 * u * scale;
      if (seen <= rank) {
        // nothing dropped yet: exact to round-off
        expect(rho, `${what}: ρ`).toBe(0);
        expectDenseClose(Fs, F, Type, 64, `${what}: toDense = the running average`);
      }
      // BᵀB ⪯ F ⪯ BᵀB + ρI: the eigenvalues of F − BᵀB lie in [0, ρ]
      const diffEig = refEigenvaluesJacobi(Float64Array.from(F, (v, k) => v - Fs[k]), d);
      expect(diffEig[0], `${what}: λ_min(F − F_sketch) ≥ 0`).toBeGreaterThanOrEqual(-tol);
      expect(diffEig[d - 1], `${what}: λ_max(F − F_sketch) ≤ ρ = ${rho}`).toBeLessThanOrEqual(rho + tol);
      // the FD bounds: each shrink by δ drops trace ≥ (ℓ + 1)δ, so (ℓ + 1)ρ ≤ tr(F) − tr(F_sketch);
      // and ρ ≤ (Σ_{i>k} λ_i(F)) / (ℓ − k) for every k < ℓ
      expect((rank + 1) * rho, `${what}: (ℓ+1)ρ ≤ the trace dropped`).toBeLessThanOrEqual(trace(F, d) - trace(Fs, d) + d * tol);
      const lam = refEigenvaluesJacobi(F, d);
      let best = Infinity;
      let tk = 0;
      for (let i = 0; i < d; i++) tk += Math.max(lam[i], 0);
      for (let k = 0; k < rank; k++) {
        best = Math.min(best, tk / (rank - k));
        tk -= Math.max(lam[d - 1 - k], 0);
      }
      expect(rho, `${what}: ρ within the FD bound min_k tail_k/(ℓ − k) = ${best}`).toBeLessThanOrEqual(best * (1 + 1e-6) + tol);
      maxN = Math.max(maxN, n);
      expect(L.rank, `${what}: rows held ≤ ℓ + a buffer (≈ ℓ, at least the largest batch)`).toBeLessThanOrEqual(decay === 0 ? Math.max(rank, n) : 2 * rank + maxN);
      // solves use F_sketch + (λ + ρ)I, and effectiveDamping says so
      const lambda = (1e-3 * trace(F, d)) / d;
      L.damping = lambda;
      for (const g64 of [randomMatrix(rng, 1, d, Float64Array), meanRow(G, n, d)]) {
        const g = asPrecision(g64, Type);
        expectSolves(Fs, d, L.precondition(g), g, lambda + rho, Type, false, `${what}: solve`);
      }
      expect(L.effectiveDamping, `${what}: effectiveDamping = λ + ρ`).toBeCloseTo(lambda + rho, 12);
      const v = randomMatrix(rng, 1, d, Type);
      expect(relErr(L.quadratic(v), refQuadratic(Fs, d, v)), `${what}: quadratic = vᵀF_sketch v`).toBeLessThanOrEqual(200 * u);
    }
    if (decay > 0) expect(L.sketchError, 'the sketch shrank at least once').toBeGreaterThan(0);
    expect(L.examples).toBe(sizes.reduce((a, b) => a + b, 0));
    L.dispose();
  });

  it('the running average at scale (issue 13): d = 300, decay 0.95, 30 batches of 128 growing in scale', () => {
    const d = 300;
    const n = 128;
    const rng = new Rng(1300);
    const sig = Float64Array.from({ length: d }, (_, j) => 1 / (1 + j / 10));
    const L = new EmpiricalFisher(d, { precision, representation: 'lowrank', decay: 0.95 });
    const ref = new RefRunningFisher(d, 0.95, true);
    for (let t = 1; t <= 30; t++) {
      const G = randomMatrix(rng, n, d, Type);
      for (let i = 0; i < n * d; i++) G[i] *= sig[i % d] * (1 + t / 5);
      L.update(G, n);
      ref.update(G, n);
    }
    const F = ref.dense();
    const Fs = L.toDense();
    const rel = frobeniusDiff(Fs, F) / frobenius(F);
    expect(rel, '‖F_sketch − F‖_F / ‖F‖_F (0.79 with the old window of rows)').toBeLessThanOrEqual(0.03);
    expect(trace(Fs, d) / trace(F, d), 'trace ratio (0.21 with the old window)').toBeGreaterThanOrEqual(0.95);
    expect(L.sketchError).toBeGreaterThan(0);
    L.dispose();
  });

  /*
   * The right-hand side the optimizer passes is ḡ, the mean of the batch's rows: inside their span.
   * There the correctly rounded f32 answer has a residual of ≈ 1e-8 and the dense Cholesky ≈ 1e-7,
   * so the DESIGN §4 bar of 1e-4 is attainable and must hold.
   */
  it.each([
    ['decay 0, d = 60, n = 8', 60, 0, [8], undefined],
    ['decay 0, d = 37, n = 1', 37, 0, [1], undefined],
    ['decay 0, d = 200, n = 32', 200, 0, [32], undefined],
    ['decay 0.9, window of 4 batches', 50, 0.9, [6, 9, 4, 7], undefined],
  ] as const)('g inside the span (the mean of the rows, as the optimizer passes): %s', (label, d, decay, sizes, rank) => {
    const rng = new Rng(350 + d + sizes.length);
    const L = new EmpiricalFisher(d, { precision, representation: 'lowrank', decay, rank });
    const D = new EmpiricalFisher(d, { precision, representation: 'dense', decay });
    const model = new RefLowRank(d, decay, true, rank);
    let G: FloatArray = new Type(0);
    for (const n of sizes) {
      G = randomMatrix(rng, n, d, Type);
      L.update(G, n);
      D.update(G, n);
      model.update(G, n);
    }
    const n = sizes[sizes.length - 1];
    const { U, r } = model.scaledRows();
    const lambda = (1e-3 * lowRankTrace(U)) / d;
    L.damping = lambda;
    D.damping = lambda;
    for (const [what, g64] of [
      ['ḡ = mean of the latest rows', meanRow(G, n, d)],
      ['a combination of the kept rows', insideRows(rng, U, r, d)],
    ] as const) {
      const g = asPrecision(g64, Type);
      const x = L.precondition(g);
      expectLowRankSolves(U, r, d, x, g, lambda, Type, `${label}: ${what}`);
      if (rank === undefined) {
        // the dense representation of the same F, for the record (the same bar)
        expectLowRankSolves(U, r, d, D.precondition(g), g, lambda, Type, `${label}: ${what} (dense)`);
      }
    }
    L.dispose();
    D.dispose();
  });

  it('rows ≥ d (n = 100 > d = 60, decay 0): the full-rank DESIGN §4 bar, as dense meets it', () => {
    const d = 60;
    const n = 100;
    const rng = new Rng(401);
    const L = new EmpiricalFisher(d, { precision, representation: 'lowrank' });
    const D = new EmpiricalFisher(d, { precision, representation: 'dense' });
    const G = randomMatrix(rng, n, d, Type);
    L.update(G, n);
    D.update(G, n);
    const Fref = new RefRunningFisher(d, 0).update(G, n).dense();
    const lambda = (1e-3 * trace(Fref, d)) / d;
    L.damping = lambda;
    D.damping = lambda;
    for (let k = 0; k < 3; k++) {
      const g = randomMatrix(rng, 1, d, Type);
      const resD = solveResidual(Fref, d, D.precondition(g), g, 1, lambda);
      const resL = solveResidual(Fref, d, L.precondition(g), g, 1, lambda);
      expect(resD, 'dense').toBeLessThanOrEqual(solveBar(Type));
      expect(resL, `lowrank (dense: ${resD.toExponential(2)})`).toBeLessThanOrEqual(solveBar(Type));
    }
    L.dispose();
    D.dispose();
  });

  it('λ = 0: the Woodbury form needs λ > 0, so the solve retries with jitter and says so', () => {
    const d = 30;
    const n = 6;
    const rng = new Rng(402);
    const L = new EmpiricalFisher(d, { precision, representation: 'lowrank', damping: 0 });
    const G = randomMatrix(rng, n, d, Type);
    L.update(G, n);
    const Fref = new RefRunningFisher(d, 0).update(G, n).dense();
    const g = randomMatrix(rng, 1, d, Type);
    const x = L.precondition(g);
    expectFinite(x);
    const jitter = L.effectiveDamping;
    const rel = Type === Float32Array ? 1e-6 : 1e-8;
    expect(jitter, 'effectiveDamping = mean(diag F)·jitter').toBeGreaterThan(0);
    expect(relErr(jitter, (trace(Fref, d) / d) * rel)).toBeLessThanOrEqual(1e-4);
    expect(L.damping).toBe(0);
    expect(L.factorizations, 'one failed try, one retry').toBe(2);
    // the result solves the jittered system; g ⟂ rows is solved exactly as g/jitter
    const U = Float64Array.from(G, (v) => v / Math.sqrt(n));
    expect(lowRankBackwardError(U, n, d, jitter, x, g), 'backward error with the jittered λ').toBeLessThanOrEqual(
      Type === Float32Array ? 1e-3 : 1e-9,
    );
    const gPerp = asPrecision(orthogonalToRows(rng, U, n, d), Type);
    const xPerp = L.precondition(gPerp);
    const want = Float64Array.from(gPerp, (v) => v / jitter);
    expect(frobeniusDiff(xPerp, want) / frobenius(want)).toBeLessThanOrEqual(Type === Float32Array ? 1e-4 : 1e-10);
    expect(L.factorizations, 'later solves reuse the factor').toBe(2);
    L.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
describe.each(types)('blockdiag %s', (name, Type) => {
  const precision = typeName(Type);

  it.each([
    [[23]],
    [[5, 1, 10, 7]],
    [[1, 22]],
    [[22, 1]],
    [[8, 8, 7]],
    [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
    [[3, 1, 1, 9, 1, 4, 4]],
  ])('blocks %j: equals the block-masked dense Fisher over a window of batches', (blocks) => {
    const d = 23;
    const rng = new Rng(500 + blocks.length * 7 + blocks[0]);
    for (const decay of [0, 0.9]) {
      const B = new EmpiricalFisher(d, { precision, representation: 'blockdiag', blocks, decay });
      expect(B.representation).toBe('blockdiag');
      expect(B.blocks).toEqual(blocks);
      const ref = new RefRunningFisher(d, decay);
      for (const n of [30, 5, 41]) {
        const G = randomMatrix(rng, n, d, Type);
        B.update(G, n);
        ref.update(G, n);
      }
      const Fm = blockMask(ref.dense(), d, blocks);
      expectDenseClose(B.toDense(), Fm, Type, 64, `decay ${decay}: toDense vs masked`);
      const lambda = (1e-3 * trace(Fm, d)) / d;
      B.damping = lambda;
      for (let k = 0; k < 3; k++) {
        const g = randomMatrix(rng, 1, d, Type);
        const x = B.precondition(g);
        // every block saw ≥ 30 rows of its ≤ 23 columns: full rank, the plain DESIGN bar
        expectSolves(Fm, d, x, g, lambda, Type, true, `decay ${decay} rhs ${k}`);
        expect(relErr(B.quadratic(g), refQuadratic(Fm, d, g)), 'quadratic').toBeLessThanOrEqual(200 * unitRoundoff(Type));
      }
      B.dispose();
    }
  });

  it('a single block is the dense Fisher', () => {
    const d = 31;
    const rng = new Rng(510);
    const B = new EmpiricalFisher(d, { precision, representation: 'blockdiag', blocks: [d], decay: 0.9, damping: 0.01 });
    const D = new EmpiricalFisher(d, { precision, representation: 'dense', decay: 0.9, damping: 0.01 });
    for (const n of [4, 40]) {
      const G = randomMatrix(rng, n, d, Type);
      B.update(G, n);
      D.update(G, n);
    }
    const Fd = D.toDense();
    expectDenseClose(B.toDense(), Fd, Type, 8, 'toDense');
    const g = randomMatrix(rng, 1, d, Type);
    const xb = B.precondition(g);
    const xd = D.precondition(g);
    expect(frobeniusDiff(xb, xd) / frobenius(xd)).toBeLessThanOrEqual(Type === Float32Array ? 1e-4 : 1e-12);
    B.dispose();
    D.dispose();
  });

  it('blocks of size 1 only: the same as diag', () => {
    const d = 12;
    const rng = new Rng(511);
    const blocks = new Array(d).fill(1);
    const B = new EmpiricalFisher(d, { precision, representation: 'blockdiag', blocks, damping: 0.3 });
    const Dg = new EmpiricalFisher(d, { precision, representation: 'diag', damping: 0.3 });
    const G = randomMatrix(rng, 9, d, Type);
    B.update(G, 9);
    Dg.update(G, 9);
    expectDenseClose(B.toDense(), Dg.toDense(), Type, 16, 'toDense');
    const g = randomMatrix(rng, 1, d, Type);
    const xb = B.precondition(g);
    const xg = Dg.precondition(g);
    expect(frobeniusDiff(xb, xg) / frobenius(xg)).toBeLessThanOrEqual(16 * unitRoundoff(Type));
    B.dispose();
    Dg.dispose();
  });

  it('rank-deficient blocks (n < block size): backward-stable solves', () => {
    const d = 40;
    const blocks = [25, 15];
    const rng = new Rng(512);
    const B = new EmpiricalFisher(d, { precision, representation: 'blockdiag', blocks });
    const n = 6;
    const G = randomMatrix(rng, n, d, Type);
    B.update(G, n);
    const Fm = blockMask(new RefRunningFisher(d, 0).update(G, n).dense(), d, blocks);
    const lambda = (1e-3 * trace(Fm, d)) / d;
    B.damping = lambda;
    const g = randomMatrix(rng, 1, d, Type);
    expectSolves(Fm, d, B.precondition(g), g, lambda, Type, false, 'n < blocks');
    B.dispose();
  });

  it('the pivot of a failing block is offset by the block position (λ = 0, jitter too small to help)', () => {
    if (Type === Float64Array) return; // the construction below relies on f32 rounding (see comment)
    // 2000 blocks of size 1 (tiny, positive), then one 2 × 2 block [[2^40, 2^40], [2^40, 2^40]]
    // (exactly singular: identical columns, √(2^40) exact), then 2998 blocks of size 1. The jitter,
    // at most mean(diag F)·1e-4 ≈ 2^41·1e-4/5000 ≈ 4.4e4, is below half an ulp of 2^40 in f32
    // (2^16), so the block stays exactly singular: its local pivot 2 fails, global 2000 + 2.
    const d = 5000;
    const before = 2000;
    const blocks = [...new Array(before).fill(1), 2, ...new Array(d - before - 2).fill(1)];
    const B = new EmpiricalFisher(d, { precision, representation: 'blockdiag', blocks, damping: 0 });
    const G = new Float32Array(d).fill(1 / 1024);
    G[before] = 1048576; // 2^20
    G[before + 1] = 1048576;
    B.update(G, 1);
    let err: unknown;
    try {
      B.precondition(new Float32Array(d).fill(1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotPositiveDefiniteError);
    expect((err as NotPositiveDefiniteError).pivot).toBe(before + 2);
    // nothing accumulated is lost: a damping that is large enough (above an ulp of 2^40 in f32) works
    B.damping = 1e6;
    expectFinite(B.precondition(new Float32Array(d).fill(1)));
    B.dispose();
  });

  it('λ = 0 with an all-zero block layout fails at pivot 1 (no jitter from a zero F)', () => {
    const d = 7;
    const B = new EmpiricalFisher(d, { precision, representation: 'blockdiag', blocks: [3, 4], damping: 0 });
    B.update(new Type(2 * d), 2);
    expect(() => B.precondition(new Type(d).fill(1))).toThrow(NotPositiveDefiniteError);
    B.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
describe.each(types)('diag %s', (name, Type) => {
  const precision = typeName(Type);

  it.each([
    [0, true],
    [0.9, true],
    [0.9, false],
    [0.5, true],
  ] as const)('decay %s, biasCorrection %s: F_jj = running mean of g_ij², solves g_j/(F_jj + λ)', (decay, biasCorrection) => {
    const d = 37;
    const rng = new Rng(600 + Math.round(decay * 10));
    const F = new EmpiricalFisher(d, { precision, representation: 'diag', decay, biasCorrection, damping: 0.05 });
    expect(F.representation).toBe('diag');
    // float64 reference of the formula itself: F_jj = Σ_t w_t mean_i g_ij² (w the running-average weights)
    const S = new Float64Array(d);
    let betaPow = 1;
    let t = 0;
    for (const n of [5, 1, 17, 8]) {
      const G = randomMatrix(rng, n, d, Type);
      const s = t % 2 === 0 ? 3 : 0.25;
      for (let i = 0; i < G.length; i++) G[i] *= s;
      F.update(G, n);
      t++;
      for (let j = 0; j < d; j++) {
        let m = 0;
        for (let i = 0; i < n; i++) m += G[i * d + j] * G[i * d + j];
        m /= n;
        S[j] = decay === 0 ? m : decay * S[j] + (1 - decay) * m;
      }
      betaPow *= decay;
      const c = decay === 0 || !biasCorrection ? 1 : 1 / (1 - betaPow);
      const want = Float64Array.from(S, (v) => c * v);
      const dense = F.toDense();
      const tol = (n + 8 * t + 8) * unitRoundoff(Type);
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          if (i !== j) expect(dense[i * d + j], `off-diagonal (${i}, ${j})`).toBe(0);
        }
        expect(relErr(dense[i * d + i], want[i]), `F_${i}${i}`).toBeLessThanOrEqual(tol);
      }
      const g = randomMatrix(rng, 1, d, Type);
      const x = F.precondition(g);
      for (let j = 0; j < d; j++) {
        expect(relErr(x[j], g[j] / (want[j] + 0.05)), `x_${j}`).toBeLessThanOrEqual(tol + 4 * unitRoundoff(Type));
      }
      let q = 0;
      for (let j = 0; j < d; j++) q += want[j] * g[j] * g[j];
      expect(relErr(F.quadratic(g), q), 'quadratic').toBeLessThanOrEqual(tol + d * unitRoundoff(Type));
    }
    expect(F.steps).toBe(4);
    expect(F.examples).toBe(31);
    F.dispose();
  });

  it('λ = 0 with a zero column: jitter; all-zero F: NotPositiveDefiniteError at pivot 1', () => {
    const d = 5;
    const F = new EmpiricalFisher(d, { precision, representation: 'diag', damping: 0 });
    const G = new Type([1, 2, 0, 3, 4, 2, 1, 0, 1, 1]); // column 2 is zero
    F.update(G, 2);
    const x = F.precondition(new Type([1, 1, 1, 1, 1]));
    expectFinite(x);
    expect(F.effectiveDamping).toBeGreaterThan(0);
    const Z = new EmpiricalFisher(d, { precision, representation: 'diag', damping: 0 });
    Z.update(new Type(2 * d), 2);
    let err: unknown;
    try {
      Z.precondition(new Type(d).fill(1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotPositiveDefiniteError);
    expect((err as NotPositiveDefiniteError).pivot).toBe(1);
    F.dispose();
    Z.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
describe('auto and the memory budget', () => {
  it.each(types)('%s: auto picks dense exactly while 2·d² values fit maxBytes, lowrank beyond', (name, Type) => {
    const precision = typeName(Type);
    // d > n, so that the 80 float64 rows lowrank keeps fit within the budget a dense F just misses
    const d = 400;
    const bytes = 2 * d * d * Type.BYTES_PER_ELEMENT;
    const A = new EmpiricalFisher(d, { precision, maxBytes: bytes });
    expect(A.representation).toBe('dense');
    expect(A.maxBytes).toBe(bytes);
    const B = new EmpiricalFisher(d, { precision, maxBytes: bytes - 1 });
    expect(B.representation).toBe('lowrank');
    // both work, and agree on a full-rank problem
    const rng = new Rng(700);
    const G = randomMatrix(rng, 80, d, Type);
    A.update(G, 80);
    B.update(G, 80);
    A.damping = B.damping = 0.5;
    const g = randomMatrix(rng, 1, d, Type);
    const xa = A.precondition(g);
    const xb = B.precondition(g);
    expect(frobeniusDiff(xa, xb) / frobenius(xa)).toBeLessThanOrEqual(Type === Float32Array ? 1e-4 : 1e-12);
    A.dispose();
    B.dispose();
    expect(new EmpiricalFisher(7).representation, 'default: small d is dense').toBe('dense');
  });

  it.each([
    ['f32', '74.5 GiB'],
    ['f64', '149.0 GiB'],
  ] as const)("representation 'dense' for d = 100000 (%s) fails fast, before allocating, with the memory it needs", (precision, memory) => {
    const before = memoryInfo();
    let err: unknown;
    try {
      new EmpiricalFisher(100000, { precision, representation: 'dense' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RangeError);
    const msg = (err as Error).message;
    expect(msg).toContain(memory);
    expect(msg).toContain('lowrank');
    expect(msg).toContain('blockdiag');
    const after = memoryInfo();
    expect(after.allocatedBytes).toBe(before.allocatedBytes);
    expect(after.liveBlocks).toBe(before.liveBlocks);
    expect(after.wasmBytes, 'the memory did not grow').toBe(before.wasmBytes);
  });

  it("'dense' over a small maxBytes throws a RangeError with the size; at the budget it works", () => {
    const before = memoryInfo();
    expect(() => new EmpiricalFisher(50, { representation: 'dense', maxBytes: 19999 })).toThrow(/19\.5 KiB[\s\S]*lowrank[\s\S]*blockdiag/);
    expect(memoryInfo().allocatedBytes).toBe(before.allocatedBytes);
    const F = new EmpiricalFisher(50, { representation: 'dense', maxBytes: 20000 });
    expect(F.representation).toBe('dense');
    F.dispose();
  });

  it('new EmpiricalFisher(100000): auto → lowrank; one update (n = 8) and precondition work', () => {
    const d = 100000;
    const n = 8;
    const F = new EmpiricalFisher(d);
    expect(F.representation).toBe('lowrank');
    expect(F.precision).toBe('f32');
    const rng = new Rng(701);
    const G = randomMatrix(rng, n, d, Float32Array);
    F.update(G, n);
    expect(F.rank).toBe(n);
    const g = randomMatrix(rng, 1, d, Float32Array);
    const x = F.precondition(g);
    expect(x).toBeInstanceOf(Float32Array);
    expect(x.length).toBe(d);
    const U = Float64Array.from(G, (v) => v / Math.sqrt(n));
    const lambda = F.damping; // the default 1e-3 (≈ 1e-3·trace(F)/d for unit-variance gradients)
    expectLowRankSolves(U, n, d, x, g, lambda, Float32Array, 'd = 100000, random g');
    // forward error against the float64 Woodbury answer: most of g lies outside the 8-dimensional
    // span, where x = g/λ is computed almost exactly
    const xr = woodbury64(U, n, d, lambda, g);
    expect(frobeniusDiff(x, xr) / frobenius(xr), 'forward error').toBeLessThanOrEqual(1e-5);
    F.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
type Setup = [string, EmpiricalFisherOptions];
const SETUPS: Setup[] = [
  ['dense', { representation: 'dense' }],
  ['lowrank (default rank)', { representation: 'lowrank' }],
  ['lowrank (rank 10, evicting)', { representation: 'lowrank', rank: 10 }],
  ['lowrank (rank 4, evicting: sketched before the save)', { representation: 'lowrank', rank: 4 }],
  ['blockdiag', { representation: 'blockdiag', blocks: [4, 1, 12, 7] }],
  ['diag', { representation: 'diag' }],
];
const D_SETUP = 24;

describe.each(types)('save / load %s', (name, Type) => {
  const precision = typeName(Type);

  it.each(SETUPS)('%s: save → structuredClone → load is bit-exact, and stays so after further updates', (label, opts) => {
    const d = D_SETUP;
    const rng = new Rng(800 + label.length);
    const F = new EmpiricalFisher(d, { ...opts, precision, decay: 0.9, damping: 0.02 });
    for (const n of [5, 3, 8]) F.update(randomMatrix(rng, n, d, Type), n);
    const g = randomMatrix(rng, 1, d, Type);
    const x0 = F.precondition(g); // the original has a factor; the copy must reproduce it
    const state = structuredClone(F.save());
    const C = EmpiricalFisher.load(state);
    expect(C.representation).toBe(F.representation);
    expect(C.precision).toBe(precision);
    expect(C.d).toBe(d);
    expect(C.decay).toBe(0.9);
    expect(C.damping).toBe(0.02);
    expect(C.steps).toBe(F.steps);
    expect(C.examples).toBe(F.examples);
    expect(C.rank).toBe(F.rank);
    expect(C.blocks).toEqual(F.blocks);
    expectSameBits(C.toDense(), F.toDense(), 'toDense');
    expectSameBits(C.precondition(g), x0, 'precondition');
    expect(C.quadratic(g)).toBe(F.quadratic(g));
    // continue both: still the same bits (the running-average state, β^t, evictions all survived)
    for (const n of [6, 2]) {
      const G = randomMatrix(rng, n, d, Type);
      F.update(G, n);
      C.update(G, n);
    }
    F.damping = C.damping = 0.03;
    expectSameBits(C.toDense(), F.toDense(), 'toDense after more updates');
    expectSameBits(C.precondition(g), F.precondition(g), 'precondition after more updates');
    expect(C.steps).toBe(F.steps);
    expect(C.examples).toBe(F.examples);
    // the state is plain data
    const s2 = F.save();
    for (const v of Object.values(s2.store)) {
      expect(typeof v === 'number' || Array.isArray(v) || ArrayBuffer.isView(v)).toBe(true);
    }
    F.dispose();
    C.dispose();
  });

  it.each(SETUPS)('%s: a fresh accumulator round-trips too', (label, opts) => {
    const F = new EmpiricalFisher(D_SETUP, { ...opts, precision });
    const C = EmpiricalFisher.load(structuredClone(F.save()));
    expect(C.steps).toBe(0);
    expectSameBits(C.toDense(), F.toDense(), 'toDense');
    const g = new Type(D_SETUP).fill(1);
    expectSameBits(C.precondition(g), F.precondition(g), 'precondition');
    F.dispose();
    C.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
describe.each(types)('merge %s', (name, Type) => {
  const precision = typeName(Type);
  const d = D_SETUP;

  /** Asserts two accumulators hold the same F (to rounding) and solve alike. */
  function expectSameFisher(M: EmpiricalFisher, C: EmpiricalFisher, rng: Rng, what: string): void {
    const Fc = C.toDense();
    expectDenseClose(M.toDense(), Fc, Type, 64, `${what}: toDense`);
    expect(M.steps, `${what}: steps`).toBe(C.steps);
    expect(M.examples, `${what}: examples`).toBe(C.examples);
    const g = randomMatrix(rng, 1, d, Type);
    M.damping = C.damping = 0.05;
    const xm = M.precondition(g);
    const xc = C.precondition(g);
    expect(frobeniusDiff(xm, xc) / frobenius(xc), `${what}: precondition`).toBeLessThanOrEqual(
      Type === Float32Array ? 1e-4 : 1e-11,
    );
  }

  it.each(SETUPS.filter(([l]) => !l.includes('evicting')))(
    '%s, decay 0: A(G₁).merge(B(G₂)) equals one accumulator fed [G₁; G₂]',
    (label, opts) => {
      const rng = new Rng(900 + label.length);
      const n1 = 7;
      const n2 = 12; // unequal counts: the example weighting matters
      const G1 = randomMatrix(rng, n1, d, Type);
      const G2 = randomMatrix(rng, n2, d, Type);
      for (let i = 0; i < G2.length; i++) G2[i] *= 3;
      const A = new EmpiricalFisher(d, { ...opts, precision });
      const B = new EmpiricalFisher(d, { ...opts, precision });
      const C = new EmpiricalFisher(d, { ...opts, precision });
      A.update(G1, n1);
      B.update(G2, n2);
      C.update(concatRows(G1, G2), n1 + n2);
      const Bdense = B.toDense();
      expect(A.merge(B), 'merge returns this').toBe(A);
      expectSameFisher(A, C, rng, label);
      expectSameBits(B.toDense(), Bdense, 'other is not changed');
      expect(B.examples).toBe(n2);
      if (A.representation === 'lowrank') expect(A.rank).toBe(n1 + n2);
      A.dispose();
      B.dispose();
      C.dispose();
    },
  );

  it.each(SETUPS.filter(([l]) => !l.includes('evicting')))(
    '%s, decay 0.9: two workers fed equal shards every step, merged, equal one fed the concatenation',
    (label, opts) => {
      const rng = new Rng(950 + label.length);
      const m = 6;
      const A = new EmpiricalFisher(d, { ...opts, precision, decay: 0.9 });
      const B = new EmpiricalFisher(d, { ...opts, precision, decay: 0.9 });
      const C = new EmpiricalFisher(d, { ...opts, precision, decay: 0.9 });
      for (let t = 0; t < 4; t++) {
        const Ga = randomMatrix(rng, m, d, Type);
        const Gb = randomMatrix(rng, m, d, Type);
        const s = t % 2 ? 2 : 0.5;
        for (let i = 0; i < Gb.length; i++) Gb[i] *= s;
        A.update(Ga, m);
        B.update(Gb, m);
        C.update(concatRows(Ga, Gb), 2 * m);
      }
      A.merge(B);
      expectSameFisher(A, C, rng, label);
      // merging into an empty accumulator copies the other
      const E = new EmpiricalFisher(d, { ...opts, precision, decay: 0.9 });
      E.merge(B);
      expectSameFisher(E, B, rng, `${label}: into an empty one`);
      A.dispose();
      B.dispose();
      C.dispose();
      E.dispose();
    },
  );

  it.each([4, 9])('lowrank sketches (rank %i, decay 0.9): the merge is a sketch of the union, within the merged ρ', (rank) => {
    const rng = new Rng(970 + rank);
    const m = 6;
    const opts = { precision, representation: 'lowrank', rank, decay: 0.9 } as const;
    const A = new EmpiricalFisher(d, opts);
    const B = new EmpiricalFisher(d, opts);
    const C = new EmpiricalFisher(d, { precision, representation: 'dense', decay: 0.9 });
    for (let t = 0; t < 6; t++) {
      const Ga = randomMatrix(rng, m, d, Type);
      const Gb = randomMatrix(rng, m, d, Type);
      for (let i = 0; i < Gb.length; i++) Gb[i] *= 1 + t;
      A.update(Ga, m);
      B.update(Gb, m);
      C.update(concatRows(Ga, Gb), 2 * m);
    }
    const rhoA = A.sketchError;
    const rhoB = B.sketchError;
    expect(rhoA + rhoB, 'the workers sketched').toBeGreaterThan(0);
    A.merge(B);
    const F = C.toDense();
    const Fs = A.toDense();
    const rho = A.sketchError;
    expect(rho, 'ρ of the merge ≥ the weighted ρ of the parts').toBeGreaterThanOrEqual(0.5 * (rhoA + rhoB) * (1 - 1e-12));
    const tol = 200 * unitRoundoff(Type) * refEigenvaluesJacobi(F, d)[d - 1];
    const ev = refEigenvaluesJacobi(Float64Array.from(F, (v, k) => v - Fs[k]), d);
    expect(ev[0], 'λ_min(F − F_merged) ≥ 0').toBeGreaterThanOrEqual(-tol);
    expect(ev[d - 1], `λ_max(F − F_merged) ≤ ρ = ${rho}`).toBeLessThanOrEqual(rho + tol);
    expect(A.rank).toBeLessThanOrEqual(2 * rank + 2 * m);
    A.dispose();
    B.dispose();
    C.dispose();
  });

  /*
   * With decay 0, F is the latest batch's Fisher only, so the batch that defines it must set the
   * weight: two workers whose earlier batches had other sizes must still merge into the Fisher of
   * the two latest batches together (weights 2/12 and 10/12 here, not lifetime counts 12/24 each).
   */
  it('decay 0: the merge weights the latest batches, whatever the workers saw before (every representation)', () => {
    for (const [label, opts] of SETUPS.filter(([l]) => !l.includes('evicting'))) {
      const rng = new Rng(970 + label.length);
      const A = new EmpiricalFisher(d, { ...opts, precision });
      const B = new EmpiricalFisher(d, { ...opts, precision });
      const C = new EmpiricalFisher(d, { ...opts, precision });
      A.update(randomMatrix(rng, 10, d, Type), 10);
      B.update(randomMatrix(rng, 2, d, Type), 2);
      const Ga = randomMatrix(rng, 2, d, Type);
      const Gb = randomMatrix(rng, 10, d, Type);
      for (let i = 0; i < Gb.length; i++) Gb[i] *= 3;
      A.update(Ga, 2);
      B.update(Gb, 10);
      C.update(concatRows(Ga, Gb), 12);
      A.merge(B);
      const want = C.toDense();
      const got = A.toDense();
      const err = frobeniusDiff(got, want) / frobenius(want);
      expect.soft(err, `${label}: ‖F_merged − F_[Ga; Gb]‖/‖F_[Ga; Gb]‖`).toBeLessThanOrEqual(64 * unitRoundoff(Type));
      A.dispose();
      B.dispose();
      C.dispose();
    }
  });

  it('merge rejects accumulators of another shape with a named error and changes nothing', () => {
    const rng = new Rng(990);
    const A = new EmpiricalFisher(d, { precision, decay: 0.9, representation: 'blockdiag', blocks: [10, 14] });
    A.update(randomMatrix(rng, 5, d, Type), 5);
    const before = A.toDense();
    const other = precision === 'f32' ? 'f64' : 'f32';
    const cases: [EmpiricalFisher, RegExp][] = [
      [new EmpiricalFisher(d + 1, { precision, decay: 0.9, representation: 'blockdiag', blocks: [11, 14] }), /\bd\b/],
      [new EmpiricalFisher(d, { precision: other, decay: 0.9, representation: 'blockdiag', blocks: [10, 14] }), /precision/],
      [new EmpiricalFisher(d, { precision, decay: 0.9, representation: 'dense' }), /representation/],
      [new EmpiricalFisher(d, { precision, decay: 0.5, representation: 'blockdiag', blocks: [10, 14] }), /decay/],
      [new EmpiricalFisher(d, { precision, decay: 0.9, representation: 'blockdiag', blocks: [14, 10] }), /blocks/],
    ];
    const twoSteps = new EmpiricalFisher(d, { precision, decay: 0.9, representation: 'blockdiag', blocks: [10, 14] });
    twoSteps.update(randomMatrix(rng, 5, d, Type), 5).update(randomMatrix(rng, 5, d, Type), 5);
    cases.push([twoSteps, /steps/]);
    for (const [B, re] of cases) {
      if (B.steps === 0) B.update(randomMatrix(rng, 3, B.d, B.precision === 'f32' ? Float32Array : Float64Array), 3);
      expect(() => A.merge(B)).toThrow(RangeError);
      expect(() => A.merge(B)).toThrow(re);
      B.dispose();
    }
    expect(() => A.merge(A)).toThrow(RangeError);
    expect(() => A.merge({} as EmpiricalFisher)).toThrow(TypeError);
    expectSameBits(A.toDense(), before, 'A unchanged');
    expect(A.steps).toBe(1);
    expect(A.examples).toBe(5);
    // lowrank: a different rank option is a different shape too, or at least must not corrupt A
    const L1 = new EmpiricalFisher(d, { precision, representation: 'lowrank' });
    const L2 = new EmpiricalFisher(d, { precision, representation: 'lowrank', decay: 0.9 });
    L1.update(randomMatrix(rng, 3, d, Type), 3);
    L2.update(randomMatrix(rng, 3, d, Type), 3);
    expect(() => L1.merge(L2)).toThrow(/decay/);
    A.dispose();
    L1.dispose();
    L2.dispose();
  });
});

