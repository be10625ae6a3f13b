/**
 * Stateless linear algebra on typed arrays: SYRK, Cholesky, Cholesky solves, the symmetric
 * eigendecomposition, GEMM.
 *
 * Matrices are row-major. The precision of a call follows its first matrix argument: a
 * Float32Array runs the f32 kernels and returns a Float32Array, a Float64Array the f64 ones. Other
 * float inputs are converted to that precision; `out` must already have it.
 */
import { getEngine, type Engine, type FloatArray, type Precision } from './engine.js';
import { NotPositiveDefiniteError } from './errors.js';
import { OP, potrfStateBytes, type ThreadPool } from './threads.js';
import { POTRF_ARGS, SYRK_ARGS } from './threads-layout.js';
import { WORKER_FLOPS, threadTuning } from './tuning.js';
import * as check from './validate.js';

export type { FloatArray, Precision };

/** @internal */
export const BYTES: Record<Precision, number> = { f32: 4, f64: 8 };

/** @internal */
export function allocArray(precision: Precision, len: number): FloatArray {
  return precision === 'f32' ? new Float32Array(len) : new Float64Array(len);
}

/** Frees every pointer in `ptrs` (0 is ignored). */
function freeAll(e: Engine, ptrs: number[]): void {
  for (const p of ptrs) e.free(p);
}

export interface SyrkOptions<T extends FloatArray = FloatArray> {
  /** scale of GᵀG (default 1) */
  alpha?: number;
  /** scale of the previous `out` (default 0: `out` is not read) */
  beta?: number;
  /** d × d result, same type as G; with beta ≠ 0 it is also read */
  out?: T;
}

/**
 * `out = β·out + α·GᵀG`, the full symmetric d × d matrix (both triangles written).
 *
 * @param G [in] n × d row-major: n rows of length d (e.g. per-example gradients)
 * @param n number of rows of G (0 allowed: the result is β·out)
 * @param d number of columns of G
 * @throws TypeError if G or out is not a float typed array; RangeError on bad sizes, lengths,
 *   non-finite values, or non-finite alpha/beta
 * @example
 * linalg.syrk(new Float64Array([1, 2, 3, 4]), 2, 2) // Float64Array [10, 14, 14, 20]
 */
function syrk<T extends FloatArray>(G: T, n: number, d: number, opts?: SyrkOptions<T>): T {
  const call = syrkBegin(G, n, d, opts);
  try {
    if (d > 0) {
      const { e, precision, alpha, beta, gp, cp } = call;
      e.k('syrk_full', precision)(n, d, alpha, gp, d, beta, cp, d, e.work);
    }
    return syrkEnd(call, G);
  } finally {
    freeAll(call.e, [call.gp, call.cp]);
  }
}

interface SyrkCall<T extends FloatArray> {
  e: Engine;
  precision: Precision;
  n: number;
  d: number;
  alpha: number;
  /** β, or 0 when `out` is not read */
  beta: number;
  out: T | undefined;
  gp: number;
  cp: number;
  /** G's values are checked after the kernel, through the diagonal of the result (see syrkEnd) */
  deferredCheck: boolean;
}

/** Validates, allocates and copies G (and out, with β ≠ 0) into wasm memory; frees on failure. */
function syrkBegin<T extends FloatArray>(G: T, n: number, d: number, opts?: SyrkOptions<T>): SyrkCall<T> {
  const precision = check.precisionOf('G', G);
  check.size('n', n);
  check.size('d', d);
  const o = check.options('options', opts, ['alpha', 'beta', 'out']);
  const alpha = o.alpha === undefined ? 1 : check.finiteIn(precision, 'alpha', o.alpha);
  const beta = o.beta === undefined ? 0 : check.finiteIn(precision, 'beta', o.beta);
  check.length('G', G, n * d, 'n·d');
  const out = o.out === undefined ? undefined : check.output<T>(o.out, precision, d * d, 'd·d');
  const e = getEngine();
  const b = BYTES[precision];
  const useBeta = beta !== 0 && out !== undefined;
  check.fits(e, `syrk with n = ${n}, d = ${d} (G and the d × d result)`, n * d * b, d * d * b);
  const deferredCheck = d > 0 && (precision === 'f32' ? Math.fround(alpha) : alpha) !== 0;
  let gp = 0;
  let cp = 0;
  try {
    gp = e.alloc(n * d * b);
    cp = e.alloc(d * d * b);
    e.put(precision, gp, G);
    // With α ≠ 0 (in the kernel's precision) a non-finite G_ki makes C_ii = β·C_ii + α·Σ_k G_ki²
    // non-finite (a sum of squares cannot cancel an ∞, and a NaN stays). The result is scanned
    // anyway (an overflow is an error), so G is scanned only when the result is not finite, to
    // name the bad element of G rather than report an overflow (syrkEnd).
    if (!deferredCheck) check.finiteInWasm(e, precision, 'G', G, gp, n * d);
    if (useBeta) {
      e.put(precision, cp, out);
      check.finiteInWasm(e, precision, 'out', out, cp, d * d);
    }
  } catch (err) {
    freeAll(e, [gp, cp]);
    throw err;
  }
  return { e, precision, n, d, alpha, beta: useBeta ? beta : 0, out, gp, cp, deferredCheck };
}

