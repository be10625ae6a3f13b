/**
 * Test helpers: a seeded generator, random problems, sentinels and scaled residuals.
 *
 * No Node built-ins here: the same helpers run in the browser suite.
 */
import { expect } from 'vitest';
import { frobenius, refLLt, refSyrk, refSyrkAbs, symmetricFromLower } from './reference.js';
import { SeededRandom } from '../src/models/random.js';

export type FloatArray = Float32Array | Float64Array;
export type FloatArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor;
export const FLOAT_TYPES: readonly FloatArrayCtor[] = [Float32Array, Float64Array];

/** Unit round-off: 2⁻²⁴ for f32, 2⁻⁵³ for f64. */
export function unitRoundoff(Type: FloatArrayCtor | 'f32' | 'f64'): number {
  const f32 = Type === Float32Array || Type === 'f32';
  return f32 ? 1 / 16777216 : 1 / 9007199254740992;
}

export function precisionOf(Type: FloatArrayCtor): 'f32' | 'f64' {
  return Type === Float32Array ? 'f32' : 'f64';
}

export function typeName(Type: FloatArrayCtor): 'f32' | 'f64' {
  return Type === Float32Array ? 'f32' : 'f64';
}

// ---------------------------------------------------------------------------------------------
// Seeded generator

/**
 * The package's mulberry32 generator (src/models/random.ts) with what the tests draw from it.
 * `normal()` is the Irwin–Hall approximation (sum of 12 uniforms − 6: mean 0, variance 1), which
 * needs only + and − and so is bit-identical everywhere (no Math.log/cos).
 */
export class Rng extends SeededRandom {
  /** uniform 32-bit unsigned integer */
  u32(): number {
    return this.nextU32();
  }
  /** uniform in [lo, hi) */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + (this.u32() % (hi - lo + 1));
  }
  /** approximately standard normal */
  normal(): number {
    let s = 0;
    for (let i = 0; i < 12; i++) s += this.uniform();
    return s - 6;
  }
}

/** A rows × cols matrix (row-major) of normal variates, never zero. */
export function randomMatrix<T extends FloatArrayCtor>(rng: Rng, rows: number, cols: number, Type: T): InstanceType<T> {
  const a = new Type(rows * cols) as InstanceType<T>;
  for (let i = 0; i < a.length; i++) {
    let v = rng.normal();
    if (v === 0) v = 0.5;
    a[i] = v;
  }
  return a;
}

export function randomVector<T extends FloatArrayCtor>(rng: Rng, n: number, Type: T): InstanceType<T> {
  return randomMatrix(rng, 1, n, Type);
}

/**
 * A well-conditioned SPD d × d matrix, both triangles filled (exactly symmetric):
 * GᵀG/m + c·I with G m × d normal, m = min(d, 32) + 3 and c = 1 (condition ≲ 1 + (1+√(d/m))²).
 * Computed in float64, then rounded once to Type (still exactly symmetric and SPD).
 */
export function randomSPD<T extends FloatArrayCtor>(rng: Rng, d: number, Type: T, c = 1): InstanceType<T> {
  const m = Math.min(d, 32) + 3;
  const G = randomMatrix(rng, m, d, Float64Array);
  const A = refSyrk(G, m, d, 1 / m);
  for (let i = 0; i < d; i++) A[i * d + i] += c;
  return Type.from(A) as InstanceType<T>;
}

/** A well-conditioned lower-triangular matrix (the Cholesky factor of a randomSPD), upper zero. */
export function randomLower<T extends FloatArrayCtor>(rng: Rng, d: number, Type: T): InstanceType<T> {
  // L = I·(1 + |u|) on the diagonal, small entries below: condition stays modest for every d
  const L = new Type(d * d) as InstanceType<T>;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) L[i * d + j] = rng.normal() / (2 * Math.sqrt(d));
    L[i * d + i] = 1 + rng.uniform();
  }
  return L;
}

// ---------------------------------------------------------------------------------------------
// Sentinels

export const SENTINEL = 999;

/** Sets the strict upper triangle of A (d × d, leading dimension ld) to `value`. */
export function fillUpper(A: FloatArray, d: number, value = SENTINEL, ld = d): void {
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) A[i * ld + j] = value;
}

