/**
 * The low-rank store: rows of gradients with weights, a Frequent-Directions sketch of the running
 * average once the rows seen no longer fit, and the Woodbury solve.
 */
import type { Engine, FloatArray, Precision } from './engine.js';
import { BYTES } from './linalg.js';
import { allocAll, copyOut, floatType, freeHolder, pow2, scalePow2, StateFields, type FisherStore, type Holder, type StoreSpec, type StoreState } from './stores.js';
import { symmetricEigenInWasm } from './eigen.js';
import { gradientTimesInWasm, gradientTransposeTimesInWasm, gramInWasm, type LayerInWasm } from './layers/inwasm.js';
import { writeLayerRows } from './layerstats.js';

/** Writes rows [from, from + count) of the incoming batch at dst (row stride d). */
type RowWriter = (dst: number, from: number, count: number) => void;

/** The latest batch held as dense-layer statistics (float64 copies of A and E) instead of rows. */
interface LayerRows {
  /** the layers, pointing into the store's statistics block (float64) */
  list: LayerInWasm[];
  /** doubles in the statistics block: n·Σ(inputs + outputs) */
  length: number;
}

/** Columns of the rows rotated per gemm of a shrink (the buffer holds ℓ × this). */
const SHRINK_COLUMNS = 1024;

/** A shrink computed but not applied: what it keeps, what it drops, T and the rotation's buffer. */
interface Shrink {
  q: number;
  delta: number;
  /** T (q × r) in wasm memory, the store's precision */
  tp: number;
  bufp: number;
  kept: Float64Array;
}

/**
 * @internal
 * Low-rank: rows u_i of length d with weights w_i, S = Σ_i w_i u_i u_iᵀ (+ at most ρ·I, see below),
 * and K, the Gram matrix of the rows (u_i·u_j, lower triangle), kept up to date as rows arrive: a
 * new batch costs its products with the rows held (n·r·d) and its own Gram matrix (n²·d/2).
 *
 * Running average (Frequent Directions, Liberty 2013; with decay as Sketchy, Feinberg et al. 2023):
 * a step multiplies every weight and ρ by β and appends the batch's rows with weight (1 − β)/n. While
 * the rows seen fit the capacity (ℓ sketch rows + a buffer of about ℓ rows, whole batches), S is the
 * running average exactly. When a batch does not fit, the rows held are first shrunk to ℓ: with
 * W^½KW^½ = VΛVᵀ, the new rows are √((λ_k − δ)/λ_k)·Σ_i V_ik √w_i u_i for the ℓ largest λ_k, with
 * δ the (ℓ+1)-th largest eigenvalue, and ρ ← ρ + δ. Then BᵀB ⪯ S ⪯ BᵀB + ρI (BᵀB the rows' Σ w uuᵀ):
 * what a shrink drops is Σ_k min(λ_k, δ)·v_k v_kᵀ ⪯ δI. The new batch is then appended whole, so
 * the latest minibatch is always held exactly (the optimizer's span-form solve).
 *
 * Solves use (c·BᵀB + (λ + c·ρ)I)⁻¹: the dropped mass is added to the damping, as Sketchy does, so
 * the operator solved with dominates the true running average plus λ.
 *
 * Woodbury: (c·UᵀU + μI)⁻¹ g = (1/μ)(g − Ũᵀ (μI_r + ŨŨᵀ)⁻¹ Ũ g), Ũ = √c·W^½U, exact for every g.
 * With a small μ this subtracts nearly equal vectors and any error of the r × r system comes back
 * multiplied by ‖F‖/μ. So the rows stay in the store's precision (f32: half the memory and traffic)
 * but every vector of the solve is float64, the r × r factor is float64, and the r × r solve is
 * refined with the exact operator μz + Ũ(Ũᵀz) (float64 products and sums) until its correction
 * is below float64 round-off.
 *
 * Layer mode (`accumulateLayers` with decay 0): the latest batch is held as its dense layers'
 * statistics, float64 copies of A (n × inputs) and E (n × outputs) per layer, instead of n rows of
 * length d. K comes from `gramInWasm`, the products R·x and Rᵀz from `gradientTimesInWasm` and
 * `gradientTransposeTimesInWasm`, all in float64 (a product of two f32 values is exact in float64,
 * so no refinement is needed): memory n·Σ(inputs + outputs) + O(n²), never n·d. `merge` and the
 * row-mode paths materialise the rows first (r·d); `toDense` materialises them into a temporary.
 */
