/**
 * How F is stored: dense, block-diagonal, diagonal (and low-rank, in lowrank.ts).
 *
 * A store holds S, a running sum of weighted outer products of per-example gradients; the Fisher
 * is F = c·S, with c the bias correction (1/(1 − β^t), or 1). Stores work on data already copied
 * into wasm memory and validated: they never throw on their own account, except for memory.
 */
import type { Engine, FloatArray, Precision } from './engine.js';
import { BYTES } from './linalg.js';
import * as check from './validate.js';
import { diagonalInWasm, type LayerInWasm } from './layers/inwasm.js';
import type { LayerShape } from './kronecker.js';
import type { KroneckerDamping } from './fisher.js';

export type StoreKind = 'dense' | 'lowrank' | 'blockdiag' | 'diag' | 'kronecker' | 'ekfac';

/** @internal The live allocations of a store, shared with the finaliser (updated when a store reallocates). */
export interface Holder {
  e: Engine;
  ptrs: number[];
}

/** Serialisable content of a store (plain numbers and typed arrays). */
export type StoreState = Record<string, number | number[] | FloatArray | Float64Array | Int32Array>;

/** @internal */
export interface FisherStore {
  readonly kind: StoreKind;
  readonly holder: Holder;
  /**
   * S ← keep·S + weight·GᵀG for the n × d gradients at gp (row stride d);
   * keep = 0 overwrites (S is then not read).
   */
  accumulate(gp: number, n: number, keep: number, weight: number): void;
  /**
   * The same for the per-example gradients the dense layers describe (statistics in wasm memory,
   * the store's precision), without their n × d rows where the store can; stores without it get
   * the rows materialised in chunks and passed to `accumulate`.
   */
  accumulateLayers?(list: readonly LayerInWasm[], n: number, keep: number, weight: number): void;
  /** Factors c·S + shift·I; returns 0 or the 1-based failing pivot. */
  factor(c: number, shift: number): number;
  /** x ← (c·S + shift·I)⁻¹ x with the factor of the last successful `factor`, for x at xp (length d). */
  solve(xp: number): void;
  /**
   * The same as `solve` for x = ḡ/σ, ḡ the mean gradient of the layers' statistics `list` (E not
   * divided by σ; σ⁻¹ = sigmaInv), for stores that can work from the statistics where cheaper.
   */
  solveMean?(list: readonly LayerInWasm[], n: number, xp: number, sigmaInv: number): void;
  /** a copy of the factor held (stores that keep it apart from S), to save a factor of an older F */
  factorState?(): FloatArray;
  restoreFactor?(factor: FloatArray): void;
  /** a shift the store adds to its factor's on its own account (c·ρ of the low-rank sketch) */
  extraDamping?(c: number): number;
  /** trace(S) / d */
  meanDiagonal(): number;
  /** c · vᵀ S v for v at vp */
  quadratic(vp: number, c: number): number;
  /** out (d × d at op, full symmetric) ← c·S */
  toDense(op: number, c: number): void;
  /** S ← 0 */
  reset(): void;
  save(): StoreState;
  load(state: StoreState): void;
  /** S ← 2^k·S (k even; exact unless values leave the precision's range) */
  rescale(k: number): void;
  /**
   * S ← a·S + b·S_other (same kind and shape), the other's gradients scaled by √rel relative to
   * this one's (rel a power of two, default 1: S_other counts rel·b)
   */
  merge(other: FisherStore, a: number, b: number, rel?: number): void;
  /** allocates what `merge(other)` will need, so that nothing fails after the first change */
  reserveMerge?(other: FisherStore): void;
  free(): void;
}

/** @internal 2^k exactly, for −1074 ≤ k ≤ 1023. */
export function pow2(k: number): number {
  let r = 1;
  let b = k < 0 ? 0.5 : 2;
  let n = k < 0 ? -k : k;
  while (n > 0) {
    if (n & 1) r *= b;
    b *= b;
    n >>>= 1;
  }
  return r;
}

/** @internal x ← 2^k·x for len elements at ptr, in steps a scalar of the precision can hold (exact). */
export function scalePow2(e: Engine, precision: Precision, ptr: number, len: number, k: number): void {
  const scal = e.k('scal', precision);
  while (k !== 0) {
    const step = k > 100 ? 100 : k < -100 ? -100 : k;
    scal(len, pow2(step), ptr);
    k -= step;
  }
}

function allocZeroed(e: Engine, bytes: number): number {
  const p = e.alloc(bytes);
  e.zero(p, bytes);
  return p;
}