/** Asserts the strict upper triangle of A holds `value` everywhere (Object.is: NaN matches NaN). */
export function expectUpper(A: ArrayLike<number>, d: number, value: number, ld = d, what = 'upper triangle'): void {
  let bad = -1;
  for (let i = 0; i < d && bad < 0; i++) {
    for (let j = i + 1; j < d; j++) {
      if (!Object.is(A[i * ld + j], value) && !(Number.isNaN(value) && Number.isNaN(A[i * ld + j]))) {
        bad = i * ld + j;
        break;
      }
    }
  }
  expect(bad, `${what}: entry ${bad} changed from ${value} to ${bad >= 0 ? A[bad] : ''}`).toBe(-1);
}

/**
 * Asserts that every element of `a` outside the rows × cols matrix stored at `offset` with
 * leading dimension `ld` still holds `value` (padding between rows, before and after).
 */
export function expectPadding(
  a: ArrayLike<number>,
  offset: number,
  rows: number,
  cols: number,
  ld: number,
  value: number,
  what = 'padding',
): void {
  let bad = -1;
  for (let p = 0; p < a.length; p++) {
    const q = p - offset;
    const inside = q >= 0 && q < rows * ld && q % ld < cols && Math.floor(q / ld) < rows;
    if (inside) continue;
    const v = a[p];
    const same = Number.isNaN(value) ? Number.isNaN(v) : v === value;
    if (!same) {
      bad = p;
      break;
    }
  }
  expect(bad, `${what}: element ${bad} changed to ${bad >= 0 ? a[bad] : ''}`).toBe(-1);
}

/** Asserts every entry is finite; reports the first bad index. */
export function expectFinite(a: ArrayLike<number>, what = 'result'): void {
  let bad = -1;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      bad = i;
      break;
    }
  }
  expect(bad, `${what}[${bad}] is ${bad >= 0 ? a[bad] : ''}`).toBe(-1);
}

/** Asserts two arrays hold the same bits (same type, same length, same values; NaN = NaN). */
export function expectSameBits(a: FloatArray, b: FloatArray, what = 'arrays'): void {
  expect(a.constructor, `${what}: type`).toBe(b.constructor);
  expect(a.length, `${what}: length`).toBe(b.length);
  const ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  let bad = -1;
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) {
      bad = Math.floor(i / a.BYTES_PER_ELEMENT);
      break;
    }
  }
  expect(bad, `${what}: element ${bad} differs: ${bad >= 0 ? `${a[bad]} vs ${b[bad]}` : ''}`).toBe(-1);
}

// ---------------------------------------------------------------------------------------------
// Scaled residuals

/** ‖L·Lᵀ − A‖_F / ‖A‖_F, A read through its lower triangle (symmetric), L through its lower. */
export function choleskyBackwardError(L: ArrayLike<number>, A: ArrayLike<number>, d: number, shift = 0): number {
  const LLt = refLLt(L, d);
  const S = symmetricFromLower(A, d);
  for (let i = 0; i < d; i++) S[i * d + i] += shift;
  const D = new Float64Array(d * d);
  for (let t = 0; t < d * d; t++) D[t] = LLt[t] - S[t];
  const nA = frobenius(S);
  return nA === 0 ? frobenius(D) : frobenius(D) / nA;
}

/** Asserts the backward error of a Cholesky factor is within the DESIGN §4 bar, 10·d·u. */
export function expectCholeskyAccurate(
  L: ArrayLike<number>,
  A: ArrayLike<number>,
  d: number,
  Type: FloatArrayCtor | 'f32' | 'f64',
  shift = 0,
): void {
  const err = choleskyBackwardError(L, A, d, shift);
  const bar = 10 * Math.max(d, 1) * unitRoundoff(Type);
  expect(err, `‖LLᵀ − A‖/‖A‖ = ${err} exceeds 10·d·u = ${bar} (d = ${d})`).toBeLessThanOrEqual(bar);
}

/**
 * max over right-hand sides of ‖(A + shift·I) x_k − b_k‖ / ‖b_k‖; A symmetric read through its
 * lower triangle; X and B hold nrhs vectors of length d one after another.
 */
