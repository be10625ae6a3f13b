/**
 * linalg.gemm: out (m × n) = α·op(A)·op(B) + β·out against the float64 reference of the
 * definition, in all four transpose combinations, over sizes around every tile and block boundary
 * of assembly/config.ts, with α/β, NaN sentinels in out for β = 0, sentinels around out, aliasing,
 * conversions, zero sizes and the errors. Runs in Node and in Chromium.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initSync, linalg, memoryInfo } from '../src/index.js';
import { refGemm } from './reference.js';
import {
  FLOAT_TYPES,
  Rng,
  SENTINEL,
  expectSameBits,
  randomMatrix,
  typeName,
  unitRoundoff,
  type FloatArray,
  type FloatArrayCtor,
} from './util.js';

beforeAll(() => {
  initSync();
});

// assembly/config.ts: the register tile MR × NR (NR = 2 vectors: 8 f32, 4 f64) and the cache
// blocks MC (rows of the packed A block), KC (depth of a packed panel), NC (columns of the packed
// B block)
const MR = 4;
const MC = 96;
const KC = 256;
const NC = 1024;
const nrOf = (Type: FloatArrayCtor) => (Type === Float32Array ? 8 : 4);

const types = FLOAT_TYPES.map((T) => [typeName(T), T] as const);
const TRANS = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/**
 * op(A)·op(B) and |op(A)|·|op(B)| in float64 for one problem, from which the reference and the
 * error scale of any α, β and C0 follow.
 */
interface Product {
  m: number;
  n: number;
  k: number;
  P: Float64Array;
  Pabs: Float64Array;
}

function product(A: FloatArray, B: FloatArray, m: number, n: number, k: number, transA: boolean, transB: boolean): Product {
  return {
    m, n, k,
    P: refGemm(A, B, m, n, k, transA, transB),
    Pabs: refGemm(A, B, m, n, k, transA, transB, 1, 0, undefined, true),
  };
}

/**
 * The worst elementwise |C − C_ref| / ((k + 2)·u·(|α|·|op(A)||op(B)| + |β|·|C0|)), C_ref = α·P + β·C0
 * in float64. Our rounding stays within (k + 2)·u of that scale whatever the summation order (k
 * roundings along a sum of k products, one for α, one for adding β·C0; the KC blocks add fewer
 * than the products they split), so the ratio is ≤ 1 for f32; for f64 the float64 reference rounds
 * as much again, hence ≤ 2 there. β = 0 with C0 undefined: out is not read.
 */
function gemmErrorRatio(C: ArrayLike<number>, p: Product, alpha: number, beta: number, C0: ArrayLike<number> | undefined, Type: FloatArrayCtor): number {
  const u = unitRoundoff(Type);
  const f32 = Type === Float32Array;
  // the kernel multiplies by α and β as rounded to its precision
  const a = f32 ? Math.fround(alpha) : alpha;
  const b = beta === 0 || !C0 ? 0 : f32 ? Math.fround(beta) : beta;
  let worst = 0;
  for (let t = 0; t < p.m * p.n; t++) {
    const ref = a * p.P[t] + (b !== 0 ? b * C0![t] : 0);
    const scale = (p.k + 2) * u * (Math.abs(a) * p.Pabs[t] + (b !== 0 ? Math.abs(b * C0![t]) : 0));
    const err = Math.abs(C[t] - ref);
    const r = scale === 0 ? (err === 0 ? 0 : Infinity) : err / scale;
    if (!(r <= worst)) worst = r;
  }
  return worst;
}

const bar = (Type: FloatArrayCtor) => (Type === Float32Array ? 1 : 2);

/** Stored shapes: A is m × k (k × m with transA), B is k × n (n × k with transB). */
function operands(rng: Rng, m: number, n: number, k: number, Type: FloatArrayCtor) {
  return { A: randomMatrix(rng, m, k, Type) as FloatArray, B: randomMatrix(rng, k, n, Type) as FloatArray };
}

const PAD = 5;

/**
 * One problem: the result without out (α, β = 1, 0), with β = 0 into an out full of NaN, and with
 * α, β ≠ 0 into an out that is a subarray of a longer buffer with sentinels around it.
 */
