/**
 * How F is stored: dense, low-rank (Woodbury), block-diagonal, diagonal.
 *
 * A store holds S, a running sum of weighted outer products of per-example gradients; the Fisher
 * is F = c·S, with c the bias correction (1/(1 − β^t), or 1). Stores work on data already copied
 * into wasm memory and validated: they never throw on their own account, except for memory.
 */
import type { Engine, FloatArray, Precision } from './engine.js';
import { BYTES } from './linalg.js';
import * as check from './validate.js';

export type StoreKind = 'dense' | 'lowrank' | 'blockdiag' | 'diag';

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
  /** Factors c·S + shift·I; returns 0 or the 1-based failing pivot. */
  factor(c: number, shift: number): number;
  /** x ← (c·S + shift·I)⁻¹ x with the factor of the last successful `factor`, for x at xp (length d). */
  solve(xp: number): void;
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
  /** S ← a·S + b·S_other (same kind and shape) */
  merge(other: FisherStore, a: number, b: number): void;
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

/** Allocates every size, or none (frees what it got if one fails). */
function allocAll(e: Engine, sizes: number[]): number[] {
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

function copyOut(e: Engine, precision: Precision, ptr: number, len: number): FloatArray {
  return e.view(precision, ptr, len).slice();
}

// ---------------------------------------------------------------------------------------------
/** @internal Dense: S (d × d, lower triangle meaningful) and its factor (d × d). */
export class DenseStore implements FisherStore {
  readonly kind = 'dense';
  readonly holder: Holder;
  constructor(
    private readonly e: Engine,
    private readonly precision: Precision,
    private readonly d: number,
  ) {
    const bytes = d * d * BYTES[precision];
    this.holder = { e, ptrs: allocAll(e, [bytes, bytes]) };
  }

  /** storage a dense store of size d needs (S and its factor) */
  static bytes(d: number, precision: Precision): number {
    return 2 * d * d * BYTES[precision];
  }

  private get s(): number {
    return this.holder.ptrs[0];
  }
  private get l(): number {
    return this.holder.ptrs[1];
  }

  accumulate(gp: number, n: number, keep: number, weight: number): void {
    this.e.k('syrk', this.precision)(n, this.d, weight, gp, this.d, keep, this.s, this.d, this.e.work);
  }

  factor(c: number, shift: number): number {
    const { e, precision, d } = this;
    e.copy(this.l, this.s, d * d * BYTES[precision]);
    if (c !== 1) e.k('scal', precision)(d * d, c, this.l);
    e.k('add_diag', precision)(d, shift, this.l, d);
    return e.k('potrf', precision)(d, this.l, d, e.work);
  }

  solve(xp: number): void {
    this.e.k('potrs', this.precision)(this.d, 1, this.l, this.d, xp, this.d, this.e.work);
  }

  meanDiagonal(): number {
    const v = this.e.view(this.precision, this.s, this.d * this.d);
    let t = 0;
    for (let i = 0; i < this.d; i++) t += v[i * this.d + i];
    return t / this.d;
  }

  quadratic(vp: number, c: number): number {
    const { e, precision, d } = this;
    const yp = e.alloc(d * BYTES[precision]);
    try {
      e.k('symv', precision)(d, c, this.s, d, vp, 0, yp);
      return e.k('dot', precision)(d, vp, yp);
    } finally {
      e.free(yp);
    }
  }

  toDense(op: number, c: number): void {
    const { e, precision, d } = this;
    e.copy(op, this.s, d * d * BYTES[precision]);
    if (c !== 1) e.k('scal', precision)(d * d, c, op);
    e.k('symmetrize', precision)(d, op, d);
  }

  reset(): void {
    this.e.zero(this.s, this.d * this.d * BYTES[this.precision]);
  }

  rescale(k: number): void {
    scalePow2(this.e, this.precision, this.s, this.d * this.d, k);
  }

  save(): StoreState {
    return { S: copyOut(this.e, this.precision, this.s, this.d * this.d) };
  }

  load(state: StoreState): void {
    this.e.put(this.precision, this.s, state.S as FloatArray);
  }

  merge(other: FisherStore, a: number, b: number): void {
    const o = other as DenseStore;
    this.e.k('axpby', this.precision)(this.d * this.d, b, o.s, a, this.s);
  }

  free(): void {
    for (const p of this.holder.ptrs) this.e.free(p);
    this.holder.ptrs = [];
  }
}

// ---------------------------------------------------------------------------------------------
/**
 * @internal
 * Block-diagonal: one dense block per group of consecutive parameters (a layer). Block b covers
 * columns [o_b, o_b + d_b) of G and is accumulated straight from there (pointer offset, leading
 * dimension d: no copy).
 */
export class BlockDiagStore implements FisherStore {
  readonly kind = 'blockdiag';
  readonly holder: Holder;
  /** first parameter of each block */
  private readonly offsets: number[];
  /** element offset of each block's d_b × d_b matrix in the S (and factor) area */
  private readonly matOffsets: number[];
  private readonly total: number;

  constructor(
    private readonly e: Engine,
    private readonly precision: Precision,
    private readonly d: number,
    private readonly blocks: readonly number[],
  ) {
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
    this.total = m;
    const bytes = m * BYTES[precision];
    this.holder = { e, ptrs: allocAll(e, [bytes, bytes]) };
  }

  static bytes(blocks: readonly number[], precision: Precision): number {
    let m = 0;
    for (const b of blocks) m += b * b;
    return 2 * m * BYTES[precision];
  }

  private get s(): number {
    return this.holder.ptrs[0];
  }
  private get l(): number {
    return this.holder.ptrs[1];
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
    e.copy(this.l, this.s, this.total * BYTES[precision]);
    if (c !== 1) e.k('scal', precision)(this.total, c, this.l);
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
    const v = this.e.view(this.precision, this.s, this.total);
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
    const s = e.view(precision, this.s, this.total);
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

  reset(): void {
    this.e.zero(this.s, this.total * BYTES[this.precision]);
  }

  rescale(k: number): void {
    scalePow2(this.e, this.precision, this.s, this.total, k);
  }

  save(): StoreState {
    return { S: copyOut(this.e, this.precision, this.s, this.total) };
  }

  load(state: StoreState): void {
    this.e.put(this.precision, this.s, state.S as FloatArray);
  }

  merge(other: FisherStore, a: number, b: number): void {
    this.e.k('axpby', this.precision)(this.total, b, (other as BlockDiagStore).s, a, this.s);
  }

  free(): void {
    for (const p of this.holder.ptrs) this.e.free(p);
    this.holder.ptrs = [];
  }
}

// ---------------------------------------------------------------------------------------------
/** @internal Diagonal: F_jj = Σ weights · g_ij², the cheapest (Adam-like) preconditioner. */
export class DiagStore implements FisherStore {
  readonly kind = 'diag';
  readonly holder: Holder;
  constructor(
    private readonly e: Engine,
    private readonly precision: Precision,
    private readonly d: number,
  ) {
    const bytes = d * BYTES[precision];
    this.holder = { e, ptrs: allocAll(e, [bytes, bytes]) };
  }

  static bytes(d: number, precision: Precision): number {
    return 2 * d * BYTES[precision];
  }

  private get s(): number {
    return this.holder.ptrs[0];
  }
  /** the damped diagonal c·S + shift, whose reciprocal is applied */
  private get l(): number {
    return this.holder.ptrs[1];
  }

  accumulate(gp: number, n: number, keep: number, weight: number): void {
    this.e.k('sumsq_cols', this.precision)(n, this.d, weight, gp, this.d, keep, this.s);
  }

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

  reset(): void {
    this.e.zero(this.s, this.d * BYTES[this.precision]);
  }

  rescale(k: number): void {
    scalePow2(this.e, this.precision, this.s, this.d, k);
  }

  save(): StoreState {
    return { S: copyOut(this.e, this.precision, this.s, this.d) };
  }

  load(state: StoreState): void {
    this.e.put(this.precision, this.s, state.S as FloatArray);
  }

  merge(other: FisherStore, a: number, b: number): void {
    this.e.k('axpby', this.precision)(this.d, b, (other as DiagStore).s, a, this.s);
  }

  free(): void {
    for (const p of this.holder.ptrs) this.e.free(p);
    this.holder.ptrs = [];
  }
}

// ---------------------------------------------------------------------------------------------
interface Batch {
  /** insertion order: the step at which the batch arrived (older batches are evicted first) */
  stamp: number;
  /** total weight of the batch in S */
  weight: number;
  /** rows of the batch still kept */
  kept: number;
}

/**
 * @internal
 * Low-rank: the last `capacity` rows of per-example gradients, each with a weight, so that
 * S = Σ_i w_i u_i u_iᵀ = UᵀU with rows √w_i·u_i. A batch of n rows that arrives with total weight
 * W gives each of its rows W/n; when older rows are evicted to make room, the rows of a batch that
 * remain share its weight (a subsample of that batch). Solves use the Woodbury identity
 *   (c·UᵀU + λI)⁻¹ g = (1/λ)(g − Ũᵀ (λI_r + ŨŨᵀ)⁻¹ Ũ g),  Ũ = √c·U,
 * exact for every g, also outside the span of the rows.
 *
 * Accuracy: with a small λ this formula subtracts nearly equal vectors, and any error of the r × r
 * system comes back multiplied by ‖F‖/λ. So the rows stay in the store's precision (f32: half the
 * memory and traffic) and the Gram matrix comes from the fast gram kernel in that precision, but
 * every vector of the solve is float64, the r × r factor is float64, and the r × r solve is refined
 * (iterative refinement) with the exact operator λz + Ũ(Ũᵀz), applied with float64 products and
 * sums, until its correction is below float64 round-off: the Gram matrix's rounding then does not
 * reach the result.
 */
export class LowRankStore implements FisherStore {
  readonly kind = 'lowrank';
  readonly holder: Holder;
  private cap = 0;
  private used = 0;
  /** batch key of each used row slot */
  private rowBatch = new Int32Array(0);
  private readonly batches = new Map<number, Batch>();
  private nextKey = 0;
  private stamp = 0;
  /** key of the batch of the latest accumulate */
  private lastKey = -1;
  /** per-row √(c·w_i) of the last factorisation, and its shift */
  private scales = new Float64Array(0);
  private shift = 0;
  private factored = 0;
  /** K holds the Gram matrix of the rows held now (it survives damping changes) */
  private gramValid = false;

  /**
   * @param fixedRank rows kept; undefined: grow to hold at least one whole batch (all rows of the
   *   latest batch when decay = 0; max(defaultRank, n) otherwise), up to maxRows
   */
  constructor(
    private readonly e: Engine,
    private readonly precision: Precision,
    private readonly d: number,
    private readonly fixedRank: number | undefined,
    private readonly defaultRank: number,
    /** the most rows the memory budget allows (caps the default growth; fewer rows are then kept) */
    private readonly maxRows: number = Number.MAX_SAFE_INTEGER,
  ) {
    this.holder = { e, ptrs: [] };
    this.reserve(fixedRank ?? 0);
  }

  /** storage for `rank` rows of length d */
  static bytes(d: number, rank: number, precision: Precision): number {
    const b = BYTES[precision];
    return rank * d * b + rank * rank * (b + 8) + 3 * rank * 8;
  }

  /** rows kept now */
  get rank(): number {
    return this.used;
  }

  // holder.ptrs: rows (cap × d, precision), K (cap × cap, precision), M (cap × cap, f64),
  // t, p, w (cap each, f64)
  private get rows(): number {
    return this.holder.ptrs[0];
  }
  private get k(): number {
    return this.holder.ptrs[1];
  }
  private get m(): number {
    return this.holder.ptrs[2];
  }
  private get t(): number {
    return this.holder.ptrs[3];
  }
  private get pv(): number {
    return this.holder.ptrs[4];
  }
  private get wv(): number {
    return this.holder.ptrs[5];
  }

  /** Makes room for `rows` rows (keeps the rows held). May throw (memory) but then changes nothing. */
  reserve(rows: number): void {
    if (rows <= this.cap && this.holder.ptrs.length > 0) return;
    const { e, d } = this;
    const b = BYTES[this.precision];
    const r = Math.max(rows, 1);
    const ptrs = allocAll(e, [r * d * b, r * r * b, r * r * 8, r * 8, r * 8, r * 8]);
    if (this.holder.ptrs.length > 0) {
      e.copy(ptrs[0], this.rows, this.used * d * b);
      for (const p of this.holder.ptrs) e.free(p);
    }
    this.holder.ptrs = ptrs;
    const rb = new Int32Array(r).fill(-1);
    rb.set(this.rowBatch.subarray(0, this.used));
    this.rowBatch = rb;
    this.cap = r;
    this.factored = 0;
    this.gramValid = false;
  }

  /** Capacity this store wants for a batch of n rows with the given keep factor. */
  wanted(n: number, keep: number): number {
    if (this.fixedRank !== undefined) return this.fixedRank;
    const want = keep === 0 ? Math.max(this.cap, n) : Math.max(this.cap, this.defaultRank, n);
    return Math.max(this.cap, Math.min(want, this.maxRows));
  }

  accumulate(gp: number, n: number, keep: number, weight: number): void {
    this.reserve(this.wanted(n, keep));
    this.gramValid = false;
    if (keep === 0) {
      this.used = 0;
      this.batches.clear();
    } else {
      for (const bt of this.batches.values()) bt.weight *= keep;
    }
    const m = Math.min(n, this.cap);
    const key = this.nextKey++;
    this.lastKey = key;
    this.batches.set(key, { stamp: this.stamp++, weight: weight * n, kept: m });
    const slots = this.makeRoom(m);
    // the last m rows of the batch (all of it unless it alone exceeds the capacity)
    const bytes = this.d * BYTES[this.precision];
    for (let i = 0; i < m; i++) {
      this.e.copy(this.rows + slots[i] * bytes, gp + (n - m + i) * bytes, bytes);
      this.rowBatch[slots[i]] = key;
    }
  }

  /** Frees `m` slots by evicting the oldest rows if needed; returns the slots to fill. */
  private makeRoom(m: number): number[] {
    const slots: number[] = [];
    const evict = m - (this.cap - this.used);
    if (evict > 0) {
      const order: number[] = [];
      for (let i = 0; i < this.used; i++) order.push(i);
      order.sort((x, y) => {
        const bx = this.batches.get(this.rowBatch[x])!;
        const by = this.batches.get(this.rowBatch[y])!;
        return bx.stamp - by.stamp || x - y;
      });
      for (let i = 0; i < evict; i++) {
        const slot = order[i];
        const key = this.rowBatch[slot];
        const bt = this.batches.get(key)!;
        bt.kept--;
        if (bt.kept === 0) this.batches.delete(key);
        slots.push(slot);
      }
      slots.sort((x, y) => x - y);
    }
    while (slots.length < m) slots.push(this.used++);
    return slots;
  }

  /** weight of each used row */
  private rowWeights(): Float64Array {
    const w = new Float64Array(this.used);
    for (let i = 0; i < this.used; i++) {
      const bt = this.batches.get(this.rowBatch[i])!;
      w[i] = bt.weight / bt.kept;
    }
    return w;
  }

  factor(c: number, shift: number): number {
    const { e, d, precision } = this;
    const r = this.used;
    if (!(shift > 0)) {
      // the Woodbury form needs λ > 0; with fewer rows than parameters F itself is singular
      return r < d ? r + 1 : 1;
    }
    const w = this.rowWeights();
    const s = new Float64Array(r);
    for (let i = 0; i < r; i++) s[i] = Math.sqrt(c * w[i]);
    if (r > 0) {
      if (!this.gramValid) {
        e.k('gram', precision)(r, d, 1, this.rows, d, 0, this.k, r, e.work);
        this.gramValid = true;
      }
      const K = e.view(precision, this.k, r * r);
      const M = e.view64(this.m, r * r);
      for (let i = 0; i < r; i++) {
        for (let j = 0; j <= i; j++) M[i * r + j] = s[i] * s[j] * K[i * r + j];
        M[i * r + i] += shift;
      }
      const info = e.k('potrf', 'f64')(r, this.m, r, e.work);
      if (info !== 0) return info;
    }
    this.scales = s;
    this.shift = shift;
    this.factored = r;
    return 0;
  }

  /**
   * Runs `f` on a float64 copy of the length-d vector at xp (or on xp itself in f64), then writes
   * the copy back in the store's precision if `writeBack`.
   */
  private inF64<R>(xp: number, writeBack: boolean, f: (p: number) => R): R {
    const { e, d } = this;
    if (this.precision === 'f64') return f(xp);
    const yp = e.alloc(d * 8);
    try {
      (e.exports.promote_f32_f64 as (n: number, s: number, t: number) => void)(d, xp, yp);
      const result = f(yp);
      if (writeBack) (e.exports.demote_f64_f32 as (n: number, s: number, t: number) => void)(d, yp, xp);
      return result;
    } finally {
      e.free(yp);
    }
  }

  /** out (r, f64) ← R·x for x (d, f64): float64 products and sums whatever the rows' precision. */
  private rowsTimes(r: number, xp: number, outp: number): void {
    const { e, d } = this;
    if (this.precision === 'f64') e.k('gemv_n', 'f64')(r, d, 1, this.rows, d, xp, 0, outp);
    else (e.exports.gemv_n_f32f64 as (...a: number[]) => void)(r, d, 1, this.rows, d, xp, outp);
  }

  /** y (d, f64) ← β·y + α·Rᵀz for z (r, f64). */
  private rowsTransposeTimes(r: number, alpha: number, zp: number, beta: number, yp: number): void {
    const { e, d } = this;
    if (this.precision === 'f64') e.k('gemv_t', 'f64')(r, d, alpha, this.rows, d, zp, beta, yp);
    else (e.exports.gemv_t_f32f64 as (...a: number[]) => void)(r, d, alpha, this.rows, d, zp, beta, yp);
  }

  /** (λI + ŨŨᵀ)⁻¹ v with the float64 factor (v untouched). */
  private applyInverse(r: number, v: Float64Array): Float64Array {
    const e = this.e;
    e.view64(this.t, r).set(v);
    e.k('potrs', 'f64')(r, 1, this.m, r, this.t, r, e.work);
    return e.view64(this.t, r).slice();
  }

  /**
   * Solves (λI + ŨŨᵀ) z = p: the factored solve, then refinement with the exact operator
   * λz + s⊙R(Rᵀ(s⊙z)) (two float64 passes over the rows per round) while it still corrects z.
   */
  private solveSmall(r: number, p: Float64Array): Float64Array {
    const e = this.e;
    const s = this.scales;
    const z = this.applyInverse(r, p);
    if (this.precision === 'f64') return z;
    const qp = e.alloc(this.d * 8);
    try {
      for (let round = 0; round < 3; round++) {
        const sz = e.view64(this.t, r);
        for (let i = 0; i < r; i++) sz[i] = s[i] * z[i];
        this.rowsTransposeTimes(r, 1, this.t, 0, qp);
        this.rowsTimes(r, qp, this.wv);
        const w = e.view64(this.wv, r);
        const res = new Float64Array(r);
        for (let i = 0; i < r; i++) res[i] = p[i] - (this.shift * z[i] + s[i] * w[i]);
        const dz = this.applyInverse(r, res);
        let nd = 0;
        let nz = 0;
        for (let i = 0; i < r; i++) {
          z[i] += dz[i];
          nd += dz[i] * dz[i];
          nz += z[i] * z[i];
        }
        if (nd <= 1e-24 * nz) break; // ‖dz‖ ≤ 1e-12‖z‖: the Gram rounding no longer shows
      }
      return z;
    } finally {
      e.free(qp);
    }
  }

  solve(xp: number): void {
    const { e, d } = this;
    const r = this.factored;
    const s = this.scales;
    this.inF64(xp, true, (yp) => {
      if (r > 0) {
        this.rowsTimes(r, yp, this.pv);
        const pr = e.view64(this.pv, r);
        const p = new Float64Array(r);
        for (let i = 0; i < r; i++) p[i] = s[i] * pr[i];
        const z = this.solveSmall(r, p);
        const t = e.view64(this.t, r);
        for (let i = 0; i < r; i++) t[i] = s[i] * z[i];
        this.rowsTransposeTimes(r, -1, this.t, 1, yp);
      }
      e.k('scal', 'f64')(d, 1 / this.shift, yp);
    });
  }

  /**
   * x ← (c·S + shift·I)⁻¹ ḡ for ḡ the mean of the n rows of the latest batch, in the span form
   * (push-through identity): ḡ = Ũᵀa with a_i = 1/(n·s_i) on that batch's rows, so
   * (ŨᵀŨ + λI)⁻¹ḡ = Ũᵀ(ŨŨᵀ + λI)⁻¹a — no subtraction at all. Returns false (and does nothing)
   * unless every row of that batch is held and factored.
   */
  solveLatestMean(xp: number, n: number): boolean {
    const bt = this.batches.get(this.lastKey);
    const r = this.factored;
    if (!bt || bt.kept !== n || r !== this.used || r === 0) return false;
    const { e } = this;
    const s = this.scales;
    const a = new Float64Array(r);
    for (let i = 0; i < r; i++) a[i] = this.rowBatch[i] === this.lastKey ? 1 / (n * s[i]) : 0;
    this.inF64(xp, true, (yp) => {
      const z = this.solveSmall(r, a);
      const t = e.view64(this.t, r);
      for (let i = 0; i < r; i++) t[i] = s[i] * z[i];
      this.rowsTransposeTimes(r, 1, this.t, 0, yp);
    });
    return true;
  }

  meanDiagonal(): number {
    const { e, d, precision } = this;
    const w = this.rowWeights();
    const dot = e.k('dot', precision);
    const b = BYTES[precision];
    let t = 0;
    for (let i = 0; i < this.used; i++) {
      const p = this.rows + i * d * b;
      t += w[i] * dot(d, p, p);
    }
    return t / d;
  }

  quadratic(vp: number, c: number): number {
    const r = this.used;
    if (r === 0) return 0;
    const w = this.rowWeights();
    return this.inF64(vp, false, (yp) => {
      this.rowsTimes(r, yp, this.pv);
      const t = this.e.view64(this.pv, r);
      let q = 0;
      for (let i = 0; i < r; i++) q += w[i] * t[i] * t[i];
      return c * q;
    });
  }

  toDense(op: number, c: number): void {
    const { e, precision, d } = this;
    const r = this.used;
    const b = BYTES[precision];
    if (r === 0) {
      e.zero(op, d * d * b);
      return;
    }
    const w = this.rowWeights();
    const tmp = e.alloc(r * d * b);
    try {
      e.copy(tmp, this.rows, r * d * b);
      const scal = e.k('scal', precision);
      for (let i = 0; i < r; i++) scal(d, Math.sqrt(c * w[i]), tmp + i * d * b);
      e.k('syrk', precision)(r, d, 1, tmp, d, 0, op, d, e.work);
      e.k('symmetrize', precision)(d, op, d);
    } finally {
      e.free(tmp);
    }
  }

  rescale(k: number): void {
    // S = Σ w_i u_i u_iᵀ: the rows carry 2^(k/2)
    scalePow2(this.e, this.precision, this.rows, this.used * this.d, k / 2);
    this.gramValid = false;
    this.factored = 0;
  }

  reset(): void {
    this.used = 0;
    this.lastKey = -1;
    this.batches.clear();
    this.factored = 0;
    this.stamp = 0;
    this.gramValid = false;
  }

  save(): StoreState {
    const keys = [...this.batches.keys()];
    return {
      capacity: this.cap,
      rows: copyOut(this.e, this.precision, this.rows, this.used * this.d),
      rowBatch: this.rowBatch.slice(0, this.used),
      batchKeys: new Int32Array(keys),
      batchStamps: new Float64Array(keys.map((k) => this.batches.get(k)!.stamp)),
      batchWeights: new Float64Array(keys.map((k) => this.batches.get(k)!.weight)),
      batchKept: new Int32Array(keys.map((k) => this.batches.get(k)!.kept)),
      nextKey: this.nextKey,
      stamp: this.stamp,
      lastKey: this.lastKey,
    };
  }

  load(state: StoreState): void {
    const rows = state.rows as FloatArray;
    const used = rows.length / this.d;
    this.reserve(Math.max(state.capacity as number, used));
    this.e.put(this.precision, this.rows, rows);
    this.used = used;
    this.rowBatch.fill(-1);
    this.rowBatch.set(state.rowBatch as Int32Array);
    this.batches.clear();
    const keys = state.batchKeys as Int32Array;
    const stamps = state.batchStamps as Float64Array;
    const weights = state.batchWeights as Float64Array;
    const kept = state.batchKept as Int32Array;
    for (let i = 0; i < keys.length; i++) {
      this.batches.set(keys[i], { stamp: stamps[i], weight: weights[i], kept: kept[i] });
    }
    this.nextKey = state.nextKey as number;
    this.stamp = state.stamp as number;
    this.lastKey = state.lastKey as number;
    this.factored = 0;
    this.gramValid = false;
  }

  /** Room `merge(other)` needs, so the caller can reserve it before changing anything. */
  mergeCapacity(other: LowRankStore): number {
    if (this.fixedRank !== undefined) return this.fixedRank;
    return Math.max(this.cap, Math.min(this.used + other.used, this.maxRows));
  }

  merge(other: FisherStore, a: number, b: number): void {
    const o = other as LowRankStore;
    this.reserve(this.mergeCapacity(o));
    for (const bt of this.batches.values()) bt.weight *= a;
    // the other's batches, oldest first, as batches of their own (same stamps: same age)
    const keys = [...o.batches.keys()].sort((x, y) => o.batches.get(x)!.stamp - o.batches.get(y)!.stamp || x - y);
    const bytes = BYTES[this.precision] * this.d;
    for (const okey of keys) {
      const ob = o.batches.get(okey)!;
      const src: number[] = [];
      for (let i = 0; i < o.used; i++) if (o.rowBatch[i] === okey) src.push(i);
      const m = Math.min(src.length, this.cap);
      const key = this.nextKey++;
      this.batches.set(key, { stamp: ob.stamp, weight: ob.weight * b, kept: m });
      const slots = this.makeRoom(m);
      for (let i = 0; i < m; i++) {
        this.e.copy(this.rows + slots[i] * bytes, o.rows + src[src.length - m + i] * bytes, bytes);
        this.rowBatch[slots[i]] = key;
      }
    }
    this.stamp = Math.max(this.stamp, o.stamp);
    this.lastKey = -1;
    this.factored = 0;
    this.gramValid = false;
  }

  free(): void {
    for (const p of this.holder.ptrs) this.e.free(p);
    this.holder.ptrs = [];
  }
}
