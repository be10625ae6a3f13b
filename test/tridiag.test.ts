/**
 * The symmetric tridiagonal eigensolvers (assembly/tridiag.ts), called directly on wasm memory:
 * sterf_f64 (values) and stedc_f64 (values and vectors as rows of z), against a bisection
 * (Sturm count) reference, on the classic families, at sizes around the divide-and-conquer leaf
 * size; sentinels around d, e, z (ldz > n) and past the workspace.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initSync } from '../src/index.js';
import { getEngine } from '../src/engine.js';
import { Rng } from './util.js';

type Kernel = (...args: number[]) => number;
const U = 2 ** -53;
const SENT = 999;
/** the leaf size of stedc's divide and conquer (assembly/tridiag.ts LEAF) */
const LEAF = 32;
const SIZES = [1, 2, 3, 4, 5, LEAF - 1, LEAF, LEAF + 1, 2 * LEAF - 1, 2 * LEAF, 2 * LEAF + 1, 4 * LEAF + 1, 100, 300];

let sterf: Kernel;
let stedc: Kernel;
let workBytes: Kernel;

beforeAll(() => {
  initSync();
  const x = getEngine().exports;
  sterf = x.sterf_f64 as Kernel;
  stedc = x.stedc_f64 as Kernel;
  workBytes = x.stedc_work_bytes as Kernel;
});

// ---------------------------------------------------------------------------------------------
// families: [d, e] of order n

type Family = (n: number, rng: Rng) => [number[], number[]];

/** W⁺ of order n: d_i = |i − (n−1)/2|, e = 1 (pairs of nearly equal eigenvalues) */
function wilkinson(n: number): [number[], number[]] {
  return [Array.from({ length: n }, (_, i) => Math.abs(i - (n - 1) / 2)), new Array(Math.max(n - 1, 0)).fill(1)];
}

const FAMILIES: Record<string, Family> = {
  random: (n, r) => [Array.from({ length: n }, () => r.range(-1, 1)), Array.from({ length: n - 1 }, () => r.range(-1, 1))],
  graded: (n, r) => {
    // 1 … 1e-8 geometrically; off-diagonals of the size of their neighbours' geometric mean
    const q = n > 1 ? Math.pow(1e-8, 1 / (n - 1)) : 1;
    const d: number[] = [];
    for (let i = 0, x = 1; i < n; i++, x *= q) d.push(x);
    return [d, Array.from({ length: n - 1 }, (_, i) => 0.5 * Math.sqrt(d[i] * d[i + 1]) * r.range(0.5, 1))];
  },
  clustered: (n, r) => [
    Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 1 + 1e-15 * r.uniform())),
    Array.from({ length: n - 1 }, () => 1e-10 * r.range(-1, 1)),
  ],
  diagonal: (n, r) => [Array.from({ length: n }, () => r.range(-1, 1)), new Array(Math.max(n - 1, 0)).fill(0)],
  '1-2-1': (n) => [new Array(n).fill(2), new Array(Math.max(n - 1, 0)).fill(-1)],
  wilkinson: (n) => wilkinson(n),
  glued: (n) => {
    // W21⁺ blocks glued by 1e-10 (the last one cut short)
    const d: number[] = [];
    const e: number[] = [];
    const [wd, we] = wilkinson(21);
    for (let i = 0; i < n; i++) {
      d.push(wd[i % 21]);
      if (i < n - 1) e.push(i % 21 === 20 ? 1e-10 : we[i % 21]);
    }
    return [d, e];
  },
  // glued by 1e-14 (below the deflation tolerance at the seams)
  glued14: (n) => {
    const [d, e] = FAMILIES.glued(n, new Rng(0));
    return [d, e.map((x) => (x === 1e-10 ? 1e-14 : x))];
  },
  // Clement: zero diagonal, e_i = sqrt(i (n − i)); eigenvalues ±(n − 1), ±(n − 3), …
  clement: (n) => [new Array(n).fill(0), Array.from({ length: n - 1 }, (_, i) => Math.sqrt((i + 1) * (n - 1 - i)))],
  // two-by-two blocks of equal entries with alternating gluing, many equal eigenvalues
  repeated: (n, r) => [new Array(n).fill(0.5), Array.from({ length: n - 1 }, (_, i) => (i % 2 === 0 ? 1 : 1e-9 * r.uniform()))],
};