/** @internal Allocates every size, or none (frees what it got if one fails). */
export function allocAll(e: Engine, sizes: number[]): number[] {
  check.fits(e, 'the Fisher storage', ...sizes);
  const got: number[] = [];
  try {
    for (const s of sizes) got.push(allocZeroed(e, s));
    return got;
  } catch (err) {
    for (const p of got) e.free(p);
    throw err;
  }
}

/** @internal */
export function copyOut(e: Engine, precision: Precision, ptr: number, len: number): FloatArray {
  return e.view(precision, ptr, len).slice();
}

/** @internal Frees every allocation of a holder (a second call does nothing). */
export function freeHolder(h: Holder): void {
  for (const p of h.ptrs) h.e.free(p);
  h.ptrs = [];
}

/** @internal The typed array of a precision. */
export function floatType(precision: Precision): Float32ArrayConstructor | Float64ArrayConstructor {
  return precision === 'f32' ? Float32Array : Float64Array;
}

/** @internal What a store's class needs to know of its saved state before any store exists. */
export interface StoreSpec {
  d: number;
  precision: Precision;
  blocks?: readonly number[];
  layers?: readonly LayerShape[];
  kroneckerDamping?: KroneckerDamping;
}

/** @internal The static side every store class has: its own saved-state checks. */
export interface StoreClass {
  /**
   * Validates the saved content of a store of this spec (the output of `save()`), naming the bad
   * field as `${prefix}.name`; allocates nothing, changes nothing.
   */
  checkState(state: Record<string, unknown>, spec: StoreSpec, prefix?: string): void;
  /** the length of `factorState()`, or undefined for a store that keeps no factor apart */
  factorLength(spec: StoreSpec): number | undefined;
}

/** @internal Checks of the fields of a saved state; errors name `${prefix}.${name}`. */
export class StateFields {
  constructor(
    private readonly obj: Record<string, unknown>,
    readonly prefix: string,
  ) {}

  /** RangeError `prefix.name must be what, got v` unless ok */
  field(name: string, ok: boolean, what: string, v: unknown): void {
    if (!ok) throw new RangeError(`${this.prefix}.${name} must be ${what}, got ${check.describe(v)}`);
  }

  int(name: string, v: unknown, min = 0): void {
    this.field(name, typeof v === 'number' && Number.isSafeInteger(v) && v >= min, `an integer ≥ ${min}`, v);
  }

  /** obj[name], a Type of length len (any when undefined) of finite values (≥ min) */
  array(name: string, Type: Function, len: number | undefined, min?: number): ArrayLike<number> {
    const v = this.obj[name];
    if (!(v instanceof Type)) throw new TypeError(`${this.prefix}.${name} must be a ${Type.name}, got ${check.describe(v)}`);
    const a = v as unknown as ArrayLike<number>;
    if (len !== undefined && a.length !== len) {
      throw new RangeError(`${this.prefix}.${name} has length ${a.length}, expected ${len}`);
    }
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (!Number.isFinite(x) || (min !== undefined && x < min)) {
        throw new RangeError(`${this.prefix}.${name}[${i}] is ${x}: expected a finite number${min !== undefined ? ` ≥ ${min}` : ''}`);
      }
    }
    return a;
  }
}

// ---------------------------------------------------------------------------------------------
/**
 * @internal The stores whose state is S alone (m values) and whose factor is kept apart in an area
 * of the same length (dense, blockdiag, diag): reset, rescale, save, load, merge and free.
 */
abstract class SeparateFactorStore implements FisherStore {
  abstract readonly kind: StoreKind;
  readonly holder: Holder;

  constructor(
    protected readonly e: Engine,
    protected readonly precision: Precision,
    protected readonly d: number,
    /** values of S (and of its factor) */
    protected readonly m: number,
  ) {
    const bytes = m * BYTES[precision];
    this.holder = { e, ptrs: allocAll(e, [bytes, bytes]) };
  }

  protected get s(): number {
    return this.holder.ptrs[0];
  }
  /** the factor of the last successful `factor` */
  protected get l(): number {
    return this.holder.ptrs[1];
  }

  abstract accumulate(gp: number, n: number, keep: number, weight: number): void;
  abstract factor(c: number, shift: number): number;
  abstract solve(xp: number): void;
  abstract meanDiagonal(): number;
  abstract quadratic(vp: number, c: number): number;
  abstract toDense(op: number, c: number): void;

  reset(): void {
    this.e.zero(this.s, this.m * BYTES[this.precision]);
  }

  rescale(k: number): void {
    scalePow2(this.e, this.precision, this.s, this.m, k);
  }

