/**
 * Kronecker-factored stores of the empirical Fisher for models made of dense layers (issue 15):
 * 'kronecker' (K-FAC with empirical gradients, Martens & Grosse 2015) and 'ekfac' (its
 * eigenvalue-corrected form, George et al. 2018).
 *
 * Per dense layer y = W a + b with inputs ā = [a; 1] (p = inputs + 1 values; p = inputs without
 * bias) and back-propagated output gradients e (q = outputs values), the store keeps running
 * averages of the two factors
 *   Ā ← keep·Ā + weight·Σ_i ā_i ā_iᵀ   (p × p)        S ← keep·S + weight·Σ_i e_i e_iᵀ   (q × q)
 * with the (keep, weight) of `accumulate` (weight = (1 − β)/n, or 1/n): each factor is then the
 * running average of (1/n)Σ āāᵀ and (1/n)Σ eeᵀ, and the Fisher block is F_l = (c·S) ⊗ (c·Ā), c the
 * bias correction of *each* factor. With n = 1 and decay 0, S ⊗ Ā = (e eᵀ) ⊗ (ā āᵀ) = g gᵀ, the
 * empirical Fisher block exactly (g = vec(e āᵀ), row-major).
 *
 * Layout: the layer kit stores W row-major (q × inputs) and then b (q), layer after layer. The
 * q × p matrix V of a layer's part of a vector, V[o][i] = W[o][i] (i < inputs) and V[o][inputs] =
 * b[o], has vec(V) (row-major) = a permutation of that part; (S ⊗ Ā) vec(V) = vec(S V Ā).
 *
 * 'ekfac': F_l = c·(U_S ⊗ U_Ā) diag(D) (U_S ⊗ U_Ā)ᵀ with U_S, U_Ā eigenvectors of S and Ā, and
 * D (q × p) the running average (same keep, weight) of the per-example gradients projected into
 * that basis and squared, D[s][a] ← keep·D + weight·Σ_i ((U_Sᵀ e_i)_s (U_Āᵀ ā_i)_a)². The basis is
 * computed at accumulate time, from the factors that include the batch being added and before
 * that batch is projected, when none exists (the first accumulate) or when `refreshBasis()` asked
 * for one since; otherwise it stays, and D's running average goes on in it.
 *
 * Stores work on validated data in wasm memory (see stores.ts); they throw only on memory (and,
 * never seen in practice, on an eigensolver that does not converge).
 */
import type { Engine, FloatArray, Precision } from './engine.js';
import { BYTES } from './linalg.js';
import { allocAll, copyOut, floatType, freeHolder, scalePow2, StateFields, type FisherStore, type Holder, type StoreSpec, type StoreState } from './stores.js';
import type { LayerInWasm } from './layers/inwasm.js';
import type { KroneckerDamping } from './fisher.js';

export type { LayerInWasm };

/** @internal the shape of a dense layer */
export interface LayerShape {
  inputs: number;
  outputs: number;
  bias: boolean;
}

/** @internal where a layer's pieces live (element offsets) */
interface Geometry {
  inputs: number;
  outputs: number;
  bias: boolean;
  /** p = inputs (+ 1 with bias), q = outputs */
  p: number;
  q: number;
  /** first parameter of the layer in the layer kit's layout */
  offset: number;
  /** Ā in the Ā area, S in the S area (and U_Ā, U_S at the same offsets of the basis areas) */
  aOff: number;
  sOff: number;
  /** the q × p matrices (D, denominators) */
  vOff: number;
}

function geometry(shapes: readonly LayerShape[]): { layers: Geometry[]; aTotal: number; sTotal: number; vTotal: number; d: number } {
  const layers: Geometry[] = [];
  let aTotal = 0;
  let sTotal = 0;
  let vTotal = 0;
  let d = 0;
  for (const s of shapes) {
    const p = s.inputs + (s.bias ? 1 : 0);
    const q = s.outputs;
    layers.push({ inputs: s.inputs, outputs: s.outputs, bias: s.bias, p, q, offset: d, aOff: aTotal, sOff: sTotal, vOff: vTotal });
    aTotal += p * p;
    sTotal += q * q;
    vTotal += q * p;
    d += q * p;
  }
  return { layers, aTotal, sTotal, vTotal, d };
}

/** the index in the layer kit's layout of V[o][i] (relative to the layer's offset) */
function paramIndex(g: Geometry, o: number, i: number): number {
  return i < g.inputs ? o * g.inputs + i : g.q * g.inputs + o;
}

/** Workspace bytes of eigh with vectors at order m, per precision. */
function eighWork(e: Engine, precision: Precision, m: number): number {
  return m === 0 ? 0 : (e.exports[`eigh_work_bytes_${precision}`] as (d: number, v: number) => number)(m, 1);
}

/** Allocates every size (at least 16 bytes each), runs f, frees them. */
function withScratch<R>(e: Engine, sizes: readonly number[], f: (ptrs: number[]) => R): R {
  const ptrs: number[] = [];
  try {
    for (const s of sizes) ptrs.push(e.alloc(Math.max(s, 16)));
    return f(ptrs);
  } finally {
    for (let i = ptrs.length - 1; i >= 0; i--) e.free(ptrs[i]);
  }
}

/**
 * @internal The code both stores share: the factors Ā and S of every layer (areas 0 and 1 of the
 * holder: all Ā, then all S), accumulation, the layout maps, save/load/merge of the factors.
 */
