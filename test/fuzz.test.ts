/**
 * Property-based fuzzing (fast-check) of every public function: random shapes (0 where legal, 1,
 * small odd, huge, negative, fractional, NaN, not numbers), random values (normal, subnormal,
 * ±1e30, ±Infinity, NaN), wrong array types and lengths, unknown options.
 *
 * Every call must either return a correct result (checked against the float64 references of
 * test/reference.ts) or throw a documented error (TypeError, RangeError, NotPositiveDefiniteError,
 * or Error for a disposed object) whose message names the argument — never a WebAssembly trap,
 * never a silent NaN/Infinity, never a changed object after a rejection.
 *
 * Reproducible: the seed is EF_FUZZ_SEED (default below); fast-check prints the seed and the path
 * of a failing case, so `EF_FUZZ_SEED=<seed> npx vitest run test/fuzz.test.ts` replays it.
 * EF_FUZZ_RUNS scales every run count (default 1).
 *
 * No Node built-ins: this file also runs in the browser project.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EmpiricalFisher,
  EmpiricalFisherOptimizer,
  NotPositiveDefiniteError,
  initSync,
  linalg,
  memoryInfo,
} from '../src/index.js';
import { RefNotPositiveDefinite, refCholesky, refCholeskySolve, refSyrk, refSyrkAbs, symmetricFromLower, trace } from './reference.js';
import { choleskyBackwardError, solveResidual, unitRoundoff } from './util.js';

initSync();
beforeAll(() => initSync());

// ---------------------------------------------------------------------------------------------
// configuration

type Env = Record<string, string | undefined>;
const env: Env =
  (globalThis as { process?: { env?: Env } }).process?.env ??
  ((import.meta as unknown as { env?: Env }).env ?? {});
export const FUZZ_SEED = Number(env.EF_FUZZ_SEED ?? 20251128) | 0;
const RUN_SCALE = Number(env.EF_FUZZ_RUNS ?? 1) || 1;

/** cases requested, and cases whose predicate actually ran (fast-check's count, cross-checked) */
const totals = { properties: 0, requested: 0, executed: 0 };
/** fc.assert with the suite's seed; counts the cases that actually ran. */
function check<T>(prop: fc.IProperty<T>, numRuns: number): void {
  const runs = Math.max(1, Math.round(numRuns * RUN_SCALE));
  totals.properties++;
  totals.requested += runs;
  let calls = 0;
  const counted: fc.IProperty<T> = {
    isAsync: () => false,
    generate: (mrng, runId) => prop.generate(mrng, runId),
    shrink: (value) => prop.shrink(value),
    run: (v) => {
      calls++;
      return prop.run(v);
    },
    runBeforeEach: () => prop.runBeforeEach(),
    runAfterEach: () => prop.runAfterEach(),
  };
  const out = fc.check(counted, { seed: FUZZ_SEED, numRuns: runs, endOnFailure: false });
  totals.executed += out.numRuns;
  // as fc.assert reports it
  if (out.failed) throw new Error(fc.defaultReportMessage(out), { cause: out.errorInstance });
  // without a failure (so no shrinking) every predicate call is one generated case, run or skipped
  if (calls !== out.numRuns + out.numSkips) throw new Error(`fast-check reports ${out.numRuns} runs + ${out.numSkips} skips, the predicate ran ${calls} times`);
}

// ---------------------------------------------------------------------------------------------
// arbitraries

type FloatArray = Float32Array | Float64Array;
type P = 'f32' | 'f64';
const TYPE = { f32: Float32Array, f64: Float64Array } as const;
const U = (p: P) => unitRoundoff(p);
/** smallest positive subnormal, the absolute floor of any rounding error */
const TINY = { f32: 1.401298464324817e-45, f64: 5e-324 } as const;

const precisionArb = fc.constantFrom<P>('f32', 'f64');
/** moderate values: normal numbers, ±0, f64 and f32 subnormals (underflow to 0 in f32 is fine) */
const moderate = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1, -1, 1e-40, -3e-42, 1e-310, 1e-3) },
);
const nonFinite = fc.constantFrom(NaN, Infinity, -Infinity);
/** magnitudes whose squares overflow f32 (or whose reciprocal squares do) */
const extreme = fc.constantFrom(1e30, -1e30, 1e20, -1e20, 3e38, -3e38, 1e-30, -1e-30, 1e-40);
const BAD_SIZES = [-1, -0.5, 2.5, NaN, Infinity, -Infinity, 2 ** 53, 1e300, '3', null, true, {}] as const;
const badSize = fc.constantFrom<unknown>(...BAD_SIZES);
/** sizes whose products cannot match a small array (legal numbers, impossible lengths) */
const hugeSize = fc.constantFrom(2 ** 20, 2 ** 31, 2 ** 40, 2 ** 53 - 1);
const badScalar = fc.constantFrom<unknown>(NaN, Infinity, -Infinity, '1', null, {});
const NOT_FLOAT = ['array', 'int32', 'uint8', 'dataview', 'null', 'undefined', 'number', 'object', 'bigint64'] as const;
type NotFloat = (typeof NOT_FLOAT)[number];
const notFloatArb = fc.constantFrom<NotFloat>(...NOT_FLOAT);

/** a value that is present (not undefined) and not a float typed array: for `out` */
function notFloatPresent(kind: NotFloat, len: number): unknown {
  return kind === 'undefined' ? null : notFloat(kind, len);
}
function notFloat(kind: NotFloat, len: number): unknown {
  switch (kind) {
    case 'array':
      return new Array(len).fill(1);
    case 'int32':
      return new Int32Array(len);
    case 'uint8':
      return new Uint8Array(len);
    case 'dataview':
      return new DataView(new ArrayBuffer(len * 8));
    case 'null':
      return null;
    case 'undefined':
      return undefined;
    case 'number':
      return len;
    case 'object':
      return { length: len, 0: 1 };
    case 'bigint64':
      return new BigInt64Array(len);
  }
}

const other = (p: P): P => (p === 'f32' ? 'f64' : 'f32');
function arr(p: P, values: ArrayLike<number>): FloatArray {
  return TYPE[p].from(values as number[]);
}
/** values of length `len` from a pool (fast-check arrays of dependent length are costly to shrink) */
function fill(len: number, pool: number[]): number[] {
  const out = new Array<number>(len);
  for (let i = 0; i < len; i++) out[i] = pool.length ? pool[i % pool.length] : 0.5;
  return out;
}
const pool = (a: fc.Arbitrary<number>, max = 40) => fc.array(a, { minLength: 1, maxLength: max });

// ---------------------------------------------------------------------------------------------
// outcome checks

interface Expect {
  /** error classes that are acceptable */
  cls: (new (...a: never[]) => Error)[];
  /** the message must match */
  msg: RegExp;
}
const typeErr = (name: string): Expect => ({ cls: [TypeError], msg: new RegExp(`\\b${escape(name)}\\b`) });
const rangeErr = (name: string): Expect => ({ cls: [RangeError], msg: new RegExp(`\\b${escape(name)}\\b`) });
/** the engine ran out of its 4 GiB / budget: a RangeError before any work */
const memErr: Expect = { cls: [RangeError], msg: /memory|allocat|maxBytes|budget/i };
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Runs fn; returns the value or the error, asserting the error is documented and never a trap. */
function run<T>(fn: () => T): { ok: true; value: T } | { ok: false; err: Error } {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) {
      throw new Error(`WebAssembly trap: ${(e as Error).message}`);
    }
    if (!(e instanceof Error)) throw new Error(`threw a non-Error: ${String(e)}`);
    return { ok: false, err: e };
  }
}

function expectError(err: Error, allowed: Expect[], what: string): void {
  const fits = allowed.some((a) => a.cls.some((c) => err.constructor === c) && a.msg.test(err.message));
  if (!fits) {
    throw new Error(
      `${what}: unexpected ${err.constructor.name}: "${err.message}"; expected one of ${allowed
        .map((a) => `${a.cls.map((c) => c.name).join('|')} ${a.msg}`)
        .join(', ')}`,
    );
  }
}

function expectFiniteArray(x: ArrayLike<number>, what: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`${what}[${i}] is ${x[i]} (a silent non-finite result)`);
  }
}