function checkProblem(rng: Rng, Type: FloatArrayCtor, m: number, n: number, k: number, transA: boolean, transB: boolean): number {
  const what = `m=${m} n=${n} k=${k} transA=${transA} transB=${transB}`;
  const { A, B } = operands(rng, m, n, k, Type);
  const A0 = A.slice();
  const B0 = B.slice();
  const p = product(A, B, m, n, k, transA, transB);
  let worst = 0;

  const C = linalg.gemm(A, B, m, n, k, { transA, transB });
  expect(C, what).toBeInstanceOf(Type);
  expect(C.length, what).toBe(m * n);
  const r1 = gemmErrorRatio(C, p, 1, 0, undefined, Type);
  expect(r1, `${what} α=1 β=0`).toBeLessThanOrEqual(bar(Type));
  worst = Math.max(worst, r1);

  const alpha = -0.75 + rng.range(-0.1, 0.1);
  const nanOut = new Type(m * n).fill(NaN);
  expect(linalg.gemm(A, B, m, n, k, { transA, transB, alpha, beta: 0, out: nanOut }), what).toBe(nanOut);
  const r2 = gemmErrorRatio(nanOut, p, alpha, 0, undefined, Type);
  expect(r2, `${what} β=0, NaN in out`).toBeLessThanOrEqual(bar(Type));
  worst = Math.max(worst, r2);

  const beta = 1.5 + rng.range(-0.1, 0.1);
  const C0 = randomMatrix(rng, m, n, Type) as FloatArray;
  const buf = new Type(m * n + 2 * PAD).fill(SENTINEL);
  const out = buf.subarray(PAD, PAD + m * n);
  out.set(C0);
  expect(linalg.gemm(A, B, m, n, k, { transA, transB, alpha, beta, out }), what).toBe(out);
  const r3 = gemmErrorRatio(out, p, alpha, beta, C0, Type);
  expect(r3, `${what} α=${alpha} β=${beta}`).toBeLessThanOrEqual(bar(Type));
  worst = Math.max(worst, r3);
  for (let t = 0; t < PAD; t++) {
    expect(buf[t], `${what}: sentinel ${t} before out`).toBe(SENTINEL);
    expect(buf[PAD + m * n + t], `${what}: sentinel ${t} after out`).toBe(SENTINEL);
  }

  expectSameBits(A, A0, `${what}: A is not modified`);
  expectSameBits(B, B0, `${what}: B is not modified`);
  return worst;
}