abstract class KroneckerBase {
  abstract readonly kind: 'kronecker' | 'ekfac';
  readonly holder: Holder;
  readonly d: number;
  protected readonly layers: Geometry[];
  protected readonly aTotal: number;
  protected readonly sTotal: number;
  protected readonly vTotal: number;
  protected readonly maxP: number;
  protected readonly maxQ: number;
  /** bumped whenever the factors change (a factorisation of an older version is stale) */
  protected version = 0;

  constructor(
    protected readonly e: Engine,
    protected readonly precision: Precision,
    shapes: readonly LayerShape[],
    /** element counts of the areas after Ā and S */
    extraAreas: (g: ReturnType<typeof geometry>) => number[],
  ) {
    const g = geometry(shapes);
    this.layers = g.layers;
    this.aTotal = g.aTotal;
    this.sTotal = g.sTotal;
    this.vTotal = g.vTotal;
    this.d = g.d;
    let mp = 0;
    let mq = 0;
    for (const l of g.layers) {
      if (l.p > mp) mp = l.p;
      if (l.q > mq) mq = l.q;
    }
    this.maxP = mp;
    this.maxQ = mq;
    const b = BYTES[precision];
    const sizes = [g.aTotal, g.sTotal, ...extraAreas(g)].map((m) => Math.max(m, 1) * b);
    this.holder = { e, ptrs: allocAll(e, sizes) };
  }

  /** the factors Ā and S of a saved state (the part both stores share); returns the checker */
  protected static checkFactors(state: Record<string, unknown>, spec: StoreSpec, prefix: string): StateFields {
    const g = geometry(spec.layers!);
    const F = floatType(spec.precision);
    const f = new StateFields(state, prefix);
    f.array('A', F, g.aTotal);
    f.array('S', F, g.sTotal);
    return f;
  }

  protected get aArea(): number {
    return this.holder.ptrs[0];
  }
  protected get sArea(): number {
    return this.holder.ptrs[1];
  }
  protected at(area: number, elementOffset: number): number {
    return area + elementOffset * BYTES[this.precision];
  }

  /**
   * A layer's p × p and q × q matrices in area 2 (or a replacement at base): all p × p ones, then
   * all q × q ones ('kronecker': U_Āᵀ, U_Sᵀ or the π-damped inverses; 'ekfac': the basis)
   */
  protected zA(l: Geometry, base = this.holder.ptrs[2]): number {
    return this.at(base, l.aOff);
  }
  protected zS(l: Geometry, base = this.holder.ptrs[2]): number {
    return this.at(base, this.aTotal + l.sOff);
  }

  /** ā rows (n × p, ld p) at dst from A (n × inputs) at ap, with a 1 appended to each row. */
  protected augmented(l: Geometry, ap: number, n: number, dst: number): void {
    const { e, precision } = this;
    const b = BYTES[precision];
    const rowIn = l.inputs * b;
    for (let i = 0; i < n; i++) e.copy(dst + i * l.p * b, ap + i * rowIn, rowIn);
    const v = e.view(precision, dst, n * l.p);
    for (let i = 0; i < n; i++) v[i * l.p + l.inputs] = 1;
  }

  /**
   * Ā_l ← keep·Ā_l + weight·Σ ā āᵀ and S_l ← keep·S_l + weight·Σ e eᵀ for every layer (full
   * symmetric). abar[l]: scratch of n·p elements for a layer with bias, where its ā rows are left
   * (ekfac projects them next).
   */
  protected accumulateFactors(list: readonly LayerInWasm[], n: number, keep: number, weight: number, abar: number[]): void {
    const { e, precision } = this;
    const syrk = e.k('syrk', precision);
    const sym = e.k('symmetrize', precision);
    for (let k = 0; k < this.layers.length; k++) {
      const l = this.layers[k];
      const s = list[k];
      let src = s.ap;
      if (l.bias) {
        src = abar[k];
        this.augmented(l, s.ap, n, src);
      }
      const ap = this.at(this.aArea, l.aOff);
      syrk(n, l.p, weight, src, l.p, keep, ap, l.p, e.work);
      sym(l.p, ap, l.p);
      const sp = this.at(this.sArea, l.sOff);
      syrk(n, l.q, weight, s.ep, l.q, keep, sp, l.q, e.work);
      sym(l.q, sp, l.q);
    }
    this.version++;
  }

  /** V (q × p, ld p) at vp ← the layer's part of the vector at xp */
  protected gather(l: Geometry, xp: number, vp: number): void {
    const { e, precision } = this;
    const b = BYTES[precision];
    const base = xp + l.offset * b;
    if (!l.bias) {
      e.copy(vp, base, l.q * l.p * b);
      return;
    }
    const rowIn = l.inputs * b;
    for (let o = 0; o < l.q; o++) e.copy(vp + o * l.p * b, base + o * rowIn, rowIn);
    const v = e.view(precision, vp, l.q * l.p);
    const x = e.view(precision, base + l.q * rowIn, l.q);
    for (let o = 0; o < l.q; o++) v[o * l.p + l.inputs] = x[o];
  }