function bytesOf(a: FloatArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
function expectUnchanged(before: Uint8Array | undefined, now: unknown, what: string): void {
  if (before === undefined || !(now instanceof Float32Array || now instanceof Float64Array)) return;
  if (!sameBytes(before, bytesOf(now))) throw new Error(`${what} changed by a call`);
}
function snap(x: unknown): Uint8Array | undefined {
  return x instanceof Float32Array || x instanceof Float64Array ? bytesOf(x) : undefined;
}

/** Entrywise |x − ref| ≤ tol·scale + count·TINY (the latter: underflow to the subnormal grid). */
function expectClose(
  x: ArrayLike<number>,
  ref: ArrayLike<number>,
  scale: ArrayLike<number> | number,
  tol: number,
  floor: number,
  what: string,
): void {
  for (let i = 0; i < ref.length; i++) {
    const s = typeof scale === 'number' ? scale : scale[i];
    const err = Math.abs(x[i] - ref[i]);
    if (!(err <= tol * s + floor)) {
      throw new Error(`${what}[${i}] = ${x[i]}, reference ${ref[i]} (error ${err} > ${tol}·${s} + ${floor})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// memory: nothing leaks across the whole file

let memBefore = 0;
beforeAll(() => {
  memBefore = memoryInfo().allocatedBytes;
});
afterAll(() => {
  // every object made here is disposed; the suite needs at least 10,000 generated cases in total
  expect(memoryInfo().allocatedBytes, 'allocated bytes after the fuzzing').toBe(memBefore);
});

// ---------------------------------------------------------------------------------------------
// linalg.syrk

const SYRK_MUT = ['none', 'none', 'none', 'G-type', 'G-len', 'G-nonfinite', 'n', 'd', 'huge', 'alpha', 'beta', 'out-type', 'out-len', 'out-nonfinite', 'unknown-option', 'opts'] as const;

const syrkCase = fc.record({
  p: precisionArb,
  n: fc.integer({ min: 0, max: 7 }),
  d: fc.integer({ min: 0, max: 7 }),
  g: pool(moderate),
  alpha: fc.option(fc.double({ min: -3, max: 3, noNaN: true }), { nil: undefined }),
  beta: fc.option(fc.constantFrom(0, 1, -0.5, 2), { nil: undefined }),
  withOut: fc.boolean(),
  c0: pool(moderate, 8),
  mut: fc.constantFrom(...SYRK_MUT),
  badSize,
  hugeSize,
  badScalar,
  notFloat: notFloatArb,
  nonFinite,
  at: fc.nat(1000),
});

describe('fuzz: linalg', () => {
  it('syrk: shapes, types, lengths, options, values', () => {
    check(
      fc.property(syrkCase, (c) => {
        const { p, d } = c;
        let n: unknown = c.n;
        let dd: unknown = d;
        let G: unknown = arr(p, fill(c.n * d, c.g));
        const opts: Record<string, unknown> = {};
        if (c.alpha !== undefined) opts.alpha = c.alpha;
        if (c.beta !== undefined) opts.beta = c.beta;
        // out is read through β: keep it symmetric (the kernel reads one triangle, as BLAS does)
        const sym = (v: number[]) => {
          const a = arr(p, fill(d * d, v));
          for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) a[i * d + j] = a[j * d + i];
          return a;
        };
        let out: unknown = c.withOut ? sym(c.c0) : undefined;
        if (out !== undefined) opts.out = out;
        let expected: Expect[] = [];
        let optsArg: unknown = opts;
        switch (c.mut) {
          case 'G-type':
            G = notFloat(c.notFloat, c.n * d);
            expected = [typeErr('G')];
            break;
          case 'G-len':
            G = arr(p, fill(c.n * d + 1 + (c.at % 3), c.g));
            expected = [rangeErr('G')];
            break;
          case 'G-nonfinite':
            if (c.n * d === 0) return;
            (G as FloatArray)[c.at % (c.n * d)] = c.nonFinite;
            expected = [{ cls: [RangeError], msg: /G\[\d+\]/ }];
            break;
          case 'n':
            n = c.badSize;
            expected = [rangeErr('n')];
            break;
          case 'd':
            dd = c.badSize;
            expected = [rangeErr('d')];
            break;
          case 'huge':
            // legal numbers whose product cannot match G (or, with an empty G, too much memory)
            if (c.at % 2 && d > 0) n = c.hugeSize;
            else dd = c.hugeSize;
            expected = [rangeErr('G'), rangeErr('out'), memErr];
            break;
          case 'alpha':
            opts.alpha = c.at % 4 === 0 && p === 'f32' ? 1e39 : c.badScalar;
            expected = [rangeErr('alpha')];
            break;
          case 'beta':
            opts.beta = c.at % 4 === 0 && p === 'f32' ? -1e39 : c.badScalar;
            expected = [rangeErr('beta')];
            break;
          case 'out-type':
            opts.out = out = c.at % 2 ? arr(other(p), fill(d * d, c.c0)) : notFloatPresent(c.notFloat, d * d);
            expected = [typeErr('out')];
            break;
          case 'out-len':
            opts.out = out = arr(p, fill(d * d + 1, c.c0));
            expected = [rangeErr('out')];
            break;
          case 'out-nonfinite':
            if (d === 0) return;
            opts.beta = 1;
            opts.out = out = sym(c.c0);
            (out as FloatArray)[c.at % (d * d)] = c.nonFinite;
            expected = [{ cls: [RangeError], msg: /out\[\d+\]/ }];
            break;
          case 'unknown-option':
            opts.Alpha = 1;
            expected = [rangeErr('Alpha')];
            break;
          case 'opts':
            optsArg = c.at % 2 ? 'fast' : [1];
            expected = [typeErr('options')];
            break;
        }
        const gBefore = snap(G);
        const outBefore = snap(out);
        const r = run(() => linalg.syrk(G as FloatArray, n as number, dd as number, optsArg as object));
        expectUnchanged(gBefore, G, 'G');
        if (!r.ok) {
          if (expected.length === 0) throw new Error(`valid syrk call threw ${r.err.constructor.name}: ${r.err.message}`);
          expectError(r.err, expected, 'syrk');
          expectUnchanged(outBefore, out, 'out after a rejected call');
          return;
        }
        if (expected.length) throw new Error(`syrk accepted a bad call (${c.mut})`);
        const C = r.value;
        expect(C).toBeInstanceOf(TYPE[p]);
        expect(C.length).toBe(d * d);
        if (out !== undefined) expect(C).toBe(out);
        expectFiniteArray(C, 'syrk result');
        const alpha = (opts.alpha as number | undefined) ?? 1;
        const beta = out !== undefined ? ((opts.beta as number | undefined) ?? 0) : 0;
        const Gv = G as FloatArray;
        const c0 = out !== undefined && outBefore ? new TYPE[p](outBefore.buffer) : undefined;
        const ref = refSyrk(Gv, c.n, d, alpha, beta, c0);
        const abs = refSyrkAbs(Gv, c.n, d);
        const scale = new Float64Array(d * d);
        for (let t = 0; t < d * d; t++) scale[t] = Math.abs(alpha) * abs[t] + (c0 && beta ? Math.abs(beta * c0[t]) : 0);
        expectClose(C, ref, scale, (c.n + 4) * U(p), (c.n + 2) * TINY[p], 'syrk');
      }),
      1600,
    );
  });

  it('syrk: results that overflow the precision are rejected with a RangeError, never returned as ±Infinity', () => {
    check(
      fc.property(precisionArb, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), pool(fc.oneof(moderate, extreme), 12), fc.constantFrom(1, 1e30, 1e-30, 3e38), (p, n, d, g, alpha) => {
        const G = arr(p, fill(n * d, g));
        if (p === 'f64') {
          // f64: scale the values so that products can overflow there too
          for (let i = 0; i < G.length; i++) G[i] = G[i] * 1e140;
        }
        const r = run(() => linalg.syrk(G, n, d, { alpha }));
        const ref = refSyrk(G, n, d, alpha);
        const max = p === 'f32' ? 3.4028234663852886e38 : Number.MAX_VALUE;
        const overflows = Array.from(ref).some((v) => !(Math.abs(v) < max));
        if (r.ok) {
          expectFiniteArray(r.value, 'syrk result');
          if (overflows) throw new Error('syrk returned a finite result where the true one overflows');
        } else {
          expectError(r.err, [{ cls: [RangeError], msg: /overflow|range|alpha|G/ }], 'syrk overflow');
        }
      }),
      300,
    );
  });

  const spdCase = fc.record({
    p: precisionArb,
    d: fc.integer({ min: 0, max: 7 }),
    m: pool(moderate),
    k: fc.integer({ min: 1, max: 9 }),
    diag: fc.constantFrom(0, 1e-6, 0.1, 1, 4),
    indefinite: fc.boolean(),
    upper: fc.constantFrom(0, NaN, Infinity, 999, -1e30),
    shift: fc.option(fc.constantFrom(0, 1e-3, 0.5, 2, -0.25), { nil: undefined }),
    mut: fc.constantFrom('none', 'none', 'none', 'A-type', 'A-len', 'A-nonfinite', 'd', 'huge', 'shift', 'out-type', 'out-len', 'unknown-option', 'out-is-A'),
    badSize,
    hugeSize,
    badScalar,
    notFloat: notFloatArb,
    nonFinite,
    at: fc.nat(1000),
  });

  /** A = MᵀM/k + diag·I (SPD) or a symmetric indefinite matrix, lower triangle real, upper `upper`. */
  function makeA(c: { d: number; m: number[]; k: number; diag: number; indefinite: boolean; upper: number; p: P }): FloatArray {
    const { d, k } = c;
    const M = fill(k * d, c.m);
    const S = refSyrk(M, k, d, 1 / k);
    for (let i = 0; i < d; i++) S[i * d + i] += c.indefinite ? -c.diag - 0.5 : c.diag;
    const A = arr(c.p, S);
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) A[i * d + j] = c.upper;
    return A;
  }

  /** true when the float64 reference of A + shift·I is positive definite with a comfortable margin */
  function refFactor(A: ArrayLike<number>, d: number, shift: number, p: P): { L?: Float64Array; clear: boolean } {
    let L: Float64Array;
    try {
      L = refCholesky(A, d, shift);
    } catch (e) {
      if (!(e instanceof RefNotPositiveDefinite)) throw e;
      // failed in float64: clearly not PD unless the pivot was tiny (borderline either way)
      return { clear: false };
    }
    let maxDiag = 0;
    for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, Math.abs(A[i * d + i] + shift));
    let minPivot = Infinity;
    for (let i = 0; i < d; i++) minPivot = Math.min(minPivot, L[i * d + i] * L[i * d + i]);
    return { L, clear: minPivot > 1e3 * (d + 1) * U(p) * maxDiag };
  }

  it('cholesky: SPD or not, garbage in the upper triangle, shift, out (also A itself)', () => {
    check(
      fc.property(spdCase, (c) => {
        const { p, d } = c;
        const A0 = makeA(c);
        let A: unknown = A0;
        let dd: unknown = d;
        const opts: Record<string, unknown> = {};
        if (c.shift !== undefined) opts.shift = c.shift;
        let expected: Expect[] = [];
        let out: unknown;
        switch (c.mut) {
          case 'A-type':
            A = notFloat(c.notFloat, d * d);
            expected = [typeErr('A')];
            break;
          case 'A-len':
            A = arr(p, fill(d * d + 1 + (c.at % 5), c.m));
            expected = [rangeErr('A')];
            break;
          case 'A-nonfinite': {
            if (d === 0) return;
            const i = c.at % d;
            const j = (c.at >> 3) % (i + 1);
            A0[i * d + j] = c.nonFinite;
            expected = [{ cls: [RangeError], msg: /A\[\d+\]/ }];
            break;
          }
          case 'd':
            dd = c.badSize;
            expected = [rangeErr('d')];
            break;
          case 'huge':
            dd = c.hugeSize;
            expected = [rangeErr('A')];
            break;
          case 'shift':
            opts.shift = c.at % 3 === 0 && p === 'f32' ? 1e39 : c.badScalar;
            expected = [rangeErr('shift')];
            break;
          case 'out-type':
            opts.out = out = c.at % 2 ? arr(other(p), new Array(d * d).fill(3)) : notFloatPresent(c.notFloat, d * d);
            expected = [typeErr('out')];
            break;
          case 'out-len':
            opts.out = out = arr(p, new Array(d * d + 2).fill(3));
            expected = [rangeErr('out')];
            break;
          case 'unknown-option':
            opts.lower = true;
            expected = [rangeErr('lower')];
            break;
          case 'out-is-A':
            opts.out = out = A0;
            break;
        }
        const shift = (opts.shift as number | undefined) ?? 0;
        const Aref = A0.slice();
        const aBefore = snap(A);
        const outBefore = snap(out);
        const r = run(() => linalg.cholesky(A as FloatArray, dd as number, opts));
        if (c.mut !== 'out-is-A' || !r.ok) expectUnchanged(aBefore, A, 'A');
        if (expected.length) {
          if (r.ok) throw new Error(`cholesky accepted a bad call (${c.mut})`);
          expectError(r.err, expected, 'cholesky');
          expectUnchanged(outBefore, out, 'out after a rejected call');
          return;
        }
        const ref = refFactor(Aref, d, shift, p);
        if (!r.ok) {
          expectError(r.err, [{ cls: [NotPositiveDefiniteError], msg: /positive definite/ }], 'cholesky');
          const pivot = (r.err as NotPositiveDefiniteError).pivot;
          expect(Number.isInteger(pivot) && pivot >= 1 && pivot <= d, `pivot ${pivot}`).toBe(true);
          if (ref.L && ref.clear) throw new Error('cholesky rejected a clearly positive definite matrix');
          return;
        }
        if (!ref.L && !ref.clear && refPivotClearlyBad(Aref, d, shift)) {
          throw new Error('cholesky factored a clearly indefinite matrix');
        }
        const L = r.value;
        expectFiniteArray(L, 'L');
        for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) if (!Object.is(L[i * d + j], 0)) throw new Error(`L[${i * d + j}] (upper) = ${L[i * d + j]}`);
        if (d > 0) {
          const err = choleskyBackwardError(L, Aref, d, shift);
          const bar = 10 * d * U(p);
          if (!(err <= bar)) throw new Error(`‖LLᵀ − A‖/‖A‖ = ${err} > 10·d·u = ${bar}`);
        }
      }),
      1300,
    );
  });

  /** The reference failed with a pivot that is negative by a margin (not a rounding accident). */
  function refPivotClearlyBad(A: ArrayLike<number>, d: number, shift: number): boolean {
    // smallest eigenvalue bound via the failing pivot of a slightly shifted matrix
    let maxDiag = 0;
    for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, Math.abs(A[i * d + i] + shift));
    try {
      refCholesky(A, d, shift + 1e-3 * (maxDiag + 1e-300));
      return false;
    } catch {
      return true;
    }
  }

  const lowerCase = fc.record({
    p: precisionArb,
    Bp: precisionArb,
    d: fc.integer({ min: 0, max: 7 }),
    nrhs: fc.integer({ min: 0, max: 3 }),
    diag: pool(fc.double({ min: 0.5, max: 2, noNaN: true }), 8),
    off: pool(fc.double({ min: -0.5, max: 0.5, noNaN: true }), 16),
    b: pool(moderate),
    upper: fc.constantFrom(0, NaN, 1e30),
    giveNrhs: fc.boolean(),
    mut: fc.constantFrom('none', 'none', 'none', 'L-type', 'L-len', 'L-diag', 'L-nonfinite', 'B-type', 'B-len', 'B-nonfinite', 'nrhs', 'd', 'out-type', 'out-len', 'out-is-B', 'unknown-option'),
    badSize,
    notFloat: notFloatArb,
    nonFinite,
    badDiag: fc.constantFrom(0, -0, -1, -1e-30),
    at: fc.nat(1000),
  });

  it('choleskySolve: random factors, right-hand sides of either type, nrhs, out (also B itself)', () => {
    check(
      fc.property(lowerCase, (c) => {
        const { p, d, nrhs } = c;
        const L0 = new TYPE[p](d * d);
        for (let i = 0; i < d; i++) {
          for (let j = 0; j < i; j++) L0[i * d + j] = c.off[(i * d + j) % c.off.length] / Math.sqrt(d);
          L0[i * d + i] = c.diag[i % c.diag.length];
          for (let j = i + 1; j < d; j++) L0[i * d + j] = c.upper;
        }
        const B0 = arr(c.Bp, fill(nrhs * d, c.b));
        let L: unknown = L0;
        let B: unknown = B0;
        let dd: unknown = d;
        const opts: Record<string, unknown> = {};
        if (c.giveNrhs) opts.nrhs = nrhs;
        let expected: Expect[] = [];
        let out: unknown;
        switch (c.mut) {
          case 'L-type':
            L = notFloat(c.notFloat, d * d);
            expected = [typeErr('L')];
            break;
          case 'L-len':
            L = arr(p, new Array(d * d + 1).fill(1));
            expected = [rangeErr('L')];
            break;
          case 'L-diag':
            if (d === 0) return;
            L0[(c.at % d) * (d + 1)] = c.badDiag;
            expected = [{ cls: [RangeError], msg: /\bL\b/ }];
            break;
          case 'L-nonfinite': {
            if (d === 0) return;
            const i = c.at % d;
            L0[i * d + ((c.at >> 3) % (i + 1))] = c.nonFinite;
            expected = [{ cls: [RangeError], msg: /L\[\d+\]/ }];
            break;
          }
          case 'B-type':
            B = notFloat(c.notFloat, nrhs * d);
            expected = [typeErr('B')];
            break;
          case 'B-len':
            if (d === 0 && !c.giveNrhs) B = arr(c.Bp, [1]);
            else B = arr(c.Bp, fill(nrhs * d + (d > 1 ? 1 : d === 1 && c.giveNrhs ? 1 : 0) + (d === 0 ? 1 : 0), c.b));
            if ((B as FloatArray).length === nrhs * d || (!c.giveNrhs && d > 0 && (B as FloatArray).length % d === 0)) return;
            expected = [rangeErr('B')];
            break;
          case 'B-nonfinite':
            if (nrhs * d === 0) return;
            B0[c.at % (nrhs * d)] = c.nonFinite;
            expected = [{ cls: [RangeError], msg: /B\[\d+\]/ }];
            break;
          case 'nrhs':
            opts.nrhs = c.badSize;
            expected = [rangeErr('nrhs')];
            break;
          case 'd':
            dd = c.badSize;
            expected = [rangeErr('d')];
            break;
          case 'out-type':
            opts.out = out = c.at % 2 ? arr(other(p), new Array(nrhs * d).fill(3)) : notFloatPresent(c.notFloat, nrhs * d);
            expected = [typeErr('out')];
            break;
          case 'out-len':
            opts.out = out = arr(p, new Array(nrhs * d + 1).fill(3));
            expected = [rangeErr('out')];
            break;
          case 'out-is-B':
            if (c.Bp !== p) return;
            opts.out = out = B0;
            break;
          case 'unknown-option':
            opts.trans = 'T';
            expected = [rangeErr('trans')];
            break;
        }
        const Bref = TYPE[p].from(B0);
        const lBefore = snap(L);
        const bBefore = snap(B);
        const outBefore = snap(out);
        const r = run(() => linalg.choleskySolve(L as FloatArray, dd as number, B as FloatArray, opts));
        expectUnchanged(lBefore, L, 'L');
        if (c.mut !== 'out-is-B' || !r.ok) expectUnchanged(bBefore, B, 'B');
        if (expected.length) {
          if (r.ok) throw new Error(`choleskySolve accepted a bad call (${c.mut})`);
          expectError(r.err, expected, 'choleskySolve');
          expectUnchanged(outBefore, out, 'out after a rejected call');
          return;
        }
        if (!r.ok) throw new Error(`valid choleskySolve threw ${r.err.constructor.name}: ${r.err.message}`);
        const X = r.value;
        expect(X).toBeInstanceOf(TYPE[p]);
        expect(X.length).toBe(nrhs * d);
        expectFiniteArray(X, 'X');
        const ref = refCholeskySolve(L0, d, Bref, nrhs);
        // forward error of two well-conditioned triangular solves (κ(L) ≤ ~8 here)
        const bmax = Math.max(1e-300, ...Array.from(Bref, Math.abs));
        expectClose(X, ref, bmax * 64, 16 * (d + 2) * U(p), 8 * (d + 2) * TINY[p], 'choleskySolve');
      }),
      1300,
    );
  });

  it('solveSPD: SPD or not, shift, nrhs, B of either type, out (also B)', () => {
    check(
      fc.property(spdCase, fc.integer({ min: 0, max: 3 }), pool(moderate), precisionArb, fc.boolean(), (c, nrhs, bvals, Bp, outIsB) => {
        const { p, d } = c;
        const A = makeA(c);
        const B = arr(Bp, fill(nrhs * d, bvals));
        const opts: Record<string, unknown> = {};
        if (c.shift !== undefined) opts.shift = c.shift;
        if (outIsB && Bp === p) opts.out = B;
        let expected: Expect[] = [];
        let AA: unknown = A;
        if (c.mut === 'A-type') {
          AA = notFloat(c.notFloat, d * d);
          expected = [typeErr('A')];
        } else if (c.mut === 'shift') {
          opts.shift = c.badScalar;
          expected = [rangeErr('shift')];
        } else if (c.mut === 'A-nonfinite' && d > 0) {
          A[(c.at % d) * (d + 1)] = c.nonFinite;
          expected = [{ cls: [RangeError], msg: /A\[\d+\]/ }];
        } else if (c.mut === 'unknown-option') {
          opts.uplo = 'L';
          expected = [rangeErr('uplo')];
        }
        const shift = (opts.shift as number | undefined) ?? 0;
        const Bref = TYPE[p].from(B);
        const aBefore = snap(AA);
        const bBefore = snap(B);
        const r = run(() => linalg.solveSPD(AA as FloatArray, d, B, opts));
        expectUnchanged(aBefore, AA, 'A');
        if (!(r.ok && opts.out === B)) expectUnchanged(bBefore, B, 'B');
        if (expected.length) {
          if (r.ok) throw new Error(`solveSPD accepted a bad call (${c.mut})`);
          expectError(r.err, expected, 'solveSPD');
          return;
        }
        const ref = refFactor(A, d, shift, p);
        if (!r.ok) {
          expectError(r.err, [{ cls: [NotPositiveDefiniteError], msg: /positive definite/ }], 'solveSPD');
          if (ref.L && ref.clear) throw new Error('solveSPD rejected a clearly positive definite matrix');
          return;
        }
        const X = r.value;
        expectFiniteArray(X, 'X');
        expect(X.length).toBe(nrhs * d);
        if (ref.L && nrhs > 0 && d > 0) {
          // the bar of DESIGN §4 when A + shift·I is well-conditioned (κ ≤ 1e3·d here), else u·κ
          const S = symmetricFromLower(A, d);
          let lmin = Infinity;
          for (let i = 0; i < d; i++) lmin = Math.min(lmin, ref.L[i * d + i] * ref.L[i * d + i]);
          const kappa = (Math.abs(trace(S, d)) + d * Math.abs(shift)) / lmin;
          const bar = Math.max(p === 'f32' ? 1e-4 : 1e-10, 8 * d * U(p) * kappa * kappa);
          for (let k = 0; k < nrhs; k++) {
            const b = Bref.subarray(k * d, k * d + d);
            // right-hand sides of subnormal size have solutions on the subnormal grid: no relative bar
            if (!Array.from(b).some((v) => Math.abs(v) > (p === 'f32' ? 1e-20 : 1e-280))) continue;
            const res = solveResidual(A, d, X.subarray(k * d, k * d + d), b, 1, shift);
            if (!(res <= bar)) throw new Error(`relative residual ${res} > ${bar} (κ ≈ ${kappa}, rhs ${k})`);
          }
        }
      }),
      1000,
    );
  });

  it('choleskyFactor: solve, lower, dispose, use after dispose', () => {
    check(
      fc.property(spdCase, fc.integer({ min: 0, max: 3 }), pool(moderate), fc.constantFrom('none', 'B-type', 'B-len', 'nrhs', 'out-type', 'lower-out', 'dispose'), notFloatArb, (c, nrhs, bvals, op, nf) => {
        const { p, d } = c;
        const A = makeA({ ...c, indefinite: false, diag: Math.max(c.diag, 0.1) });
        const shift = c.shift !== undefined && c.shift >= 0 ? c.shift : 0;
        const r = run(() => linalg.choleskyFactor(A, d, { shift }));
        if (!r.ok) throw new Error(`choleskyFactor of an SPD matrix threw: ${r.err.message}`);
        const chol = r.value;
        try {
          expect(chol.d).toBe(d);
          expect(chol.precision).toBe(p);
          const Ldirect = linalg.cholesky(A, d, { shift });
          expect(sameBytes(bytesOf(chol.lower()), bytesOf(Ldirect)), 'lower() = cholesky()').toBe(true);
          const B = arr(p, fill(nrhs * d, bvals));
          const X1 = chol.solve(B);
          const X2 = linalg.choleskySolve(Ldirect, d, B);
          expect(sameBytes(bytesOf(X1), bytesOf(X2)), 'factor.solve = choleskySolve').toBe(true);
          expectFiniteArray(X1, 'X');
          const bad: Record<string, [() => unknown, Expect]> = {
            'B-type': [() => chol.solve(notFloat(nf, nrhs * d) as FloatArray), typeErr('B')],
            'B-len': [() => chol.solve(arr(p, new Array(nrhs * d + 1).fill(1)), { nrhs }), rangeErr('B')],
            nrhs: [() => chol.solve(B, { nrhs: -1 }), rangeErr('nrhs')],
            'out-type': [() => chol.solve(B, { out: arr(other(p), new Array(nrhs * d).fill(0)) } as never), typeErr('out')],
            'lower-out': [() => chol.lower(arr(p, new Array(d * d + 1).fill(0))), rangeErr('out')],
          };
          if (op in bad) {
            const [fn, exp] = bad[op];
            const e = run(fn);
            if (e.ok) throw new Error(`choleskyFactor: ${op} accepted`);
            expectError(e.err, [exp], op);
            // still usable, same answer
            expect(sameBytes(bytesOf(chol.solve(B)), bytesOf(X1))).toBe(true);
          }
          if (op === 'dispose') {
            chol.dispose();
            expect(chol.disposed).toBe(true);
            chol.dispose();
            for (const fn of [() => chol.solve(B), () => chol.lower()]) {
              const e = run(fn);
              if (e.ok) throw new Error('a disposed factor worked');
              expectError(e.err, [{ cls: [Error], msg: /disposed/ }], 'use after dispose');
            }
          }
        } finally {
          chol.dispose();
        }
      }),
      600,
    );
  });

  it('choleskySolve / solveSPD: solutions that overflow the precision are rejected, never ±Infinity', () => {
    check(
      fc.property(precisionArb, fc.integer({ min: 1, max: 4 }), fc.constantFrom(1e-20, 1e-30, 1e-40, 1e-160, 1e-200), pool(fc.double({ min: 0.5, max: 2, noNaN: true }), 4), (p, d, tiny, bs) => {
        // L = tiny·I (f32: 1e-20 and smaller, f64: 1e-160 and smaller make x = b / tiny² overflow)
        const L = new TYPE[p](d * d);
        for (let i = 0; i < d; i++) L[i * d + i] = tiny;
        if (!(L[0] > 0)) return; // underflowed to 0 in this precision: rejected as not a factor
        const B = arr(p, fill(d, bs));
        const ref = refCholeskySolve(L, d, B, 1);
        const max = p === 'f32' ? 3.4028234663852886e38 : Number.MAX_VALUE;
        const overflows = Array.from(ref).some((v) => !(Math.abs(v) < max));
        for (const [what, fn] of [
          ['choleskySolve', () => linalg.choleskySolve(L, d, B)],
          ['solveSPD', () => linalg.solveSPD(arr(p, Array.from(L, (v, i) => (i % (d + 1) === 0 ? v * v : 0))), d, B)],
        ] as const) {
          const r = run(fn);
          if (r.ok) {
            expectFiniteArray(r.value, `${what} result`);
            if (overflows) throw new Error(`${what} returned a finite result where the true one overflows`);
          } else {
            expectError(r.err, [{ cls: [RangeError, NotPositiveDefiniteError], msg: /overflow|range|L|A|positive/ }], what);
          }
        }
      }),
      200,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// EmpiricalFisher

const REPS = ['dense', 'lowrank', 'blockdiag', 'diag'] as const;
type Rep = (typeof REPS)[number];

/** Block sizes summing to d, from a seed. */
function blocksFor(d: number, seed: number): number[] {
  const out: number[] = [];
  let left = d;
  let s = seed;
  while (left > 0) {
    const b = 1 + (s % Math.min(left, 3));
    s = (s * 7 + 3) >>> 0;
    out.push(b);
    left -= b;
  }
  return out;
}

const optionValue = fc.oneof(
  fc.constantFrom<unknown>('f32', 'f64', 'f16', 'dense', 'lowrank', 'blockdiag', 'diag', 'auto', 'full'),
  fc.constantFrom<unknown>(0, 1, 0.5, 0.95, 1e-3, -1, 1.5, 2, 3, 1e39, 2 ** 31, 1e300),
  fc.constantFrom<unknown>(NaN, Infinity, -Infinity, null, true, false, '0.1', [1, 2], [3], [2, 1], [1, 1, 1], [0, 3], {}),
);

describe('fuzz: EmpiricalFisher', () => {
  it('constructor: sizes and every option, valid or not', () => {
    const KEYS = ['precision', 'damping', 'decay', 'biasCorrection', 'representation', 'blocks', 'rank', 'maxBytes', 'dampling'];
    check(
      fc.property(
        fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 6 }) }, { weight: 1, arbitrary: badSize }, { weight: 1, arbitrary: fc.constantFrom(0, 2 ** 31, 2 ** 40, 2 ** 53 - 1) }),
        fc.dictionary(fc.constantFrom(...KEYS), optionValue, { maxKeys: 4 }),
        fc.constantFrom<unknown>(undefined, null, 'dense', 3),
        fc.nat(3),
        (d, o, weird, which) => {
          const before = memoryInfo();
          const options: unknown = which === 0 && weird !== undefined ? weird : o;
          const r = run(() => new EmpiricalFisher(d as number, options as object));
          const after = memoryInfo();
          if (!r.ok) {
            const names = ['d', 'options', ...Object.keys(o).map((k) => `options.${k}`), ...Object.keys(o), 'blocks', 'rank', 'maxBytes'];
            const allowed: Expect[] = [
              ...names.map((n) => ({ cls: [RangeError, TypeError] as (new () => Error)[], msg: new RegExp(escape(n)) })),
              memErr,
            ];
            expectError(r.err, allowed, 'new EmpiricalFisher');
            expect(after.allocatedBytes, 'a rejected constructor frees what it took').toBe(before.allocatedBytes);
            expect(after.wasmBytes, 'a rejected constructor did not grow the memory').toBe(before.wasmBytes);
            return;
          }
          const F = r.value;
          try {
            // what was accepted is what the documentation allows
            expect(Number.isSafeInteger(d) && (d as number) >= 1).toBe(true);
            expect(['f32', 'f64']).toContain(F.precision);
            expect(F.damping >= 0 && Number.isFinite(F.damping)).toBe(true);
            expect(F.decay >= 0 && F.decay < 1).toBe(true);
            expect(REPS as readonly string[]).toContain(F.representation);
            if (options && typeof options === 'object' && 'dampling' in options) throw new Error('unknown option accepted');
            // usable at once
            const G = new TYPE[F.precision](2 * F.d).fill(0.5);
            G[0] = 1;
            F.update(G, 2);
            expectFiniteArray(F.precondition(new TYPE[F.precision](F.d).fill(1)), 'precondition');
          } finally {
            F.dispose();
          }
        },
      ),
      1500,
    );
  });

  /** The documented semantics, in float64, dense whatever the representation. */
  class Model {
    S: Float64Array;
    Sabs: Float64Array;
    steps = 0;
    examples = 0;
    lastBatch = 0;
    betaPow = 1;
    rows = 0;
    constructor(
      readonly d: number,
      readonly decay: number,
      readonly bias: boolean,
      readonly rep: Rep,
      readonly blocks: number[] | undefined,
    ) {
      this.S = new Float64Array(d * d);
      this.Sabs = new Float64Array(d * d);
    }
    clone(): Model {
      const m = new Model(this.d, this.decay, this.bias, this.rep, this.blocks);
      m.S = this.S.slice();
      m.Sabs = this.Sabs.slice();
      Object.assign(m, { steps: this.steps, examples: this.examples, lastBatch: this.lastBatch, betaPow: this.betaPow, rows: this.rows });
      return m;
    }
    update(G: ArrayLike<number>, n: number): void {
      const d = this.d;
      const b = this.decay;
      const batch = refSyrk(G, n, d, 1 / n);
      const abs = refSyrkAbs(G, n, d);
      const first = b === 0 || this.steps === 0;
      const w = b === 0 ? 1 : 1 - b;
      for (let t = 0; t < d * d; t++) {
        this.S[t] = (first ? 0 : b * this.S[t]) + w * batch[t];
        this.Sabs[t] = (first ? 0 : b * this.Sabs[t]) + (w * abs[t]) / n;
      }
      this.steps++;
      this.examples += n;
      this.lastBatch = n;
      this.betaPow *= b;
      this.rows = b === 0 ? n : this.rows + n;
    }
    merge(o: Model): void {
      if (o.steps === 0) return;
      if (this.steps === 0) {
        this.S = o.S.slice();
        this.Sabs = o.Sabs.slice();
        this.steps = o.steps;
        this.betaPow = o.betaPow;
        this.lastBatch = 0;
      } else {
        const mine = this.decay === 0 ? this.lastBatch : this.examples;
        const theirs = o.decay === 0 ? o.lastBatch : o.examples;
        const a = mine / (mine + theirs);
        const bb = theirs / (mine + theirs);
        for (let t = 0; t < this.S.length; t++) {
          this.S[t] = a * this.S[t] + bb * o.S[t];
          this.Sabs[t] = a * this.Sabs[t] + bb * o.Sabs[t];
        }
      }
      this.examples += o.examples;
      this.lastBatch += o.lastBatch;
      this.rows += o.rows;
    }
    reset(): void {
      this.S.fill(0);
      this.Sabs.fill(0);
      Object.assign(this, { steps: 0, examples: 0, lastBatch: 0, betaPow: 1, rows: 0 });
    }
    private c(): number {
      if (this.steps === 0) return 0;
      if (this.decay === 0 || !this.bias) return 1;
      return 1 / (1 - this.betaPow);
    }
    private mask(i: number, j: number): boolean {
      if (this.rep === 'diag') return i === j;
      if (this.rep === 'blockdiag' && this.blocks) {
        let o = 0;
        for (const b of this.blocks) {
          const inI = i >= o && i < o + b;
          const inJ = j >= o && j < o + b;
          if (inI || inJ) return inI && inJ;
          o += b;
        }
      }
      return true;
    }
    F(): Float64Array {
      const d = this.d;
      const c = this.c();
      const F = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (this.mask(i, j)) F[i * d + j] = c * this.S[i * d + j];
      return F;
    }
    Fabs(): Float64Array {
      const d = this.d;
      const c = this.c();
      const F = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (this.mask(i, j)) F[i * d + j] = c * this.Sabs[i * d + j];
      return F;
    }
  }

  function stateBytes(F: EmpiricalFisher): string {
    const s = F.save();
    const parts: string[] = [String(F.steps), String(F.examples), String(F.damping)];
    for (const [k, v] of Object.entries(s.store)) {
      parts.push(k, ArrayBuffer.isView(v) ? Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).join(',') : JSON.stringify(v));
    }
    parts.push(String(s.betaPow), String(s.lastBatch));
    return parts.join('|');
  }

  const command = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('update' as const), n: fc.integer({ min: 1, max: 6 }), g: pool(moderate, 30), mut: fc.constantFrom('none', 'none', 'none', 'G-type', 'G-len', 'G-nonfinite', 'n', 'G-other-type'), bad: badSize, nf: nonFinite, notFloat: notFloatArb, at: fc.nat(500) }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('precondition' as const), g: pool(moderate, 10), m: fc.constantFrom(1e-3, 1e-2, 1, 10, 0), mut: fc.constantFrom('none', 'none', 'none', 'g-type', 'g-len', 'g-nonfinite', 'out-type', 'out-len', 'out-is-g', 'g-other-type'), nf: nonFinite, notFloat: notFloatArb, at: fc.nat(500) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('quadratic' as const), v: pool(moderate, 10), mut: fc.constantFrom('none', 'none', 'v-type', 'v-len', 'v-nonfinite', 'v-other-type'), nf: nonFinite, notFloat: notFloatArb, at: fc.nat(500) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('toDense' as const), mut: fc.constantFrom('none', 'none', 'out', 'out-type', 'out-len'), notFloat: notFloatArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('damping' as const), value: fc.oneof(fc.constantFrom<unknown>(0, 1e-3, 0.5, 2), fc.constantFrom<unknown>(-1, NaN, Infinity, 1e39, '1', null)) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reset' as const) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('saveLoad' as const), corrupt: fc.constantFrom('none', 'none', 'format', 'version', 'S-nan', 'S-type', 'store', 'damping') }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('merge' as const), n: fc.integer({ min: 1, max: 5 }), g: pool(moderate, 20), updates: fc.integer({ min: 0, max: 2 }), mut: fc.constantFrom('none', 'none', 'self', 'd', 'precision', 'rep', 'type', 'disposed', 'steps') }) },
  );
  type Cmd = typeof command extends fc.Arbitrary<infer C> ? C : never;

  const fisherCase = fc.record({
    p: precisionArb,
    rep: fc.constantFrom<Rep>(...REPS),
    d: fc.integer({ min: 1, max: 6 }),
    decay: fc.constantFrom(0, 0, 0.5, 0.9),
    bias: fc.boolean(),
    damping: fc.constantFrom(1e-3, 0.1, 1),
    seed: fc.nat(1000),
    cmds: fc.array(command, { minLength: 1, maxLength: 8 }),
  });

  function expectMatchesModel(F: EmpiricalFisher, m: Model, p: P, what: string): void {
    const D = F.toDense();
    expectFiniteArray(D, `${what}: toDense`);
    const tol = 16 * (m.examples + 8) * U(p);
    expectClose(D, m.F(), m.Fabs(), tol, 16 * (m.examples + 2) * TINY[p], `${what}: toDense`);
    expect(F.steps).toBe(m.steps);
    expect(F.examples).toBe(m.examples);
  }

  it('every method, in random sequences, in every representation and precision', () => {
    check(
      fc.property(fisherCase, (c) => {
        const { p, rep, d } = c;
        const blocks = rep === 'blockdiag' ? blocksFor(d, c.seed) : undefined;
        const opts = { precision: p, representation: rep, decay: c.decay, biasCorrection: c.bias, damping: c.damping, blocks };
        let F = new EmpiricalFisher(d, opts);
        const made: EmpiricalFisher[] = [];
        let m = new Model(d, c.decay, c.bias, rep, blocks);
        try {
          for (const [k, cmd] of (c.cmds as Cmd[]).entries()) {
            const what = `#${k} ${cmd.op}`;
            let before = stateBytes(F);
            let factorizations = F.factorizations;
            let expected: Expect[] = [];
            let fn: () => unknown;
            let check: (v: unknown) => void = () => {};
            switch (cmd.op) {
              case 'update': {
                const n = cmd.n;
                let G: unknown = arr(p, fill(n * d, cmd.g));
                let nn: unknown = n;
                if (cmd.mut === 'G-type') (G = notFloat(cmd.notFloat, n * d)), (expected = [typeErr('G')]);
                if (cmd.mut === 'G-len') (G = arr(p, fill(n * d + 1 + (cmd.at % d), cmd.g))), (expected = [rangeErr('G')]);
                if (cmd.mut === 'G-nonfinite') ((G as FloatArray)[cmd.at % (n * d)] = cmd.nf), (expected = [{ cls: [RangeError], msg: /G\[\d+\]/ }]);
                if (cmd.mut === 'n') (nn = cmd.at % 3 === 0 ? 0 : cmd.bad), (expected = [rangeErr('n')]);
                if (cmd.mut === 'G-other-type') G = arr(other(p), fill(n * d, cmd.g));
                fn = () => F.update(G as FloatArray, nn as number);
                check = () => {
                  m.update(TYPE[p].from(G as FloatArray), n);
                  expectMatchesModel(F, m, p, what);
                };
                break;
              }
              case 'precondition': {
                const g0 = arr(p, fill(d, cmd.g));
                let g: unknown = g0;
                let out: unknown;
                if (cmd.mut === 'g-type') (g = notFloat(cmd.notFloat, d)), (expected = [typeErr('g')]);
                if (cmd.mut === 'g-len') (g = arr(p, fill(d + 1, cmd.g))), (expected = [rangeErr('g')]);
                if (cmd.mut === 'g-nonfinite') (g0[cmd.at % d] = cmd.nf), (expected = [{ cls: [RangeError], msg: /g\[\d+\]/ }]);
                if (cmd.mut === 'out-type') (out = cmd.at % 2 ? arr(other(p), fill(d, [0])) : notFloatPresent(cmd.notFloat, d)), (expected = [typeErr('out')]);
                if (cmd.mut === 'out-len') (out = arr(p, fill(d + 1, [0]))), (expected = [rangeErr('out')]);
                if (cmd.mut === 'out-is-g') out = g0;
                if (cmd.mut === 'g-other-type') g = arr(other(p), fill(d, cmd.g));
                // damping relative to the scale of F: the well-conditioned regime of DESIGN §4 (m ≥ 1e-3)
                const Fm = m.F();
                const tr = trace(Fm, d) / d;
                // (a λ that underflows in f32 is not tried here: see the extreme-value tests)
                if (expected.length === 0 && cmd.m > 0 && tr > 1e-30 && Number.isFinite(Math.fround(cmd.m * tr))) F.damping = cmd.m * tr;
                if (cmd.m === 0 && expected.length === 0) F.damping = 0;
                const gref = g instanceof Float32Array || g instanceof Float64Array ? TYPE[p].from(g) : new TYPE[p](0);
                const lambda = F.damping;
                fn = () => F.precondition(g as FloatArray, out as FloatArray);
                check = (x) => {
                  const X = x as FloatArray;
                  expect(X).toBeInstanceOf(TYPE[p]);
                  if (out !== undefined) expect(X).toBe(out);
                  expectFiniteArray(X, `${what}: result`);
                  const eff = F.effectiveDamping;
                  expect(eff >= lambda && Number.isFinite(eff), `effectiveDamping ${eff} ≥ λ ${lambda}`).toBe(true);
                  if (lambda > 0 && lambda >= 1e-3 * tr) {
                    const res = solveResidual(Fm, d, X, gref, 1, eff);
                    const nrm = Math.max(...Array.from(gref, Math.abs));
                    if (nrm > 1e-30 && !(res <= (p === 'f32' ? 1e-4 : 1e-10))) {
                      throw new Error(`${what}: ${rep} relative residual ${res} (λ = ${lambda} = ${cmd.m}·trace/d)`);
                    }
                  }
                };
                break;
              }
              case 'quadratic': {
                const v0 = arr(p, fill(d, cmd.v));
                let v: unknown = v0;
                if (cmd.mut === 'v-type') (v = notFloat(cmd.notFloat, d)), (expected = [typeErr('v')]);
                if (cmd.mut === 'v-len') (v = arr(p, fill(d + 2, cmd.v))), (expected = [rangeErr('v')]);
                if (cmd.mut === 'v-nonfinite') (v0[cmd.at % d] = cmd.nf), (expected = [{ cls: [RangeError], msg: /v\[\d+\]/ }]);
                if (cmd.mut === 'v-other-type') v = arr(other(p), fill(d, cmd.v));
                fn = () => F.quadratic(v as FloatArray);
                check = (q) => {
                  const vv = TYPE[p].from(v as Float32Array);
                  const Fm = m.F();
                  const Fa = m.Fabs();
                  let ref = 0;
                  let scale = 0;
                  for (let i = 0; i < d; i++) {
                    for (let j = 0; j < d; j++) {
                      ref += vv[i] * Fm[i * d + j] * vv[j];
                      scale += Math.abs(vv[i]) * Fa[i * d + j] * Math.abs(vv[j]);
                    }
                  }
                  expect(typeof q).toBe('number');
                  if (!Number.isFinite(q as number)) throw new Error(`${what}: quadratic returned ${q}`);
                  expectClose([q as number], [ref], scale, 16 * (m.examples + d + 8) * U(p), 64 * TINY[p] * (d * d + 1), what);
                };
                break;
              }
              case 'toDense': {
                let out: unknown;
                if (cmd.mut === 'out') out = new TYPE[p](d * d).fill(7);
                if (cmd.mut === 'out-type') (out = notFloatPresent(cmd.notFloat, d * d)), (expected = [typeErr('out')]);
                if (cmd.mut === 'out-len') (out = new TYPE[p](d * d - 1)), (expected = [rangeErr('out')]);
                fn = () => F.toDense(out as FloatArray);
                check = (x) => {
                  if (out !== undefined) expect(x).toBe(out);
                  expectMatchesModel(F, m, p, what);
                };
                break;
              }
              case 'damping': {
                const v = cmd.value;
                const ok = typeof v === 'number' && Number.isFinite(v) && v >= 0 && (p === 'f64' || Number.isFinite(Math.fround(v)));
                if (!ok) expected = [rangeErr('damping')];
                fn = () => {
                  F.damping = v as number;
                };
                check = () => expect(F.damping).toBe(v);
                break;
              }
              case 'reset':
                fn = () => F.reset();
                check = () => {
                  m.reset();
                  expectMatchesModel(F, m, p, what);
                };
                break;
              case 'saveLoad': {
                const state = F.save();
                const s2 = structuredClone(state) as unknown as Record<string, unknown> & { store: Record<string, unknown> };
                const S = s2.store.S as FloatArray | undefined;
                switch (cmd.corrupt) {
                  case 'format':
                    s2.format = 'something/else';
                    expected = [typeErr('state')];
                    break;
                  case 'version':
                    s2.version = 3;
                    expected = [rangeErr('version')];
                    break;
                  case 'S-nan':
                    if (!S || S.length === 0) return;
                    S[0] = NaN;
                    expected = [{ cls: [RangeError], msg: /S\[0\]/ }];
                    break;
                  case 'S-type':
                    if (!S) return;
                    s2.store.S = p === 'f32' ? Float64Array.from(S) : Float32Array.from(S);
                    expected = [typeErr('S')];
                    break;
                  case 'store':
                    s2.store = 'nothing' as never;
                    expected = [typeErr('store')];
                    break;
                  case 'damping':
                    s2.damping = -1;
                    expected = [rangeErr('damping')];
                    break;
                  case 'd':
                    s2.d = d + 1;
                    // a state whose d disagrees with its arrays must be rejected (naming d or the array)
                    expected = [{ cls: [RangeError, TypeError], msg: /\bd\b|blocks|S|rows|length/ }];
                    break;
                }
                fn = () => {
                  const G = EmpiricalFisher.load(s2 as never);
                  made.push(G);
                  return G;
                };
                check = (G2) => {
                  const L = G2 as EmpiricalFisher;
                  expect(stateBytes(L)).toBe(stateBytes(F));
                  expect(sameBytes(bytesOf(L.toDense()), bytesOf(F.toDense()))).toBe(true);
                  // continue with the loaded copy (the original is disposed): it must behave the same
                  F.dispose();
                  F = L;
                };
                break;
              }
              case 'merge': {
                const dd = cmd.mut === 'd' ? d + 1 : d;
                const o2 = {
                  ...opts,
                  precision: cmd.mut === 'precision' ? other(p) : p,
                  representation: cmd.mut === 'rep' ? (rep === 'diag' ? 'dense' : 'diag') : rep,
                  blocks: cmd.mut === 'rep' ? undefined : rep === 'blockdiag' ? (cmd.mut === 'd' ? [...blocks!, 1] : blocks) : undefined,
                };
                const O = new EmpiricalFisher(dd, o2);
                made.push(O);
                const om = new Model(dd, c.decay, c.bias, rep, blocks);
                const steps = cmd.mut === 'steps' ? m.steps + 1 : cmd.updates === 0 ? 0 : m.steps === 0 ? cmd.updates : m.steps;
                for (let s = 0; s < steps; s++) {
                  const G = arr(o2.precision, fill(cmd.n * dd, cmd.g.map((x, i) => x + s + i * 0.01)));
                  O.update(G, cmd.n);
                  om.update(TYPE[p].from(G), cmd.n);
                }
                let target: unknown = O;
                if (cmd.mut === 'self') (target = F), (expected = [rangeErr('other')]);
                if (cmd.mut === 'type') (target = { d }), (expected = [typeErr('other')]);
                if (cmd.mut === 'disposed') (O.dispose(), (expected = [{ cls: [Error], msg: /disposed/ }]));
                if (cmd.mut === 'd') expected = [rangeErr('d')];
                if (cmd.mut === 'precision') expected = [rangeErr('precision')];
                if (cmd.mut === 'rep') expected = [rangeErr('representation')];
                if (cmd.mut === 'steps' && m.steps !== 0 && steps !== 0) expected = [rangeErr('steps')];
                const oBefore = O.disposed ? '' : stateBytes(O);
                fn = () => F.merge(target as EmpiricalFisher);
                check = () => {
                  m.merge(om);
                  expectMatchesModel(F, m, p, what);
                  expect(stateBytes(O)).toBe(oBefore);
                };
                if (cmd.mut === 'steps' && expected.length === 0) {
                  // steps mismatch with an empty side is legal
                  check = () => {
                    m.merge(om);
                    expectMatchesModel(F, m, p, what);
                  };
                }
                break;
              }
            }
            before = stateBytes(F);
            factorizations = F.factorizations;
            const r = run(fn!);
            if (expected.length) {
              if (r.ok) throw new Error(`${what} (${JSON.stringify(cmd).slice(0, 120)}): a bad call was accepted`);
              expectError(r.err, expected, what);
              expect(stateBytes(F), `${what}: a rejected call changed the object`).toBe(before);
              expect(F.factorizations, `${what}: a rejected call factored`).toBe(factorizations);
              continue;
            }
            if (!r.ok) {
              if (cmd.op === 'precondition' && r.err instanceof NotPositiveDefiniteError) {
                // only acceptable when λ = 0 and F is singular (the documented jitter could not help)
                expect(F.damping, `${what}: NotPositiveDefiniteError with λ > 0`).toBe(0);
                expect(stateBytes(F)).toBe(before);
                continue;
              }
              throw new Error(`${what} (${JSON.stringify(cmd).slice(0, 160)}): a valid call threw ${r.err.constructor.name}: ${r.err.message}`);
            }
            check(r.value);
          }
          // finally: dispose, and every method says so
          const last = F;
          last.dispose();
          last.dispose();
          expect(last.disposed).toBe(true);
          const v = new TYPE[p](d);
          for (const fn of [() => last.update(new TYPE[p](d), 1), () => last.precondition(v), () => last.quadratic(v), () => last.toDense(), () => last.save(), () => last.reset(), () => { last.damping = 1; }]) {
            const r = run(fn);
            if (r.ok) throw new Error('a disposed EmpiricalFisher worked');
            expectError(r.err, [{ cls: [Error], msg: /disposed/ }], 'use after dispose');
          }
          m = m.clone();
        } finally {
          F.dispose();
          for (const x of made) x.dispose();
        }
      }),
      450,
    );
  });

  it('update with gradients whose outer products overflow or underflow f32: handled by scaling, or rejected, never stored as ±Infinity', () => {
    check(
      fc.property(fc.constantFrom<Rep>(...REPS), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), pool(fc.double({ min: 0.5, max: 2, noNaN: true }), 8), fc.constantFrom(1e20, 1e30, 3e38), (rep, d, n, vals, mag) => {
        const F = new EmpiricalFisher(d, { representation: rep, blocks: rep === 'blockdiag' ? blocksFor(d, 1) : undefined });
        try {
          const G = Float32Array.from(fill(n * d, vals), (v) => v * mag);
          const before = stateBytes(F);
          const r = run(() => F.update(G, n));
          if (!r.ok) {
            expectError(r.err, [{ cls: [RangeError], msg: /\bG\b|overflow|range/ }], 'update');
            expect(stateBytes(F)).toBe(before);
            return;
          }
          // accepted: nothing it reports may be non-finite, and the state must load back
          const s = F.save();
          for (const [k, v] of Object.entries(s.store)) if (v instanceof Float32Array || v instanceof Float64Array) expectFiniteArray(v, `save().store.${k}`);
          const q = run(() => F.quadratic(new Float32Array(d).fill(1)));
          if (q.ok && !Number.isFinite(q.value)) throw new Error(`quadratic returned ${q.value}`);
          const x = run(() => F.precondition(new Float32Array(d).fill(mag)));
          if (x.ok) expectFiniteArray(x.value, 'precondition');
          else expectError(x.err, [{ cls: [RangeError], msg: /overflow|range/ }], 'precondition');
          const D = run(() => F.toDense());
          if (D.ok) expectFiniteArray(D.value, 'toDense');
          else expectError(D.err, [{ cls: [RangeError], msg: /overflow|range/ }], 'toDense');
        } finally {
          F.dispose();
        }
      }),
      200,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// EmpiricalFisherOptimizer

describe('fuzz: EmpiricalFisher.load', () => {
  const CORRUPT = ['d', 'S-long', 'S-short', 'steps-negative', 'steps-NaN', 'steps-fraction', 'examples-NaN', 'betaPow-NaN', 'betaPow-2', 'lastBatch-negative', 'rows-odd', 'weights-negative', 'gram-short', 'dropped-NaN', 'latest-beyond'] as const;
  it('corrupted states are rejected (TypeError/RangeError naming the field), allocate nothing, disturb no other object', () => {
    check(
      fc.property(precisionArb, fc.constantFrom<Rep>(...REPS), fc.integer({ min: 1, max: 5 }), fc.constantFrom(0, 0.5), fc.constantFrom(...CORRUPT), pool(moderate, 12), (p, rep, d, decay, corrupt, g) => {
        const blocks = rep === 'blockdiag' ? blocksFor(d, d) : undefined;
        const F = new EmpiricalFisher(d, { precision: p, representation: rep, blocks, decay });
        const witness = new EmpiricalFisher(d, { precision: p, representation: rep, blocks, decay });
        try {
          F.update(arr(p, fill(2 * d, g)), 2);
          witness.update(arr(p, fill(2 * d, g.map((x) => x + 1))), 2);
          const wBefore = bytesOf(witness.toDense());
          const st = structuredClone(F.save()) as unknown as Record<string, unknown> & { store: Record<string, unknown> };
          const S = st.store.S as FloatArray | undefined;
          const setStore = (k: string, v: unknown) => {
            if (!(k in st.store)) return false;
            st.store[k] = v;
            return true;
          };
          switch (corrupt) {
            case 'd':
              st.d = d + 1;
              if (blocks) st.blocks = [...blocks, 1];
              break;
            case 'S-long':
              if (!S) return;
              st.store.S = arr(p, new Array(S.length + 64).fill(7));
              break;
            case 'S-short':
              if (!S) return;
              st.store.S = arr(p, new Array(Math.max(0, S.length - 1)).fill(7));
              break;
            case 'steps-negative':
              st.steps = -1;
              break;
            case 'steps-NaN':
              st.steps = NaN;
              break;
            case 'steps-fraction':
              st.steps = 1.5;
              break;
            case 'examples-NaN':
              st.examples = NaN;
              break;
            case 'betaPow-NaN':
              st.betaPow = NaN;
              break;
            case 'betaPow-2':
              st.betaPow = 2;
              break;
            case 'lastBatch-negative':
              st.lastBatch = -3;
              break;
            case 'rows-odd':
              if (!setStore('rows', new Float64Array(2 * d + 1).fill(1))) return;
              break;
            case 'weights-negative':
              if (!setStore('weights', new Float64Array([-5, 1]))) return;
              break;
            case 'gram-short':
              if (!setStore('gram', arr(p, [1, 2]))) return;
              break;
            case 'dropped-NaN':
              if (!setStore('dropped', NaN)) return;
              break;
            case 'latest-beyond':
              if (!setStore('latestCount', 3)) return;
              break;
          }
          const mem = memoryInfo().allocatedBytes;
          const r = run(() => EmpiricalFisher.load(st as never));
          if (r.ok) {
            r.value.dispose();
            throw new Error(`load accepted a corrupted state (${corrupt})`);
          }
          expectError(r.err, [{ cls: [TypeError, RangeError], msg: /state|\bd\b|steps|examples|betaPow|lastBatch|rows|weights|gram|dropped|latest|S\b/ }], `load (${corrupt})`);
          expect(memoryInfo().allocatedBytes).toBe(mem);
          expect(sameBytes(bytesOf(witness.toDense()), wBefore), 'another object was overwritten').toBe(true);
        } finally {
          F.dispose();
          witness.dispose();
        }
      }),
      500,
    );
  });
});

describe('fuzz: EmpiricalFisherOptimizer', () => {
  const OPT_KEYS = ['lr', 'damping', 'decay', 'biasCorrection', 'representation', 'blocks', 'rank', 'maxBytes', 'precision', 'lossChangeBound', 'updateEvery', 'weightDecay', 'momentum', 'adaptiveDamping', 'learningRate'];
  it('constructor: params of every kind and every option', () => {
    check(
      fc.property(
        fc.oneof({ weight: 6, arbitrary: fc.tuple(precisionArb, fc.integer({ min: 0, max: 5 }), pool(moderate, 6)) }, { weight: 1, arbitrary: fc.tuple(fc.constant('bad' as const), fc.nat(8), fc.constant([0])) }),
        fc.dictionary(fc.constantFrom(...OPT_KEYS), fc.oneof(optionValue, fc.constantFrom<unknown>((t: number) => 1 / (t + 1), { interval: 2 }, { min: 2, max: 1 })), { maxKeys: 4 }),
        nonFinite,
        fc.boolean(),
        (pp, o, nf, poison) => {
          let params: unknown;
          if (pp[0] === 'bad') params = notFloat(NOT_FLOAT[pp[1] % NOT_FLOAT.length], 3);
          else {
            params = arr(pp[0], fill(pp[1], pp[2]));
            if (poison && pp[1] > 0) (params as FloatArray)[0] = nf;
          }
          const pBefore = snap(params);
          const memBefore = memoryInfo().allocatedBytes;
          const r = run(() => new EmpiricalFisherOptimizer(params as FloatArray, o as object));
          expectUnchanged(pBefore, params, 'params');
          if (!r.ok) {
            const names = ['params', 'options', ...Object.keys(o), 'd', 'blocks'];
            expectError(r.err, [...names.map((n) => ({ cls: [RangeError, TypeError] as (new () => Error)[], msg: new RegExp(escape(n)) })), memErr], 'new EmpiricalFisherOptimizer');
            expect(memoryInfo().allocatedBytes).toBe(memBefore);
            return;
          }
          const opt = r.value;
          try {
            expect('learningRate' in o, 'unknown option accepted').toBe(false);
            expect(opt.lr > 0 && Number.isFinite(opt.lr)).toBe(true);
            expect(opt.steps).toBe(0);
          } finally {
            opt.dispose();
          }
          expect(memoryInfo().allocatedBytes).toBe(memBefore);
        },
      ),
      900,
    );
  });

  const stepCmd = fc.record({
    n: fc.integer({ min: 1, max: 5 }),
    g: pool(moderate, 20),
    mut: fc.constantFrom('none', 'none', 'none', 'none', 'G-type', 'G-len', 'G-nonfinite', 'n', 'opts', 'loss', 'other-type'),
    bad: badSize,
    nf: nonFinite,
    notFloat: notFloatArb,
    at: fc.nat(500),
  });

  it('step: random sequences in every representation; params finite and the first step matches (F + λI)⁻¹ḡ', () => {
    check(
      fc.property(
        precisionArb,
        fc.constantFrom<Rep | 'auto'>('auto', ...REPS),
        fc.integer({ min: 1, max: 6 }),
        fc.record({
          lr: fc.constantFrom(0.01, 0.1, 1),
          damping: fc.constantFrom(1e-3, 0.1, 1),
          decay: fc.constantFrom(0, 0.5, 0.95),
          momentum: fc.constantFrom(0, 0, 0.9),
          weightDecay: fc.constantFrom(0, 0, 1e-2),
          updateEvery: fc.constantFrom(1, 1, 2, 3),
          lossChangeBound: fc.constantFrom(undefined, 1e-2, 1),
        }),
        fc.array(stepCmd, { minLength: 1, maxLength: 6 }),
        fc.nat(100),
        (p, rep, d, o, cmds, seed) => {
          const params = new TYPE[p](d);
          const options: Record<string, unknown> = { ...o, representation: rep };
          if (o.lossChangeBound === undefined) delete options.lossChangeBound;
          if (rep === 'blockdiag') options.blocks = blocksFor(d, seed);
          const opt = new EmpiricalFisherOptimizer(params, options);
          try {
            for (const [k, cmd] of cmds.entries()) {
              const what = `step #${k}`;
              const n = cmd.n;
              let G: unknown = arr(p, fill(n * d, cmd.g));
              let nn: unknown = n;
              let so: unknown;
              let expected: Expect[] = [];
              if (cmd.mut === 'G-type') (G = notFloat(cmd.notFloat, n * d)), (expected = [typeErr('G')]);
              if (cmd.mut === 'G-len') (G = arr(p, fill(n * d + 1, cmd.g))), (expected = [rangeErr('G')]);
              if (cmd.mut === 'G-nonfinite') ((G as FloatArray)[cmd.at % (n * d)] = cmd.nf), (expected = [{ cls: [RangeError], msg: /G\[\d+\]/ }]);
              if (cmd.mut === 'n') (nn = cmd.bad), (expected = [rangeErr('n')]);
              if (cmd.mut === 'opts') (so = { los: () => 1 }), (expected = [rangeErr('los')]);
              if (cmd.mut === 'loss') (so = { loss: 3 }), (expected = [typeErr('loss')]);
              if (cmd.mut === 'other-type') G = arr(other(p), fill(n * d, cmd.g));
              const pBefore = bytesOf(params);
              const sBefore = opt.steps;
              const fBefore = opt.fisher.save();
              const Gref = TYPE[p].from(G instanceof Float32Array || G instanceof Float64Array ? G : []);
              const r = run(() => opt.step(G as FloatArray, nn as number, so as never));
              if (expected.length) {
                if (r.ok) throw new Error(`${what}: a bad step was accepted (${cmd.mut})`);
                expectError(r.err, expected, what);
                expect(sameBytes(bytesOf(params), pBefore), `${what}: params changed by a rejected step`).toBe(true);
                expect(opt.steps).toBe(sBefore);
                expect(JSON.stringify(Object.entries(opt.fisher.save().store).map(([kk, v]) => [kk, Array.from(v as ArrayLike<number>)]))).toBe(
                  JSON.stringify(Object.entries(fBefore.store).map(([kk, v]) => [kk, Array.from(v as ArrayLike<number>)])),
                );
                continue;
              }
              if (!r.ok) throw new Error(`${what}: a valid step threw ${r.err.constructor.name}: ${r.err.message}`);
              const info = r.value;
              expect(opt.steps).toBe(sBefore + 1);
              expectFiniteArray(params, `${what}: params`);
              for (const key of ['rate', 'stepNorm', 'predictedLossChange', 'predictedLossChangeRms', 'damping'] as const) {
                if (!Number.isFinite(info[key])) throw new Error(`${what}: info.${key} = ${info[key]}`);
              }
              if (sBefore === 0 && o.weightDecay === 0 && rep !== 'auto') {
                // θ₀ = 0: θ₁ = −η v with (F + λI) v = ḡ, F = (1/n)GᵀG (bias-corrected average of one batch)
                const F = refSyrk(Gref, n, d, 1 / n);
                if (rep === 'diag') for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (i !== j) F[i * d + j] = 0;
                if (rep === 'blockdiag') {
                  const bl = options.blocks as number[];
                  const id = new Int32Array(d);
                  let off = 0;
                  bl.forEach((b, bi) => {
                    for (let t = 0; t < b; t++) id[off + t] = bi;
                    off += b;
                  });
                  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (id[i] !== id[j]) F[i * d + j] = 0;
                }
                const gbar = new Float64Array(d);
                for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) gbar[j] += Gref[i * d + j] / n;
                const v = Float64Array.from(params, (x) => -x / info.rate);
                const tr = trace(F, d) / d;
                if (info.damping >= 1e-3 * tr && Math.max(...Array.from(gbar, Math.abs)) > 1e-20) {
                  const res = solveResidual(F, d, v, gbar, 1, info.damping);
                  const bar = p === 'f32' ? 1e-4 : 1e-10;
                  if (!(res <= bar * 4)) throw new Error(`${what}: first step residual ${res} (${rep}, λ = ${info.damping})`);
                }
              }
            }
            // rejected and accepted steps leave the optimizer usable
            const last = run(() => opt.step(arr(p, new Array(d).fill(0.25)), 1));
            if (!last.ok) throw new Error(`a final valid step threw: ${last.err.message}`);
          } finally {
            opt.dispose();
          }
          const r = run(() => opt.step(arr(p, new Array(d).fill(1)), 1));
          if (r.ok) throw new Error('a disposed optimizer stepped');
          expectError(r.err, [{ cls: [Error], msg: /disposed/ }], 'step after dispose');
        },
      ),
      350,
    );
  });

  it('step: a finite lr, weight decay or gradient that would make params non-finite is rejected, params unchanged', () => {
    check(
      fc.property(precisionArb, fc.integer({ min: 1, max: 4 }), fc.constantFrom(1e30, 1e300), fc.constantFrom('lr', 'weightDecay'), (p, d, big, which) => {
        const params = new TYPE[p](d).fill(1);
        const opt = new EmpiricalFisherOptimizer(params, which === 'lr' ? { lr: big } : { weightDecay: big });
        try {
          const before = bytesOf(params);
          const r = run(() => opt.step(new TYPE[p](d).fill(1), 1));
          if (r.ok) {
            expectFiniteArray(params, 'params');
            for (const k of ['rate', 'stepNorm', 'predictedLossChange', 'predictedLossChangeRms'] as const) {
              if (!Number.isFinite(r.value[k])) throw new Error(`info.${k} = ${r.value[k]}`);
            }
          } else {
            expectError(r.err, [{ cls: [RangeError], msg: /overflow|range|lr|weightDecay|params/ }], 'step');
            expect(sameBytes(bytesOf(params), before)).toBe(true);
          }
        } finally {
          opt.dispose();
        }
      }),
      100,
    );
  });
});

describe('fuzz: total', () => {
  it('at least 10,000 cases executed per run', () => {
    console.log(`fuzz: ${totals.executed} cases executed (${totals.requested} requested) in ${totals.properties} properties, seed ${FUZZ_SEED}`);
    expect(totals.executed).toBeGreaterThanOrEqual(RUN_SCALE >= 1 ? 10_000 : 0);
  });
});