export function solveResidual(
  A: ArrayLike<number>,
  d: number,
  X: ArrayLike<number>,
  B: ArrayLike<number>,
  nrhs: number,
  shift = 0,
): number {
  const S = symmetricFromLower(A, d);
  let worst = 0;
  const r = new Float64Array(d);
  for (let k = 0; k < nrhs; k++) {
    const off = k * d;
    for (let i = 0; i < d; i++) {
      let s = shift * X[off + i] - B[off + i];
      for (let j = 0; j < d; j++) s += S[i * d + j] * X[off + j];
      r[i] = s;
    }
    const nb = frobenius(Array.prototype.slice.call(B, off, off + d));
    const rel = nb === 0 ? frobenius(r) : frobenius(r) / nb;
    if (!(rel <= worst)) worst = rel;
  }
  return worst;
}

/** The solve bars of DESIGN §4: 1e-4 for f32, 1e-10 for f64 (well-conditioned systems). */
export function solveBar(Type: FloatArrayCtor | 'f32' | 'f64'): number {
  return Type === Float32Array || Type === 'f32' ? 1e-4 : 1e-10;
}

export function expectSolveAccurate(
  A: ArrayLike<number>,
  d: number,
  X: ArrayLike<number>,
  B: ArrayLike<number>,
  nrhs: number,
  Type: FloatArrayCtor | 'f32' | 'f64',
  shift = 0,
): void {
  const res = solveResidual(A, d, X, B, nrhs, shift);
  const bar = solveBar(Type);
  expect(res, `relative residual ${res} exceeds ${bar} (d = ${d}, nrhs = ${nrhs})`).toBeLessThanOrEqual(bar);
}

/**
 * Worst entrywise error of a syrk result C ≈ β·C0 + α·GᵀG relative to its rounding scale
 * (|α|·Σ_k|g_ki||g_kj| + |β|·|C0_ij|)·(n + 4)·u. A correct summation in any order stays ≤ 1.
 * Only the entries with `which(i, j)` true are checked (default: all).
 */
export function syrkErrorRatio(
  C: ArrayLike<number>,
  G: ArrayLike<number>,
  n: number,
  d: number,
  alpha: number,
  beta: number,
  C0: ArrayLike<number> | undefined,
  Type: FloatArrayCtor | 'f32' | 'f64',
  which: (i: number, j: number) => boolean = () => true,
  ldc = d,
): number {
  const ref = refSyrk(G, n, d, alpha, beta, C0);
  const abs = refSyrkAbs(G, n, d);
  const u = unitRoundoff(Type);
  let worst = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      if (!which(i, j)) continue;
      const scale =
        (Math.abs(alpha) * abs[i * d + j] + (beta !== 0 && C0 ? Math.abs(beta * C0[i * d + j]) : 0)) * (n + 4) * u;
      const err = Math.abs(C[i * ldc + j] - ref[i * d + j]);
      const ratio = scale === 0 ? (err === 0 ? 0 : Infinity) : err / scale;
      if (!(ratio <= worst)) worst = ratio;
    }
  }
  return worst;
}

/** Compares a vector with a float64 reference entrywise: |x − ref| ≤ tol·scale_i. */
export function maxScaledError(x: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number> | number): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const s = typeof scale === 'number' ? scale : scale[i];
    const err = Math.abs(x[i] - ref[i]);
    const r = s === 0 ? (err === 0 ? 0 : Infinity) : err / s;
    if (!(r <= worst)) worst = r;
  }
  return worst;
}

/** A copy of `a` as a new array of the same type. */
export function clone<T extends FloatArray>(a: T): T {
  return a.slice() as T;
}

/** The same values as a dense row-major d × d with the strict upper triangle set to `value`. */
export function withUpper<T extends FloatArray>(A: T, d: number, value: number): T {
  const B = A.slice() as T;
  fillUpper(B, d, value);
  return B;
}

/**
 * Block and tile boundaries of assembly/config.ts (MR = 4, NR = 8 (f32) / 4 (f64), NB2 = 32,
 * TB = 64, MC = 96, NB = 128, KC = 256; NC = 1024 is covered by the syrk kernel test) and the sizes
 * around them, densely from 1 to 17.
 */
export const BOUNDARY_SIZES: readonly number[] = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49, 63, 64, 65, 95, 96,
  97, 127, 128, 129, 191, 192, 193, 255, 256, 257,
];