  /** the layer's part of the vector at xp ← V (q × p, ld p) at vp */
  protected scatter(l: Geometry, vp: number, xp: number): void {
    const { e, precision } = this;
    const b = BYTES[precision];
    const base = xp + l.offset * b;
    if (!l.bias) {
      e.copy(base, vp, l.q * l.p * b);
      return;
    }
    const rowIn = l.inputs * b;
    for (let o = 0; o < l.q; o++) e.copy(base + o * rowIn, vp + o * l.p * b, rowIn);
    const v = e.view(precision, vp, l.q * l.p);
    const x = e.view(precision, base + l.q * rowIn, l.q);
    for (let o = 0; o < l.q; o++) x[o] = v[o * l.p + l.inputs];
  }

  /** out ← α·op(A)·op(B) (+ β·out), all row-major with their natural leading dimensions */
  protected gemm(m: number, n: number, k: number, alpha: number, a: number, transA: boolean, b: number, transB: boolean, beta: number, c: number): void {
    this.e.k('gemm', this.precision)(m, n, k, alpha, a, transA ? m : k, transA ? 1 : 0, b, transB ? k : n, transB ? 1 : 0, beta, c, n, this.e.work);
  }

  /** the denominators of a layer's T (q × p), or 0 for 'pi' (no rotation: Z_S, Z_Ā are the inverses) */
  protected abstract denominators(l: Geometry): number;

  /**
   * Whether a layer's T is cheaper from the statistics, (E Z_Sᵀ)ᵀ(Ā Z_Āᵀ): n(p² + q² + pq)
   * multiply-adds, than from its part V of ḡ, Z_S V Z_Āᵀ: pq(p + q) (so when n is small against p, q).
   */
  protected fromStatistics(l: Geometry, n: number): boolean {
    return n * (l.p * l.p + l.q * l.q + l.p * l.q) < l.p * l.q * (l.p + l.q);
  }

  /**
   * x ← the damped inverse applied to x at xp, layer by layer: T = Z_S V Z_Āᵀ (V the layer's part),
   * then with denominators V = Z_Sᵀ (T ⊘ den) Z_Ā, without V = T ('pi': Z_S, Z_Ā are the symmetric
   * inverses). With `mean` (x = ḡ/σ, ḡ the mean gradient of the statistics `mean.list`), the
   * layers where it is cheaper take T from the statistics instead, T = (σ⁻¹/n)·(E Z_Sᵀ)ᵀ(Ā Z_Āᵀ).
   */
  protected solveLayers(xp: number, mean?: { list: readonly LayerInWasm[]; n: number; sigmaInv: number }): void {
    const { e, precision } = this;
    const b = BYTES[precision];
    const m = this.maxP * this.maxQ;
    const n = mean ? mean.n : 0;
    const rows = mean && this.layers.some((l) => this.fromStatistics(l, n)) ? n : 0;
    withScratch(e, [m * b, m * b, rows * this.maxP * b, rows * this.maxP * b, rows * this.maxQ * b], ([v, t, abar, at, et]) => {
      this.layers.forEach((l, k) => {
        const den = this.denominators(l);
        if (mean && this.fromStatistics(l, n)) {
          const s = mean.list[k];
          let src = s.ap;
          if (l.bias) {
            this.augmented(l, s.ap, n, abar);
            src = abar;
          }
          this.gemm(n, l.q, l.q, 1, s.ep, false, this.zS(l), true, 0, et);
          this.gemm(n, l.p, l.p, 1, src, false, this.zA(l), true, 0, at);
          this.gemm(l.q, l.p, n, mean.sigmaInv / n, et, true, at, false, 0, v);
        } else {
          this.gather(l, xp, v);
          this.gemm(l.q, l.p, l.q, 1, this.zS(l), false, v, false, 0, t);
          this.gemm(l.q, l.p, l.p, 1, t, false, this.zA(l), den !== 0, 0, v);
        }
        if (den !== 0) {
          const vv = e.view(precision, v, l.q * l.p);
          const dv = e.view(precision, den, l.q * l.p);
          for (let j = 0; j < l.q * l.p; j++) vv[j] = vv[j] / dv[j];
          this.gemm(l.q, l.p, l.q, 1, this.zS(l), true, v, false, 0, t);
          this.gemm(l.q, l.p, l.p, 1, t, false, this.zA(l), false, 0, v);
        }
        this.scatter(l, v, xp);
      });
    });
  }

  solve(xp: number): void {
    this.solveLayers(xp);
  }

  /**
   * x ← (c·F + shift·I)⁻¹ x for x = ḡ/σ at xp, ḡ the mean gradient of the statistics `list`
   * (E not divided by σ: σ⁻¹ = sigmaInv): the same as `solve`, with T taken from the statistics
   * where that is cheaper.
   */
  solveMean(list: readonly LayerInWasm[], n: number, xp: number, sigmaInv: number): void {
    this.solveLayers(xp, { list, n, sigmaInv });
  }

  /**
   * Eigenvectors of the m × m symmetric matrix at src (not changed) into z (vector k in row k:
   * z = Uᵀ) and eigenvalues (ascending) into w; tmp (m² elements) and ew (eighWork) are scratch.
   */
  protected eigen(m: number, src: number, z: number, w: number, tmp: number, ew: number): void {
    const { e, precision } = this;
    if (m === 0) return;
    e.copy(tmp, src, m * m * BYTES[precision]);
    const info = e.k('eigh', precision)(m, tmp, m, w, z, m, 1, e.work, ew);
    if (info !== 0) throw new Error(`the eigensolver did not converge on a ${m} × ${m} Kronecker factor (info ${info})`);
  }