/** The largest finite value of each precision. */
const MAX_FINITE: Record<Precision, number> = { f32: 3.4028234663852886e38, f64: Number.MAX_VALUE };

/**
 * True when the diagonal of C = α·GᵀG (β = 0) proves every element of C finite, so that the d²
 * scan can be skipped: a d-element look instead (at d = 1024 the scan is 2–3% of the call).
 * Every partial sum of C_ij is at most (1 + γ_n)·|α|·Σ_k |G_ki G_kj| ≤ (1 + γ_n)·|α|·max(Σ_k G_ki²,
 * Σ_k G_kj²) (|ab| ≤ (a² + b²)/2), and the computed C_ii is at least (1 − γ_n)·|α|·Σ_k G_ki², a sum of
 * non-negative terms; the α-free accumulators obey the same bounds without |α|. So when every
 * |C_ii| ≤ min(1, |α|)·MAX/8 and n·u ≤ 2⁻⁴ (γ_n ≤ 1/15), nothing on the way can overflow. A NaN or
 * ∞ anywhere in G reaches the diagonal (a sum of squares cannot cancel it) and fails the test;
 * then the whole result is scanned, as before.
 */
function diagonalBoundsGram(e: Engine, precision: Precision, n: number, d: number, alpha: number, cp: number): boolean {
  const f32 = precision === 'f32';
  if (n > (f32 ? 1048576 : 562949953421312)) return false; // 2^20, 2^49
  const a = Math.abs(f32 ? Math.fround(alpha) : alpha);
  const limit = (a < 1 ? a : 1) * (MAX_FINITE[precision] / 8);
  const c = e.view(precision, cp, d * d);
  for (let i = 0, p = 0; i < d; i++, p += d + 1) {
    const v = c[p];
    if (!(v <= limit && v >= -limit)) return false;
  }
  return true;
}

/** Checks G (when deferred, see syrkBegin) and the result, then copies the result out. */
function syrkEnd<T extends FloatArray>(call: SyrkCall<T>, G: FloatArray): T {
  const { e, precision, d, cp } = call;
  // one scan of the result (or only its diagonal, see diagonalBoundsGram): only when it is not
  // finite, G is scanned (a bad G is named) before the overflow is reported
  const resultOk =
    d === 0 ||
    (call.beta === 0 && diagonalBoundsGram(e, precision, call.n, d, call.alpha, cp)) ||
    e.k('first_nonfinite', precision)(d * d, cp) < 0;
  if (!resultOk && call.deferredCheck) check.finiteInWasm(e, precision, 'G', G, call.gp, G.length);
  if (!resultOk) check.resultFinite(e, precision, 'the result α·GᵀG + β·out', cp, d * d, `scale G down${precision === 'f32' ? ' or use Float64Array' : ''}`);
  const result = call.out ?? (allocArray(call.precision, d * d) as T);
  result.set(e.view(precision, cp, d * d));
  return result;
}


/** About how long `flops` take on `threads` workers (at 40 GFLOP/s f32, 20 f64 each; a guess that
 *  only decides how the main thread waits, see ThreadPool.run). */
function workerSeconds(precision: Precision, flops: number, threads: number): number {
  return flops / (WORKER_FLOPS[precision] * threads);
}

/**
 * A call of about `oneThread` seconds on one thread, below threadTuning.asleepSeconds, that finds
 * the workers asleep (ThreadPool.asleepFor) runs `alone` on the calling thread: `{ result }`.
 * Otherwise undefined, and the call goes to the threads.
 */
function aloneIfAsleep<R>(pool: ThreadPool, oneThread: number, alone: () => R): { result: R } | undefined {
  if (oneThread >= threadTuning.asleepSeconds || !pool.asleepFor(oneThread)) return undefined;
  try {
    return { result: alone() };
  } finally {
    pool.callEnded();
  }
}

/**
 * `linalg.syrk` on the worker threads of `init({ threads })`; the same result, bit for bit.
 * Without workers (or for small problems) it runs on the calling thread. G and out are read
 * before the promise is returned; `out` is written when it resolves. Errors reject.
 */
async function syrkAsync<T extends FloatArray>(G: T, n: number, d: number, opts?: SyrkOptions<T>): Promise<T> {
  const pool = getEngine().pool;
  if (!pool || n * d * d < threadTuning.minFlops) return syrk(G, n, d, opts);
  const oneThread = workerSeconds(check.precisionOf('G', G), n * d * d, 1);
  const alone = aloneIfAsleep(pool, oneThread, () => syrk(G, n, d, opts));
  if (alone) return alone.result;
  const seconds = oneThread / pool.size;
  pool.prime(seconds); // the workers wake up while G is copied in
  const call = syrkBegin(G, n, d, opts);
  let pp = 0;
  try {
    // Gᵀ packed once for all the workers (syrk_pack)
    pp = call.e.alloc((call.e.exports.syrk_packed_bytes as (n: number, d: number) => number)(n, d));
    const args = { precision: call.precision === 'f32' ? 0 : 1, n, d, alpha: call.alpha, g: call.gp, ldg: d, beta: call.beta, c: call.cp, ldc: d, packed: pp, full: 1 };
    await pool.run(OP.SYRK, SYRK_ARGS, args, seconds);
    return syrkEnd(call, G);
  } finally {
    freeAll(call.e, [call.gp, call.cp, pp]);
  }
}