  factorState(): FloatArray {
    return copyOut(this.e, this.precision, this.l, this.m);
  }

  restoreFactor(factor: FloatArray): void {
    this.e.put(this.precision, this.l, factor);
  }

  save(): StoreState {
    return { S: copyOut(this.e, this.precision, this.s, this.m) };
  }

  load(state: StoreState): void {
    this.e.put(this.precision, this.s, state.S as FloatArray);
  }

  merge(other: FisherStore, a: number, b: number, rel = 1): void {
    this.e.k('axpby', this.precision)(this.m, b * rel, (other as SeparateFactorStore).s, a, this.s);
  }

  free(): void {
    freeHolder(this.holder);
  }
}

function sumOfSquares(blocks: readonly number[]): number {
  let m = 0;
  for (const b of blocks) m += b * b;
  return m;
}

/**
 * @internal
 * Block-diagonal: one dense block per group of consecutive parameters (a layer). Block b covers
 * columns [o_b, o_b + d_b) of G and is accumulated straight from there (pointer offset, leading
 * dimension d: no copy). S and its factor: the blocks' d_b × d_b matrices one after the other
 * (lower triangles meaningful).
 */
export class BlockDiagStore extends SeparateFactorStore {
  readonly kind: 'blockdiag' | 'dense' = 'blockdiag';
  /** first parameter of each block */
  private readonly offsets: number[];
  /** element offset of each block's d_b × d_b matrix in the S (and factor) area */
  private readonly matOffsets: number[];

  constructor(
    e: Engine,
    precision: Precision,
    d: number,
    private readonly blocks: readonly number[],
  ) {
    super(e, precision, d, sumOfSquares(blocks));
    this.offsets = [];
    this.matOffsets = [];
    let o = 0;
    let m = 0;
    for (const b of blocks) {
      this.offsets.push(o);
      this.matOffsets.push(m);
      o += b;
      m += b * b;
    }
  }

  /** storage of these blocks (S and its factor) */
  static bytes(blocks: readonly number[], precision: Precision): number {
    return 2 * sumOfSquares(blocks) * BYTES[precision];
  }

  static factorLength(spec: StoreSpec): number {
    return sumOfSquares(spec.blocks ?? []);
  }

  static checkState(state: Record<string, unknown>, spec: StoreSpec, prefix = 'state.store'): void {
    new StateFields(state, prefix).array('S', floatType(spec.precision), this.factorLength(spec));
  }

  private sb(i: number): number {
    return this.s + this.matOffsets[i] * BYTES[this.precision];
  }
  private lb(i: number): number {
    return this.l + this.matOffsets[i] * BYTES[this.precision];
  }

  accumulate(gp: number, n: number, keep: number, weight: number): void {
    const syrk = this.e.k('syrk', this.precision);
    const b = BYTES[this.precision];
    for (let i = 0; i < this.blocks.length; i++) {
      const db = this.blocks[i];
      syrk(n, db, weight, gp + this.offsets[i] * b, this.d, keep, this.sb(i), db, this.e.work);
    }
  }

  factor(c: number, shift: number): number {
    const { e, precision } = this;
    e.copy(this.l, this.s, this.m * BYTES[precision]);
    if (c !== 1) e.k('scal', precision)(this.m, c, this.l);
    const addDiag = e.k('add_diag', precision);
    const potrf = e.k('potrf', precision);
    for (let i = 0; i < this.blocks.length; i++) {
      const db = this.blocks[i];
      addDiag(db, shift, this.lb(i), db);
      const info = potrf(db, this.lb(i), db, e.work);
      if (info !== 0) return this.offsets[i] + info;
    }
    return 0;
  }

  solve(xp: number): void {
    const potrs = this.e.k('potrs', this.precision);
    const b = BYTES[this.precision];
    for (let i = 0; i < this.blocks.length; i++) {
      const db = this.blocks[i];
      potrs(db, 1, this.lb(i), db, xp + this.offsets[i] * b, db, this.e.work);
    }
  }

  meanDiagonal(): number {
    const v = this.e.view(this.precision, this.s, this.m);
    let t = 0;
    for (let i = 0; i < this.blocks.length; i++) {
      const db = this.blocks[i];
      const m = this.matOffsets[i];
      for (let j = 0; j < db; j++) t += v[m + j * db + j];
    }
    return t / this.d;
  }