  /** Σ_l tr(S_l)·tr(Ā_l) / d: the mean diagonal of Σ S⊗Ā (without c²) */
  protected kroneckerMeanDiagonal(): number {
    const { e, precision } = this;
    const a = e.view(precision, this.aArea, this.aTotal);
    const s = e.view(precision, this.sArea, this.sTotal);
    let t = 0;
    for (const l of this.layers) {
      t += trace(s, l.sOff, l.q) * trace(a, l.aOff, l.p);
    }
    return t / this.d;
  }

  protected resetFactors(): void {
    const b = BYTES[this.precision];
    this.e.zero(this.aArea, this.aTotal * b);
    this.e.zero(this.sArea, this.sTotal * b);
    this.version++;
  }

  /** S ← 2^k·S: the gradient scale lives in the S factors (E side), Ā does not depend on it */
  protected rescaleFactors(k: number): void {
    scalePow2(this.e, this.precision, this.sArea, this.sTotal, k);
    this.version++;
  }

  protected saveFactors(): StoreState {
    return {
      A: copyOut(this.e, this.precision, this.aArea, this.aTotal),
      S: copyOut(this.e, this.precision, this.sArea, this.sTotal),
    };
  }

  protected loadFactors(state: StoreState): void {
    this.e.put(this.precision, this.aArea, state.A as FloatArray);
    this.e.put(this.precision, this.sArea, state.S as FloatArray);
    this.version++;
  }

  /** Ā ← a·Ā + b·Ā_o; S ← a·S + b·sRel·S_o (sRel: the other's gradient scale relative to this one's) */
  protected mergeFactors(o: KroneckerBase, a: number, b: number, sRel: number): void {
    const axpby = this.e.k('axpby', this.precision);
    axpby(this.aTotal, b, o.aArea, a, this.aArea);
    axpby(this.sTotal, b * sRel, o.sArea, a, this.sArea);
    this.version++;
  }

  /**
   * The symmetric d × d matrix at op (zeroed first) from each layer's q·p × q·p block in the
   * interleaved order (row (o, i) = o·p + i), given by entry(l, r, c) with r, c interleaved indices.
   */
  protected writeBlocks(op: number, entry: (k: number, r: number, c: number) => number): void {
    const { e, precision, d } = this;
    e.zero(op, d * d * BYTES[precision]);
    for (let k = 0; k < this.layers.length; k++) {
      const l = this.layers[k];
      const m = l.q * l.p;
      const map = new Int32Array(m);
      for (let o = 0; o < l.q; o++) for (let i = 0; i < l.p; i++) map[o * l.p + i] = l.offset + paramIndex(l, o, i);
      const out = e.view(precision, op, d * d);
      for (let r = 0; r < m; r++) {
        for (let c = 0; c < m; c++) out[map[r] * d + map[c]] = entry(k, r, c);
      }
    }
  }

  free(): void {
    freeHolder(this.holder);
  }

  /** the shapes of the layers (for checks) */
  get shapes(): LayerShape[] {
    return this.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, bias: l.bias }));
  }
}

function trace(v: FloatArray, off: number, m: number): number {
  let t = 0;
  for (let i = 0; i < m; i++) t += v[off + i * m + i];
  return t;
}

// ---------------------------------------------------------------------------------------------
/**
 * @internal 'kronecker': F_l = (c·S_l) ⊗ (c·Ā_l) per layer. The damped inverse:
 * - 'exact': (F_l + shift·I)⁻¹ = (U_S ⊗ U_Ā)(c²Λ_S ⊗ Λ_Ā + shift)⁻¹(U_S ⊗ U_Ā)ᵀ from eigh of both
 *   factors (eigenvalues below 0, rounding, count as 0), applied as U_S((U_Sᵀ V U_Ā) ⊘ den)U_Āᵀ;
 * - 'pi': (c·S + (√shift/π)·I)⁻¹ V (c·Ā + π√shift·I)⁻¹, both inverses formed at the refresh
 *   (Cholesky, then solves on the identity: p³ + q³ flops) so that a solve is two GEMMs, with
 *   π = sqrt((tr Ā/p)/(tr S/q)) (1 when a trace is 0), the π-damping of Martens & Grosse.
 * Factor area (holder area 2): per layer U_Āᵀ (p²) and U_Sᵀ (q²) — or the two inverses for 'pi' —
 * then for 'exact' the eigenvalues (p, q) and the denominators c²λ_S λ_Ā + shift (q × p).
 */
export class KroneckerStore extends KroneckerBase implements FisherStore {
  readonly kind = 'kronecker';
  /** the factor version the eigendecompositions are of ('exact'; −1: none) */
  private eigenVersion = -1;

  constructor(
    e: Engine,
    precision: Precision,
    shapes: readonly LayerShape[],
    readonly damping: KroneckerDamping,
  ) {
    super(e, precision, shapes, (g) => {
      let values = 0;
      for (const l of g.layers) values += l.p + l.q;
      return [g.aTotal + g.sTotal + (damping === 'exact' ? values + g.vTotal : 0)];
    });
  }