export interface CholeskyOptions<T extends FloatArray = FloatArray> {
  /** added to the diagonal before factoring: L·Lᵀ = A + shift·I (default 0) */
  shift?: number;
  /** d × d result, same type as A; may be A itself */
  out?: T;
}

/**
 * @internal
 * Copies A (converted to `precision`) into a new d × d block of wasm memory, checks its lower
 * triangle, adds `shift` to the diagonal and factors it. Returns the block (caller frees it).
 * Throws NotPositiveDefiniteError (after freeing) on failure.
 */
export function factorInWasm(e: Engine, precision: Precision, A: FloatArray, d: number, shift: number): number {
  const ap = factorBegin(e, precision, A, d, shift);
  try {
    if (d > 0) factorEnd(e, precision, A, d, ap, e.k('potrf', precision)(d, ap, d, e.work));
    return ap;
  } catch (err) {
    e.free(ap);
    throw err;
  }
}

/** @internal factorInWasm on the worker threads (one thread without them); the same bits. */
export async function factorInWasmAsync(e: Engine, precision: Precision, A: FloatArray, d: number, shift: number): Promise<number> {
  const pool = e.pool;
  const oneThread = workerSeconds(precision, (d * d * d) / 3, 1);
  if (!pool || oneThread < threadTuning.minCholeskySeconds) return factorInWasm(e, precision, A, d, shift);
  const alone = aloneIfAsleep(pool, oneThread, () => factorInWasm(e, precision, A, d, shift));
  if (alone) return alone.result;
  const seconds = oneThread / pool.size;
  pool.prime(seconds); // the workers wake up while A is copied in
  const ap = factorBegin(e, precision, A, d, shift);
  let pp = 0;
  try {
    // two packed panels (potrf_pack; the block columns use them by turns), shared by the
    // threads, and the state block through which they follow each other's progress
    const panelBytes = (e.exports.potrf_packed_bytes as (d: number) => number)(d);
    const stateBytes = potrfStateBytes(pool.size, Math.ceil(d / (e.exports.potrf_nb as (d: number) => number)(d)));
    pp = e.alloc(2 * panelBytes + stateBytes);
    new Uint8Array(e.memory.buffer, pp + 2 * panelBytes, stateBytes).fill(0);
    // the threads zero the strict upper triangle themselves, in parallel
    const args = { precision: precision === 'f32' ? 0 : 1, d, a: ap, lda: d, panels: pp, state: pp + 2 * panelBytes, zeroUpper: 1 };
    factorEnd(e, precision, A, d, ap, await pool.run(OP.POTRF, POTRF_ARGS, args, seconds), false);
    return ap;
  } catch (err) {
    e.free(ap);
    throw err;
  } finally {
    if (pp) e.free(pp);
  }
}

/**
 * Copies A in and adds the shift; frees on failure. A is not scanned for NaN and ±∞ here: a
 * non-finite element of lower(A) always makes potrf fail (it reaches pivot i through L_ij, whose
 * square is subtracted from A_ii, or is the pivot itself; nothing on the way can turn NaN or ∞
 * finite), so factorEnd scans A only then, to name the element instead of a pivot. Saves a pass
 * over d²/2 elements (about 1% of a call at d = 1024).
 */
function factorBegin(e: Engine, precision: Precision, A: FloatArray, d: number, shift: number): number {
  check.fits(e, `a d × d matrix with d = ${d}`, d * d * BYTES[precision]);
  const ap = e.alloc(d * d * BYTES[precision]);
  try {
    e.put(precision, ap, A);
    if (d > 0 && shift !== 0) e.k('add_diag', precision)(d, shift, ap, d);
    return ap;
  } catch (err) {
    e.free(ap);
    throw err;
  }
}

/**
 * After potrf: on failure throws (a RangeError naming a non-finite element of lower(A) if there is
 * one, else NotPositiveDefiniteError); else zeroes the strict upper triangle (unless done).
 */
function factorEnd(e: Engine, precision: Precision, A: FloatArray, d: number, ap: number, info: number, zeroUpper = true): void {
  if (info !== 0) {
    check.finiteLower(precision, 'A', A, d);
    throw new NotPositiveDefiniteError(info);
  }
  if (zeroUpper) e.k('zero_upper', precision)(d, ap, d);
}

/**
 * Cholesky factorisation `L·Lᵀ = A + shift·I` of a symmetric positive definite matrix.
 * Reads only the lower triangle of A (the upper may hold anything). Never retries: a matrix that
 * is not positive definite throws.
 *
 * @param A [in] d × d row-major, lower triangle read
 * @returns L, lower triangular, strict upper triangle exactly 0 (in `out` if given; `out` may be A)
 * @throws NotPositiveDefiniteError with `.pivot` (1-based) when A + shift·I is not positive definite
 * @example
 * linalg.cholesky(new Float64Array([4, 0, 2, 5]), 2) // Float64Array [2, 0, 1, 2]
 */
function cholesky<T extends FloatArray>(A: T, d: number, opts?: CholeskyOptions<T>): T {
  const { precision, shift, out } = choleskyArgs(A, d, opts);
  const e = getEngine();
  return choleskyEnd(e, precision, d, factorInWasm(e, precision, A, d, shift), out);
}