export class LowRankStore implements FisherStore {
  readonly kind = 'lowrank';
  readonly holder: Holder;
  /** row capacity (of rows, K and the r × r buffers) */
  private cap = 0;
  private used = 0;
  /** weight of each row held */
  private w = new Float64Array(0);
  /** ρ: the mass the sketch dropped, in S's units */
  private rho = 0;
  /** rows [latestStart, latestStart + latestCount) are the latest batch, whole (count 0: not held whole) */
  private latestStart = 0;
  private latestCount = 0;
  private shrinks = 0;
  /** @internal flops of the products (Gram rows 2·m·r·d + m(m+1)·d, rotations 2·q·r·d), for the bench */
  productFlops = 0;
  /** K is diag(λ − δ) from a shrink, exact only to the rotation's round-off */
  private gramFromShrink = false;
  /** per-row √(c·w_i) of the last factorisation, and its shift (λ + c·ρ) */
  private scales = new Float64Array(0);
  private shift = 0;
  private factored = 0;
  /** layer mode: the batch as layer statistics (holder.ptrs[6]); K is then float64 */
  private layers: LayerRows | undefined;

  /**
   * @param fixedRank ℓ, the rows of the sketch; undefined: the latest batch whole with decay 0,
   *   `defaultRank` rows otherwise
   */
  constructor(
    private readonly e: Engine,
    private readonly precision: Precision,
    private readonly d: number,
    private readonly fixedRank: number | undefined,
    private readonly defaultRank: number,
    /** the most rows the memory budget allows */
    private readonly maxRows: number = Number.MAX_SAFE_INTEGER,
    /** decay 0: the latest batch only, so `accumulateLayers` may hold it as layer statistics */
    private readonly latestOnly = false,
  ) {
    this.holder = { e, ptrs: [] };
    this.reserve(fixedRank ?? 0);
  }

  /** storage for a capacity of `rows` rows of length d */
  static bytes(d: number, rows: number, precision: Precision): number {
    const b = BYTES[precision];
    return rows * d * b + rows * rows * (b + 8) + 3 * rows * 8;
  }

  /** no factor is kept apart from the rows (a stale factor is never saved) */
  static factorLength(): undefined {
    return undefined;
  }

  /**
   * Validates a saved state: rows, weights and Gram matrix (version 2), or the latest batch as
   * dense-layer statistics (version 3, `layers` present), and the counters.
   */
  static checkState(st: Record<string, unknown>, spec: StoreSpec, prefix = 'state.store'): void {
    const { d } = spec;
    const f = new StateFields(st, prefix);
    f.int('capacity', st.capacity, 1);
    let held: number;
    if (st.layers !== undefined) {
      // the latest batch as dense-layer statistics (float64)
      const shapes = st.layers as unknown;
      f.field('layers', Array.isArray(shapes) && shapes.length > 0 && shapes.length % 3 === 0, 'an array of (inputs, outputs, bias) triples', shapes);
      held = f.array('weights', Float64Array, undefined, 0).length;
      let params = 0;
      let length = 0;
      const sh = shapes as unknown[];
      for (let j = 0; j < sh.length; j += 3) {
        f.int(`layers[${j}]`, sh[j], 1);
        f.int(`layers[${j + 1}]`, sh[j + 1], 1);
        f.field(`layers[${j + 2}]`, sh[j + 2] === 0 || sh[j + 2] === 1, '0 or 1', sh[j + 2]);
        const [i, o, bias] = sh.slice(j, j + 3) as number[];
        params += i * o + (bias ? o : 0);
        length += held * (i + o);
      }
      if (params !== d) throw new RangeError(`${prefix}.layers describe ${params} parameters, expected d = ${d}`);
      f.field('weights', held >= 1, 'a Float64Array of at least one weight', st.weights);
      f.array('stats', Float64Array, length);
      f.field('dropped', st.dropped === 0, '0', st.dropped);
    } else {
      const F = floatType(spec.precision);
      const rows = f.array('rows', F, undefined);
      if (rows.length % d !== 0) throw new RangeError(`${prefix}.rows has length ${rows.length}, not a multiple of d = ${d}`);
      held = rows.length / d;
      if (held > (st.capacity as number)) throw new RangeError(`${prefix}.rows holds ${held} rows, more than ${prefix}.capacity`);
      f.array('weights', Float64Array, held, 0);
      f.array('gram', F, (held * (held + 1)) / 2);
      const rho = st.dropped;
      f.field('dropped', typeof rho === 'number' && rho >= 0 && Number.isFinite(rho), 'a finite number ≥ 0', rho);
    }
    f.int('latestStart', st.latestStart);
    f.int('latestCount', st.latestCount);
    if ((st.latestStart as number) + (st.latestCount as number) > held) {
      throw new RangeError(`${prefix}.latestStart + latestCount exceeds the ${held} rows held`);
    }
    f.int('shrinks', st.shrinks);
    if (st.layers === undefined) f.field('gramFromShrink', st.gramFromShrink === 0 || st.gramFromShrink === 1, '0 or 1', st.gramFromShrink);
  }