  /** storage of a store of these shapes */
  static bytes(shapes: readonly LayerShape[], precision: Precision, damping: KroneckerDamping): number {
    const g = geometry(shapes);
    let values = 0;
    for (const l of g.layers) values += l.p + l.q;
    return (2 * (g.aTotal + g.sTotal) + (damping === 'exact' ? values + g.vTotal : 0)) * BYTES[precision];
  }

  /** the factor area: per layer U_Āᵀ, U_Sᵀ (or the two inverses), then for 'exact' the eigenvalues and the denominators */
  static factorLength(spec: StoreSpec): number {
    const g = geometry(spec.layers!);
    let values = 0;
    for (const l of g.layers) values += l.p + l.q;
    return spec.kroneckerDamping === 'pi' ? g.aTotal + g.sTotal : g.aTotal + g.sTotal + values + g.vTotal;
  }

  static checkState(state: Record<string, unknown>, spec: StoreSpec, prefix = 'state.store'): void {
    KroneckerBase.checkFactors(state, spec, prefix);
  }

  private get fArea(): number {
    return this.holder.ptrs[2];
  }
  /** the factor area: U_Āᵀ / Ā_π⁻¹ and U_Sᵀ / S_π⁻¹ (zA, zS), then λ_Ā, λ_S, the denominators */
  private valuesBase(): number {
    return this.aTotal + this.sTotal;
  }
  private wA(l: Geometry, k: number): number {
    return this.valuesBase() + this.valueOffset(k);
  }
  private wS(l: Geometry, k: number): number {
    return this.valuesBase() + this.valueOffset(k) + l.p;
  }
  private valueOffset(k: number): number {
    let o = 0;
    for (let j = 0; j < k; j++) o += this.layers[j].p + this.layers[j].q;
    return o;
  }
  private denBase(): number {
    let values = 0;
    for (const l of this.layers) values += l.p + l.q;
    return this.valuesBase() + values;
  }

  /** @internal the G-path is not available: this store is fed by accumulateLayers only */
  accumulate(): void {
    throw new Error("a 'kronecker' Fisher is built from layer statistics: use updateLayers(list, n)");
  }

  accumulateLayers(list: readonly LayerInWasm[], n: number, keep: number, weight: number): void {
    const b = BYTES[this.precision];
    const sizes = this.layers.map((l) => (l.bias ? n * l.p * b : 0));
    withScratch(this.e, sizes, (abar) => this.accumulateFactors(list, n, keep, weight, abar));
  }

  factor(c: number, shift: number): number {
    return this.damping === 'exact' ? this.factorExact(c, shift) : this.factorPi(c, shift);
  }

  private factorExact(c: number, shift: number): number {
    const { e, precision } = this;
    const b = BYTES[precision];
    if (this.eigenVersion !== this.version) {
      // into a new factor area, swapped in when every eigendecomposition succeeded: an error
      // leaves the factor held (possibly of an older F, still in use) as it was
      const m = Math.max(this.maxP, this.maxQ);
      const fresh = e.alloc(this.heldFactorLength() * b);
      try {
        withScratch(e, [m * m * b, eighWork(e, precision, m)], ([tmp, ew]) => {
          this.layers.forEach((l, k) => {
            this.eigen(l.p, this.at(this.aArea, l.aOff), this.zA(l, fresh), this.at(fresh, this.wA(l, k)), tmp, ew);
            this.eigen(l.q, this.at(this.sArea, l.sOff), this.zS(l, fresh), this.at(fresh, this.wS(l, k)), tmp, ew);
          });
        });
      } catch (err) {
        e.free(fresh);
        throw err;
      }
      e.free(this.fArea);
      this.holder.ptrs[2] = fresh;
      this.eigenVersion = this.version;
    }
    const f = e.view(precision, this.fArea, this.denBase() + this.vTotal);
    const den = this.denBase();
    for (let k = 0; k < this.layers.length; k++) {
      const l = this.layers[k];
      const wa = this.wA(l, k);
      const ws = this.wS(l, k);
      for (let o = 0; o < l.q; o++) {
        const ls = f[ws + o];
        const cs = ls > 0 ? c * ls : 0;
        for (let i = 0; i < l.p; i++) {
          const la = f[wa + i];
          const v = cs * (la > 0 ? c * la : 0) + shift;
          f[den + l.vOff + o * l.p + i] = v;
          if (!(f[den + l.vOff + o * l.p + i] > 0)) return l.offset + o * l.p + i + 1;
        }
      }
    }
    return 0;
  }

  /** the inverses of both π-damped factors (Cholesky, then solves on the identity) into the factor area */
  private factorPi(c: number, shift: number): number {
    const { e, precision } = this;
    const b = BYTES[precision];
    const m = Math.max(this.maxP, this.maxQ);
    const root = Math.sqrt(shift);
    return withScratch(e, [m * m * b], ([tmp]) => {
      for (const l of this.layers) {
        const pi = this.piOf(l);
        let info = this.dampedInverse(l.p, this.at(this.aArea, l.aOff), c, pi * root, tmp, this.zA(l));
        if (info !== 0) return l.offset + info;
        info = this.dampedInverse(l.q, this.at(this.sArea, l.sOff), c, root / pi, tmp, this.zS(l));
        if (info !== 0) return l.offset + l.p + info;
      }
      return 0;
    });
  }