/**
 * `linalg.cholesky` with the trailing updates on the worker threads of `init({ threads })`; the
 * same result, bit for bit. Without workers (or for small d) it runs on the calling thread. A is
 * read before the promise is returned; errors (NotPositiveDefiniteError too) reject.
 */
async function choleskyAsync<T extends FloatArray>(A: T, d: number, opts?: CholeskyOptions<T>): Promise<T> {
  const { precision, shift, out } = choleskyArgs(A, d, opts);
  const e = getEngine();
  return choleskyEnd(e, precision, d, await factorInWasmAsync(e, precision, A, d, shift), out);
}

function choleskyArgs<T extends FloatArray>(A: T, d: number, opts?: CholeskyOptions<T>): { precision: Precision; shift: number; out: T | undefined } {
  const precision = check.precisionOf('A', A);
  check.size('d', d);
  const o = check.options('options', opts, ['shift', 'out']);
  const shift = o.shift === undefined ? 0 : check.finiteIn(precision, 'shift', o.shift);
  check.length('A', A, d * d, 'd·d');
  const out = o.out === undefined ? undefined : check.output<T>(o.out, precision, d * d, 'd·d');
  return { precision, shift, out };
}

function choleskyEnd<T extends FloatArray>(e: Engine, precision: Precision, d: number, lp: number, out: T | undefined): T {
  try {
    const result = out ?? (allocArray(precision, d * d) as T);
    result.set(e.view(precision, lp, d * d));
    return result;
  } finally {
    e.free(lp);
  }
}

export interface SolveOptions<T extends FloatArray = FloatArray> {
  /** number of right-hand sides in B (default B.length / d) */
  nrhs?: number;
  /** result, same layout as B and the type of the matrix; may be B itself */
  out?: T;
}

function rhsCount(B: FloatArray, d: number, nrhs: unknown): number {
  if (nrhs !== undefined) {
    const k = check.size('nrhs', nrhs);
    check.length('B', B, k * d, 'nrhs·d');
    return k;
  }
  if (d === 0) {
    if (B.length !== 0) throw new RangeError(`B has length ${B.length}, expected 0 when d = 0`);
    return 0;
  }
  if (B.length % d !== 0) {
    throw new RangeError(`B has length ${B.length}, which is not a multiple of d = ${d} (B holds nrhs vectors of length d)`);
  }
  return B.length / d;
}

/**
 * @internal
 * Solves with a factor already in wasm memory at `lp`: copies B in, runs potrs, copies X out.
 */
export function solveInWasm<T extends FloatArray>(
  e: Engine,
  precision: Precision,
  lp: number,
  d: number,
  B: FloatArray,
  nrhs: number,
  out: T | undefined,
): T {
  const b = BYTES[precision];
  const len = nrhs * d;
  check.fits(e, `B with nrhs = ${nrhs}, d = ${d}`, len * b);
  const bp = e.alloc(len * b);
  try {
    e.put(precision, bp, B);
    check.finiteInWasm(e, precision, 'B', B, bp, len);
    if (len > 0) e.k('potrs', precision)(d, nrhs, lp, d, bp, d, e.work);
    check.resultFinite(e, precision, 'the solution X', bp, len, 'the matrix is too close to singular for this right-hand side');
    const result = out ?? (allocArray(precision, len) as T);
    result.set(e.view(precision, bp, len));
    return result;
  } finally {
    e.free(bp);
  }
}

/**
 * Solves `L·Lᵀ X = B` with a Cholesky factor L (only its lower triangle is read).
 *
 * @param L [in] d × d lower triangular factor, positive diagonal
 * @param B [in] nrhs right-hand sides of length d, one after another: B[k·d + i]
 * @returns X, same layout as B, precision of L (in `out` if given; `out` may be B)
 * @throws RangeError if a diagonal entry of L is not positive (not a Cholesky factor)
 * @example
 * const L = linalg.cholesky(new Float64Array([4, 2, 2, 5]), 2);
 * linalg.choleskySolve(L, 2, new Float64Array([6, 7])) // Float64Array [1, 1]
 */
function choleskySolve<T extends FloatArray>(L: T, d: number, B: FloatArray, opts?: SolveOptions<T>): T {
  const precision = check.precisionOf('L', L);
  check.size('d', d);
  check.floatArray('B', B);
  const o = check.options('options', opts, ['nrhs', 'out']);
  check.length('L', L, d * d, 'd·d');
  const nrhs = rhsCount(B, d, o.nrhs);
  const out = o.out === undefined ? undefined : check.output<T>(o.out, precision, nrhs * d, 'nrhs·d');
  const e = getEngine();
  const b = BYTES[precision];
  check.fits(e, `L with d = ${d}`, d * d * b);
  const lp = e.alloc(d * d * b);
  try {
    e.put(precision, lp, L);
    check.finiteLowerInWasm(e, precision, 'L', L, lp, d);
    const lv = e.view(precision, lp, d * d);
    for (let i = 0; i < d; i++) {
      if (!(lv[i * d + i] > 0)) {
        throw new RangeError(`L[${i * d + i}] (diagonal entry ${i}) is ${lv[i * d + i]}: a Cholesky factor has a positive diagonal`);
      }
    }
    return solveInWasm(e, precision, lp, d, B, nrhs, out);
  } finally {
    e.free(lp);
  }
}

