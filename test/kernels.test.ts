/**
 * Every kernel of the ABI (assembly/README.md), called directly through the engine: both
 * precisions, odd leading dimensions, pointers offset by whole elements (so not 16-byte aligned),
 * beta == 0 with NaN in the output, sentinels around every output and in the strict upper
 * triangle, NaN in the padding of inputs (never part of the matrix, so it must never leak).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSync } from '../src/index.js';
import { getEngine } from '../src/engine.js';
import {
  refCholesky,
  refCholeskySolve,
  refGemv,
  refGemvT,
  refGram,
  refLLt,
  refSymvLower,
  symmetricFromLower,
} from './reference.js';
import {
  BOUNDARY_SIZES,
  FLOAT_TYPES,
  Rng,
  SENTINEL,
  choleskyBackwardError,
  randomLower,
  randomMatrix,
  randomSPD,
  solveResidual,
  solveBar,
  syrkErrorRatio,
  typeName,
  unitRoundoff,
  type FloatArrayCtor,
} from './util.js';

type Kernel = (...args: number[]) => number;

let work = 0;

beforeAll(() => {
  initSync();
  const e = getEngine();
  work = e.alloc(Math.max((e.exports.work_bytes as () => number)(), 16));
});

afterAll(() => {
  getEngine().free(work);
});

/** A region of wasm memory holding one operand, `offset` elements past a 64-byte aligned block. */
class Region {
  readonly base: number;
  readonly ptr: number;
  constructor(
    readonly Type: FloatArrayCtor,
    readonly len: number,
    readonly offset: number,
    fill: number,
  ) {
    const bytes = Type.BYTES_PER_ELEMENT;
    this.base = getEngine().alloc((len + offset + 8) * bytes);
    this.ptr = this.base + offset * bytes;
    this.whole().fill(fill);
  }
  /** a fresh view of the whole block (offset prefix and 8-element tail included) */
  whole(): Float32Array | Float64Array {
    const e = getEngine();
    const n = this.len + this.offset + 8;
    return this.Type === Float32Array ? e.view32(this.base, n) : e.view64(this.base, n);
  }
  /** a fresh view of the operand */
  view(): Float32Array | Float64Array {
    const e = getEngine();
    return this.Type === Float32Array ? e.view32(this.ptr, this.len) : e.view64(this.ptr, this.len);
  }
  /** a float64 copy of the operand */
  read(): Float64Array {
    return Float64Array.from(this.view());
  }
  /** writes a rows × cols matrix (dense, row-major) with leading dimension ld */
  writeMatrix(src: ArrayLike<number>, rows: number, cols: number, ld: number, lowerOnly = false): void {
    const v = this.view();
    for (let i = 0; i < rows; i++) {
      const jmax = lowerOnly ? Math.min(i + 1, cols) : cols;
      for (let j = 0; j < jmax; j++) v[i * ld + j] = src[i * cols + j];
    }
  }
  /** reads a rows × cols matrix with leading dimension ld into a dense float64 array */
  readMatrix(rows: number, cols: number, ld: number): Float64Array {
    const v = this.view();
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = v[i * ld + j];
    return out;
  }
  /** asserts that everything outside the rows × cols matrix (leading dimension ld) holds `value` */
  expectOutside(rows: number, cols: number, ld: number, value: number, what: string): void {
    const w = this.whole();
    let bad = -1;
    for (let p = 0; p < w.length; p++) {
      const q = p - this.offset;
      if (q >= 0 && q < rows * ld && q % ld < cols) continue;
      if (!(Number.isNaN(value) ? Number.isNaN(w[p]) : w[p] === value)) {
        bad = p;
        break;
      }
    }
    expect(bad, `${what}: element ${bad - this.offset} outside the matrix changed to ${bad >= 0 ? w[bad] : ''}`).toBe(-1);
  }
  free(): void {
    getEngine().free(this.base);
  }
}

function kernel(name: string, Type: FloatArrayCtor): Kernel {
  const k = getEngine().exports[`${name}_${typeName(Type)}`];
  expect(typeof k, `export ${name}_${typeName(Type)}`).toBe('function');
  return k as Kernel;
}

/** rounds a scalar to the kernel's precision */
function scalar(Type: FloatArrayCtor, x: number): number {
  return Type === Float32Array ? Math.fround(x) : x;
}

/** worst |got − ref| / ((n + 4)·u·scale) over entries; ≤ 1 for any correct summation order */
function ratio(got: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number>, n: number, u: number): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const s = (n + 4) * u * scale[i];
    const err = Math.abs(got[i] - ref[i]);
    const r = s === 0 ? (err === 0 ? 0 : Infinity) : err / s;
    if (!(r <= worst)) worst = r;
  }
  return worst;
}

/** '' when M (d × d, dense) equals want(i, j) everywhere, else a description of the first difference */
function firstMismatch(M: ArrayLike<number>, d: number, want: (i: number, j: number) => number): string {
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const w = want(i, j);
      if (!Object.is(M[i * d + j], w)) return `(${i},${j}) is ${M[i * d + j]}, expected ${w}`;
    }
  }
  return '';
}