describe.each(types)('linalg.gemm %s', (_name, Type) => {
  const NR = nrOf(Type);
  // every tile and block boundary ± 1, and 0 and 1
  const M_SIZES = [0, 1, 2, MR - 1, MR, MR + 1, 2 * MR + 1, MC - 1, MC, MC + 1, 2 * MC + 1];
  const N_SIZES = [0, 1, 2, NR - 1, NR, NR + 1, 2 * NR - 1, 2 * NR + 1, NC - 1, NC, NC + 1];
  const K_SIZES = [0, 1, 2, 3, 5, KC - 1, KC, KC + 1, 2 * KC + 1];
  const worst: number[] = [];

  describe.each(TRANS)('transA = %s, transB = %s', (transA, transB) => {
    const seed = 1000 + (transA ? 1 : 0) + (transB ? 2 : 0) + (Type === Float32Array ? 0 : 10);

    it('m across MR and MC (n = NR + 1, k = 13): within c·(k + 2)·u of the reference', () => {
      const rng = new Rng(seed);
      for (const m of M_SIZES) worst.push(checkProblem(rng, Type, m, NR + 1, 13, transA, transB));
    });

    it('n across NR and NC (m = MR + 1, k = 11)', () => {
      const rng = new Rng(seed + 100);
      for (const n of N_SIZES) worst.push(checkProblem(rng, Type, MR + 1, n, 11, transA, transB));
    });

    it('k across KC (m = MR + 3, n = 2·NR + 1)', () => {
      const rng = new Rng(seed + 200);
      for (const k of K_SIZES) worst.push(checkProblem(rng, Type, MR + 3, 2 * NR + 1, k, transA, transB));
    });

    it('every block boundary at once: (MC ± 1, NC ± 1, KC ± 1) and (MC, NC, KC)', () => {
      const rng = new Rng(seed + 300);
      for (const [m, n, k] of [
        [MC - 1, NC + 1, KC + 1],
        [MC, NC, KC],
        [MC + 1, NC - 1, KC - 1],
        [2 * MC + 3, 3 * NR + 1, 2 * KC + 3],
      ]) {
        worst.push(checkProblem(rng, Type, m, n, k, transA, transB));
      }
    });
  });

  it('reports the worst scaled error it saw (for the record)', () => {
    expect(worst.length).toBeGreaterThan(0);
    const w = Math.max(...worst);
    expect(w).toBeLessThanOrEqual(bar(Type));
    console.log(`gemm ${typeName(Type)}: worst |C − C_ref| / ((k + 2)·u·scale) over ${worst.length} problems: ${w.toFixed(4)}`);
  });

  it('alpha and beta: α = 0 gives β·out exactly (A and B still checked); β = 1 adds; without out β scales nothing', () => {
    const rng = new Rng(20);
    const [m, n, k] = [7, 9, 5];
    const { A, B } = operands(rng, m, n, k, Type);
    const p = product(A, B, m, n, k, false, false);
    const C0 = randomMatrix(rng, m, n, Type) as FloatArray;
    const out = C0.slice();
    linalg.gemm(A, B, m, n, k, { alpha: 0, beta: 0.5, out });
    for (let t = 0; t < m * n; t++) expect(out[t]).toBe(Type === Float32Array ? Math.fround(0.5 * C0[t]) : 0.5 * C0[t]);
    const zero = new Type(m * n).fill(NaN);
    linalg.gemm(A, B, m, n, k, { alpha: 0, out: zero });
    expect(Array.from(zero), 'α = 0, β = 0: zeros, NaN in out does not leak').toEqual(new Array(m * n).fill(0));
    for (const [alpha, beta] of [[1, 1], [2, -1], [-0.5, 0.25], [1e-3, 3]]) {
      const o = C0.slice();
      linalg.gemm(A, B, m, n, k, { alpha, beta, out: o });
      expect(gemmErrorRatio(o, p, alpha, beta, C0, Type), `α=${alpha} β=${beta}`).toBeLessThanOrEqual(bar(Type));
    }
    // without out there is nothing for β to scale: α·op(A)·op(B)
    expectSameBits(linalg.gemm(A, B, m, n, k, { alpha: 2, beta: 0.5 }), linalg.gemm(A, B, m, n, k, { alpha: 2 }), 'β without out');
    // α = 0 does not excuse a NaN in A or B
    const bad = A.slice();
    bad[3] = NaN;
    expect(() => linalg.gemm(bad, B, m, n, k, { alpha: 0, beta: 0.5, out: C0.slice() })).toThrow(/A\[3\] is NaN/);
  });

  it('zero sizes: m or n = 0 gives an empty result; k = 0 gives β·out (zeros without out, NaN in out does not leak)', () => {
    const rng = new Rng(21);
    expect(linalg.gemm(new Type(0), randomMatrix(rng, 4, 3, Type), 0, 3, 4).length).toBe(0);
    expect(linalg.gemm(randomMatrix(rng, 5, 4, Type), new Type(0), 5, 0, 4).length).toBe(0);
    const e = linalg.gemm(new Type(0), new Type(0), 0, 0, 0);
    expect(e).toBeInstanceOf(Type);
    expect(e.length).toBe(0);
    const Z = linalg.gemm(new Type(0), new Type(0), 3, 4, 0);
    expect(Array.from(Z)).toEqual(new Array(12).fill(0));
    const nan = new Type(12).fill(NaN);
    linalg.gemm(new Type(0), new Type(0), 3, 4, 0, { out: nan, transA: true, transB: true });
    expect(Array.from(nan)).toEqual(new Array(12).fill(0));
    const C0 = randomMatrix(rng, 3, 4, Type) as FloatArray;
    const out = C0.slice();
    linalg.gemm(new Type(0), new Type(0), 3, 4, 0, { beta: -2, alpha: 3, out });
    const want = C0.map((x) => -2 * x) as FloatArray;
    expectSameBits(out, want, 'k = 0: β·out');
    // the inputs of a zero-size product are still checked
    expect(() => linalg.gemm(new Type(0), Type.from([1, NaN, 3]), 0, 3, 1)).toThrow(/B\[1\] is NaN/);
  });

  it('out may be A or B itself (n = k, m = k), or overlap them: the inputs are read first', () => {
    const rng = new Rng(22);
    for (const [transA, transB] of TRANS) {
      const m = 13;
      const k = 10;
      // out = A: m × k with n = k
      {
        const { A, B } = operands(rng, m, k, k, Type);
        const want = linalg.gemm(A, B, m, k, k, { transA, transB, alpha: 0.5, beta: -1, out: A.slice() });
        const a = A.slice();
        expect(linalg.gemm(a, B, m, k, k, { transA, transB, alpha: 0.5, beta: -1, out: a })).toBe(a);
        expectSameBits(a, want, `out = A (transA=${transA} transB=${transB})`);
      }
      // out = B: k × n with m = k
      {
        const n = 11;
        const { A, B } = operands(rng, k, n, k, Type);
        const want = linalg.gemm(A, B, k, n, k, { transA, transB, beta: 2, out: B.slice() });
        const b = B.slice();
        expect(linalg.gemm(A, b, k, n, k, { transA, transB, beta: 2, out: b })).toBe(b);
        expectSameBits(b, want, `out = B (transA=${transA} transB=${transB})`);
      }
      // A, B and out overlapping views of one buffer
      {
        const n = 6;
        const buf = randomMatrix(rng, 1, m * k + k * n + 7, Type) as FloatArray;
        const A = buf.subarray(0, m * k);
        const B = buf.subarray(m * k - 3, m * k - 3 + k * n);
        const copy = buf.slice();
        const want = linalg.gemm(copy.subarray(0, m * k), copy.subarray(m * k - 3, m * k - 3 + k * n), m, n, k, {
          transA, transB, beta: 1, out: copy.slice(5, 5 + m * n),
        });
        const out = buf.subarray(5, 5 + m * n);
        linalg.gemm(A, B, m, n, k, { transA, transB, beta: 1, out });
        expectSameBits(out.slice(), want, `overlapping views (transA=${transA} transB=${transB})`);
      }
    }
  });

  it('B of the other float type is converted to the precision of A', () => {
    const rng = new Rng(23);
    const Other = Type === Float32Array ? Float64Array : Float32Array;
    const [m, n, k] = [6, 10, 9];
    const A = randomMatrix(rng, m, k, Type) as FloatArray;
    const B = randomMatrix(rng, k, n, Other) as FloatArray;
    const C = linalg.gemm(A, B, m, n, k);
    expect(C).toBeInstanceOf(Type);
    expectSameBits(C, linalg.gemm(A, Type.from(B) as FloatArray, m, n, k), 'converted B');
  });

  it('transposes agree with transposing the operands first (the same bits)', () => {
    const rng = new Rng(24);
    const [m, n, k] = [MC + 5, 2 * NR + 3, 37];
    const { A, B } = operands(rng, m, n, k, Type);
    const At = new Type(k * m);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) At[p * m + i] = A[i * k + p];
    const Bt = new Type(n * k);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) Bt[j * k + p] = B[p * n + j];
    const C = linalg.gemm(A, B, m, n, k);
    expectSameBits(linalg.gemm(At, B, m, n, k, { transA: true }), C, 'transA');
    expectSameBits(linalg.gemm(A, Bt, m, n, k, { transB: true }), C, 'transB');
    expectSameBits(linalg.gemm(At, Bt, m, n, k, { transA: true, transB: true }), C, 'both');
  });

  it('is deterministic, and gemmAsync (on the calling thread) gives the same bits', async () => {
    const rng = new Rng(25);
    const [m, n, k] = [41, 37, 300];
    const { A, B } = operands(rng, m, n, k, Type);
    const C = linalg.gemm(A, B, m, n, k, { alpha: 0.3 });
    expectSameBits(linalg.gemm(A, B, m, n, k, { alpha: 0.3 }), C, 'second call');
    expectSameBits(await linalg.gemmAsync(A, B, m, n, k, { alpha: 0.3 }), C, 'gemmAsync');
    await expect(linalg.gemmAsync(A, B, m, n, k + 1)).rejects.toThrow(RangeError);
  });

  it('an overflowing result is a RangeError and out is untouched', () => {
    const big = Type === Float32Array ? 1e20 : 1e160;
    const A = new Type([big, 1, 1, big]);
    const B = new Type([big, 1, 1, 1]);
    const out = new Type(4).fill(7);
    expect(() => linalg.gemm(A, B, 2, 2, 2, { out })).toThrow(/overflows/);
    expect(Array.from(out)).toEqual([7, 7, 7, 7]);
    // β·out can overflow too (k = 0)
    const o2 = new Type([big, 1, 1, 1]);
    expect(() => linalg.gemm(new Type(0), new Type(0), 2, 2, 0, { beta: big, out: o2 })).toThrow(/overflows/);
    expect(o2[0]).toBe(Type === Float32Array ? Math.fround(big) : big);
  });
});