// ---------------------------------------------------------------------------------------------
// reference

/** the k-th smallest eigenvalue of (d, e) by bisection on the Sturm count */
function bisectionValues(d: number[], e: number[]): Float64Array {
  const n = d.length;
  let lo = Infinity;
  let hi = -Infinity;
  let emax = 0;
  for (let i = 0; i < n; i++) {
    const r = (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < n - 1 ? Math.abs(e[i]) : 0);
    lo = Math.min(lo, d[i] - r);
    hi = Math.max(hi, d[i] + r);
    if (i < n - 1) emax = Math.max(emax, Math.abs(e[i]));
  }
  const tnorm = Math.max(Math.abs(lo), Math.abs(hi));
  const pivmin = Number.MIN_VALUE * 4 + 1e-300 * Math.max(1, emax * emax);
  lo -= 2 * U * tnorm * n + 1e-300;
  hi += 2 * U * tnorm * n + 1e-300;
  /** the number of eigenvalues < x */
  const count = (x: number): number => {
    let c = 0;
    let q = 1;
    for (let i = 0; i < n; i++) {
      q = d[i] - x - (i > 0 ? (e[i - 1] * e[i - 1]) / q : 0);
      if (Math.abs(q) < pivmin) q = -pivmin;
      if (q < 0) c++;
    }
    return c;
  };
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let a = lo;
    let b = hi;
    while (b - a > 2 * U * Math.max(Math.abs(a), Math.abs(b)) + 1e-300) {
      const m = 0.5 * (a + b);
      if (m <= a || m >= b) break;
      if (count(m) > k) b = m;
      else a = m;
    }
    out[k] = 0.5 * (a + b);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// wasm regions with sentinels

/** `len` f64 at ptr, with `pad` sentinel elements before and after */
class Block {
  readonly base: number;
  readonly ptr: number;
  constructor(
    readonly len: number,
    readonly pad = 4,
  ) {
    this.base = getEngine().alloc((len + 2 * pad) * 8 + 16);
    this.ptr = this.base + pad * 8;
    this.whole().fill(SENT);
  }
  whole(): Float64Array {
    return getEngine().view64(this.base, this.len + 2 * this.pad);
  }
  view(): Float64Array {
    return getEngine().view64(this.ptr, this.len);
  }
  /** index of the first element outside [0, len) (or inside, where keep(i) says so) that changed, or null */
  changedOutside(keep: (i: number) => boolean = () => false): number | null {
    const w = this.whole();
    for (let p = 0; p < w.length; p++) {
      const i = p - this.pad;
      if (i >= 0 && i < this.len && !keep(i)) continue;
      if (w[p] !== SENT) return i;
    }
    return null;
  }
  free(): void {
    getEngine().free(this.base);
  }
}

interface Result {
  info: number;
  values: Float64Array;
  /** eigenvector k in row k, dense n × n */
  z?: Float64Array;
}

function runSterf(d: number[], e: number[]): Result {
  const n = d.length;
  const D = new Block(n);
  const E = new Block(Math.max(n - 1, 0));
  D.view().set(d);
  E.view().set(e);
  const info = sterf(n, D.ptr, E.ptr);
  expect(D.changedOutside(), 'sterf: d sentinels').toBeNull();
  expect(E.changedOutside(), 'sterf: e sentinels').toBeNull();
  const values = Float64Array.from(D.view());
  D.free();
  E.free();
  return { info, values };
}

function runStedc(d: number[], e: number[], ldzExtra = 3): Result {
  const n = d.length;
  const ldz = n + ldzExtra;
  const wb = workBytes(n);
  expect(wb % 16, 'stedc_work_bytes is a multiple of 16').toBe(0);
  const D = new Block(n);
  const E = new Block(Math.max(n - 1, 0));
  const Z = new Block(n * ldz);
  // the workspace starts 16-byte aligned: Block's base is 64-byte aligned, pad 2 → +16 bytes
  const W = new Block(wb / 8 + 64, 2);
  D.view().set(d);
  E.view().set(e);
  // z is not read: fill it with NaN
  Z.view().fill(NaN);
  const info = stedc(n, D.ptr, E.ptr, Z.ptr, ldz, W.ptr);
  expect(D.changedOutside(), 'stedc: d sentinels').toBeNull();
  expect(E.changedOutside(), 'stedc: e sentinels').toBeNull();
  const zv = Z.view();
  for (let k = 0; k < n; k++) {
    for (let j = n; j < ldz; j++) if (!Number.isNaN(zv[k * ldz + j])) throw new Error(`stedc: padding z[${k}, ${j}] written`);
  }
  expect(Z.changedOutside(), 'stedc: z sentinels').toBeNull();
  expect(W.changedOutside((i) => i >= wb / 8), 'stedc: past the workspace').toBeNull();
  const z = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) z[k * n + i] = zv[k * ldz + i];
  const values = Float64Array.from(D.view());
  D.free();
  E.free();
  Z.free();
  W.free();
  return { info, values, z };
}

