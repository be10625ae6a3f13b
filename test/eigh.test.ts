/**
 * linalg.eigh: the symmetric eigendecomposition, both precisions, against a float64 Jacobi
 * reference (eigenvalues) and the scaled residuals of DESIGN §4 (‖AV − VΛ‖_F/‖A‖_F and
 * max|VᵀV − I| within 30·d·u), on random, graded, clustered, diagonal, tridiagonal and zero
 * matrices, over sizes around the block boundaries of assembly/config.ts (EIGH_NB = 16, EIGH_NX = 32,
 * EIGH_QB = 32, the 4 × 2-vector tiles); the pieces sytrd and ormtr called directly (QᵀAQ = T);
 * sentinels, the unread upper triangle, errors and "nothing changed on failure".
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initSync, linalg } from '../src/index.js';
import { getEngine } from '../src/engine.js';
import { refEigenvaluesJacobi, symmetricFromLower } from './reference.js';
import { FLOAT_TYPES, Rng, expectSameBits, typeName, unitRoundoff, withUpper, type FloatArray, type FloatArrayCtor } from './util.js';

beforeAll(() => {
  initSync();
});

const types = FLOAT_TYPES.map((T) => [typeName(T), T] as const);

/** block and tile boundaries of assembly/config.ts: EIGH_NB (panel rows), EIGH_NX (the unblocked
 *  tail), EIGH_QB (reflectors per block of the back-transformation: d − 1 reflectors), the 4-row
 *  symv and the 4 × 2-vector tiles */
const NB = 16;
const NX = 32;
const QB = 32;
const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, NB - 1, NB, NB + 1, NX - 1, NX, NX + 1, NX + NB - 1, NX + NB + 1, 2 * QB + 1, 2 * QB + 2, 3 * NB + NX + 1, 4 * QB + 1, 150, 193];

// ---------------------------------------------------------------------------------------------
// matrices (built in float64, then rounded once to the test's type)

/** A random orthogonal d × d matrix: a product of d Householder reflectors of random vectors. */
function randomOrthogonal(rng: Rng, d: number): Float64Array {
  const Q = new Float64Array(d * d);
  for (let i = 0; i < d; i++) Q[i * d + i] = 1;
  const u = new Float64Array(d);
  const t = new Float64Array(d);
  for (let r = 0; r < d; r++) {
    let uu = 0;
    for (let i = 0; i < d; i++) {
      u[i] = rng.normal();
      uu += u[i] * u[i];
    }
    // Q ← Q (I − 2uuᵀ/uᵀu)
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += Q[i * d + j] * u[j];
      t[i] = (2 * s) / uu;
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) Q[i * d + j] -= t[i] * u[j];
  }
  return Q;
}

/** Q diag(λ) Qᵀ for a random orthogonal Q (both triangles, exactly symmetric). */
function withSpectrum(rng: Rng, lambda: ArrayLike<number>): Float64Array {
  const d = lambda.length;
  const Q = randomOrthogonal(rng, d);
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += Q[i * d + k] * lambda[k] * Q[j * d + k];
      A[i * d + j] = s;
      A[j * d + i] = s;
    }
  }
  return A;
}

function randomSymmetric(rng: Rng, d: number): Float64Array {
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const v = rng.range(-1, 1);
      A[i * d + j] = v;
      A[j * d + i] = v;
    }
  }
  return A;
}

/** eigenvalues spanning 1e-8 … 1 (both signs): 10^(−k) · m, k = 0 … 8, m ∈ [1, 10) (no Math.pow) */
function gradedSpectrum(rng: Rng, d: number): Float64Array {
  const lambda = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const k = d > 1 ? Math.floor((8 * i) / (d - 1)) : 0;
    let x = rng.range(0.1, 1);
    for (let j = 0; j < k; j++) x *= 0.1;
    lambda[i] = i % 2 === 0 ? x : -x;
  }
  return lambda;
}

/** many equal eigenvalues (a third 1, a third −0.5) and the rest in a tight cluster near 2 */
function clusteredSpectrum(rng: Rng, d: number): Float64Array {
  const lambda = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    if (i % 3 === 0) lambda[i] = 1;
    else if (i % 3 === 1) lambda[i] = -0.5;
    else lambda[i] = 2 + 1e-12 * rng.uniform();
  }
  return lambda;
}

