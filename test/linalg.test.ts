/**
 * linalg: syrk, cholesky, choleskySolve, solveSPD and choleskyFactor on typed arrays, against the
 * float64 references, over sizes around every tile and block boundary, both precisions.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initSync, linalg, NotPositiveDefiniteError } from '../src/index.js';
import { frobenius, frobeniusDiff, refCholesky, refLLt, refSyrk } from './reference.js';
import {
  FLOAT_TYPES,
  Rng,
  expectCholeskyAccurate,
  expectSameBits,
  expectSolveAccurate,
  randomMatrix,
  randomSPD,
  syrkErrorRatio,
  typeName,
  withUpper,
  type FloatArray,
  type FloatArrayCtor,
} from './util.js';

beforeAll(() => {
  initSync();
});

/** The sizes of the brief: around MR/NR tiles, TB = 64, NB = 128 and 2·NB, plus 513. */
const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 255, 257, 513];
// the brief's {1, 2, 3, 5, 64} plus the blocked-path thresholds (4) and RB = 8 (f64) / 16 (f32) rows
const NRHS = [1, 2, 3, 4, 5, 8, 9, 16, 17, 64];

const types = FLOAT_TYPES.map((T) => [typeName(T), T] as const);

/** '' when the strict upper triangle of M is exactly +0 everywhere (and the diagonal > 0) */
function checkLowerFactor(M: FloatArray, d: number): string {
  for (let i = 0; i < d; i++) {
    if (!(M[i * d + i] > 0)) return `diagonal ${i} is ${M[i * d + i]}`;
    for (let j = i + 1; j < d; j++) if (!Object.is(M[i * d + j], 0)) return `upper (${i},${j}) is ${M[i * d + j]}`;
  }
  return '';
}

function isSymmetric(M: ArrayLike<number>, d: number): string {
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) if (!Object.is(M[i * d + j], M[j * d + i])) return `(${i},${j}) ≠ (${j},${i})`;
  return '';
}