  /** the rows a sketch of ℓ rows holds at most with batches of n: ℓ plus a buffer of whole batches (≥ n, ≈ ℓ) */
  static capacityFor(rank: number, n: number): number {
    return rank + n * Math.max(1, Math.round(rank / n));
  }

  /** rows held now */
  get rank(): number {
    return this.used;
  }

  /** ρ, the mass the sketch dropped (S units): BᵀB ⪯ S ⪯ BᵀB + ρI */
  get dropped(): number {
    return this.rho;
  }

  /** how many times the rows were shrunk (sketched) */
  get shrinkCount(): number {
    return this.shrinks;
  }

  // holder.ptrs: rows (cap × d, precision), K (cap × cap, precision, lower), M (cap × cap, f64),
  // t, p, wv (cap each, f64); layer mode: rows empty, K float64, [6] the layer statistics (f64)
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

  /** whether the batch is held as layer statistics */
  get layerMode(): boolean {
    return this.layers !== undefined;
  }

  /** precision of K */
  private get kPrecision(): Precision {
    return this.layers ? 'f64' : this.precision;
  }

  /**
   * Makes room for `rows` rows (keeps the rows held and K; in layer mode, materialises them as rows
   * unless `keepContent` is false). May throw (memory) but then changes nothing.
   */
  reserve(rows: number, keepContent = true): void {
    if (!this.layers && rows <= this.cap && this.holder.ptrs.length > 0) return;
    const { e, d } = this;
    const b = BYTES[this.precision];
    const r = Math.max(rows, this.layers && keepContent ? this.used : 0, 1);
    const ptrs = allocAll(e, [r * d * b, r * r * b, r * r * 8, r * 8, r * 8, r * 8]);
    if (this.layers) {
      const used = keepContent ? this.used : 0;
      if (used > 0) {
        try {
          this.materialize(ptrs[0], used);
        } catch (err) {
          for (const p of ptrs) e.free(p);
          throw err;
        }
      }
      for (const p of this.holder.ptrs) e.free(p);
      this.layers = undefined;
      this.holder.ptrs = ptrs;
      this.cap = r;
      this.used = used;
      if (used > 0) this.gramOfNewRows(0, used);
    } else if (this.holder.ptrs.length > 0) {
      e.copy(ptrs[0], this.rows, this.used * d * b);
      for (let i = 0; i < this.used; i++) e.copy(ptrs[1] + i * r * b, this.k + i * this.cap * b, (i + 1) * b);
      for (const p of this.holder.ptrs) e.free(p);
    }
    this.holder.ptrs = ptrs;
    this.layers = undefined;
    const w = new Float64Array(r);
    w.set(this.w.subarray(0, this.used));
    this.w = w;
    this.cap = r;
    this.factored = 0;
  }

  /** Capacity this store wants for a batch of n rows with the given keep factor. */
  wanted(n: number, keep: number): number {
    let want: number;
    if (this.fixedRank !== undefined) want = LowRankStore.capacityFor(this.fixedRank, n);
    else if (keep === 0) want = n;
    else want = LowRankStore.capacityFor(this.defaultRank, n);
    return Math.max(this.cap, Math.min(want, this.maxRows));
  }

  /** ℓ: the rows a shrink keeps, with batches of n (fewer when the memory budget caps the capacity) */
  private target(n: number, keep: number): number {
    const l = this.fixedRank ?? (keep === 0 ? this.cap : this.defaultRank);
    // at least one row free after a shrink (ℓ = 0 is a valid sketch: everything goes to ρ)
    const buffer = Math.max(1, Math.min(n, Math.floor(this.cap / 2)));
    return Math.max(0, Math.min(l, this.cap - buffer));
  }

  accumulate(gp: number, n: number, keep: number, weight: number): void {
    const bytes = this.d * BYTES[this.precision];
    this.accumulateFrom((dst, from, count) => this.e.copy(dst, gp + from * bytes, count * bytes), n, keep, weight);
  }