/** scaled residuals of a stedc result, in units of n·u */
function accuracy(d: number[], e: number[], r: Result, ref: Float64Array): { res: number; orth: number; vals: number } {
  const n = d.length;
  const z = r.z as Float64Array;
  const lam = r.values;
  let tf = 0;
  for (let i = 0; i < n; i++) tf += d[i] * d[i] + (i < n - 1 ? 2 * e[i] * e[i] : 0);
  tf = Math.sqrt(tf);
  const t2 = norm2(ref);
  let res = 0;
  for (let k = 0; k < n; k++) {
    const o = k * n;
    for (let i = 0; i < n; i++) {
      let t = (d[i] - lam[k]) * z[o + i];
      if (i > 0) t += e[i - 1] * z[o + i - 1];
      if (i < n - 1) t += e[i] * z[o + i + 1];
      res += t * t;
    }
  }
  let orth = 0;
  for (let k = 0; k < n; k++) {
    for (let j = 0; j <= k; j++) {
      let t = 0;
      for (let i = 0; i < n; i++) t += z[k * n + i] * z[j * n + i];
      orth = Math.max(orth, Math.abs(t - (j === k ? 1 : 0)));
    }
  }
  let vals = 0;
  for (let k = 0; k < n; k++) vals = Math.max(vals, Math.abs(lam[k] - ref[k]));
  const nu = n * U;
  return { res: tf === 0 ? Math.sqrt(res) : Math.sqrt(res) / tf / nu, orth: orth / nu, vals: t2 === 0 ? vals : vals / t2 / nu };
}

/** ‖T‖₂ from the reference values (0 for the zero matrix, where bisection leaves ~1e-300) */
function norm2(ref: Float64Array): number {
  const t = Math.max(Math.abs(ref[0]), Math.abs(ref[ref.length - 1]));
  return t < 1e-250 ? 0 : t;
}

function expectAscending(v: Float64Array, what: string): void {
  for (let k = 1; k < v.length; k++) if (!(v[k] >= v[k - 1])) throw new Error(`${what}: values not ascending at ${k}`);
}