describe.each(types)('linalg.syrk %s', (_name, Type) => {
  it.each(SIZES)('d = %i: full symmetric GᵀG within the scaled error bound', (d) => {
    const rng = new Rng(100 + d);
    const ns = d <= 65 ? [1, d + 3] : d <= 257 ? [3, 40] : [6];
    for (const n of ns) {
      const G = randomMatrix(rng, n, d, Type);
      const C = linalg.syrk(G, n, d);
      expect(C).toBeInstanceOf(Type);
      expect(C.length).toBe(d * d);
      expect(isSymmetric(C, d), `n=${n} d=${d}`).toBe('');
      expect(syrkErrorRatio(C, G, n, d, 1, 0, undefined, Type), `n=${n} d=${d}`).toBeLessThanOrEqual(1);
    }
  });

  it('long G (n = 300 > KC, d = 129): still within the bound', () => {
    const rng = new Rng(7);
    const G = randomMatrix(rng, 300, 129, Type);
    const C = linalg.syrk(G, 300, 129);
    expect(syrkErrorRatio(C, G, 300, 129, 1, 0, undefined, Type)).toBeLessThanOrEqual(1);
  });

  it('alpha, beta and out: out = β·out + α·GᵀG, returned, both triangles of out read as symmetric', () => {
    const rng = new Rng(8);
    for (const [n, d] of [[3, 5], [9, 17], [20, 33], [4, 65]]) {
      const G = randomMatrix(rng, n, d, Type);
      const C0 = randomSPD(rng, d, Type);
      for (const [alpha, beta] of [[0.5, 1], [-2, 0.25], [1, -1], [0.125, 0]]) {
        const out = C0.slice();
        const r = linalg.syrk(G, n, d, { alpha, beta, out });
        expect(r, 'returns out').toBe(out);
        expect(isSymmetric(out, d)).toBe('');
        expect(syrkErrorRatio(out, G, n, d, alpha, beta, C0, Type), `n=${n} d=${d} α=${alpha} β=${beta}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('beta = 0: NaN already in out does not leak', () => {
    const rng = new Rng(9);
    const G = randomMatrix(rng, 6, 13, Type);
    const out = new Type(13 * 13).fill(NaN);
    linalg.syrk(G, 6, 13, { out });
    expect(syrkErrorRatio(out, G, 6, 13, 1, 0, undefined, Type)).toBeLessThanOrEqual(1);
    const out2 = new Type(13 * 13).fill(NaN);
    linalg.syrk(G, 6, 13, { out: out2, beta: 0, alpha: 3 });
    expect(syrkErrorRatio(out2, G, 6, 13, 3, 0, undefined, Type)).toBeLessThanOrEqual(1);
  });

  it('without out, beta has nothing to scale: the result is α·GᵀG', () => {
    const rng = new Rng(10);
    const G = randomMatrix(rng, 4, 6, Type);
    const C = linalg.syrk(G, 4, 6, { alpha: 2, beta: 0.5 });
    expect(syrkErrorRatio(C, G, 4, 6, 2, 0, undefined, Type)).toBeLessThanOrEqual(1);
  });

  it('n = 0 gives β·out (zeros without out); d = 0 gives an empty matrix', () => {
    const rng = new Rng(11);
    const C0 = randomSPD(rng, 5, Type);
    const out = C0.slice();
    linalg.syrk(new Type(0), 0, 5, { beta: 0.5, out });
    for (let t = 0; t < 25; t++) expect(out[t]).toBe(Type === Float32Array ? Math.fround(0.5 * C0[t]) : 0.5 * C0[t]);
    const Z = linalg.syrk(new Type(0), 0, 5);
    expect(Array.from(Z)).toEqual(new Array(25).fill(0));
    const out2 = new Type(25).fill(NaN);
    linalg.syrk(new Type(0), 0, 5, { out: out2 });
    expect(Array.from(out2), 'n = 0, beta = 0: NaN in out does not leak').toEqual(new Array(25).fill(0));
    const E = linalg.syrk(new Type(0), 7, 0);
    expect(E).toBeInstanceOf(Type);
    expect(E.length).toBe(0);
    expect(linalg.syrk(new Type(0), 0, 0).length).toBe(0);
  });

  it('is deterministic: the same input gives the same bits', () => {
    const rng = new Rng(12);
    const G = randomMatrix(rng, 37, 70, Type);
    expectSameBits(linalg.syrk(G, 37, 70), linalg.syrk(G, 37, 70));
  });

  it('does not modify G', () => {
    const rng = new Rng(13);
    const G = randomMatrix(rng, 5, 9, Type);
    const G0 = G.slice();
    linalg.syrk(G, 5, 9, { alpha: 2 });
    expectSameBits(G, G0, 'G');
  });
});

describe.each(types)('linalg.cholesky %s', (_name, Type) => {
  it.each(SIZES)('d = %i: L lower (upper exactly 0), backward error ≤ 10·d·u', (d) => {
    const rng = new Rng(200 + d);
    const A = randomSPD(rng, d, Type);
    const A0 = A.slice();
    const L = linalg.cholesky(A, d);
    expect(L).toBeInstanceOf(Type);
    expect(L.length).toBe(d * d);
    expect(checkLowerFactor(L, d)).toBe('');
    expectCholeskyAccurate(L, A, d, Type);
    expectSameBits(A, A0, 'A is not modified');
  });

  it.each([1, 2, 7, 17, 64, 129, 257])('d = %i: reads only the lower triangle (NaN, ±Infinity, 999 in the upper)', (d) => {
    const rng = new Rng(300 + d);
    const A = randomSPD(rng, d, Type);
    const L = linalg.cholesky(A, d);
    for (const junk of [NaN, Infinity, -Infinity, 999]) {
      const B = withUpper(A, d, junk);
      expectSameBits(linalg.cholesky(B, d), L, `upper = ${junk}`);
    }
  });

  it('shift: L·Lᵀ = A + shift·I (the same bits as adding it to the diagonal first)', () => {
    const rng = new Rng(14);
    for (const d of [1, 5, 33, 130]) {
      const A = randomSPD(rng, d, Type);
      const shift = 0.5;
      const L = linalg.cholesky(A, d, { shift });
      expectCholeskyAccurate(L, A, d, Type, shift);
      const As = A.slice();
      for (let i = 0; i < d; i++) As[i * d + i] += shift;
      expectSameBits(L, linalg.cholesky(As, d), `d=${d}`);
      // a shift that is not exactly representable in f32 still gives an accurate factor
      const L2 = linalg.cholesky(A, d, { shift: 0.1 });
      expectCholeskyAccurate(L2, A, d, Type, Type === Float32Array ? Math.fround(0.1) : 0.1);
    }
  });

  it('a shift can make an indefinite matrix definite, and a negative shift can break it', () => {
    const d = 6;
    const ones = new Type(d * d).fill(1);
    const L = linalg.cholesky(ones, d, { shift: 1 });
    expectCholeskyAccurate(L, ones, d, Type, 1);
    const I = new Type(d * d);
    for (let i = 0; i < d; i++) I[i * d + i] = 1;
    expect(() => linalg.cholesky(I, d, { shift: -1 })).toThrow(NotPositiveDefiniteError);
    try {
      linalg.cholesky(I, d, { shift: -1 });
    } catch (e) {
      expect((e as NotPositiveDefiniteError).pivot).toBe(1);
    }
  });

  it.each([5, 40, 130, 200])('d = %i: scaling by powers of two commutes with the factorisation, bit for bit', (d) => {
    // cholesky(D·A·D) = D·cholesky(A) exactly for D = diag(4^k): every operation scales exactly
    const rng = new Rng(700 + d);
    const A = randomSPD(rng, d, Type);
    const span = Type === Float32Array ? 6 : 40; // exponents of 2 in [−span, span], even
    const D = Array.from({ length: d }, () => {
      let s = 1;
      const k = rng.int(-span / 2, span / 2);
      for (let t = 0; t < Math.abs(k); t++) s = k > 0 ? s * 4 : s / 4;
      return s;
    });
    const S = A.slice();
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) S[i * d + j] = A[i * d + j] * D[i] * D[j];
    const L = linalg.cholesky(A, d);
    const LS = linalg.cholesky(S, d);
    const want = L.slice();
    for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) want[i * d + j] = L[i * d + j] * D[i];
    expectSameBits(LS, want, 'cholesky(DAD) vs D·cholesky(A)');
  });

  it('out: returned; out may be A itself', () => {
    const rng = new Rng(15);
    for (const d of [3, 17, 65]) {
      const A = randomSPD(rng, d, Type);
      const L = linalg.cholesky(A, d);
      const out = new Type(d * d).fill(NaN);
      expect(linalg.cholesky(A, d, { out })).toBe(out);
      expectSameBits(out, L, 'separate out');
      const A2 = A.slice();
      expect(linalg.cholesky(A2, d, { out: A2 })).toBe(A2);
      expectSameBits(A2, L, 'out = A');
      // out = A with junk in the upper triangle: the upper of the result is still exactly 0
      const A3 = withUpper(A, d, NaN);
      linalg.cholesky(A3, d, { out: A3 });
      expectSameBits(A3, L, 'out = A, NaN upper');
    }
  });

  it('d = 0 gives an empty factor', () => {
    const L = linalg.cholesky(new Type(0), 0);
    expect(L).toBeInstanceOf(Type);
    expect(L.length).toBe(0);
  });

  it('agrees with the float64 reference to the accuracy of the precision', () => {
    const rng = new Rng(16);
    const d = 40;
    const A = randomSPD(rng, d, Type);
    const L = linalg.cholesky(A, d);
    const R = refCholesky(A, d);
    let worst = 0;
    for (let t = 0; t < d * d; t++) worst = Math.max(worst, Math.abs(L[t] - R[t]));
    expect(worst).toBeLessThanOrEqual(Type === Float32Array ? 1e-5 : 1e-13);
  });

  it.each([
    [1, 1], [2, 2], [5, 3], [8, 8], [9, 7], [17, 17], [64, 63], [65, 64], [65, 65], [130, 127], [130, 128], [130, 129],
    [257, 129], [257, 256], [257, 257],
  ])('d = %i, failing pivot %i: NotPositiveDefiniteError with that pivot', (d, p) => {
    const rng = new Rng(400 + d * 7 + p);
    const A64 = Float64Array.from(randomSPD(rng, d, Type));
    const R = refCholesky(A64, d);
    A64[(p - 1) * d + (p - 1)] -= R[(p - 1) * d + (p - 1)] * R[(p - 1) * d + (p - 1)] + 1;
    const A = Type.from(A64);
    let err: unknown;
    try {
      linalg.cholesky(A, d);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotPositiveDefiniteError);
    expect(err).toBeInstanceOf(Error);
    const e = err as NotPositiveDefiniteError;
    expect(e.name).toBe('NotPositiveDefiniteError');
    expect(e.pivot).toBe(p);
    expect(e.message).toMatch(new RegExp(`\\b${p}\\b`));
  });

  it('never retries: an exactly singular matrix throws (jitter would have made it succeed)', () => {
    for (const d of [2, 3, 9, 130]) {
      const ones = new Type(d * d).fill(1); // pivot 2 is exactly 1 − 1 = 0
      let pivot = -1;
      try {
        linalg.cholesky(ones, d);
      } catch (e) {
        expect(e).toBeInstanceOf(NotPositiveDefiniteError);
        pivot = (e as NotPositiveDefiniteError).pivot;
      }
      expect(pivot, `d=${d}`).toBe(2);
      expect(() => linalg.solveSPD(ones, d, new Type(d).fill(1)), `solveSPD d=${d}`).toThrow(NotPositiveDefiniteError);
      expect(() => linalg.choleskyFactor(ones, d), `choleskyFactor d=${d}`).toThrow(NotPositiveDefiniteError);
    }
  });

  it('a failed factorisation leaves `out` (and A) untouched', () => {
    const d = 5;
    const ones = new Type(d * d).fill(1);
    const out = new Type(d * d).fill(7);
    expect(() => linalg.cholesky(ones, d, { out })).toThrow(NotPositiveDefiniteError);
    expect(Array.from(out)).toEqual(new Array(d * d).fill(7));
    const A = ones.slice();
    expect(() => linalg.cholesky(A, d, { out: A })).toThrow(NotPositiveDefiniteError);
    expectSameBits(A, ones, 'A with out = A');
  });
});

describe.each(types)('linalg.choleskySolve / solveSPD %s', (_name, Type) => {
  it.each(SIZES)('d = %i: relative residual within the DESIGN §4 bar, every nrhs', (d) => {
    const rng = new Rng(500 + d);
    const A = randomSPD(rng, d, Type);
    const L = linalg.cholesky(A, d);
    const LLt = refLLt(L, d); // the system the stored factor represents exactly
    const nrhsList = d >= 255 ? [1, 5] : NRHS;
    for (const nrhs of nrhsList) {
      const B = randomMatrix(rng, nrhs, d, Type);
      const X = linalg.choleskySolve(L, d, B, { nrhs });
      expect(X).toBeInstanceOf(Type);
      expect(X.length).toBe(nrhs * d);
      expectSolveAccurate(LLt, d, X, B, nrhs, Type);
      // default nrhs = B.length / d
      expectSameBits(linalg.choleskySolve(L, d, B), X, `default nrhs (${nrhs})`);
      const Y = linalg.solveSPD(A, d, B, { nrhs });
      expectSolveAccurate(A, d, Y, B, nrhs, Type);
    }
  });

  it('each right-hand side is solved consistently with solving it alone (blocked vs per-row paths)', () => {
    const rng = new Rng(17);
    for (const d of [5, 33, 100]) {
      const A = randomSPD(rng, d, Type);
      const L = linalg.cholesky(A, d);
      for (const nrhs of [2, 3, 5, 64]) {
        const B = randomMatrix(rng, nrhs, d, Type);
        const X = linalg.choleskySolve(L, d, B, { nrhs });
        for (const k of [0, nrhs - 1]) {
          const xk = linalg.choleskySolve(L, d, B.slice(k * d, (k + 1) * d));
          const a = X.subarray(k * d, (k + 1) * d);
          // both are backward stable solutions of the same system: normwise close (cond(A) ≲ 10)
          const rel = frobeniusDiff(a, xk) / frobenius(xk);
          expect(rel, `d=${d} nrhs=${nrhs} k=${k}`).toBeLessThanOrEqual(Type === Float32Array ? 1e-5 : 1e-13);
        }
      }
    }
  });

  it('choleskySolve reads only the lower triangle of L (NaN in the upper)', () => {
    const rng = new Rng(18);
    for (const d of [1, 4, 17, 65]) {
      const A = randomSPD(rng, d, Type);
      const L = linalg.cholesky(A, d);
      const B = randomMatrix(rng, 3, d, Type);
      const X = linalg.choleskySolve(L, d, B);
      expectSameBits(linalg.choleskySolve(withUpper(L, d, NaN), d, B), X, `d=${d}`);
      expectSameBits(linalg.choleskySolve(withUpper(L, d, 999), d, B), X, `d=${d}`);
    }
  });

  it('solveSPD reads only the lower triangle of A and applies shift', () => {
    const rng = new Rng(19);
    for (const d of [1, 8, 33, 129]) {
      const A = randomSPD(rng, d, Type);
      const B = randomMatrix(rng, 2, d, Type);
      const X = linalg.solveSPD(A, d, B);
      expectSameBits(linalg.solveSPD(withUpper(A, d, NaN), d, B), X, `d=${d}`);
      const Xs = linalg.solveSPD(A, d, B, { shift: 0.25 });
      expectSolveAccurate(A, d, Xs, B, 2, Type, 0.25);
    }
  });

  it('out: returned; out may be B itself', () => {
    const rng = new Rng(20);
    for (const [d, nrhs] of [[3, 1], [17, 5], [64, 64]]) {
      const A = randomSPD(rng, d, Type);
      const L = linalg.cholesky(A, d);
      const B = randomMatrix(rng, nrhs, d, Type);
      const X = linalg.choleskySolve(L, d, B);
      const out = new Type(nrhs * d).fill(NaN);
      expect(linalg.choleskySolve(L, d, B, { out })).toBe(out);
      expectSameBits(out, X, 'choleskySolve out');
      const B2 = B.slice();
      expect(linalg.choleskySolve(L, d, B2, { out: B2 })).toBe(B2);
      expectSameBits(B2, X, 'choleskySolve out = B');
      const Y = linalg.solveSPD(A, d, B);
      const B3 = B.slice();
      expect(linalg.solveSPD(A, d, B3, { out: B3 })).toBe(B3);
      expectSameBits(B3, Y, 'solveSPD out = B');
      const out4 = new Type(nrhs * d);
      expect(linalg.solveSPD(A, d, B, { out: out4, nrhs })).toBe(out4);
      expectSameBits(out4, Y, 'solveSPD out');
    }
  });

  it('B of the other float type is converted to the precision of the matrix', () => {
    const Other = Type === Float32Array ? Float64Array : Float32Array;
    const rng = new Rng(21);
    const d = 19;
    const A = randomSPD(rng, d, Type);
    const L = linalg.cholesky(A, d);
    const Bo = randomMatrix(rng, 3, d, Other);
    const Bc = Type.from(Bo);
    const X = linalg.choleskySolve(L, d, Bo);
    expect(X).toBeInstanceOf(Type);
    expectSameBits(X, linalg.choleskySolve(L, d, Bc), 'choleskySolve');
    const Y = linalg.solveSPD(A, d, Bo, { nrhs: 3 });
    expect(Y).toBeInstanceOf(Type);
    expectSameBits(Y, linalg.solveSPD(A, d, Bc), 'solveSPD');
  });

  it('does not modify L, A or B', () => {
    const rng = new Rng(22);
    const d = 12;
    const A = randomSPD(rng, d, Type);
    const L = linalg.cholesky(A, d);
    const B = randomMatrix(rng, 2, d, Type);
    const [A0, L0, B0] = [A.slice(), L.slice(), B.slice()];
    linalg.choleskySolve(L, d, B);
    linalg.solveSPD(A, d, B, { shift: 1 });
    expectSameBits(A, A0, 'A');
    expectSameBits(L, L0, 'L');
    expectSameBits(B, B0, 'B');
  });

  it('d = 0 and nrhs = 0 give empty results', () => {
    const E = new Type(0);
    expect(linalg.choleskySolve(E, 0, E, { nrhs: 3 }).length).toBe(0);
    expect(linalg.solveSPD(E, 0, E, { nrhs: 2 }).length).toBe(0);
    const rng = new Rng(23);
    const A = randomSPD(rng, 4, Type);
    const L = linalg.cholesky(A, 4);
    expect(linalg.choleskySolve(L, 4, E, { nrhs: 0 }).length).toBe(0);
    expect(linalg.solveSPD(A, 4, E, { nrhs: 0 }).length).toBe(0);
  });

  it('d = 0 with the default nrhs gives an empty result', () => {
    const E = new Type(0);
    expect(linalg.choleskySolve(E, 0, E).length).toBe(0);
    expect(linalg.solveSPD(E, 0, E).length).toBe(0);
  });

  it('an empty B with the default nrhs (= B.length / d = 0) gives an empty result', () => {
    // api-decisions: nrhs defaults to B.length / d and 0 is a legal size in linalg
    const rng = new Rng(24);
    const A = randomSPD(rng, 4, Type);
    const L = linalg.cholesky(A, 4);
    expect(linalg.choleskySolve(L, 4, new Type(0)).length).toBe(0);
  });

  it('solves the documented 2 × 2 example exactly', () => {
    const A = new Type([4, 2, 2, 5]);
    const x = linalg.solveSPD(A, 2, new Type([6, 7]));
    expect(Array.from(x)).toEqual([1, 1]);
    expect(Array.from(linalg.cholesky(A, 2))).toEqual([2, 0, 1, 2]);
    expect(Array.from(linalg.syrk(new Type([1, 2, 3, 4]), 2, 2))).toEqual([10, 14, 14, 20]);
  });
});

describe.each(types)('linalg.choleskyFactor %s', (_name, Type) => {
  it.each([1, 2, 9, 33, 65, 130, 257])('d = %i: lower() equals cholesky(); repeated solves are identical', (d) => {
    const rng = new Rng(600 + d);
    const A = randomSPD(rng, d, Type);
    const chol = linalg.choleskyFactor(A, d);
    try {
      expect(chol.d).toBe(d);
      expect(chol.precision).toBe(typeName(Type));
      expect(chol.disposed).toBe(false);
      const L = linalg.cholesky(A, d);
      expectSameBits(chol.lower(), L, 'lower()');
      const out = new Type(d * d).fill(NaN);
      expect(chol.lower(out)).toBe(out);
      expectSameBits(out, L, 'lower(out)');
      for (const nrhs of [1, 3, 64]) {
        const B = randomMatrix(rng, nrhs, d, Type);
        const X1 = chol.solve(B);
        const X2 = chol.solve(B, { nrhs });
        expectSameBits(X1, X2, 'repeated solve');
        expectSameBits(X1, linalg.choleskySolve(L, d, B), 'factor solve = choleskySolve');
        expectSolveAccurate(A, d, X1, B, nrhs, Type);
        const B2 = B.slice();
        expect(chol.solve(B2, { out: B2 })).toBe(B2);
        expectSameBits(B2, X1, 'solve out = B');
      }
    } finally {
      chol.dispose();
    }
  });

  it('shift, B of the other type, the upper triangle of A ignored', () => {
    const rng = new Rng(25);
    const d = 21;
    const A = randomSPD(rng, d, Type);
    const chol = linalg.choleskyFactor(withUpper(A, d, NaN), d, { shift: 0.5 });
    expectSameBits(chol.lower(), linalg.cholesky(A, d, { shift: 0.5 }), 'lower');
    const Other = Type === Float32Array ? Float64Array : Float32Array;
    const Bo = randomMatrix(rng, 2, d, Other);
    const X = chol.solve(Bo);
    expect(X).toBeInstanceOf(Type);
    expectSameBits(X, chol.solve(Type.from(Bo)), 'converted B');
    expectSolveAccurate(A, d, X, Type.from(Bo), 2, Type, 0.5);
    chol.dispose();
  });

  it('dispose: disposed becomes true, use afterwards throws "disposed", a second dispose is a no-op', () => {
    const rng = new Rng(26);
    const d = 7;
    const A = randomSPD(rng, d, Type);
    const chol = linalg.choleskyFactor(A, d);
    chol.dispose();
    expect(chol.disposed).toBe(true);
    expect(() => chol.solve(new Type(d).fill(1))).toThrow(/disposed/);
    expect(() => chol.lower()).toThrow(/disposed/);
    expect(() => chol.dispose()).not.toThrow();
    expect(chol.disposed).toBe(true);
    const chol2 = linalg.choleskyFactor(A, d);
    chol2[Symbol.dispose]();
    expect(chol2.disposed).toBe(true);
    expect(() => chol2.solve(new Type(d).fill(1))).toThrow(/disposed/);
  });

  it('d = 0: an empty factor that solves empty systems', () => {
    const chol = linalg.choleskyFactor(new Type(0), 0);
    expect(chol.solve(new Type(0), { nrhs: 4 }).length).toBe(0);
    expect(chol.lower().length).toBe(0);
    chol.dispose();
  });

  it('two factors live side by side without interfering', () => {
    const rng = new Rng(27);
    const A1 = randomSPD(rng, 30, Type);
    const A2 = randomSPD(rng, 45, Type);
    const c1 = linalg.choleskyFactor(A1, 30);
    const c2 = linalg.choleskyFactor(A2, 45);
    const b1 = randomMatrix(rng, 1, 30, Type);
    const b2 = randomMatrix(rng, 1, 45, Type);
    const x1 = c1.solve(b1);
    const x2 = c2.solve(b2);
    c2.dispose();
    expectSameBits(c1.solve(b1), x1, 'factor 1 after disposing factor 2');
    const c3 = linalg.choleskyFactor(A2, 45);
    expectSameBits(c3.solve(b2), x2, 'factor 3');
    expectSameBits(c1.lower(), linalg.cholesky(A1, 30), 'factor 1 lower');
    c1.dispose();
    c3.dispose();
  });
});

describe.each(types)('linalg on subarray views %s', (_name, Type) => {
  it('inputs and outputs that are views at an offset into a larger buffer', () => {
    const rng = new Rng(29);
    const d = 23;
    const A = randomSPD(rng, d, Type);
    const big = new Type(d * d + 7).fill(NaN);
    big.set(A, 3);
    const Av = big.subarray(3, 3 + d * d);
    const L = linalg.cholesky(A, d);
    expectSameBits(linalg.cholesky(Av, d), L, 'A as a view');
    const outBuf = new Type(d * d + 5).fill(NaN);
    const outV = outBuf.subarray(1, 1 + d * d);
    linalg.cholesky(Av, d, { out: outV });
    expectSameBits(outV, L, 'out as a view');
    expect(Number.isNaN(outBuf[0]) && Number.isNaN(outBuf[d * d + 1]), 'outside the view untouched').toBe(true);
    const B = randomMatrix(rng, 2, d, Type);
    const Bbuf = new Type(2 * d + 4).fill(NaN);
    Bbuf.set(B, 1);
    const Bv = Bbuf.subarray(1, 1 + 2 * d);
    expectSameBits(linalg.choleskySolve(L, d, Bv), linalg.choleskySolve(L, d, B), 'B as a view');
    linalg.solveSPD(Av, d, Bv, { out: Bv });
    expectSameBits(Bv, linalg.solveSPD(A, d, B), 'solveSPD in place on a view');
    expect(Number.isNaN(Bbuf[0]) && Number.isNaN(Bbuf[2 * d + 1])).toBe(true);
    const G = randomMatrix(rng, 4, d, Type);
    const Gbuf = new Type(4 * d + 2).fill(NaN);
    Gbuf.set(G, 2);
    expectSameBits(linalg.syrk(Gbuf.subarray(2), 4, d), linalg.syrk(G, 4, d), 'G as a view');
  });
});

describe('linalg: f32 and f64 agree', () => {
  it('the f32 solution is close to the f64 one for a well-conditioned system', () => {
    const rng = new Rng(28);
    const d = 50;
    const A = randomSPD(rng, d, Float64Array);
    const B = randomMatrix(rng, 1, d, Float64Array);
    const x64 = linalg.solveSPD(A, d, B);
    const x32 = linalg.solveSPD(Float32Array.from(A), d, B);
    expect(x32).toBeInstanceOf(Float32Array);
    let worst = 0;
    for (let i = 0; i < d; i++) worst = Math.max(worst, Math.abs(x32[i] - x64[i]));
    expect(worst).toBeLessThan(1e-4);
  });

  it('syrk reference check of the 2 × 2 example in both precisions', () => {
    for (const Type of FLOAT_TYPES as FloatArrayCtor[]) {
      const G = new Type([1, -2, 0.5, 3, 4, -1]);
      expect(Array.from(linalg.syrk(G, 3, 2))).toEqual(Array.from(Type.from(refSyrk(G, 3, 2))));
    }
  });
});