  /**
   * From dense-layer statistics (the store's precision): with decay 0 the batch is kept as the
   * statistics themselves (layer mode, no rows); otherwise its rows are written straight into the
   * row buffer (no separate n × d copy) and go through the sketch like any batch.
   */
  accumulateLayers(list: readonly LayerInWasm[], n: number, keep: number, weight: number): void {
    if (this.latestOnly && keep === 0) {
      this.holdLayers(list, n, weight);
      return;
    }
    const { e, precision, d } = this;
    this.accumulateFrom((dst, from, count) => writeLayerRows(e, precision, list, from, count, dst, d), n, keep, weight);
  }

  /**
   * Layer mode: copies the statistics (float64) into a new block and computes K = Σ (AAᵀ + 1)∘(EEᵀ);
   * every allocation happens before the first change.
   */
  private holdLayers(list: readonly LayerInWasm[], n: number, weight: number, from: Precision = this.precision): void {
    const { e } = this;
    let length = 0;
    for (const l of list) length += n * (l.inputs + l.outputs);
    const ptrs = allocAll(e, [8, n * n * 8, n * n * 8, n * 8, n * 8, n * 8, length * 8]);
    const own: LayerInWasm[] = [];
    try {
      let q = ptrs[6];
      const put = (src: number, len: number) => {
        if (from === 'f64') e.copy(q, src, len * 8);
        else (e.exports.promote_f32_f64 as (n: number, s: number, t: number) => void)(len, src, q);
        const at = q;
        q += len * 8;
        return at;
      };
      for (const l of list) {
        const ap = put(l.ap, n * l.inputs);
        const ep = put(l.ep, n * l.outputs);
        own.push({ ap, ep, inputs: l.inputs, outputs: l.outputs, bias: l.bias });
      }
      gramInWasm(e, 'f64', own, n, ptrs[1], n);
    } catch (err) {
      for (const p of ptrs) e.free(p);
      throw err;
    }
    for (const p of this.holder.ptrs) e.free(p);
    this.holder.ptrs = ptrs;
    this.layers = { list: own, length };
    this.cap = n;
    this.used = n;
    this.w = new Float64Array(n).fill(weight);
    this.rho = 0;
    this.gramFromShrink = false;
    this.latestStart = 0;
    this.latestCount = n;
    this.factored = 0;
  }

  /**
   * Layer mode: writes the `count` rows held (the store's precision, row stride d) at dst, through a
   * float64 temporary for f32 (the rounding of each product is then the f32 path's).
   */
  private materialize(dst: number, count: number): void {
    const { e, precision, d } = this;
    const list = this.layers!.list;
    if (precision === 'f64') {
      writeLayerRows(e, 'f64', list, 0, count, dst, d);
      return;
    }
    const chunk = Math.max(1, Math.min(count, Math.floor((8 << 20) / (8 * d))));
    const tmp = e.alloc(chunk * d * 8);
    try {
      for (let i0 = 0; i0 < count; i0 += chunk) {
        const c = Math.min(chunk, count - i0);
        writeLayerRows(e, 'f64', list, i0, c, tmp, d);
        (e.exports.demote_f64_f32 as (n: number, s: number, t: number) => void)(c * d, tmp, dst + i0 * d * 4);
      }
    } finally {
      e.free(tmp);
    }
  }

  private accumulateFrom(write: RowWriter, n: number, keep: number, weight: number): void {
    this.reserve(this.wanted(n, keep), keep !== 0);
    const l = this.target(n, keep);
    // everything that can throw (memory, the eigensolver) happens before the first change
    const plan = this.used > 0 && keep !== 0 && this.used + n > this.cap ? this.planShrink(l, keep) : undefined;
    if (keep === 0) {
      this.used = 0;
      this.rho = 0;
      this.gramFromShrink = false;
    } else {
      for (let i = 0; i < this.used; i++) this.w[i] *= keep;
      this.rho *= keep;
    }
    if (plan) this.applyShrink(plan);
    this.append(write, n, weight, l);
  }