  /** out ← (c·X + shift·I)⁻¹ for the m × m matrix at src; tmp (m²) holds its Cholesky factor. 0 or the pivot. */
  private dampedInverse(m: number, src: number, c: number, shift: number, tmp: number, out: number): number {
    const { e, precision } = this;
    const b = BYTES[precision];
    e.copy(tmp, src, m * m * b);
    if (c !== 1) e.k('scal', precision)(m * m, c, tmp);
    e.k('add_diag', precision)(m, shift, tmp, m);
    const info = e.k('potrf', precision)(m, tmp, m, e.work);
    if (info !== 0) return info;
    e.zero(out, m * m * b);
    e.k('add_diag', precision)(m, 1, out, m);
    e.k('potrs', precision)(m, m, tmp, m, out, m, e.work);
    return 0;
  }

  /** π = sqrt((tr Ā/p)/(tr S/q)), 1 when either trace is 0 */
  piOf(l: Geometry): number {
    const { e, precision } = this;
    const ta = trace(e.view(precision, this.aArea, this.aTotal), l.aOff, l.p);
    const ts = trace(e.view(precision, this.sArea, this.sTotal), l.sOff, l.q);
    return ta > 0 && ts > 0 ? Math.sqrt((ta / l.p) / (ts / l.q)) : 1;
  }

  protected denominators(l: Geometry): number {
    return this.damping === 'exact' ? this.at(this.fArea, this.denBase() + l.vOff) : 0;
  }

  meanDiagonal(): number {
    return this.kroneckerMeanDiagonal();
  }

  /** c²·Σ_l tr(Vᵀ S V Ā) = vᵀ F v */
  quadratic(vp: number, c: number): number {
    const { e, precision } = this;
    const b = BYTES[precision];
    const m = this.maxP * this.maxQ;
    return withScratch(e, [m * b, m * b, m * b], ([v, t, u]) => {
      let q = 0;
      for (const l of this.layers) {
        this.gather(l, vp, v);
        this.gemm(l.q, l.p, l.q, 1, this.at(this.sArea, l.sOff), false, v, false, 0, t);
        this.gemm(l.q, l.p, l.p, 1, t, false, this.at(this.aArea, l.aOff), false, 0, u);
        q += e.k('dot', precision)(l.q * l.p, v, u);
      }
      return c * c * q;
    });
  }

  toDense(op: number, c: number): void {
    const { e, precision } = this;
    const a = Float64Array.from(e.view(precision, this.aArea, this.aTotal));
    const s = Float64Array.from(e.view(precision, this.sArea, this.sTotal));
    const c2 = c * c;
    this.writeBlocks(op, (k, r, col) => {
      const l = this.layers[k];
      const o = (r / l.p) | 0;
      const i = r - o * l.p;
      const o2 = (col / l.p) | 0;
      const i2 = col - o2 * l.p;
      return c2 * s[l.sOff + o * l.q + o2] * a[l.aOff + i * l.p + i2];
    });
  }

  reset(): void {
    this.resetFactors();
  }

  rescale(k: number): void {
    this.rescaleFactors(k);
  }

  factorState(): FloatArray {
    return copyOut(this.e, this.precision, this.fArea, this.heldFactorLength());
  }

  restoreFactor(factor: FloatArray): void {
    this.e.put(this.precision, this.fArea, factor);
    this.eigenVersion = -1;
  }

  /** elements of factorState() */
  private heldFactorLength(): number {
    return this.damping === 'exact' ? this.denBase() + this.vTotal : this.aTotal + this.sTotal;
  }

  save(): StoreState {
    return this.saveFactors();
  }

  load(state: StoreState): void {
    this.loadFactors(state);
  }

  merge(other: FisherStore, a: number, b: number, sRel = 1): void {
    this.mergeFactors(other as KroneckerStore, a, b, sRel);
  }
}

// ---------------------------------------------------------------------------------------------
/**
 * @internal 'ekfac': F_l = c·(U_S ⊗ U_Ā) diag(D_l) (U_S ⊗ U_Ā)ᵀ. Areas after Ā and S: the basis
 * (per layer U_Āᵀ p², U_Sᵀ q², vectors in rows; the identity before the first accumulate), D (q × p
 * per layer), and the damped diagonal c·D + shift of the last `factor` (q × p per layer, what the
 * solve divides by).
 */
export class EkfacStore extends KroneckerBase implements FisherStore {
  readonly kind = 'ekfac';
  /** a basis has been computed (before: the identity) */
  private hasBasis = false;
  /** the next accumulate recomputes the basis */
  private basisDue = false;

  constructor(e: Engine, precision: Precision, shapes: readonly LayerShape[]) {
    super(e, precision, shapes, (g) => [g.aTotal + g.sTotal, g.vTotal, g.vTotal]);
    this.identityBasis();
  }

  static bytes(shapes: readonly LayerShape[], precision: Precision): number {
    const g = geometry(shapes);
    return (2 * (g.aTotal + g.sTotal) + 2 * g.vTotal) * BYTES[precision];
  }

  static factorLength(spec: StoreSpec): number {
    return geometry(spec.layers!).vTotal;
  }

  /** the factors, D (≥ 0), the basis and its flags */
  static checkState(state: Record<string, unknown>, spec: StoreSpec, prefix = 'state.store'): void {
    const f = KroneckerBase.checkFactors(state, spec, prefix);
    const g = geometry(spec.layers!);
    const F = floatType(spec.precision);
    f.array('D', F, g.vTotal, 0);
    f.array('basis', F, g.aTotal + g.sTotal);
    for (const k of ['hasBasis', 'basisDue']) f.field(k, state[k] === 0 || state[k] === 1, '0 or 1', state[k]);
  }