const LEVEL1_SIZES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129];
const OFFSETS = [0, 1, 3];

describe.each(FLOAT_TYPES.map((T) => [typeName(T), T] as const))('kernels %s', (_name, Type) => {
  const u = unitRoundoff(Type);

  it('heap_base and work_bytes are sane', () => {
    const e = getEngine();
    const hb = (e.exports.heap_base as () => number)();
    const wb = (e.exports.work_bytes as () => number)();
    expect(Number.isInteger(hb) && hb >= 0).toBe(true);
    expect(Number.isInteger(wb) && wb >= 0).toBe(true);
  });

  it('dot', () => {
    const dot = kernel('dot', Type);
    const rng = new Rng(11);
    for (const n of LEVEL1_SIZES) {
      for (const off of OFFSETS) {
        const x = randomMatrix(rng, 1, n, Type);
        const y = randomMatrix(rng, 1, n, Type);
        const X = new Region(Type, n, off, NaN);
        const Y = new Region(Type, n, off + 1, NaN);
        X.view().set(x);
        Y.view().set(y);
        const got = dot(n, X.ptr, Y.ptr);
        let ref = 0;
        let scale = 0;
        for (let i = 0; i < n; i++) {
          ref += x[i] * y[i];
          scale += Math.abs(x[i] * y[i]);
        }
        expect(ratio([got], [ref], [scale], n, u), `dot n=${n} off=${off}`).toBeLessThanOrEqual(1);
        X.free();
        Y.free();
      }
    }
  });

  it('axpy, axpby (beta = 0 does not read y), scal', () => {
    const axpy = kernel('axpy', Type);
    const axpby = kernel('axpby', Type);
    const scal = kernel('scal', Type);
    const rng = new Rng(12);
    for (const n of LEVEL1_SIZES) {
      for (const off of OFFSETS) {
        const x = randomMatrix(rng, 1, n, Type);
        const y = randomMatrix(rng, 1, n, Type);
        const alpha = scalar(Type, -0.7);
        const beta = scalar(Type, 1.3);
        const X = new Region(Type, n, off, NaN);
        const Y = new Region(Type, n, off + 1, SENTINEL);
        X.view().set(x);

        // axpy
        Y.view().set(y);
        axpy(n, alpha, X.ptr, Y.ptr);
        let got = Y.read();
        const refA = Array.from(x, (xi, i) => alpha * xi + y[i]);
        const scaleA = Array.from(x, (xi, i) => Math.abs(alpha * xi) + Math.abs(y[i]));
        expect(ratio(got, refA, scaleA, 1, u), `axpy n=${n} off=${off}`).toBeLessThanOrEqual(1);
        Y.expectOutside(1, n, n, SENTINEL, `axpy n=${n}`);
        X.expectOutside(1, n, n, NaN, `axpy x n=${n}`);

        // axpby, beta ≠ 0
        Y.view().set(y);
        axpby(n, alpha, X.ptr, beta, Y.ptr);
        got = Y.read();
        const refB = Array.from(x, (xi, i) => alpha * xi + beta * y[i]);
        const scaleB = Array.from(x, (xi, i) => Math.abs(alpha * xi) + Math.abs(beta * y[i]));
        expect(ratio(got, refB, scaleB, 1, u), `axpby n=${n} off=${off}`).toBeLessThanOrEqual(1);
        Y.expectOutside(1, n, n, SENTINEL, `axpby n=${n}`);

        // axpby, beta == 0: NaN in y must not leak
        Y.view().fill(NaN);
        axpby(n, alpha, X.ptr, 0, Y.ptr);
        got = Y.read();
        const refC = Array.from(x, (xi) => alpha * xi);
        expect(ratio(got, refC, refC.map(Math.abs), 0, u), `axpby beta=0 n=${n} off=${off}`).toBeLessThanOrEqual(1);
        Y.expectOutside(1, n, n, SENTINEL, `axpby beta=0 n=${n}`);

        // scal
        Y.view().set(y);
        scal(n, alpha, Y.ptr);
        got = Y.read();
        const refD = Array.from(y, (yi) => alpha * yi);
        expect(ratio(got, refD, refD.map(Math.abs), 0, u), `scal n=${n} off=${off}`).toBeLessThanOrEqual(1);
        Y.expectOutside(1, n, n, SENTINEL, `scal n=${n}`);
        X.free();
        Y.free();
      }
    }
  });

  it('first_nonfinite finds the first NaN / ±Infinity and ignores what lies past n', () => {
    const first = kernel('first_nonfinite', Type);
    const rng = new Rng(13);
    for (const n of LEVEL1_SIZES) {
      for (const off of [0, 1]) {
        const X = new Region(Type, n, off, NaN); // NaN before and after x
        const x = randomMatrix(rng, 1, n, Type);
        X.view().set(x);
        expect(first(n, X.ptr), `clean n=${n} off=${off}`).toBe(-1);
        const positions = new Set([0, 1, 2, 3, 4, 5, 7, 8, Math.floor(n / 2), n - 2, n - 1].filter((p) => p >= 0 && p < n));
        for (const p of positions) {
          for (const bad of [NaN, Infinity, -Infinity]) {
            X.view().set(x);
            X.view()[p] = bad;
            expect(first(n, X.ptr), `${bad} at ${p} of n=${n} off=${off}`).toBe(p);
            // a second bad value later does not change the answer
            if (p + 3 < n) {
              X.view()[p + 3] = NaN;
              expect(first(n, X.ptr), `two bad values n=${n}`).toBe(p);
            }
          }
        }
        // largest finite values are finite
        X.view().set(x);
        if (n > 0) {
          X.view()[n - 1] = Type === Float32Array ? 3.4028234663852886e38 : Number.MAX_VALUE;
          expect(first(n, X.ptr), `max finite n=${n}`).toBe(-1);
        }
        X.free();
      }
    }
  });

  it('sumsq_cols: y ← βy + α Σ_i g_ij² (beta = 0 ignores NaN in y)', () => {
    const sumsq = kernel('sumsq_cols', Type);
    const rng = new Rng(14);
    for (const [n, d] of [
      [0, 5], [1, 1], [1, 7], [3, 5], [4, 8], [5, 9], [7, 16], [9, 17], [17, 33], [2, 64], [33, 65], [5, 129], [64, 3],
    ]) {
      for (const [ldPad, off] of [[0, 0], [1, 1], [3, 3]]) {
        const ldg = d + ldPad;
        const G = randomMatrix(rng, n, d, Type);
        const y0 = randomMatrix(rng, 1, d, Type);
        const Gr = new Region(Type, n * ldg, off, NaN);
        Gr.writeMatrix(G, n, d, ldg);
        const Y = new Region(Type, d, off + 2, SENTINEL);
        for (const [alpha, beta] of [[1, 0], [scalar(Type, 0.25), 0], [scalar(Type, -2), scalar(Type, 0.5)]]) {
          if (beta === 0) Y.view().fill(NaN);
          else Y.view().set(y0);
          sumsq(n, d, alpha, Gr.ptr, ldg, beta, Y.ptr);
          const got = Y.read();
          const ref = new Float64Array(d);
          const scale = new Float64Array(d);
          for (let j = 0; j < d; j++) {
            let s = 0;
            for (let i = 0; i < n; i++) s += G[i * d + j] * G[i * d + j];
            ref[j] = alpha * s + (beta !== 0 ? beta * y0[j] : 0);
            scale[j] = Math.abs(alpha * s) + (beta !== 0 ? Math.abs(beta * y0[j]) : 0);
          }
          expect(ratio(got, ref, scale, n, u), `sumsq n=${n} d=${d} ldg=${ldg} β=${beta}`).toBeLessThanOrEqual(1);
          Y.expectOutside(1, d, d, SENTINEL, `sumsq y n=${n} d=${d}`);
        }
        Gr.free();
        Y.free();
      }
    }
  });

  const GEMV_SHAPES: [number, number][] = [
    [3, 0], [0, 3], [1, 1], [1, 5], [5, 1], [2, 3], [3, 2], [4, 4], [5, 7], [7, 5], [8, 8], [9, 9], [6, 16], [16, 6], [17, 17],
    [13, 31], [33, 32], [32, 33], [65, 63], [3, 129], [129, 3], [64, 64],
  ];

  it('gemv_n and gemv_t (odd lda, offsets, beta = 0 with NaN in y, sentinels around y)', () => {
    const gemvN = kernel('gemv_n', Type);
    const gemvT = kernel('gemv_t', Type);
    const rng = new Rng(15);
    for (const [m, n] of GEMV_SHAPES) {
      for (const [ldPad, off] of [[0, 0], [1, 1], [3, 2]]) {
        const lda = n + ldPad;
        const A = randomMatrix(rng, m, n, Type);
        const Ar = new Region(Type, m * lda, off, NaN);
        Ar.writeMatrix(A, m, n, lda);
        for (const trans of [false, true]) {
          const xl = trans ? m : n;
          const yl = trans ? n : m;
          const x = randomMatrix(rng, 1, xl, Type);
          const y0 = randomMatrix(rng, 1, yl, Type);
          const X = new Region(Type, xl, off + 1, NaN);
          X.view().set(x);
          const Y = new Region(Type, yl, off, SENTINEL);
          const Ax = trans ? refGemvT(A, m, n, x) : refGemv(A, m, n, x);
          const absA = Float64Array.from(A, Math.abs);
          const absx = Float64Array.from(x, Math.abs);
          const Axabs = trans ? refGemvT(absA, m, n, absx) : refGemv(absA, m, n, absx);
          for (const [alpha, beta] of [[1, 0], [scalar(Type, -1.5), 0], [scalar(Type, 0.5), scalar(Type, -0.75)], [1, 1]]) {
            if (beta === 0) Y.view().fill(NaN);
            else Y.view().set(y0);
            (trans ? gemvT : gemvN)(m, n, alpha, Ar.ptr, lda, X.ptr, beta, Y.ptr);
            const got = Y.read();
            const ref = Array.from(Ax, (v, i) => alpha * v + (beta !== 0 ? beta * y0[i] : 0));
            const scale = Array.from(Axabs, (v, i) => Math.abs(alpha) * v + (beta !== 0 ? Math.abs(beta * y0[i]) : 0));
            const what = `${trans ? 'gemv_t' : 'gemv_n'} m=${m} n=${n} lda=${lda} off=${off} α=${alpha} β=${beta}`;
            expect(ratio(got, ref, scale, trans ? m : n, u), what).toBeLessThanOrEqual(1);
            Y.expectOutside(1, yl, yl, SENTINEL, what);
          }
          X.free();
          Y.free();
        }
        Ar.free();
      }
    }
  });

  it('symv reads only the lower triangle (NaN in the strict upper and padding)', () => {
    const symv = kernel('symv', Type);
    const rng = new Rng(16);
    for (const d of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65, 129]) {
      for (const [ldPad, off] of [[0, 0], [1, 1], [3, 3]]) {
        const lda = d + ldPad;
        const A = randomSPD(rng, d, Type);
        const Ar = new Region(Type, d * lda, off, NaN);
        Ar.writeMatrix(A, d, d, lda, true);
        const x = randomMatrix(rng, 1, d, Type);
        const y0 = randomMatrix(rng, 1, d, Type);
        const X = new Region(Type, d, off + 1, NaN);
        X.view().set(x);
        const Y = new Region(Type, d, off, SENTINEL);
        const Ax = refSymvLower(A, d, x);
        const Aabs = refSymvLower(Float64Array.from(A, Math.abs), d, Float64Array.from(x, Math.abs));
        for (const [alpha, beta] of [[1, 0], [scalar(Type, 0.5), scalar(Type, 2)]]) {
          if (beta === 0) Y.view().fill(NaN);
          else Y.view().set(y0);
          symv(d, alpha, Ar.ptr, lda, X.ptr, beta, Y.ptr);
          const got = Y.read();
          const ref = Array.from(Ax, (v, i) => alpha * v + (beta !== 0 ? beta * y0[i] : 0));
          const scale = Array.from(Aabs, (v, i) => Math.abs(alpha) * v + (beta !== 0 ? Math.abs(beta * y0[i]) : 0));
          const what = `symv d=${d} lda=${lda} off=${off} β=${beta}`;
          expect(ratio(got, ref, scale, d, u), what).toBeLessThanOrEqual(1);
          Y.expectOutside(1, d, d, SENTINEL, what);
        }
        X.free();
        Y.free();
        Ar.free();
      }
    }
  });

  // (n, d): d around MR, NR, MC (96), NB (128), NC; n around KC (256)
  const SYRK_SHAPES: [number, number][] = [
    ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 63, 64, 65].map((d) => [7, d] as [number, number]),
    [1, 1], [2, 3], [13, 5], [1, 40], [33, 95], [5, 96], [9, 97], [3, 127], [17, 128], [2, 129],
    [255, 9], [256, 13], [257, 6], [300, 17], [513, 4], [40, 193], [3, 257], [257, 33], [300, 200],
    // around NC = 1024 (the packed B block)
    [3, 1023], [2, 1025], [5, 1030],
  ];

  it('syrk: lower(C) ← β lower(C) + α lower(GᵀG); strict upper and padding untouched', () => {
    const syrk = kernel('syrk', Type);
    const rng = new Rng(17);
    let k = 0;
    for (const [n, d] of SYRK_SHAPES) {
      const [ldgPad, ldcPad, off] = [[0, 0, 0], [1, 3, 1], [3, 1, 3], [2, 5, 2]][k++ % 4];
      const ldg = d + ldgPad;
      const ldc = d + ldcPad;
      const G = randomMatrix(rng, n, d, Type);
      const Gr = new Region(Type, n * ldg, off, NaN);
      Gr.writeMatrix(G, n, d, ldg);
      const C0 = randomMatrix(rng, d, d, Type); // only its lower triangle is used
      const Cr = new Region(Type, d * ldc, off + 1, SENTINEL);
      const scalars = [[1, 0], [scalar(Type, -0.5), 0], [scalar(Type, 0.3), 1], [scalar(Type, 2), scalar(Type, -0.25)]];
      for (const [alpha, beta] of d > 300 ? [scalars[1], scalars[3]] : scalars) {
        Cr.whole().fill(SENTINEL);
        if (beta === 0) {
          const nan = new Float64Array(d * d).fill(NaN);
          Cr.writeMatrix(nan, d, d, ldc, true);
        } else {
          Cr.writeMatrix(C0, d, d, ldc, true);
        }
        syrk(n, d, alpha, Gr.ptr, ldg, beta, Cr.ptr, ldc, work);
        const C = Cr.view();
        const what = `syrk n=${n} d=${d} ldg=${ldg} ldc=${ldc} off=${off} α=${alpha} β=${beta}`;
        const r = syrkErrorRatio(C, G, n, d, alpha, beta, C0, Type, (i, j) => j <= i, ldc);
        expect(r, what).toBeLessThanOrEqual(1);
        // strict upper and padding: still the sentinel
        let bad = -1;
        for (let i = 0; i < d && bad < 0; i++) for (let j = i + 1; j < d; j++) if (C[i * ldc + j] !== SENTINEL) { bad = i * ldc + j; break; }
        expect(bad, `${what}: strict upper written at ${bad}`).toBe(-1);
        Cr.expectOutside(d, d, ldc, SENTINEL, what);
      }
      Gr.expectOutside(n, d, ldg, NaN, `syrk G n=${n} d=${d}`);
      Gr.free();
      Cr.free();
    }
  });

  it('syrk: n = 0 gives β·C, and beta = 0 with n = 0 clears NaN', () => {
    const syrk = kernel('syrk', Type);
    const rng = new Rng(18);
    for (const d of [1, 5, 17, 33]) {
      const C0 = randomSPD(rng, d, Type);
      const Cr = new Region(Type, d * d, 1, SENTINEL);
      Cr.writeMatrix(C0, d, d, d, true);
      const Gr = new Region(Type, 1, 0, NaN);
      syrk(0, d, 1, Gr.ptr, d, scalar(Type, 0.5), Cr.ptr, d, work);
      const C = Cr.read();
      for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) expect(C[i * d + j]).toBe(scalar(Type, 0.5 * C0[i * d + j]));
      Cr.writeMatrix(new Float64Array(d * d).fill(NaN), d, d, d, true);
      syrk(0, d, 1, Gr.ptr, d, 0, Cr.ptr, d, work);
      const Z = Cr.read();
      for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) expect(Z[i * d + j], `d=${d} (${i},${j})`).toBe(0);
      Cr.free();
      Gr.free();
    }
  });

  it('gram: lower(C) ← β lower(C) + α lower(GGᵀ), C n × n', () => {
    const gram = kernel('gram', Type);
    const rng = new Rng(19);
    const shapes: [number, number][] = [
      [1, 1], [1, 9], [2, 3], [3, 17], [5, 1], [6, 6], [7, 8], [8, 7], [9, 33], [13, 64], [16, 5], [17, 17],
      [25, 100], [33, 3], [64, 65], [97, 20], [129, 9], [5, 300], [100, 300],
    ];
    let k = 0;
    for (const [n, d] of shapes) {
      const [ldgPad, ldcPad, off] = [[0, 0, 0], [1, 3, 1], [3, 1, 3]][k++ % 3];
      const ldg = d + ldgPad;
      const ldc = n + ldcPad;
      const G = randomMatrix(rng, n, d, Type);
      const Gr = new Region(Type, n * ldg, off, NaN);
      Gr.writeMatrix(G, n, d, ldg);
      const C0 = randomSPD(rng, n, Type);
      const Cr = new Region(Type, n * ldc, off + 1, SENTINEL);
      const ref = refGram(G, n, d);
      const abs = refGram(Float64Array.from(G, Math.abs), n, d);
      for (const [alpha, beta] of [[1, 0], [scalar(Type, 0.5), scalar(Type, 1.5)]]) {
        Cr.whole().fill(SENTINEL);
        Cr.writeMatrix(beta === 0 ? new Float64Array(n * n).fill(NaN) : C0, n, n, ldc, true);
        gram(n, d, alpha, Gr.ptr, ldg, beta, Cr.ptr, ldc, work);
        const C = Cr.readMatrix(n, n, ldc);
        let worst = 0;
        for (let i = 0; i < n; i++) {
          for (let j = 0; j <= i; j++) {
            const r = alpha * ref[i * n + j] + (beta !== 0 ? beta * C0[i * n + j] : 0);
            const s = ((Math.abs(alpha) * abs[i * n + j] + (beta !== 0 ? Math.abs(beta * C0[i * n + j]) : 0)) * (d + 4) * u);
            const e = Math.abs(C[i * n + j] - r) / s;
            if (!(e <= worst)) worst = e;
          }
        }
        const what = `gram n=${n} d=${d} ldg=${ldg} ldc=${ldc} β=${beta}`;
        expect(worst, what).toBeLessThanOrEqual(1);
        let bad = -1;
        for (let i = 0; i < n && bad < 0; i++) for (let j = i + 1; j < n; j++) if (C[i * n + j] !== SENTINEL) { bad = i * n + j; break; }
        expect(bad, `${what}: strict upper written`).toBe(-1);
        Cr.expectOutside(n, n, ldc, SENTINEL, what);
      }
      Gr.free();
      Cr.free();
    }
  });

  it('symmetrize, zero_upper, add_diag touch exactly what they say', () => {
    const symmetrize = kernel('symmetrize', Type);
    const zeroUpper = kernel('zero_upper', Type);
    const addDiag = kernel('add_diag', Type);
    const rng = new Rng(20);
    for (const d of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 64, 65, 129]) {
      for (const [ldPad, off] of [[0, 0], [1, 1], [3, 3]]) {
        const ld = d + ldPad;
        const A = randomMatrix(rng, d, d, Type);
        const R = new Region(Type, d * ld, off, SENTINEL);
        const what = `d=${d} ld=${ld} off=${off}`;

        R.writeMatrix(A, d, d, ld, true);
        symmetrize(d, R.ptr, ld);
        let M = R.readMatrix(d, d, ld);
        expect(firstMismatch(M, d, (i, j) => (j <= i ? A[i * d + j] : A[j * d + i])), `symmetrize ${what}`).toBe('');
        R.expectOutside(d, d, ld, SENTINEL, `symmetrize ${what}`);

        R.writeMatrix(A, d, d, ld);
        zeroUpper(d, R.ptr, ld);
        M = R.readMatrix(d, d, ld);
        expect(firstMismatch(M, d, (i, j) => (j > i ? 0 : A[i * d + j])), `zero_upper ${what}`).toBe('');
        R.expectOutside(d, d, ld, SENTINEL, `zero_upper ${what}`);

        R.writeMatrix(A, d, d, ld);
        const shift = scalar(Type, 0.37);
        addDiag(d, shift, R.ptr, ld);
        M = R.readMatrix(d, d, ld);
        expect(
          firstMismatch(M, d, (i, j) => (i === j ? scalar(Type, A[i * d + j] + shift) : A[i * d + j])),
          `add_diag ${what}`,
        ).toBe('');
        R.expectOutside(d, d, ld, SENTINEL, `add_diag ${what}`);
        R.free();
      }
    }
  });

  // NB = 64 below NB_LARGE_MIN = 768, NB_LARGE = 128 from there: both sides, and a 128-wide block end
  const POTRF_SIZES = [...BOUNDARY_SIZES.filter((d) => d <= 129), 191, 255, 256, 257, 383, 385, 767, 768, 897];

  it('potrf: backward error ≤ 10·d·u, strict upper not referenced (NaN stays NaN), padding intact', () => {
    const potrf = kernel('potrf', Type);
    const rng = new Rng(21);
    let k = 0;
    for (const d of POTRF_SIZES) {
      const [ldPad, off] = [[0, 0], [1, 1], [3, 3], [2, 1]][k++ % 4];
      const lda = d + ldPad;
      const A = randomSPD(rng, d, Type);
      const R = new Region(Type, d * lda, off, SENTINEL);
      R.writeMatrix(A, d, d, lda);
      // strict upper: NaN (must not be read, must not be written)
      const v = R.view();
      for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) v[i * lda + j] = NaN;
      const info = potrf(d, R.ptr, lda, work);
      const what = `potrf d=${d} lda=${lda} off=${off}`;
      expect(info, what).toBe(0);
      const M = R.readMatrix(d, d, lda);
      const L = new Float64Array(d * d);
      let upperOk = true;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          if (j <= i) L[i * d + j] = M[i * d + j];
          else if (!Number.isNaN(M[i * d + j])) upperOk = false;
        }
      }
      expect(upperOk, `${what}: strict upper was written`).toBe(true);
      const err = choleskyBackwardError(L, A, d);
      expect(err, `${what}: backward error`).toBeLessThanOrEqual(10 * d * u);
      for (let i = 0; i < d; i++) expect(L[i * d + i] > 0, `${what}: diag ${i}`).toBe(true);
      R.expectOutside(d, d, lda, SENTINEL, what);
      R.free();
    }
  });

  /** An SPD matrix whose leading minor of order p (1-based) has a pivot of exactly about −1. */
  function notPDAt(rng: Rng, d: number, p: number, Type: FloatArrayCtor): Float32Array | Float64Array {
    const A = Float64Array.from(randomSPD(rng, d, Type));
    const L = refCholesky(A, d);
    const lpp = L[(p - 1) * d + (p - 1)];
    A[(p - 1) * d + (p - 1)] -= lpp * lpp + 1;
    return Type.from(A);
  }

  it('potrf: info is the failing pivot at every block position; leading minor holds a valid factor', () => {
    const potrf = kernel('potrf', Type);
    const rng = new Rng(22);
    const cases: [number, number][] = [
      [1, 1], [2, 1], [2, 2], [3, 2], [5, 5], [7, 6], [8, 7], [13, 12], [17, 17], [33, 32], [65, 64], [65, 65],
      [100, 97], [130, 1], [130, 64], [130, 65], [130, 127], [130, 128], [130, 129], [130, 130], [200, 193],
      [257, 256], [257, 257], [260, 255],
      // around NB2 = 32 inside the diagonal block, and inside the second block column
      [64, 31], [64, 32], [64, 33], [100, 96], [130, 97], [200, 160], [200, 161], [300, 289],
      // NB_LARGE = 128 block columns from d = 768
      [770, 128], [770, 129], [770, 257], [770, 768], [770, 769],
    ];
    for (const [d, p] of cases) {
      const lda = d + (p % 3);
      const A = notPDAt(rng, d, p, Type);
      const R = new Region(Type, d * lda, p % 2, SENTINEL);
      R.writeMatrix(A, d, d, lda, true);
      const info = potrf(d, R.ptr, lda, work);
      const what = `potrf d=${d} failing pivot ${p}`;
      expect(info, what).toBe(p);
      // the leading (p−1) × (p−1) block is the Cholesky factor of the leading minor
      const q = p - 1;
      if (q > 0) {
        const M = R.readMatrix(d, d, lda);
        const Lq = new Float64Array(q * q);
        const Aq = new Float64Array(q * q);
        for (let i = 0; i < q; i++) {
          for (let j = 0; j <= i; j++) {
            Lq[i * q + j] = M[i * d + j];
            Aq[i * q + j] = A[i * d + j];
          }
        }
        expect(choleskyBackwardError(Lq, Aq, q), `${what}: leading factor`).toBeLessThanOrEqual(10 * q * u);
      }
      R.expectOutside(d, d, lda, SENTINEL, what);
      R.free();
    }
  });

  it('potrf: NaN, ±Infinity and zero pivots are reported, never success', () => {
    const potrf = kernel('potrf', Type);
    const rng = new Rng(23);
    for (const d of [1, 3, 9, 64, 129]) {
      for (const p of [1, Math.max(1, d >> 1), d]) {
        for (const bad of [NaN, Infinity, -Infinity, 0]) {
          const A = randomSPD(rng, d, Type);
          const L = refCholesky(A, d);
          const lpp = L[(p - 1) * d + (p - 1)];
          // bad = 0: pivot p becomes (about) 0 — use an exactly singular leading minor instead
          if (bad === 0) {
            // zero row and column p: pivot p is exactly A_pp − 0 = 0
            for (let j = 0; j < d; j++) {
              A[(p - 1) * d + j] = 0;
              A[j * d + (p - 1)] = 0;
            }
          } else {
            A[(p - 1) * d + (p - 1)] = bad;
          }
          void lpp;
          const R = new Region(Type, d * d, 1, SENTINEL);
          R.writeMatrix(A, d, d, d, true);
          const info = potrf(d, R.ptr, d, work);
          expect(info, `d=${d} ${bad} at pivot ${p}`).toBe(p);
          R.free();
        }
      }
    }
    // the all-zero matrix fails at the first pivot
    for (const d of [1, 4, 130]) {
      const R = new Region(Type, d * d, 0, 0);
      expect(potrf(d, R.ptr, d, work), `zero matrix d=${d}`).toBe(1);
      R.free();
    }
  });

  it('trsv and trsv_t: componentwise backward stable, strict upper (NaN) not read', () => {
    const trsv = kernel('trsv', Type);
    const trsvT = kernel('trsv_t', Type);
    const rng = new Rng(24);
    for (const d of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 257]) {
      for (const [ldPad, off] of [[0, 0], [1, 1], [3, 2]]) {
        const ld = d + ldPad;
        const L = randomLower(rng, d, Type);
        const R = new Region(Type, d * ld, off, NaN);
        R.writeMatrix(L, d, d, ld, true);
        for (const trans of [false, true]) {
          const b = randomMatrix(rng, 1, d, Type);
          const X = new Region(Type, d, off + 1, SENTINEL);
          X.view().set(b);
          (trans ? trsvT : trsv)(d, R.ptr, ld, X.ptr);
          const x = X.read();
          // r = op(L) x − b, scale = |op(L)||x| + |b|
          let worst = 0;
          for (let i = 0; i < d; i++) {
            let s = -b[i];
            let sc = Math.abs(b[i]);
            if (!trans) {
              for (let j = 0; j <= i; j++) {
                s += L[i * d + j] * x[j];
                sc += Math.abs(L[i * d + j] * x[j]);
              }
            } else {
              for (let j = i; j < d; j++) {
                s += L[j * d + i] * x[j];
                sc += Math.abs(L[j * d + i] * x[j]);
              }
            }
            const r = Math.abs(s) / ((d + 4) * u * sc);
            if (!(r <= worst)) worst = r;
          }
          const what = `${trans ? 'trsv_t' : 'trsv'} d=${d} ld=${ld} off=${off}`;
          expect(worst, what).toBeLessThanOrEqual(1);
          X.expectOutside(1, d, d, SENTINEL, what);
          X.free();
        }
        R.free();
      }
    }
  });

  it('potrs: nrhs right-hand sides (rows of B, odd ldb), against the float64 reference', () => {
    const potrs = kernel('potrs', Type);
    const rng = new Rng(25);
    const cases: [number, number][] = [
      [1, 1], [1, 5], [2, 1], [3, 2], [3, 3], [4, 4], [5, 5], [7, 8], [8, 3], [9, 17], [16, 1], [17, 4], [31, 2],
      [33, 5], [63, 64], [64, 3], [65, 7], [127, 4], [129, 1], [129, 9], [257, 5], [65, 64],
      // around POTRS_BLOCKED_MIN_RHS = 4 and RB = TV·lanes rows (16 f32, 8 f64), d around NB2 = 32 and TB = 64
      [31, 4], [33, 7], [32, 8], [65, 9], [97, 15], [64, 16], [129, 17], [33, 33], [200, 24],
      [1, 100], [2, 37], [3, 129],
    ];
    let k = 0;
    for (const [d, nrhs] of cases) {
      const [ldlPad, ldbPad, off] = [[0, 0, 0], [1, 3, 1], [3, 1, 3]][k++ % 3];
      const ldl = d + ldlPad;
      const ldb = d + ldbPad;
      const A = randomSPD(rng, d, Float64Array);
      const L = Type.from(refCholesky(A, d));
      const LLt = refLLt(L, d); // the matrix whose system the stored L solves exactly
      const Lr = new Region(Type, d * ldl, off, NaN);
      Lr.writeMatrix(L, d, d, ldl, true);
      const B = randomMatrix(rng, nrhs, d, Type);
      const Br = new Region(Type, nrhs * ldb, off + 1, SENTINEL);
      Br.writeMatrix(B, nrhs, d, ldb);
      potrs(d, nrhs, Lr.ptr, ldl, Br.ptr, ldb, work);
      const X = Br.readMatrix(nrhs, d, ldb);
      const what = `potrs d=${d} nrhs=${nrhs} ldl=${ldl} ldb=${ldb} off=${off}`;
      const res = solveResidual(LLt, d, X, B, nrhs);
      expect(res, what).toBeLessThanOrEqual(solveBar(Type));
      // and close to the float64 solution of the same stored L
      const ref = refCholeskySolve(L, d, B, nrhs);
      let worst = 0;
      for (let t = 0; t < ref.length; t++) {
        const r = Math.abs(X[t] - ref[t]) / (Math.abs(ref[t]) + 1e-3 * Math.max(...ref.subarray(Math.floor(t / d) * d, Math.floor(t / d) * d + d).map(Math.abs)));
        if (!(r <= worst)) worst = r;
      }
      expect(worst, `${what}: vs reference`).toBeLessThanOrEqual(Type === Float32Array ? 1e-3 : 1e-10);
      Br.expectOutside(nrhs, d, ldb, SENTINEL, what);
      Lr.free();
      Br.free();
    }
  });

  it('zero sizes are no-ops that touch nothing', () => {
    const R = new Region(Type, 16, 1, SENTINEL);
    const S = new Region(Type, 16, 3, SENTINEL);
    const p = R.ptr;
    const q = S.ptr;
    expect(kernel('dot', Type)(0, p, q)).toBe(0);
    kernel('axpy', Type)(0, 2, p, q);
    kernel('axpby', Type)(0, 2, p, 0, q);
    kernel('scal', Type)(0, 2, q);
    expect(kernel('first_nonfinite', Type)(0, p)).toBe(-1);
    kernel('symv', Type)(0, 1, p, 1, p, 0, q);
    kernel('syrk', Type)(3, 0, 1, p, 1, 0, q, 1, work);
    kernel('gram', Type)(0, 3, 1, p, 3, 0, q, 1, work);
    kernel('symmetrize', Type)(0, q, 1);
    kernel('zero_upper', Type)(0, q, 1);
    kernel('add_diag', Type)(0, 1, q, 1);
    expect(kernel('potrf', Type)(0, q, 1, work)).toBe(0);
    kernel('trsv', Type)(0, p, 1, q);
    kernel('trsv_t', Type)(0, p, 1, q);
    kernel('potrs', Type)(0, 3, p, 1, q, 1, work);
    kernel('potrs', Type)(3, 0, p, 3, q, 3, work);
    R.expectOutside(0, 0, 1, SENTINEL, 'x');
    S.expectOutside(0, 0, 1, SENTINEL, 'y');
    R.free();
    S.free();
  });

  it('potrf then potrs round trip matches symmetricFromLower solve', () => {
    const potrf = kernel('potrf', Type);
    const potrs = kernel('potrs', Type);
    const rng = new Rng(26);
    for (const d of [6, 12, 96, 130]) {
      const A = randomSPD(rng, d, Type);
      const R = new Region(Type, d * d, 1, 0);
      R.writeMatrix(A, d, d, d, true);
      expect(potrf(d, R.ptr, d, work)).toBe(0);
      const B = randomMatrix(rng, 3, d, Type);
      const Br = new Region(Type, 3 * d, 3, 0);
      Br.view().set(B);
      potrs(d, 3, R.ptr, d, Br.ptr, d, work);
      const res = solveResidual(symmetricFromLower(A, d), d, Br.read(), B, 3);
      expect(res, `d=${d}`).toBeLessThanOrEqual(solveBar(Type));
      R.free();
      Br.free();
    }
  });
});