  /** Appends n rows of weight `weight` from `write`, shrinking to l rows whenever full. */
  private append(write: RowWriter, n: number, weight: number, l: number): void {
    const bytes = this.d * BYTES[this.precision];
    let whole = true;
    let start = this.used;
    for (let done = 0; done < n; ) {
      if (this.used === this.cap) {
        this.applyShrink(this.planShrink(l, 1));
        whole = false;
      }
      const take = Math.min(n - done, this.cap - this.used);
      const r0 = this.used;
      write(this.rows + r0 * bytes, done, take);
      for (let i = 0; i < take; i++) this.w[r0 + i] = weight;
      this.used += take;
      this.gramOfNewRows(r0, take);
      if (done === 0) start = r0;
      done += take;
    }
    this.latestStart = start;
    this.latestCount = whole ? n : 0;
    this.factored = 0;
  }

  /** K's rows [r0, r0 + m): the new rows against the rows before them (gemm) and among themselves (gram). */
  private gramOfNewRows(r0: number, m: number): void {
    const { e, d, precision, cap } = this;
    const b = BYTES[precision];
    const nr = this.rows + r0 * d * b;
    const kr = this.k + r0 * cap * b;
    if (r0 > 0) e.k('gemm', precision)(m, r0, d, 1, nr, d, 0, this.rows, d, 1, 0, kr, cap, e.work);
    e.k('gram', precision)(m, d, 1, nr, d, 0, kr + r0 * b, cap, e.work);
    this.productFlops += 2 * m * r0 * d + m * (m + 1) * d;
  }

  /**
   * The shrink of the rows held to at most l rows, computed but not applied: the eigenpairs of
   * s_i s_j K_ij (s_i = √(keep·w_i)), δ, and T (q × r, the store's precision, in wasm memory).
   */
  private planShrink(l: number, keep: number): Shrink {
    const { e, precision } = this;
    const r = this.used;
    const b = BYTES[precision];
    const s = new Float64Array(r);
    for (let i = 0; i < r; i++) s[i] = Math.sqrt(keep * this.w[i]);
    const mp = e.alloc(r * r * 8);
    let values: Float64Array;
    let vectors: Float64Array;
    try {
      const K = e.view(this.kPrecision, this.k, this.cap * this.cap);
      const M = e.view64(mp, r * r);
      for (let i = 0; i < r; i++) for (let j = 0; j <= i; j++) M[i * r + j] = s[i] * s[j] * K[i * this.cap + j];
      ({ values, vectors } = symmetricEigenInWasm(e, mp, r));
    } finally {
      e.free(mp);
    }
    const delta = r > l ? Math.max(0, values[r - l - 1]) : 0;
    let q = 0;
    for (let k = r - 1; k >= 0 && k >= r - l; k--) if (values[k] > delta) q++;
    const tp = e.alloc(Math.max(q * r, 1) * b);
    let bufp: number;
    try {
      bufp = e.alloc(Math.max(q * Math.min(this.d, SHRINK_COLUMNS), 1) * b);
    } catch (err) {
      e.free(tp);
      throw err;
    }
    const T = e.view(precision, tp, q * r);
    const kept = new Float64Array(q);
    for (let j = 0; j < q; j++) {
      const k = r - 1 - j;
      kept[j] = values[k] - delta;
      const f = Math.sqrt(kept[j] / values[k]);
      for (let i = 0; i < r; i++) T[j * r + i] = f * vectors[k * r + i] * s[i];
    }
    return { q, delta, tp, bufp, kept };
  }

  /**
   * Replaces the rows by T·rows (in column blocks, through a small buffer: no second copy of the
   * rows), K by diag(λ_k − δ), the weights by 1, ρ += δ. The weights must be those the plan was
   * made with (×keep already applied).
   */
  private applyShrink(plan: Shrink): void {
    const { e, d, precision, cap } = this;
    const { q, delta, tp, bufp: buf, kept } = plan;
    const b = BYTES[precision];
    const r = this.used;
    try {
      const cols = Math.min(d, SHRINK_COLUMNS);
      for (let j0 = 0; q > 0 && j0 < d; j0 += cols) {
        const nc = Math.min(cols, d - j0);
        e.k('gemm', precision)(q, nc, r, 1, tp, r, 0, this.rows + j0 * b, d, 0, 0, buf, nc, e.work);
        for (let i = 0; i < q; i++) e.copy(this.rows + (i * d + j0) * b, buf + i * nc * b, nc * b);
      }
    } finally {
      e.free(buf);
      e.free(tp);
    }
    this.productFlops += 2 * q * r * d;
    const K = e.view(precision, this.k, cap * cap);
    for (let i = 0; i < q; i++) {
      for (let j = 0; j < i; j++) K[i * cap + j] = 0;
      K[i * cap + i] = kept[i];
    }
    for (let i = 0; i < q; i++) this.w[i] = 1;
    this.used = q;
    this.rho += delta;
    this.gramFromShrink = true;
    this.latestCount = 0;
    this.shrinks++;
    this.factored = 0;
  }