function diagonalMatrix(rng: Rng, d: number): Float64Array {
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) A[i * d + i] = rng.range(-1, 1);
  return A;
}

function tridiagonalMatrix(rng: Rng, d: number): Float64Array {
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    A[i * d + i] = rng.range(-1, 1);
    if (i > 0) {
      const v = rng.range(-1, 1);
      A[i * d + i - 1] = v;
      A[(i - 1) * d + i] = v;
    }
  }
  return A;
}

type Builder = (rng: Rng, d: number) => Float64Array;
const FAMILIES: Record<string, Builder> = {
  random: randomSymmetric,
  graded: (rng, d) => withSpectrum(rng, gradedSpectrum(rng, d)),
  clustered: (rng, d) => withSpectrum(rng, clusteredSpectrum(rng, d)),
  diagonal: diagonalMatrix,
  tridiagonal: tridiagonalMatrix,
  zero: (_rng, d) => new Float64Array(d * d),
};

// ---------------------------------------------------------------------------------------------
// checks

interface Residuals {
  /** ‖AV − VΛ‖_F / ‖A‖_F / (d·u) */
  residual: number;
  /** max|VᵀV − I| / (d·u) */
  orthogonality: number;
  /** max_k |λ_k − ref_k| / (‖A‖₂·d·u) */
  values: number;
}

/** worst scaled residuals seen by this file, per precision (printed at the end for the report) */
const worst: Record<string, Residuals> = {
  f32: { residual: 0, orthogonality: 0, values: 0 },
  f64: { residual: 0, orthogonality: 0, values: 0 },
};

function residuals(A: ArrayLike<number>, d: number, values: ArrayLike<number>, vectors: ArrayLike<number> | undefined, ref: ArrayLike<number>, Type: FloatArrayCtor): Residuals {
  const S = symmetricFromLower(A, d);
  const du = Math.max(d, 1) * unitRoundoff(Type);
  let nA = 0;
  for (let t = 0; t < d * d; t++) nA += S[t] * S[t];
  nA = Math.sqrt(nA);
  let n2 = 0;
  for (let k = 0; k < d; k++) n2 = Math.max(n2, Math.abs(ref[k]));
  let verr = 0;
  for (let k = 0; k < d; k++) verr = Math.max(verr, Math.abs(values[k] - ref[k]));
  const r: Residuals = { residual: 0, orthogonality: 0, values: n2 === 0 ? (verr === 0 ? 0 : Infinity) : verr / (n2 * du) };
  if (vectors) {
    let rr = 0;
    for (let k = 0; k < d; k++) {
      const v = k * d;
      for (let i = 0; i < d; i++) {
        let s = -values[k] * vectors[v + i];
        const row = i * d;
        for (let j = 0; j < d; j++) s += S[row + j] * vectors[v + j];
        rr += s * s;
      }
    }
    r.residual = nA === 0 ? (rr === 0 ? 0 : Infinity) : Math.sqrt(rr) / nA / du;
    let orth = 0;
    for (let k = 0; k < d; k++) {
      for (let l = 0; l <= k; l++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += vectors[k * d + i] * vectors[l * d + i];
        orth = Math.max(orth, Math.abs(s - (k === l ? 1 : 0)));
      }
    }
    r.orthogonality = orth / du;
  }
  return r;
}

function expectAscending(values: ArrayLike<number>): void {
  let bad = -1;
  for (let k = 1; k < values.length && bad < 0; k++) if (!(values[k - 1] <= values[k])) bad = k;
  expect(bad, `values not ascending at ${bad}`).toBe(-1);
}