  private get uArea(): number {
    return this.holder.ptrs[2];
  }
  private get dArea(): number {
    return this.holder.ptrs[3];
  }
  private get denArea(): number {
    return this.holder.ptrs[4];
  }

  private identityBasis(): void {
    const { e, precision } = this;
    e.zero(this.uArea, (this.aTotal + this.sTotal) * BYTES[precision]);
    const u = e.view(precision, this.uArea, this.aTotal + this.sTotal);
    for (const l of this.layers) {
      for (let i = 0; i < l.p; i++) u[l.aOff + i * l.p + i] = 1;
      for (let o = 0; o < l.q; o++) u[this.aTotal + l.sOff + o * l.q + o] = 1;
    }
    this.hasBasis = false;
  }

  /** Asks the next accumulate to recompute the eigenbasis (from the factors including its batch). */
  refreshBasis(): void {
    this.basisDue = true;
  }

  /** true once the basis has been computed (false: the identity) */
  get basisComputed(): boolean {
    return this.hasBasis;
  }

  accumulate(): void {
    throw new Error("an 'ekfac' Fisher is built from layer statistics: use updateLayers(list, n)");
  }

  accumulateLayers(list: readonly LayerInWasm[], n: number, keep: number, weight: number): void {
    const { e, precision } = this;
    const b = BYTES[precision];
    const newBasis = !this.hasBasis || this.basisDue;
    const m = Math.max(this.maxP, this.maxQ);
    const sizes = [
      ...this.layers.map((l) => (l.bias ? n * l.p * b : 0)),
      n * this.maxQ * b,
      n * this.maxP * b,
      newBasis ? m * m * b : 0,
      newBasis ? m * b : 0,
      newBasis ? eighWork(e, precision, m) : 0,
    ];
    // every allocation first: nothing changes if one fails
    let fresh = newBasis ? e.alloc((this.aTotal + this.sTotal) * b) : 0;
    try {
      withScratch(e, sizes, (ptrs) => {
        const L = this.layers.length;
        const abar = ptrs.slice(0, L);
        const [ep, ap, tmp, w, ew] = ptrs.slice(L);
        this.accumulateFactors(list, n, keep, weight, abar);
        if (newBasis && this.computeBasis(fresh, w, tmp, ew)) {
          e.free(this.uArea);
          this.holder.ptrs[2] = fresh;
          fresh = 0;
          this.hasBasis = true;
          this.basisDue = false;
        }
        this.project(list, n, keep, weight, abar, ep, ap);
      });
    } finally {
      if (fresh) e.free(fresh);
    }
  }

  /**
   * The eigenvectors of every layer's factors into the basis area at base; false (the basis held
   * stays, and the refresh stays due) if the eigensolver does not converge (never seen).
   */
  private computeBasis(base: number, w: number, tmp: number, ew: number): boolean {
    try {
      for (const l of this.layers) {
        this.eigen(l.p, this.at(this.aArea, l.aOff), this.zA(l, base), w, tmp, ew);
        this.eigen(l.q, this.at(this.sArea, l.sOff), this.zS(l, base), w, tmp, ew);
      }
      return true;
    } catch {
      return false;
    }
  }

  /** D ← keep·D + weight·Σ_i (per-example gradient in the basis)², per layer */
  private project(list: readonly LayerInWasm[], n: number, keep: number, weight: number, abar: number[], ep: number, ap: number): void {
    const { e, precision } = this;
    const square = e.k('square', precision);
    this.layers.forEach((l, k) => {
      const s = list[k];
      // Ẽ = E U_S (n × q), Ã = Ā U_Ā (n × p): the per-example gradients in the basis are ẽ_i ãᵢᵀ
      this.gemm(n, l.q, l.q, 1, s.ep, false, this.zS(l), true, 0, ep);
      this.gemm(n, l.p, l.p, 1, l.bias ? abar[k] : s.ap, false, this.zA(l), true, 0, ap);
      square(n * l.q, ep, ep);
      square(n * l.p, ap, ap);
      // D ← keep·D + weight·(Ẽ∘Ẽ)ᵀ(Ã∘Ã)
      this.gemm(l.q, l.p, n, weight, ep, true, ap, false, keep, this.at(this.dArea, l.vOff));
    });
  }

  /** records c·D + shift (what the solve divides by); the basis is not recomputed here */
  factor(c: number, shift: number): number {
    const { e, precision } = this;
    const dv = e.view(precision, this.dArea, this.vTotal);
    const den = e.view(precision, this.denArea, this.vTotal);
    for (const l of this.layers) {
      for (let j = 0; j < l.q * l.p; j++) {
        den[l.vOff + j] = c * dv[l.vOff + j] + shift;
        if (!(den[l.vOff + j] > 0)) return l.offset + j + 1;
      }
    }
    return 0;
  }

  protected denominators(l: Geometry): number {
    return this.at(this.denArea, l.vOff);
  }

  /** Σ D / d (the mean diagonal of F/c: the basis is orthonormal) */
  meanDiagonal(): number {
    const dv = this.e.view(this.precision, this.dArea, this.vTotal);
    let t = 0;
    for (let j = 0; j < this.vTotal; j++) t += dv[j];
    return t / this.d;
  }