  factor(c: number, shift: number): number {
    const { e, d, precision, cap } = this;
    const r = this.used;
    const mu = shift + c * this.rho;
    if (!(mu > 0)) {
      // the Woodbury form needs λ > 0; with fewer rows than parameters F itself is singular
      return r < d ? r + 1 : 1;
    }
    const s = new Float64Array(r);
    for (let i = 0; i < r; i++) s[i] = Math.sqrt(c * this.w[i]);
    if (r > 0) {
      const K = e.view(this.kPrecision, this.k, cap * cap);
      const M = e.view64(this.m, r * r);
      for (let i = 0; i < r; i++) {
        for (let j = 0; j <= i; j++) M[i * r + j] = s[i] * s[j] * K[i * cap + j];
        M[i * r + i] += mu;
      }
      const info = e.k('potrf', 'f64')(r, this.m, r, e.work);
      if (info !== 0) return info;
    }
    this.scales = s;
    this.shift = mu;
    this.factored = r;
    return 0;
  }

  /** the shift solves use on top of c·λ: c·ρ */
  extraDamping(c: number): number {
    return c * this.rho;
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
    if (this.layers) gradientTimesInWasm(e, 'f64', this.layers.list, r, xp, outp);
    else if (this.precision === 'f64') e.k('gemv_n', 'f64')(r, d, 1, this.rows, d, xp, 0, outp);
    else e.kernel('gemv_n_f32f64')(r, d, 1, this.rows, d, xp, outp);
  }

  /** y (d, f64) ← β·y + α·Rᵀz for z (r, f64). */
  private rowsTransposeTimes(r: number, alpha: number, zp: number, beta: number, yp: number): void {
    const { e, d } = this;
    if (this.layers) gradientTransposeTimesInWasm(e, 'f64', this.layers.list, r, alpha, zp, beta, yp);
    else if (this.precision === 'f64') e.k('gemv_t', 'f64')(r, d, alpha, this.rows, d, zp, beta, yp);
    else e.kernel('gemv_t_f32f64')(r, d, alpha, this.rows, d, zp, beta, yp);
  }

  /** (μI + ŨŨᵀ)⁻¹ v with the float64 factor (v untouched). */
  private applyInverse(r: number, v: Float64Array): Float64Array {
    const e = this.e;
    e.view64(this.t, r).set(v);
    e.k('potrs', 'f64')(r, 1, this.m, r, this.t, r, e.work);
    return e.view64(this.t, r).slice();
  }

  /**
   * Solves (μI + ŨŨᵀ) z = p: the factored solve, then refinement with the exact operator
   * μz + s⊙R(Rᵀ(s⊙z)) (two float64 passes over the rows per round) while it still corrects z.
   */
  private solveSmall(r: number, p: Float64Array): Float64Array {
    const e = this.e;
    const s = this.scales;
    const z = this.applyInverse(r, p);
    // f64 rows: K is their Gram matrix to round-off, except after a shrink, where K = diag(λ − δ)
    // holds to the round-off of the rotation: refine then too
    // layer mode: K is float64 from float64 statistics, the Gram matrix of the exact rows likewise
    if ((this.precision === 'f64' || this.layers) && !this.gramFromShrink) return z;
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
   * x ← (c·S + μI)⁻¹ ḡ for ḡ the mean of the n rows of the latest batch, in the span form
   * (push-through identity) when nothing was dropped (ρ = 0): ḡ = Ũᵀa with a_i = 1/(n·s_i) on that
   * batch's rows, so (ŨᵀŨ + μI)⁻¹ḡ = Ũᵀ(ŨŨᵀ + μI)⁻¹a — no subtraction at all. Returns false (and
   * does nothing) unless that batch is held whole and factored.
   */
  solveLatestMean(xp: number, n: number): boolean {
    const r = this.factored;
    if (this.latestCount !== n || r !== this.used || r === 0) return false;
    const { e } = this;
    const s = this.scales;
    const a = new Float64Array(r);
    const end = this.latestStart + n;
    for (let i = this.latestStart; i < end; i++) a[i] = 1 / (n * s[i]);
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
    if (this.layers) {
      const K = e.view64(this.k, this.cap * this.cap);
      let s = 0;
      for (let i = 0; i < this.used; i++) s += this.w[i] * K[i * this.cap + i];
      return s / d;
    }
    const dot = e.k('dot', precision);
    const b = BYTES[precision];
    let t = 0;
    for (let i = 0; i < this.used; i++) {
      const p = this.rows + i * d * b;
      t += this.w[i] * dot(d, p, p);
    }
    return t / d;
  }