  quadratic(vp: number, c: number): number {
    const { e, precision } = this;
    const b = BYTES[precision];
    let maxBlock = 0;
    for (const db of this.blocks) maxBlock = Math.max(maxBlock, db);
    const yp = e.alloc(maxBlock * b);
    try {
      const symv = e.k('symv', precision);
      const dot = e.k('dot', precision);
      let q = 0;
      for (let i = 0; i < this.blocks.length; i++) {
        const db = this.blocks[i];
        const xb = vp + this.offsets[i] * b;
        symv(db, c, this.sb(i), db, xb, 0, yp);
        q += dot(db, xb, yp);
      }
      return q;
    } finally {
      e.free(yp);
    }
  }

  toDense(op: number, c: number): void {
    const { e, precision, d } = this;
    e.zero(op, d * d * BYTES[precision]);
    const out = e.view(precision, op, d * d);
    const s = e.view(precision, this.s, this.m);
    for (let i = 0; i < this.blocks.length; i++) {
      const db = this.blocks[i];
      const o = this.offsets[i];
      const m = this.matOffsets[i];
      for (let r = 0; r < db; r++) {
        for (let q = 0; q <= r; q++) {
          const v = c * s[m + r * db + q];
          out[(o + r) * d + o + q] = v;
          out[(o + q) * d + o + r] = v;
        }
      }
    }
  }
}

/** @internal Dense: the block-diagonal store with one block, S (d × d, lower triangle meaningful). */
export class DenseStore extends BlockDiagStore {
  override readonly kind = 'dense';

  constructor(e: Engine, precision: Precision, d: number) {
    super(e, precision, d, [d]);
  }

  static override factorLength(spec: StoreSpec): number {
    return spec.d * spec.d;
  }

  /** c·S in wasm (scale, then mirror the lower triangle) */
  override toDense(op: number, c: number): void {
    const { e, precision, d } = this;
    e.copy(op, this.s, d * d * BYTES[precision]);
    if (c !== 1) e.k('scal', precision)(d * d, c, op);
    e.k('symmetrize', precision)(d, op, d);
  }
}

/** @internal Diagonal: F_jj = Σ weights · g_ij², the cheapest (Adam-like) preconditioner. */
export class DiagStore extends SeparateFactorStore {
  readonly kind = 'diag';

  constructor(e: Engine, precision: Precision, d: number) {
    super(e, precision, d, d);
  }

  static bytes(d: number, precision: Precision): number {
    return 2 * d * BYTES[precision];
  }

  static factorLength(spec: StoreSpec): number {
    return spec.d;
  }

  static checkState(state: Record<string, unknown>, spec: StoreSpec, prefix = 'state.store'): void {
    new StateFields(state, prefix).array('S', floatType(spec.precision), spec.d, 0);
  }

  accumulate(gp: number, n: number, keep: number, weight: number): void {
    this.e.k('sumsq_cols', this.precision)(n, this.d, weight, gp, this.d, keep, this.s);
  }

  accumulateLayers(list: readonly LayerInWasm[], n: number, keep: number, weight: number): void {
    diagonalInWasm(this.e, this.precision, list, n, weight, keep, this.s);
  }

  /** the factor: the damped diagonal c·S + shift, whose reciprocal is applied */
  factor(c: number, shift: number): number {
    const { e, precision, d } = this;
    const s = e.view(precision, this.s, d);
    const l = e.view(precision, this.l, d);
    // plain IEEE 754 double arithmetic, rounded once when stored: the same bits in every engine
    for (let j = 0; j < d; j++) {
      l[j] = c * s[j] + shift;
      if (!(l[j] > 0)) return j + 1;
    }
    return 0;
  }

  solve(xp: number): void {
    const { e, precision, d } = this;
    const x = e.view(precision, xp, d);
    const l = e.view(precision, this.l, d);
    for (let j = 0; j < d; j++) x[j] = x[j] / l[j];
  }

  meanDiagonal(): number {
    const s = this.e.view(this.precision, this.s, this.d);
    let t = 0;
    for (let j = 0; j < this.d; j++) t += s[j];
    return t / this.d;
  }

  quadratic(vp: number, c: number): number {
    const { e, precision, d } = this;
    const s = e.view(precision, this.s, d);
    const v = e.view(precision, vp, d);
    let q = 0;
    for (let j = 0; j < d; j++) q += s[j] * v[j] * v[j];
    return c * q;
  }

  toDense(op: number, c: number): void {
    const { e, precision, d } = this;
    e.zero(op, d * d * BYTES[precision]);
    const out = e.view(precision, op, d * d);
    const s = e.view(precision, this.s, d);
    for (let j = 0; j < d; j++) out[j * d + j] = c * s[j];
  }
}