  /** c·Σ D ∘ (U_Sᵀ V U_Ā)² */
  quadratic(vp: number, c: number): number {
    const { e, precision } = this;
    const b = BYTES[precision];
    const m = this.maxP * this.maxQ;
    return withScratch(e, [m * b, m * b], ([v, t]) => {
      let q = 0;
      for (const l of this.layers) {
        this.gather(l, vp, v);
        this.gemm(l.q, l.p, l.q, 1, this.zS(l), false, v, false, 0, t);
        this.gemm(l.q, l.p, l.p, 1, t, false, this.zA(l), true, 0, v);
        const vv = e.view(precision, v, l.q * l.p);
        const dv = e.view(precision, this.at(this.dArea, l.vOff), l.q * l.p);
        for (let j = 0; j < l.q * l.p; j++) q += dv[j] * vv[j] * vv[j];
      }
      return c * q;
    });
  }

  /** c·(U_S ⊗ U_Ā) diag(D) (U_S ⊗ U_Ā)ᵀ per layer, as Kᵀ diag(c·D) K with K = Z_S ⊗ Z_Ā (gemm) */
  toDense(op: number, c: number): void {
    const { e, precision } = this;
    const b = BYTES[precision];
    let mm = 0;
    for (const l of this.layers) mm = Math.max(mm, l.q * l.p);
    const blocks: Float64Array[] = [];
    withScratch(e, [mm * mm * b, mm * mm * b, mm * mm * b], ([kp, wp, rp]) => {
      for (const l of this.layers) {
        const m = l.q * l.p;
        const u = e.view(precision, this.uArea, this.aTotal + this.sTotal);
        const dv = e.view(precision, this.at(this.dArea, l.vOff), m);
        const K = e.view(precision, kp, m * m);
        const W = e.view(precision, wp, m * m);
        for (let s = 0; s < l.q; s++) {
          for (let a = 0; a < l.p; a++) {
            const row = s * l.p + a;
            const cd = c * dv[row];
            for (let o = 0; o < l.q; o++) {
              const zs = u[this.aTotal + l.sOff + s * l.q + o];
              for (let i = 0; i < l.p; i++) {
                const kv = zs * u[l.aOff + a * l.p + i];
                K[row * m + o * l.p + i] = kv;
                W[row * m + o * l.p + i] = cd * kv;
              }
            }
          }
        }
        this.gemm(m, m, m, 1, kp, true, wp, false, 0, rp);
        blocks.push(Float64Array.from(e.view(precision, rp, m * m)));
      }
    });
    this.writeBlocks(op, (k, r, col) => {
      const m = this.layers[k].q * this.layers[k].p;
      // symmetric up to rounding: take the lower triangle's value
      return r >= col ? blocks[k][r * m + col] : blocks[k][col * m + r];
    });
  }

  reset(): void {
    this.resetFactors();
    this.e.zero(this.dArea, this.vTotal * BYTES[this.precision]);
    this.identityBasis();
    this.basisDue = false;
  }

  /** S ← 2^k·S and D ← 2^k·D (the basis does not change) */
  rescale(k: number): void {
    this.rescaleFactors(k);
    scalePow2(this.e, this.precision, this.dArea, this.vTotal, k);
  }

  factorState(): FloatArray {
    return copyOut(this.e, this.precision, this.denArea, this.vTotal);
  }

  restoreFactor(factor: FloatArray): void {
    this.e.put(this.precision, this.denArea, factor);
  }

  save(): StoreState {
    return {
      ...this.saveFactors(),
      D: copyOut(this.e, this.precision, this.dArea, this.vTotal),
      basis: copyOut(this.e, this.precision, this.uArea, this.aTotal + this.sTotal),
      hasBasis: this.hasBasis ? 1 : 0,
      basisDue: this.basisDue ? 1 : 0,
    };
  }

  load(state: StoreState): void {
    this.loadFactors(state);
    this.e.put(this.precision, this.dArea, state.D as FloatArray);
    this.e.put(this.precision, this.uArea, state.basis as FloatArray);
    this.hasBasis = state.hasBasis === 1;
    this.basisDue = state.basisDue === 1;
  }

  /**
   * Ā, S and D ← a·this + b·other (S and D with b·sRel). D is averaged in this store's basis (the
   * other's when this one has none): exact when both share it, as data-parallel copies refreshed
   * together do; a refresh of the basis is then asked for when they differ.
   */
  merge(store: FisherStore, a: number, b: number, sRel = 1): void {
    const { e, precision } = this;
    const other = store as EkfacStore;
    this.mergeFactors(other, a, b, sRel);
    e.k('axpby', precision)(this.vTotal, b * sRel, other.dArea, a, this.dArea);
    const len = this.aTotal + this.sTotal;
    if (!this.hasBasis && other.hasBasis) {
      e.copy(this.uArea, other.uArea, len * BYTES[precision]);
      this.hasBasis = true;
    } else if (other.hasBasis) {
      const u = e.view(precision, this.uArea, len);
      const w = e.view(precision, other.uArea, len);
      for (let j = 0; j < len; j++) {
        if (u[j] !== w[j]) {
          this.basisDue = true;
          break;
        }
      }
    }
    if (other.basisDue) this.basisDue = true;
  }
}