export interface SolveSPDOptions<T extends FloatArray = FloatArray> extends SolveOptions<T> {
  /** added to the diagonal of A before solving (default 0) */
  shift?: number;
}

/**
 * Solves `(A + shift·I) X = B` for a symmetric positive definite A by Cholesky (only A's lower
 * triangle is read).
 *
 * @throws NotPositiveDefiniteError when A + shift·I is not positive definite
 * @example
 * linalg.solveSPD(new Float64Array([4, 2, 2, 5]), 2, new Float64Array([6, 7])) // Float64Array [1, 1]
 */
function solveSPD<T extends FloatArray>(A: T, d: number, B: FloatArray, opts?: SolveSPDOptions<T>): T {
  const { e, precision, shift, nrhs, out } = solveSPDArgs(A, d, B, opts);
  const lp = factorInWasm(e, precision, A, d, shift);
  try {
    return solveInWasm(e, precision, lp, d, B, nrhs, out);
  } finally {
    e.free(lp);
  }
}

/** The checks of solveSPD and solveSPDAsync, B's values included (before the O(d³) factorisation). */
function solveSPDArgs<T extends FloatArray>(A: T, d: number, B: FloatArray, opts?: SolveSPDOptions<T>) {
  const precision = check.precisionOf('A', A);
  check.size('d', d);
  check.floatArray('B', B);
  const o = check.options('options', opts, ['shift', 'nrhs', 'out']);
  const shift = o.shift === undefined ? 0 : check.finiteIn(precision, 'shift', o.shift);
  check.length('A', A, d * d, 'd·d');
  const nrhs = rhsCount(B, d, o.nrhs);
  const out = o.out === undefined ? undefined : check.output<T>(o.out, precision, nrhs * d, 'nrhs·d');
  check.finiteArray('B', B);
  return { e: getEngine(), precision, shift, nrhs, out };
}

/** `linalg.solveSPD` with the factorisation on the worker threads (see choleskyAsync). */
async function solveSPDAsync<T extends FloatArray>(A: T, d: number, B: FloatArray, opts?: SolveSPDOptions<T>): Promise<T> {
  const { e, precision, shift, nrhs, out } = solveSPDArgs(A, d, B, opts);
  // B is copied now: the caller may change it while the factorisation runs
  const B0 = B.slice();
  const lp = await factorInWasmAsync(e, precision, A, d, shift);
  try {
    return solveInWasm(e, precision, lp, d, B0, nrhs, out);
  } finally {
    e.free(lp);
  }
}

// A factor that is never disposed is freed when it is garbage-collected.
const factorRegistry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ e: Engine; ptr: number }>(({ e, ptr }) => e.free(ptr))
    : undefined;

/**
 * A Cholesky factor kept in wasm memory: each `solve` copies only B and X.
 * Create with `linalg.choleskyFactor`; `dispose()` (or `[Symbol.dispose]()`, or `using`) frees it.
 */
export class CholeskyFactor<T extends FloatArray = FloatArray> {
  readonly d: number;
  readonly precision: Precision;
  private ptr: number;
  private readonly e: Engine;
  private readonly token = {};

  /** @internal use linalg.choleskyFactor */
  constructor(e: Engine, precision: Precision, ptr: number, d: number) {
    this.e = e;
    this.precision = precision;
    this.ptr = ptr;
    this.d = d;
    factorRegistry?.register(this, { e, ptr }, this.token);
  }

  get disposed(): boolean {
    return this.ptr === 0;
  }

  /**
   * Solves `L·Lᵀ X = B`.
   * @param B [in] nrhs vectors of length d, one after another (either float type; converted)
   * @returns X in the factor's precision (in `out` if given; `out` may be B)
   */
  solve(B: FloatArray, opts?: SolveOptions<T>): T {
    this.live();
    check.floatArray('B', B);
    const o = check.options('options', opts, ['nrhs', 'out']);
    const nrhs = rhsCount(B, this.d, o.nrhs);
    const out = o.out === undefined ? undefined : check.output<T>(o.out, this.precision, nrhs * this.d, 'nrhs·d');
    return solveInWasm(this.e, this.precision, this.ptr, this.d, B, nrhs, out);
  }

  /** The factor L (d × d, strict upper triangle 0). */
  lower(out?: T): T {
    this.live();
    const len = this.d * this.d;
    const result = out === undefined ? (allocArray(this.precision, len) as T) : check.output<T>(out, this.precision, len, 'd·d');
    result.set(this.e.view(this.precision, this.ptr, len));
    return result;
  }