/** runs eigh (vectors and valuesOnly) on A and checks everything against the reference */
function checkEigh(A: FloatArray, d: number, Type: FloatArrayCtor, what: string, ref = refEigenvaluesJacobi(A, d)): Residuals {
  const A0 = A.slice();
  const { values, vectors } = linalg.eigh(A, d);
  expect(values).toBeInstanceOf(Type);
  expect(vectors).toBeInstanceOf(Type);
  expect(values.length).toBe(d);
  expect(vectors.length).toBe(d * d);
  expectSameBits(A, A0, `${what}: A unchanged`);
  expectAscending(values);
  const r = residuals(A, d, values, vectors, ref, Type);
  const only = linalg.eigh(A, d, { valuesOnly: true });
  expect(only.vectors).toBeUndefined();
  expectAscending(only.values);
  const r2 = residuals(A, d, only.values, undefined, ref, Type);
  const w = worst[typeName(Type)];
  w.residual = Math.max(w.residual, r.residual);
  w.orthogonality = Math.max(w.orthogonality, r.orthogonality);
  w.values = Math.max(w.values, r.values, r2.values);
  expect(r.residual, `${what}: ‖AV − VΛ‖/(‖A‖·d·u)`).toBeLessThanOrEqual(30);
  expect(r.orthogonality, `${what}: max|VᵀV − I|/(d·u)`).toBeLessThanOrEqual(30);
  expect(r.values, `${what}: eigenvalues vs Jacobi, /(‖A‖₂·d·u)`).toBeLessThanOrEqual(30);
  expect(r2.values, `${what}: valuesOnly eigenvalues vs Jacobi`).toBeLessThanOrEqual(30);
  return r;
}