  quadratic(vp: number, c: number): number {
    const r = this.used;
    if (r === 0) return 0;
    return this.inF64(vp, false, (yp) => {
      this.rowsTimes(r, yp, this.pv);
      const t = this.e.view64(this.pv, r);
      let q = 0;
      for (let i = 0; i < r; i++) q += this.w[i] * t[i] * t[i];
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
    if (this.layers) {
      this.layersToDense(op, c);
      return;
    }
    const tmp = e.alloc(r * d * b);
    try {
      e.copy(tmp, this.rows, r * d * b);
      const scal = e.k('scal', precision);
      for (let i = 0; i < r; i++) scal(d, Math.sqrt(c * this.w[i]), tmp + i * d * b);
      e.k('syrk', precision)(r, d, 1, tmp, d, 0, op, d, e.work);
      e.k('symmetrize', precision)(d, op, d);
    } finally {
      e.free(tmp);
    }
  }

  /** toDense in layer mode: the rows in float64 (a temporary), scaled, SYRK in float64, rounded once. */
  private layersToDense(op: number, c: number): void {
    const { e, precision, d } = this;
    const r = this.used;
    const tmp = e.alloc(r * d * 8);
    const fp = precision === 'f64' ? op : e.alloc(d * d * 8);
    try {
      writeLayerRows(e, 'f64', this.layers!.list, 0, r, tmp, d);
      const scal = e.k('scal', 'f64');
      for (let i = 0; i < r; i++) scal(d, Math.sqrt(c * this.w[i]), tmp + i * d * 8);
      e.k('syrk', 'f64')(r, d, 1, tmp, d, 0, fp, d, e.work);
      e.k('symmetrize', 'f64')(d, fp, d);
      if (fp !== op) (e.exports.demote_f64_f32 as (n: number, s: number, t: number) => void)(d * d, fp, op);
    } finally {
      if (fp !== op) e.free(fp);
      e.free(tmp);
    }
  }

  rescale(k: number): void {
    if (this.layers) {
      // float64 weights carry the factor exactly
      const f = pow2(k);
      for (let i = 0; i < this.used; i++) this.w[i] *= f;
      this.rho *= f;
      this.factored = 0;
      return;
    }
    // S = Σ w_i u_i u_iᵀ: the rows carry 2^(k/2), K and ρ 2^k
    scalePow2(this.e, this.precision, this.rows, this.used * this.d, k / 2);
    for (let i = 0; i < this.used; i++) scalePow2(this.e, this.precision, this.k + i * this.cap * BYTES[this.precision], i + 1, k);
    this.rho *= pow2(k);
    this.factored = 0;
  }

  reset(): void {
    if (this.layers) {
      // back to an empty row store (the statistics are dropped)
      for (const p of this.holder.ptrs) this.e.free(p);
      this.holder.ptrs = [];
      this.layers = undefined;
      this.cap = 0;
      this.used = 0;
      this.reserve(this.fixedRank ?? 0);
    }
    this.used = 0;
    this.rho = 0;
    this.latestCount = 0;
    this.shrinks = 0;
    this.gramFromShrink = false;
    this.factored = 0;
  }

  save(): StoreState {
    const { e, precision, used, cap } = this;
    if (this.layers) {
      // the statistics themselves (float64) and the layer shapes; K is recomputed on load
      const shapes: number[] = [];
      for (const l of this.layers.list) shapes.push(l.inputs, l.outputs, l.bias ? 1 : 0);
      return {
        capacity: cap,
        layers: shapes,
        stats: e.view64(this.holder.ptrs[6], this.layers.length).slice(),
        weights: this.w.slice(0, used),
        dropped: this.rho,
        latestStart: this.latestStart,
        latestCount: this.latestCount,
        shrinks: this.shrinks,
        gramFromShrink: 0,
      };
    }
    const b = BYTES[precision];
    const gram = precision === 'f32' ? new Float32Array((used * (used + 1)) / 2) : new Float64Array((used * (used + 1)) / 2);
    for (let i = 0, o = 0; i < used; i++, o += i) gram.set(e.view(precision, this.k + i * cap * b, i + 1), o);
    return {
      capacity: cap,
      rows: copyOut(e, precision, this.rows, used * this.d),
      weights: this.w.slice(0, used),
      gram,
      dropped: this.rho,
      latestStart: this.latestStart,
      latestCount: this.latestCount,
      shrinks: this.shrinks,
      gramFromShrink: this.gramFromShrink ? 1 : 0,
    };
  }

  load(state: StoreState): void {
    if (state.layers !== undefined) {
      this.loadLayers(state);
      return;
    }
    const rows = state.rows as FloatArray;
    const used = rows.length / this.d;
    this.reserve(Math.max(state.capacity as number, used), false);
    const { e, precision, cap } = this;
    const b = BYTES[precision];
    e.put(precision, this.rows, rows);
    const gram = state.gram as FloatArray;
    for (let i = 0, o = 0; i < used; i++, o += i) e.put(precision, this.k + i * cap * b, gram.subarray(o, o + i + 1));
    this.used = used;
    this.w.set(state.weights as Float64Array);
    this.rho = state.dropped as number;
    this.latestStart = state.latestStart as number;
    this.latestCount = state.latestCount as number;
    this.shrinks = state.shrinks as number;
    this.gramFromShrink = state.gramFromShrink === 1;
    this.factored = 0;
  }

  /** Layer mode from a saved state (validated by the caller): the statistics, the weights, K again. */
  private loadLayers(state: StoreState): void {
    const { e } = this;
    const shapes = state.layers as number[];
    const stats = state.stats as Float64Array;
    const weights = state.weights as Float64Array;
    const n = weights.length;
    const tmp = e.alloc(Math.max(stats.length, 1) * 8);
    try {
      e.put('f64', tmp, stats);
      const list: LayerInWasm[] = [];
      for (let j = 0, q = tmp; j < shapes.length; j += 3) {
        const [inputs, outputs, bias] = [shapes[j], shapes[j + 1], shapes[j + 2] === 1];
        list.push({ ap: q, ep: q + n * inputs * 8, inputs, outputs, bias });
        q += n * (inputs + outputs) * 8;
      }
      this.holdLayers(list, n, 0, 'f64');
    } finally {
      e.free(tmp);
    }
    this.w.set(weights);
    this.rho = state.dropped as number;
    this.latestStart = state.latestStart as number;
    this.latestCount = state.latestCount as number;
    this.shrinks = state.shrinks as number;
  }

  /** Reserves the room `merge(other)` needs (a caller can do it before changing anything). */
  reserveMerge(other: FisherStore): void {
    const o = other as LowRankStore;
    const want = this.fixedRank !== undefined ? LowRankStore.capacityFor(this.fixedRank, o.used) : this.used + o.used;
    this.reserve(Math.max(this.cap, Math.min(want, this.maxRows)));
  }

  /**
   * S ← a·S + b·S_other: the other's rows appended with their weights ×b (shrinking whenever full,
   * so the result is the sketch of the union: ρ = a·ρ + b·ρ_other + what the shrinks drop).
   */
  merge(other: FisherStore, a: number, b: number, rel = 1): void {
    const o = other as LowRankStore;
    this.reserveMerge(o);
    const bytes = this.d * BYTES[this.precision];
    // the other's rows (materialised into a temporary if it holds layer statistics)
    const src = o.layers ? this.e.alloc(Math.max(o.used, 1) * bytes) : o.rows;
    try {
      if (o.layers) o.materialize(src, o.used);
      this.mergeRows(o, src, a, b * rel);
    } finally {
      if (src !== o.rows) this.e.free(src);
    }
  }

  private mergeRows(o: LowRankStore, src: number, a: number, b: number): void {
    for (let i = 0; i < this.used; i++) this.w[i] *= a;
    this.rho = a * this.rho + b * o.rho;
    const l = this.target(o.used, 1);
    const bytes = this.d * BYTES[this.precision];
    for (let done = 0; done < o.used; ) {
      if (this.used === this.cap) this.applyShrink(this.planShrink(l, 1));
      const take = Math.min(o.used - done, this.cap - this.used);
      const r0 = this.used;
      this.e.copy(this.rows + r0 * bytes, src + done * bytes, take * bytes);
      for (let i = 0; i < take; i++) this.w[r0 + i] = b * o.w[done + i];
      this.used += take;
      this.gramOfNewRows(r0, take);
      done += take;
    }
    this.latestCount = 0;
    this.factored = 0;
  }

  free(): void {
    freeHolder(this.holder);
  }
}