  /** Frees the factor's wasm memory. A second call does nothing. */
  dispose(): void {
    if (this.ptr === 0) return;
    factorRegistry?.unregister(this.token);
    this.e.free(this.ptr);
    this.ptr = 0;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private live(): void {
    if (this.ptr === 0) throw check.disposedError('CholeskyFactor');
  }
}

/**
 * Factors `A + shift·I = L·Lᵀ` once and keeps L in wasm memory for repeated solves.
 * @throws NotPositiveDefiniteError when A + shift·I is not positive definite
 * @example
 * const chol = linalg.choleskyFactor(A, d, { shift: 1e-3 });
 * const x = chol.solve(b); chol.dispose();
 */
function choleskyFactor<T extends FloatArray>(A: T, d: number, opts?: { shift?: number }): CholeskyFactor<T> {
  const { e, precision, shift } = choleskyFactorArgs(A, d, opts);
  return new CholeskyFactor<T>(e, precision, factorInWasm(e, precision, A, d, shift), d);
}

/**
 * `linalg.choleskyFactor` with the factorisation on the worker threads (see choleskyAsync).
 */
async function choleskyFactorAsync<T extends FloatArray>(A: T, d: number, opts?: { shift?: number }): Promise<CholeskyFactor<T>> {
  const { e, precision, shift } = choleskyFactorArgs(A, d, opts);
  return new CholeskyFactor<T>(e, precision, await factorInWasmAsync(e, precision, A, d, shift), d);
}

function choleskyFactorArgs(A: FloatArray, d: number, opts?: { shift?: number }) {
  const precision = check.precisionOf('A', A);
  check.size('d', d);
  const o = check.options('options', opts, ['shift']);
  const shift = o.shift === undefined ? 0 : check.finiteIn(precision, 'shift', o.shift);
  check.length('A', A, d * d, 'd·d');
  return { e: getEngine(), precision, shift };
}

export interface EighOptions<T extends FloatArray = FloatArray> {
  /** d eigenvalues (ascending), same type as A; filled and returned */
  values?: T;
  /** d × d eigenvectors, same type as A, vector k at vectors[k·d … k·d + d); filled and returned;
   *  may be A itself (A is read first). Not allowed with valuesOnly. */
  vectors?: T;
  /** true: eigenvalues only (no eigenvectors of the tridiagonal matrix, no back-transformation:
   *  several times faster); default false */
  valuesOnly?: boolean;
}

/** What linalg.eigh returns: ascending eigenvalues and (unless valuesOnly) the eigenvectors. */
export interface EighResult<T extends FloatArray = FloatArray, V extends T | undefined = T | undefined> {
  /** λ_0 ≤ λ_1 ≤ … ≤ λ_{d−1} */
  values: T;
  /** d × d, eigenvector k (unit length, for λ_k) at vectors[k·d … k·d + d); undefined with valuesOnly */
  vectors: V;
}

interface EighArgs<T extends FloatArray> {
  precision: Precision;
  valuesOnly: boolean;
  values: T | undefined;
  vectors: T | undefined;
}

function eighArgs<T extends FloatArray>(A: T, d: number, opts?: EighOptions<T>): EighArgs<T> {
  const precision = check.precisionOf('A', A);
  check.size('d', d);
  const o = check.options('options', opts, ['values', 'vectors', 'valuesOnly']);
  if (o.valuesOnly !== undefined && typeof o.valuesOnly !== 'boolean') {
    throw new TypeError(`options.valuesOnly must be a boolean, got ${check.describe(o.valuesOnly)}`);
  }
  const valuesOnly = o.valuesOnly === true;
  check.length('A', A, d * d, 'd·d');
  const values = o.values === undefined ? undefined : check.output<T>(o.values, precision, d, 'd', 'values');
  if (valuesOnly && o.vectors !== undefined) {
    throw new RangeError('options.vectors is given with valuesOnly: true (no eigenvectors are computed)');
  }
  const vectors = o.vectors === undefined ? undefined : check.output<T>(o.vectors, precision, d * d, 'd·d', 'vectors');
  if (values !== undefined && (values as FloatArray) === (vectors as FloatArray | undefined)) {
    throw new RangeError('options.values and options.vectors must be different arrays');
  }
  return { precision, valuesOnly, values, vectors };
}

/**
 * The symmetric eigendecomposition `A = V·diag(λ)·Vᵀ`: eigenvalues ascending and orthonormal
 * eigenvectors. Reads only the lower triangle of A (the strict upper triangle may hold anything,
 * NaN included); A is not modified. Precision follows A (f32 reduces and back-transforms in f32 and
 * solves the tridiagonal problem in float64). Bit for bit the same result in every engine.
 * Accuracy (DESIGN §4): ‖AV − VΛ‖_F/‖A‖_F and max|VᵀV − I| within 30·d·u (u = 2⁻²⁴ f32, 2⁻⁵³ f64).
 *
 * @param A [in] d × d row-major, symmetric, lower triangle read
 * @param d order of A (0 allowed: empty results)
 * @param opts.values [out] d eigenvalues, same type as A
 * @param opts.vectors [out] d × d, eigenvector k at vectors[k·d … k·d + d) (a row, not a column)
 * @param opts.valuesOnly eigenvalues only; `vectors` is then undefined
 * @returns `{ values, vectors }` (the given arrays when passed; new ones otherwise)
 * @throws TypeError if A, values or vectors is not a float typed array, or values/vectors has the
 *   wrong type; RangeError on a bad d, a length mismatch, a non-finite element of A's lower triangle
 *   (naming its index), an unknown option, vectors with valuesOnly, or eigenvalues beyond the
 *   precision's range; Error if the tridiagonal eigensolver does not converge (not seen in
 *   practice). Nothing is written on failure.
 * @example
 * const { values, vectors } = linalg.eigh(new Float64Array([2, 1, 1, 2]), 2);
 * // values: Float64Array [1, 3]
 * // vectors: Float64Array [-0.7071…, 0.7071…, 0.7071…, 0.7071…]: (−1, 1)/√2 for 1, (1, 1)/√2 for 3
 */
function eigh<T extends FloatArray>(A: T, d: number, opts: EighOptions<T> & { valuesOnly: true }): EighResult<T, undefined>;
function eigh<T extends FloatArray>(A: T, d: number, opts?: EighOptions<T> & { valuesOnly?: false }): EighResult<T, T>;
function eigh<T extends FloatArray>(A: T, d: number, opts?: EighOptions<T>): EighResult<T>;
function eigh<T extends FloatArray>(A: T, d: number, opts?: EighOptions<T>): EighResult<T> {
  const { precision, valuesOnly, values, vectors } = eighArgs(A, d, opts);
  const e = getEngine();
  const b = BYTES[precision];
  const withVectors = !valuesOnly;
  const workBytes = d === 0 ? 0 : (e.exports[`eigh_work_bytes_${precision}`] as (d: number, v: number) => number)(d, withVectors ? 1 : 0);
  check.fits(e, `eigh with d = ${d} (A, the results and the workspace)`, d * d * b, d * b, withVectors ? d * d * b : 0, workBytes);
  let ap = 0;
  let wp = 0;
  let zp = 0;
  let ew = 0;
  try {
    ap = e.alloc(d * d * b);
    wp = e.alloc(d * b);
    if (withVectors) zp = e.alloc(d * d * b);
    ew = e.alloc(workBytes);
    e.put(precision, ap, A);
    check.finiteLowerInWasm(e, precision, 'A', A, ap, d);
    if (d > 0) {
      const info = e.k('eigh', precision)(d, ap, d, wp, zp, d, withVectors ? 1 : 0, e.work, ew);
      if (info !== 0) throw new Error(`eigh: the tridiagonal eigensolver did not converge (info = ${info}); nothing was written`);
      check.resultFinite(e, precision, 'the eigenvalues', wp, d, `scale A down${precision === 'f32' ? ' or use Float64Array' : ''}`);
    }
    const w = values ?? (allocArray(precision, d) as T);
    w.set(e.view(precision, wp, d));
    let z: T | undefined;
    if (withVectors) {
      z = vectors ?? (allocArray(precision, d * d) as T);
      z.set(e.view(precision, zp, d * d));
    }
    return { values: w, vectors: z };
  } finally {
    freeAll(e, [ap, wp, zp, ew]);
  }
}

/**
 * `linalg.eigh` as a promise, for symmetry with the other O(d³) calls. It runs on the calling
 * thread (the eigendecomposition has no threaded version yet) and is done when the promise is
 * returned; errors reject.
 */
async function eighAsync<T extends FloatArray>(A: T, d: number, opts: EighOptions<T> & { valuesOnly: true }): Promise<EighResult<T, undefined>>;
async function eighAsync<T extends FloatArray>(A: T, d: number, opts?: EighOptions<T> & { valuesOnly?: false }): Promise<EighResult<T, T>>;
async function eighAsync<T extends FloatArray>(A: T, d: number, opts?: EighOptions<T>): Promise<EighResult<T>>;
async function eighAsync<T extends FloatArray>(A: T, d: number, opts?: EighOptions<T>): Promise<EighResult<T>> {
  return eigh(A, d, opts);
}

export interface GemmOptions<T extends FloatArray = FloatArray> {
  /** true: A is stored k × m and op(A) = Aᵀ (default false: A is m × k) */
  transA?: boolean;
  /** true: B is stored n × k and op(B) = Bᵀ (default false: B is k × n) */
  transB?: boolean;
  /** scale of op(A)·op(B) (default 1) */
  alpha?: number;
  /** scale of the previous `out` (default 0: `out` is not read, so NaN in it cannot leak) */
  beta?: number;
  /** m × n result, same type as A; with beta ≠ 0 it is also read. May be A or B itself, or
   *  overlap them: A, B and out are copied into wasm memory before anything is written. */
  out?: T;
}

/** A boolean option (default false), or a TypeError naming it. */
function flag(name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new TypeError(`options.${name} must be a boolean, got ${check.describe(v)}`);
  return v;
}

/**
 * The general matrix product `out = α·op(A)·op(B) + β·out` (BLAS GEMM on row-major arrays), on the
 * packed SIMD micro-kernel of syrk and cholesky.
 *
 * op(A) is m × k: A itself (stored m × k) or, with `transA`, the transpose of A (stored k × m);
 * op(B) is k × n: B (stored k × n) or, with `transB`, the transpose of B (stored n × k). Each
 * element of the result is a sum of k products, accumulated in the precision of A (with a
 * rounding error of at most about k·u·(|α|·|op(A)|·|op(B)| + |β|·|out|) elementwise, u the unit
 * round-off). Bit for bit the same result in every engine.
 *
 * @param A [in] m × k row-major, or k × m with `transA`; its type sets the precision
 * @param B [in] k × n row-major, or n × k with `transB`; either float type (converted to A's)
 * @param m rows of the result (0 allowed: an empty result)
 * @param n columns of the result (0 allowed: an empty result)
 * @param k the inner dimension (0 allowed: the result is β·out, zeros without `out`)
 * @param opts.out [in,out] m × n, A's type; read only when β ≠ 0; may be A or B (or overlap them)
 * @returns the m × n result (`out` when given, else a new array of A's type)
 * @throws TypeError if A, B or out is not a float typed array, out has the wrong type, or
 *   transA/transB is not a boolean; RangeError on a bad m, n or k, a length mismatch (naming the
 *   argument and the expected m·k, k·n or m·n), a non-finite element of A, B or (with β ≠ 0) out
 *   (naming its index), a non-finite alpha or beta, an unknown option, or a result beyond the
 *   precision's range. Nothing is written on failure.
 * @example
 * // [1 2 3; 4 5 6] · [1 0; 0 1; 1 1]
 * linalg.gemm(new Float64Array([1, 2, 3, 4, 5, 6]), new Float64Array([1, 0, 0, 1, 1, 1]), 2, 2, 3)
 * // Float64Array [4, 5, 10, 11]
 * // Aᵀ·A of the same A (stored 2 × 3, transA): 3 × 3
 * const A = new Float64Array([1, 2, 3, 4, 5, 6]);
 * linalg.gemm(A, A, 3, 3, 2, { transA: true })
 * // Float64Array [17, 22, 27, 22, 29, 36, 27, 36, 45]
 */
function gemm<T extends FloatArray>(A: T, B: FloatArray, m: number, n: number, k: number, opts?: GemmOptions<T>): T {
  const precision = check.precisionOf('A', A);
  check.floatArray('B', B);
  check.size('m', m);
  check.size('n', n);
  check.size('k', k);
  const o = check.options('options', opts, ['transA', 'transB', 'alpha', 'beta', 'out']);
  const transA = flag('transA', o.transA);
  const transB = flag('transB', o.transB);
  const alpha = o.alpha === undefined ? 1 : check.finiteIn(precision, 'alpha', o.alpha);
  const beta = o.beta === undefined ? 0 : check.finiteIn(precision, 'beta', o.beta);
  check.length('A', A, m * k, 'm·k');
  check.length('B', B, k * n, 'k·n');
  const out = o.out === undefined ? undefined : check.output<T>(o.out, precision, m * n, 'm·n');
  const e = getEngine();
  const b = BYTES[precision];
  const useBeta = beta !== 0 && out !== undefined;
  check.fits(e, `gemm with m = ${m}, n = ${n}, k = ${k} (A, B and the m × n result)`, m * k * b, k * n * b, m * n * b);
  const mn = m * n;
  // With α ≠ 0 (in the kernel's precision) and m, n, k > 0 every element of A and B enters some
  // element of the result, and a NaN or ±∞ there leaves that element non-finite (NaN·x = NaN,
  // ∞·0 = NaN, ∞ + finite = ∞, ∞ − ∞ = NaN; α and β·out are finite). The result is scanned anyway
  // (a finite product can overflow), so A and B are scanned only when it is not finite, to name
  // the bad element rather than report an overflow: two passes over the inputs saved.
  const deferredCheck = mn > 0 && k > 0 && (precision === 'f32' ? Math.fround(alpha) : alpha) !== 0;
  let ap = 0;
  let bp = 0;
  let cp = 0;
  try {
    ap = e.alloc(m * k * b);
    bp = e.alloc(k * n * b);
    cp = e.alloc(mn * b);
    e.put(precision, ap, A);
    e.put(precision, bp, B);
    if (!deferredCheck) {
      check.finiteInWasm(e, precision, 'A', A, ap, m * k);
      check.finiteInWasm(e, precision, 'B', B, bp, k * n);
    }
    if (useBeta) {
      e.put(precision, cp, out);
      check.finiteInWasm(e, precision, 'out', out, cp, mn);
    }
    if (mn > 0) {
      // leading dimensions of A and B as stored (row-major)
      const lda = transA ? m : k;
      const ldb = transB ? k : n;
      e.k('gemm', precision)(m, n, k, alpha, ap, lda, transA ? 1 : 0, bp, ldb, transB ? 1 : 0, useBeta ? beta : 0, cp, n, e.work);
      if (e.k('first_nonfinite', precision)(mn, cp) >= 0) {
        if (deferredCheck) {
          check.finiteInWasm(e, precision, 'A', A, ap, m * k);
          check.finiteInWasm(e, precision, 'B', B, bp, k * n);
        }
        check.resultFinite(e, precision, 'the result α·op(A)·op(B) + β·out', cp, mn, `scale A or B down${precision === 'f32' ? ' or use Float64Array' : ''}`);
      }
    }
    const result = out ?? (allocArray(precision, mn) as T);
    result.set(e.view(precision, cp, mn));
    return result;
  } finally {
    freeAll(e, [ap, bp, cp]);
  }
}

/**
 * `linalg.gemm` as a promise, for symmetry with the other O(n³) calls. It runs on the calling
 * thread (there is no threaded gemm yet) and is done when the promise is returned; errors reject.
 */
async function gemmAsync<T extends FloatArray>(A: T, B: FloatArray, m: number, n: number, k: number, opts?: GemmOptions<T>): Promise<T> {
  return gemm(A, B, m, n, k, opts);
}

/**
 * Stateless operations on typed arrays (row-major; precision follows the first matrix). The
 * `…Async` variants run the O(d³) part on the worker threads of `init({ threads })` and give the
 * same bits; without workers they run on the calling thread.
 */
export const linalg = {
  syrk,
  cholesky,
  choleskySolve,
  solveSPD,
  choleskyFactor,
  eigh,
  gemm,
  syrkAsync,
  choleskyAsync,
  solveSPDAsync,
  choleskyFactorAsync,
  eighAsync,
  gemmAsync,
};