describe.each(types)('linalg.gemm errors %s', (_name, Type) => {
  const rng = new Rng(30);
  const [m, n, k] = [3, 4, 5];
  const A = randomMatrix(rng, m, k, Type) as FloatArray;
  const B = randomMatrix(rng, k, n, Type) as FloatArray;
  const Other = Type === Float32Array ? Float64Array : Float32Array;

  /** The call throws `cls` with a message matching `msg`; out, A and B unchanged; nothing leaks. */
  function rejects(cls: typeof TypeError | typeof RangeError, msg: RegExp, call: (out: FloatArray) => unknown) {
    const out = new Type(m * n).fill(7);
    const A0 = A.slice();
    const B0 = B.slice();
    const before = memoryInfo().allocatedBytes;
    let err: unknown;
    try {
      call(out);
    } catch (e) {
      err = e;
    }
    expect(err, String(msg)).toBeInstanceOf(cls);
    expect((err as Error).message).toMatch(msg);
    expect(Array.from(out), 'out untouched').toEqual(new Array(m * n).fill(7));
    expectSameBits(A, A0, 'A');
    expectSameBits(B, B0, 'B');
    expect(memoryInfo().allocatedBytes, 'wasm memory freed').toBe(before);
  }

  it('TypeError for arrays that are not float typed arrays, and for out of the wrong type', () => {
    rejects(TypeError, /^A must be a Float32Array or Float64Array, got an Array/, (out) => linalg.gemm([1, 2] as never, B, m, n, k, { out }));
    rejects(TypeError, /^A must be a Float32Array or Float64Array, got a Int32Array/, (out) => linalg.gemm(new Int32Array(15) as never, B, m, n, k, { out }));
    rejects(TypeError, /^B must be a Float32Array or Float64Array, got a Uint8Array/, (out) => linalg.gemm(A, new Uint8Array(20) as never, m, n, k, { out }));
    rejects(TypeError, /^B must be .* got null/, (out) => linalg.gemm(A, null as never, m, n, k, { out }));
    rejects(TypeError, /^out must be a (Float32Array|Float64Array) \(the result's precision\)/, () =>
      linalg.gemm(A, B, m, n, k, { out: new Other(m * n) as never }),
    );
    rejects(TypeError, /^options must be an object, got null/, () => linalg.gemm(A, B, m, n, k, null as never));
    rejects(TypeError, /^options\.transA must be a boolean, got number 1/, (out) => linalg.gemm(A, B, m, n, k, { out, transA: 1 as never }));
    rejects(TypeError, /^options\.transB must be a boolean, got string true/, (out) => linalg.gemm(A, B, m, n, k, { out, transB: 'true' as never }));
  });

  it('RangeError naming the size for bad m, n, k', () => {
    for (const bad of [-1, 1.5, NaN, Infinity, '3', 2 ** 53]) {
      rejects(RangeError, /^m must be an integer ≥ 0/, (out) => linalg.gemm(A, B, bad as never, n, k, { out }));
      rejects(RangeError, /^n must be an integer ≥ 0/, (out) => linalg.gemm(A, B, m, bad as never, k, { out }));
      rejects(RangeError, /^k must be an integer ≥ 0/, (out) => linalg.gemm(A, B, m, n, bad as never, { out }));
    }
  });

  it('RangeError naming the array and the expected length', () => {
    rejects(RangeError, /^A has length 15, expected m·k = 12/, (out) => linalg.gemm(A, B, m, n, 4, { out }));
    rejects(RangeError, /^B has length 20, expected k·n = 15/, (out) => linalg.gemm(A, B, m, 3, k, { out }));
    rejects(RangeError, /^out has length 13, expected m·n = 12/, () => linalg.gemm(A, B, m, n, k, { out: new Type(13) as FloatArray }));
    // a transpose does not change the lengths (m·k and k·n), only how they are read
    rejects(RangeError, /^A has length 15, expected m·k = 10/, (out) => linalg.gemm(A, B, 2, n, k, { out, transA: true }));
  });

  it('RangeError naming the index of a non-finite element of A, B or (with β ≠ 0) out', () => {
    for (const [transA, transB] of TRANS) {
      for (const [idx, v] of [[0, NaN], [7, Infinity], [14, -Infinity]] as const) {
        const a = A.slice();
        a[idx] = v;
        rejects(RangeError, new RegExp(`^A\\[${idx}\\] is ${v}: values must be finite`), (out) => linalg.gemm(a, B, m, n, k, { out, transA, transB }));
        const b = B.slice();
        b[idx + 5] = v;
        rejects(RangeError, new RegExp(`^B\\[${idx + 5}\\] is ${v}`), (out) => linalg.gemm(A, b, m, n, k, { out, transA, transB, alpha: -2 }));
        // both bad: A is named first
        rejects(RangeError, new RegExp(`^A\\[${idx}\\]`), (out) => linalg.gemm(a, b, m, n, k, { out }));
      }
    }
    // out is read only with β ≠ 0
    const nanOut = new Type(m * n).fill(1);
    nanOut[2] = NaN;
    expect(() => linalg.gemm(A, B, m, n, k, { beta: 0.5, out: nanOut })).toThrow(/^out\[2\] is NaN/);
    expect(Number.isNaN(nanOut[2])).toBe(true);
    expect(() => linalg.gemm(A, B, m, n, k, { out: nanOut })).not.toThrow();
    if (Type === Float32Array) {
      // a float64 B too large for f32 is named: it would become ±Infinity
      const b = Float64Array.from(B);
      b[9] = 1e39;
      rejects(RangeError, /^B\[9\] = 1e\+39 is out of the range of f32/, (out) => linalg.gemm(A, b, m, n, k, { out }));
    }
  });

  it('RangeError for non-finite alpha or beta, and for unknown options', () => {
    for (const bad of [NaN, Infinity, -Infinity, '1', null]) {
      rejects(RangeError, /^alpha must be a finite number/, (out) => linalg.gemm(A, B, m, n, k, { out, alpha: bad as never }));
      rejects(RangeError, /^beta must be a finite number/, (out) => linalg.gemm(A, B, m, n, k, { out, beta: bad as never }));
    }
    if (Type === Float32Array) {
      rejects(RangeError, /^alpha = 1e\+39 is out of the range of f32/, (out) => linalg.gemm(A, B, m, n, k, { out, alpha: 1e39 }));
      rejects(RangeError, /^beta = -1e\+39 is out of the range of f32/, (out) => linalg.gemm(A, B, m, n, k, { out, beta: -1e39 }));
    }
    rejects(RangeError, /^unknown option options\.transpose; the options are transA, transB, alpha, beta, out/, (out) =>
      linalg.gemm(A, B, m, n, k, { out, transpose: true } as never),
    );
  });

  it('gemmAsync rejects with the same errors', async () => {
    await expect(linalg.gemmAsync(A, B, m, n, 4)).rejects.toThrow(/^A has length 15, expected m·k = 12/);
    await expect(linalg.gemmAsync([1] as never, B, m, n, k)).rejects.toThrow(TypeError);
  });
});