describe.each(types)('linalg.eigh %s', (name, Type) => {
  it.each(SIZES)('d = %i: random, graded and clustered spectra within 30·d·u', (d) => {
    const rng = new Rng(1000 + d + (Type === Float32Array ? 0 : 500));
    const families = ['random', 'graded', 'clustered'];
    for (const f of families) {
      const A = Type.from(FAMILIES[f](rng, d)) as FloatArray;
      checkEigh(A, d, Type, `${name} ${f} d = ${d}`);
    }
  });

  it.each([1, 2, 5, 33, 70])('d = %i: diagonal, tridiagonal and zero matrices', (d) => {
    const rng = new Rng(2000 + d);
    for (const f of ['diagonal', 'tridiagonal', 'zero']) {
      const A = Type.from(FAMILIES[f](rng, d)) as FloatArray;
      checkEigh(A, d, Type, `${name} ${f} d = ${d}`);
    }
  });

  it('the zero matrix: eigenvalues exactly 0, eigenvectors orthonormal', () => {
    const d = 40;
    const { values, vectors } = linalg.eigh(new Type(d * d), d);
    expect(Array.from(values)).toEqual(new Array(d).fill(0));
    const r = residuals(new Float64Array(d * d), d, values, vectors, new Float64Array(d), Type);
    expect(r.orthogonality).toBeLessThanOrEqual(30);
  });

  it('1 × 1: the value itself and the vector [1]', () => {
    const { values, vectors } = linalg.eigh(new Type([-2.5]), 1);
    expect(Array.from(values)).toEqual([-2.5]);
    expect(Math.abs(vectors[0])).toBe(1);
  });

  it('2 × 2 example of the doc comment', () => {
    const { values, vectors } = linalg.eigh(new Type([2, 1, 1, 2]), 2);
    const u = unitRoundoff(Type);
    expect(Math.abs(values[0] - 1)).toBeLessThanOrEqual(8 * u);
    expect(Math.abs(values[1] - 3)).toBeLessThanOrEqual(8 * u);
    const h = Math.sqrt(0.5);
    expect(Math.abs(Math.abs(vectors[0]) - h)).toBeLessThanOrEqual(8 * u);
    expect(vectors[0] * vectors[1]).toBeLessThan(0);
    expect(vectors[2] * vectors[3]).toBeGreaterThan(0);
  });

  it('d = 0: empty results', () => {
    const r = linalg.eigh(new Type(0), 0);
    expect(r.values).toBeInstanceOf(Type);
    expect(r.values.length).toBe(0);
    expect(r.vectors.length).toBe(0);
    expect(linalg.eigh(new Type(0), 0, { valuesOnly: true }).vectors).toBeUndefined();
  });

  it('scaled by 2^±100 (f32: ±60): the same relative accuracy (power-of-two scaling inside)', () => {
    const rng = new Rng(77);
    const d = 37;
    const base = randomSymmetric(rng, d);
    const p = Type === Float32Array ? 60 : 100;
    for (const sign of [1, -1]) {
      let f = 1;
      for (let i = 0; i < p; i++) f *= sign > 0 ? 2 : 0.5;
      const A = Type.from(base, (x) => x * f) as FloatArray;
      checkEigh(A, d, Type, `${name} scaled by 2^${sign * p}`);
    }
  });

  it('subnormal and near-overflow entries: finite results, those of the matrix scaled by a power of two', () => {
    // A = [[3, 1], [1, 2]]·s rounded to the type; B = 2^k·A (exact) is an ordinary matrix, and
    // eigh(A) must be eigh(B)·2^−k up to the rounding of the result (a few subnormal spacings)
    const cases = Type === Float32Array ? [[1e-44, 100], [1e37, -100]] : [[1e-310, 1000], [1e307, -1000]];
    const spacing = Type === Float32Array ? 1.401298464324817e-45 : 4.9406564584124654e-324;
    for (const [sc, k] of cases) {
      const A = new Type([3 * sc, 1 * sc, 1 * sc, 2 * sc]);
      let f = 1;
      for (let i = 0; i < Math.abs(k); i++) f *= k > 0 ? 2 : 0.5;
      const B = Type.from(A, (x) => x * f);
      const ra = linalg.eigh(A, 2);
      const rb = linalg.eigh(B, 2);
      for (let i = 0; i < 2; i++) {
        const want = rb.values[i] / f;
        const tol = sc < 1 ? 4 * spacing : 8 * unitRoundoff(Type) * Math.abs(rb.values[1] / f);
        expect(Math.abs(ra.values[i] - want), `λ${i} at scale ${sc}`).toBeLessThanOrEqual(tol);
      }
      for (let i = 0; i < 4; i++) {
        expect(Number.isFinite(ra.vectors[i])).toBe(true);
        if (sc > 1) expect(Math.abs(ra.vectors[i] - rb.vectors[i]), `vectors at scale ${sc}`).toBeLessThanOrEqual(8 * unitRoundoff(Type));
      }
    }
  });

  it('reads only the lower triangle: 999 or NaN above the diagonal give the same bits; A unchanged', () => {
    const rng = new Rng(78);
    for (const d of [3, 33, 70]) {
      const A = Type.from(randomSymmetric(rng, d)) as FloatArray;
      const ref = linalg.eigh(A, d);
      for (const junk of [999, NaN, -Infinity]) {
        const B = withUpper(A, d, junk);
        const B0 = B.slice();
        const r = linalg.eigh(B, d);
        expectSameBits(r.values, ref.values, `values with ${junk} above`);
        expectSameBits(r.vectors, ref.vectors, `vectors with ${junk} above`);
        expectSameBits(B, B0, 'A unchanged');
      }
    }
  });

  it('values and vectors given: filled and returned, nothing around them touched; vectors may be A', () => {
    const rng = new Rng(79);
    const d = 45;
    const A = Type.from(randomSymmetric(rng, d)) as FloatArray;
    const ref = linalg.eigh(A, d);
    const vb = new Type(d + 6).fill(999);
    const zb = new Type(d * d + 6).fill(999);
    const values = vb.subarray(3, 3 + d) as FloatArray;
    const vectors = zb.subarray(3, 3 + d * d) as FloatArray;
    const r = linalg.eigh(A, d, { values, vectors });
    expect(r.values).toBe(values);
    expect(r.vectors).toBe(vectors);
    expectSameBits(values, ref.values, 'values');
    expectSameBits(vectors, ref.vectors, 'vectors');
    for (const i of [0, 1, 2, d + 3, d + 4, d + 5]) expect(vb[i], `values sentinel ${i}`).toBe(999);
    for (const i of [0, 1, 2, d * d + 3, d * d + 4, d * d + 5]) expect(zb[i], `vectors sentinel ${i}`).toBe(999);
    // values only, into a given array
    const only = new Type(d).fill(999);
    const r2 = linalg.eigh(A, d, { valuesOnly: true, values: only });
    expect(r2.values).toBe(only);
    expect(r2.vectors).toBeUndefined();
    const bound = 30 * d * unitRoundoff(Type) * Math.max(Math.abs(ref.values[0]), Math.abs(ref.values[d - 1]));
    for (let k = 0; k < d; k++) expect(Math.abs(only[k] - ref.values[k])).toBeLessThanOrEqual(bound);
    // in place: the eigenvectors overwrite A
    const B = A.slice();
    const r3 = linalg.eigh(B, d, { vectors: B });
    expect(r3.vectors).toBe(B);
    expectSameBits(B, ref.vectors, 'vectors written over A');
  });

  it('is deterministic: the same input gives the same bits', () => {
    const rng = new Rng(80);
    const d = 101;
    const A = Type.from(randomSymmetric(rng, d)) as FloatArray;
    const a = linalg.eigh(A, d);
    const b = linalg.eigh(A, d);
    expectSameBits(a.values, b.values, 'values');
    expectSameBits(a.vectors, b.vectors, 'vectors');
  });

  it('eighAsync gives the same bits (on the calling thread)', async () => {
    const rng = new Rng(81);
    const d = 50;
    const A = Type.from(randomSymmetric(rng, d)) as FloatArray;
    const a = linalg.eigh(A, d);
    const b = await linalg.eighAsync(A, d);
    expectSameBits(a.values, b.values, 'values');
    expectSameBits(a.vectors, b.vectors, 'vectors');
    const c = await linalg.eighAsync(A, d, { valuesOnly: true });
    expect(c.vectors).toBeUndefined();
    await expect(linalg.eighAsync(A, d + 1)).rejects.toThrow(RangeError);
  });

  describe('errors: thrown before anything is written', () => {
    const d = 4;
    const good = () => Type.from(randomSymmetric(new Rng(82), d)) as FloatArray;
    const Other = Type === Float32Array ? Float64Array : Float32Array;

    /** runs f, expects it to throw `kind` matching `re`, and the given outputs untouched */
    function rejects(f: (values: FloatArray, vectors: FloatArray) => unknown, kind: ErrorConstructor, re: RegExp): void {
      const values = new Type(d).fill(999);
      const vectors = new Type(d * d).fill(999);
      expect(() => f(values, vectors)).toThrow(kind);
      expect(() => f(values, vectors)).toThrow(re);
      expect(Array.from(values)).toEqual(new Array(d).fill(999));
      expect(Array.from(vectors)).toEqual(new Array(d * d).fill(999));
    }

    it('A not a float typed array: TypeError', () => {
      rejects(() => linalg.eigh(new Int32Array(16) as unknown as FloatArray, d), TypeError, /A must be a Float32Array or Float64Array/);
      rejects(() => linalg.eigh([1, 2, 3, 4] as unknown as FloatArray, 2), TypeError, /A must be/);
    });

    it('bad d or length of A: RangeError naming it', () => {
      rejects(() => linalg.eigh(good(), 5), RangeError, /A has length 16, expected d·d = 25/);
      rejects(() => linalg.eigh(good(), -1), RangeError, /d must be an integer/);
      rejects(() => linalg.eigh(good(), 2.5), RangeError, /d must be an integer/);
    });

    it('values or vectors of the wrong length or type', () => {
      rejects((v, z) => linalg.eigh(good(), d, { values: new Type(d + 1), vectors: z }), RangeError, /values has length 5, expected d = 4/);
      rejects((v) => linalg.eigh(good(), d, { values: v, vectors: new Type(d * d - 1) }), RangeError, /vectors has length 15, expected d·d = 16/);
      rejects((v, z) => linalg.eigh(good(), d, { values: new Other(d) as unknown as FloatArray, vectors: z }), TypeError, /values must be a Float/);
      rejects((v) => linalg.eigh(good(), d, { values: v, vectors: new Other(d * d) as unknown as FloatArray }), TypeError, /vectors must be a Float/);
      rejects((v) => linalg.eigh(good(), d, { values: v, vectors: [0] as unknown as FloatArray }), TypeError, /vectors must be a Float32Array or Float64Array/);
    });

    it('bad options: unknown names, valuesOnly not a boolean, vectors with valuesOnly, values = vectors', () => {
      rejects((v, z) => linalg.eigh(good(), d, { values: v, vectors: z, out: z } as never), RangeError, /unknown option options\.out; the options are values, vectors, valuesOnly/);
      rejects((v, z) => linalg.eigh(good(), d, { values: v, vectors: z, valuesOnly: 1 } as never), TypeError, /valuesOnly must be a boolean/);
      rejects((v, z) => linalg.eigh(good(), d, { values: v, vectors: z, valuesOnly: true } as never), RangeError, /vectors is given with valuesOnly/);
      rejects(() => linalg.eigh(good(), d, null as never), TypeError, /options must be an object/);
      const one = new Type(1);
      expect(() => linalg.eigh(new Type([1]), 1, { values: one, vectors: one })).toThrow(/must be different arrays/);
    });

    it('a non-finite element of the lower triangle: RangeError with its index; the upper one is not read', () => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const index of [0, 9, 15]) {
          const A = good();
          A[index] = bad;
          rejects((v, z) => linalg.eigh(A, d, { values: v, vectors: z }), RangeError, new RegExp(`A\\[${index}\\] is ${bad}`));
        }
        const A = good();
        A[3] = bad; // strict upper: ignored
        expect(() => linalg.eigh(A, d)).not.toThrow();
      }
    });

    it('eigenvalues beyond the range of the precision: RangeError, outputs untouched', () => {
      const big = Type === Float32Array ? 3e38 : 1.7e308;
      const A = new Type([big, big, big, big]);
      const values = new Type(2).fill(999);
      const vectors = new Type(4).fill(999);
      expect(() => linalg.eigh(A, 2, { values, vectors })).toThrow(/eigenvalues overflows/);
      expect(Array.from(values)).toEqual([999, 999]);
      expect(Array.from(vectors)).toEqual([999, 999, 999, 999]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// the pieces: sytrd (A = Q T Qᵀ) and ormtr (rows x ← Q x), called directly

describe.each(types)('kernels sytrd and ormtr %s', (name, Type) => {
  it.each([1, 2, 3, 4, NB - 1, NB + 1, NX + 1, NX + NB + 1, 2 * QB + 1, 130])('d = %i: QᵀAQ = T (tridiagonal), QᵀQ = I, within 30·d·u', (d) => {
    const e = getEngine();
    const p = typeName(Type);
    const b = Type.BYTES_PER_ELEMENT;
    const A = randomSymmetric(new Rng(3000 + d), d);
    const ld = d + 3; // odd leading dimensions
    const wb = Math.max((e.exports[`sytrd_work_bytes_${p}`] as (d: number) => number)(d), (e.exports[`ormtr_work_bytes_${p}`] as (d: number, m: number) => number)(d, d));
    const ap = e.alloc(d * ld * b);
    const dp = e.alloc(d * b);
    const ep = e.alloc(d * b);
    const tp = e.alloc(d * b);
    const xp = e.alloc(d * ld * b);
    const ew = e.alloc(wb);
    try {
      const av = e.view(p, ap, d * ld);
      av.fill(NaN); // the strict upper triangle and the padding are not read
      for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) av[i * ld + j] = A[i * d + j];
      const Ar = Float64Array.from(av); // A as rounded to the type
      (e.exports[`sytrd_${p}`] as (...a: number[]) => void)(d, ap, ld, dp, ep, tp, e.work, ew);
      const xv = e.view(p, xp, d * ld);
      xv.fill(0);
      for (let i = 0; i < d; i++) xv[i * ld + i] = 1;
      (e.exports[`ormtr_${p}`] as (...a: number[]) => void)(d, d, ap, ld, tp, xp, ld, e.work, ew);
      const D = Float64Array.from(e.view(p, dp, d));
      const E = Float64Array.from(e.view(p, ep, d));
      const X = e.view(p, xp, d * ld); // row k = Q e_k, so X = Qᵀ
      // ‖Qᵀ A Q − T‖_F / ‖A‖_F with (QᵀAQ)_kl = x_k · A x_l
      const S = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) S[i * d + j] = S[j * d + i] = Ar[i * ld + j];
      const AX = new Float64Array(d * d); // row l = A x_l
      for (let l = 0; l < d; l++) {
        for (let i = 0; i < d; i++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += S[i * d + j] * X[l * ld + j];
          AX[l * d + i] = s;
        }
      }
      let err = 0;
      let nA = 0;
      let orth = 0;
      for (let k = 0; k < d; k++) {
        for (let l = 0; l < d; l++) {
          let s = 0;
          let o = 0;
          for (let i = 0; i < d; i++) {
            s += X[k * ld + i] * AX[l * d + i];
            o += X[k * ld + i] * X[l * ld + i];
          }
          const t = k === l ? D[k] : k === l + 1 ? E[l] : l === k + 1 ? E[k] : 0;
          err += (s - t) * (s - t);
          nA += S[k * d + l] * S[k * d + l];
          orth = Math.max(orth, Math.abs(o - (k === l ? 1 : 0)));
        }
      }
      const du = d * unitRoundoff(Type);
      expect(Math.sqrt(err / nA) / du, `${name} d = ${d}: ‖QᵀAQ − T‖/(‖A‖·d·u)`).toBeLessThanOrEqual(30);
      expect(orth / du, `${name} d = ${d}: max|QᵀQ − I|/(d·u)`).toBeLessThanOrEqual(30);
      // the padding of X is untouched
      for (let i = 0; i < d; i++) for (let j = d; j < ld; j++) expect(X[i * ld + j]).toBe(0);
    } finally {
      for (const q of [ap, dp, ep, tp, xp, ew]) e.free(q);
    }
  });
});

describe.each(types)('kernel eigh %s: stays inside its arguments', (name, Type) => {
  it.each([1, 5, NB + 1, 2 * QB + 3])('d = %i: ldz > d, sentinels after w, around z, after ework; the same values as linalg.eigh', (d) => {
    const e = getEngine();
    const p = typeName(Type);
    const b = Type.BYTES_PER_ELEMENT;
    const A = Type.from(randomSymmetric(new Rng(4000 + d), d)) as FloatArray;
    const ref = linalg.eigh(A, d);
    for (const vectors of [1, 0]) {
      const lda = d + 1;
      const ldz = d + 2;
      const wb = (e.exports[`eigh_work_bytes_${p}`] as (d: number, v: number) => number)(d, vectors);
      expect(wb % 16, 'ework bytes a multiple of 16').toBe(0);
      const ap = e.alloc(d * lda * b);
      const wp = e.alloc((d + 8) * b);
      const zp = e.alloc((d * ldz + 8) * b);
      const ew = e.alloc(wb + 256);
      try {
        const av = e.view(p, ap, d * lda);
        av.fill(NaN);
        for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) av[i * lda + j] = A[i * d + j];
        e.view(p, wp, d + 8).fill(999);
        e.view(p, zp, d * ldz + 8).fill(999);
        new Uint8Array(e.memory.buffer, ew + wb, 256).fill(0xa5);
        const info = (e.exports[`eigh_${p}`] as (...a: number[]) => number)(d, ap, lda, wp, vectors ? zp : 0, ldz, vectors, e.work, ew);
        expect(info).toBe(0);
        const w = e.view(p, wp, d + 8);
        for (let k = 0; k < 8; k++) expect(w[d + k], `w sentinel ${k}`).toBe(999);
        if (vectors) {
          expectSameBits(w.slice(0, d) as FloatArray, ref.values, 'values');
          const z = e.view(p, zp, d * ldz + 8);
          for (let k = 0; k < d; k++) {
            expectSameBits(z.slice(k * ldz, k * ldz + d) as FloatArray, ref.vectors.subarray(k * d, k * d + d) as FloatArray, `vector ${k}`);
            for (let j = d; j < ldz; j++) expect(z[k * ldz + j], `z padding (${k}, ${j})`).toBe(999);
          }
          for (let k = 0; k < 8; k++) expect(z[d * ldz + k], `z sentinel ${k}`).toBe(999);
        } else {
          const du = 30 * d * unitRoundoff(Type) * Math.max(Math.abs(ref.values[0]), Math.abs(ref.values[d - 1]));
          for (let k = 0; k < d; k++) expect(Math.abs(w[k] - ref.values[k])).toBeLessThanOrEqual(du);
          expect(Array.from(e.view(p, zp, d * ldz + 8)).every((x) => x === 999), 'z not touched without vectors').toBe(true);
        }
        const tail = new Uint8Array(e.memory.buffer, ew + wb, 256);
        expect(tail.every((x) => x === 0xa5), `${name}: nothing written past eigh_work_bytes`).toBe(true);
      } finally {
        for (const q of [ap, wp, zp, ew]) e.free(q);
      }
    }
  });
});

describe('report', () => {
  it('worst scaled residuals (‖AV − VΛ‖/(‖A‖du), max|VᵀV − I|/(du), |λ − ref|/(‖A‖₂du))', () => {
    console.log(`eigh worst scaled residuals: ${JSON.stringify(worst)}`);
  });
});