describe('tridiagonal eigensolvers (f64)', () => {
  for (const [name, family] of Object.entries(FAMILIES)) {
    it(`${name}: stedc residual, orthogonality, values; sterf agrees`, () => {
      const rng = new Rng(Object.keys(FAMILIES).indexOf(name) + 101);
      let worst = { res: 0, orth: 0, vals: 0, sterf: 0 };
      for (const n of SIZES) {
        const [d, e] = family(n, rng);
        const ref = bisectionValues(d, e);
        const a = runStedc(d, e);
        const b = runSterf(d, e);
        const what = `${name} n=${n}`;
        expect(a.info, `${what}: stedc info`).toBe(0);
        expect(b.info, `${what}: sterf info`).toBe(0);
        expectAscending(a.values, `${what} stedc`);
        expectAscending(b.values, `${what} sterf`);
        const acc = accuracy(d, e, a, ref);
        const t2 = norm2(ref);
        let sv = 0;
        for (let k = 0; k < n; k++) sv = Math.max(sv, Math.abs(b.values[k] - ref[k]), Math.abs(b.values[k] - a.values[k]));
        if (t2 > 0) sv /= t2 * n * U;
        expect(acc.res, `${what}: ‖T Zᵀ − Zᵀ Λ‖_F / (‖T‖_F n u)`).toBeLessThanOrEqual(30);
        expect(acc.orth, `${what}: max |Z Zᵀ − I| / (n u)`).toBeLessThanOrEqual(30);
        expect(acc.vals, `${what}: stedc values vs bisection / (‖T‖₂ n u)`).toBeLessThanOrEqual(30);
        expect(sv, `${what}: sterf values vs bisection and stedc / (‖T‖₂ n u)`).toBeLessThanOrEqual(30);
        worst = { res: Math.max(worst.res, acc.res), orth: Math.max(worst.orth, acc.orth), vals: Math.max(worst.vals, acc.vals), sterf: Math.max(worst.sterf, sv) };
      }
      // visible in verbose runs: how far from the bar the worst case is
      expect(worst.res + worst.orth + worst.vals + worst.sterf).toBeGreaterThanOrEqual(0);
    });
  }

  it('scaled near overflow and underflow: the same vectors, values scaled exactly', () => {
    const rng = new Rng(7);
    for (const n of [5, LEAF + 1, 2 * LEAF + 1, 150]) {
      const [d, e] = FAMILIES.random(n, rng);
      const base = runStedc(d, e);
      for (const s of [2 ** 1000, 2 ** -1000]) {
        const ds = d.map((x) => x * s);
        const es = e.map((x) => x * s);
        const a = runStedc(ds, es);
        const b = runSterf(ds, es);
        expect(a.info).toBe(0);
        expect(b.info).toBe(0);
        const back = Float64Array.from(a.values, (x) => x / s);
        const acc = accuracy(d, e, { info: 0, values: back, z: a.z }, base.values);
        expect(acc.res, `n=${n} scale ${s}: residual`).toBeLessThanOrEqual(30);
        expect(acc.orth, `n=${n} scale ${s}: orthogonality`).toBeLessThanOrEqual(30);
        expect(acc.vals, `n=${n} scale ${s}: values`).toBeLessThanOrEqual(30);
        for (let k = 0; k < n; k++) expect(Math.abs(b.values[k] / s - base.values[k])).toBeLessThanOrEqual(30 * n * U * Math.abs(base.values[n - 1] - base.values[0] + 1));
      }
    }
  });

  it('n = 0 touches nothing; n = 1 gives z = [1]', () => {
    const a = runStedc([], []);
    expect(a.info).toBe(0);
    const b = runStedc([-3.5], []);
    expect(b.info).toBe(0);
    expect(Array.from(b.values)).toEqual([-3.5]);
    expect(Array.from(b.z as Float64Array)).toEqual([1]);
    expect(runSterf([2], []).values[0]).toBe(2);
  });

  it('NaN or ∞ in the input: > 0 returned, nothing outside the arrays written', () => {
    for (const n of [3, LEAF + 5]) {
      for (const bad of [NaN, Infinity]) {
        const [d, e] = FAMILIES.random(n, new Rng(3));
        d[1] = bad;
        expect(runStedc(d, e).info, `stedc n=${n} ${bad}`).toBeGreaterThan(0);
        expect(runSterf(d, e).info, `sterf n=${n} ${bad}`).toBeGreaterThan(0);
      }
    }
  });

  it('ldz = n (no padding) and a large ldz give the same bits', () => {
    const rng = new Rng(9);
    for (const n of [LEAF + 1, 130]) {
      const [d, e] = FAMILIES.random(n, rng);
      const a = runStedc(d, e, 0);
      const b = runStedc(d, e, 17);
      expect(Array.from(a.values)).toEqual(Array.from(b.values));
      expect(Array.from(a.z as Float64Array)).toEqual(Array.from(b.z as Float64Array));
    }
  });
});
