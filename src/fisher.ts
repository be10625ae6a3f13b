/**
 * The empirical Fisher F = (1/n) GᵀG of per-example gradients, its running average, and the
 * damped solve (F + λI)⁻¹ g.
 */
import { getEngine, type Engine, type FloatArray, type Precision } from './engine.js';
import { NotPositiveDefiniteError } from './errors.js';
import { allocArray, BYTES } from './linalg.js';
import * as check from './validate.js';

export type Representation = 'auto' | 'dense';
const REPRESENTATIONS: readonly string[] = ['auto', 'dense'];

export interface EmpiricalFisherOptions {
  /** 'f32' (default) or 'f64': the precision of storage and arithmetic */
  precision?: Precision;
  /** Tikhonov damping λ ≥ 0 (default 1e-3) */
  damping?: number;
  /** running-average factor β ∈ [0, 1) (default 0: F is the latest minibatch's) */
  decay?: number;
  /** divide the running average by 1 − β^t (default true) */
  biasCorrection?: boolean;
  /** how F is stored (default 'auto') */
  representation?: Representation;
}

const OPTION_NAMES = ['precision', 'damping', 'decay', 'biasCorrection', 'representation'] as const;

/** Relative jitter of the first retry, per precision (× 10 per further try). */
const JITTER: Record<Precision, number> = { f32: 1e-6, f64: 1e-8 };
const JITTER_TRIES = 3;

const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ e: Engine; ptrs: number[] }>(({ e, ptrs }) => {
        for (const p of ptrs) e.free(p);
      })
    : undefined;

/**
 * Dense storage: the running sum S (lower triangle, d × d) and its Cholesky factor (d × d).
 * F = c·S with c the bias correction; the factor is of c·S + (λ + jitter)·I.
 */
class DenseStore {
  readonly s: number;
  readonly l: number;
  constructor(
    private readonly e: Engine,
    private readonly precision: Precision,
    private readonly d: number,
  ) {
    const bytes = d * d * BYTES[precision];
    this.s = e.alloc(bytes);
    try {
      this.l = e.alloc(bytes);
    } catch (err) {
      e.free(this.s);
      throw err;
    }
    e.zero(this.s, bytes);
  }

  get ptrs(): number[] {
    return [this.s, this.l];
  }

  /** S ← keep·S + weight·GᵀG, with G (n × d) at gp; keep = 0 overwrites S. */
  accumulate(gp: number, n: number, keep: number, weight: number): void {
    this.e.k('syrk', this.precision)(n, this.d, weight, gp, this.d, keep, this.s, this.d, this.e.work);
  }

  /** Factors c·S + shift·I into the factor block; returns LAPACK info. */
  factor(c: number, shift: number): number {
    const { e, precision, d } = this;
    e.copy(this.l, this.s, d * d * BYTES[precision]);
    if (c !== 1) e.k('scal', precision)(d * d, c, this.l);
    e.k('add_diag', precision)(d, shift, this.l, d);
    return e.k('potrf', precision)(d, this.l, d, e.work);
  }

  /** x ← factor⁻¹ x (both triangles), for a vector at xp. */
  solve(xp: number): void {
    this.e.k('potrs', this.precision)(this.d, 1, this.l, this.d, xp, this.d, this.e.work);
  }

  /** trace(S) / d, in float64. */
  meanDiagonal(): number {
    const v = this.e.view(this.precision, this.s, this.d * this.d);
    let t = 0;
    for (let i = 0; i < this.d; i++) t += v[i * this.d + i];
    return t / this.d;
  }

  /** c · vᵀ S v for a vector at vp (yp: scratch of length d). */
  quadratic(vp: number, yp: number, c: number): number {
    const { e, precision, d } = this;
    e.k('symv', precision)(d, c, this.s, d, vp, 0, yp);
    return e.k('dot', precision)(d, vp, yp);
  }

  /** out (d × d, full symmetric, at op) ← c·S */
  toDense(op: number, c: number): void {
    const { e, precision, d } = this;
    e.copy(op, this.s, d * d * BYTES[precision]);
    if (c !== 1) e.k('scal', precision)(d * d, c, op);
    e.k('symmetrize', precision)(d, op, d);
  }

  reset(): void {
    this.e.zero(this.s, this.d * this.d * BYTES[this.precision]);
  }
}

/**
 * The empirical Fisher of per-example gradients, `F = (1/n) Σ g_i g_iᵀ`, optionally as a running
 * average across steps, with damped solves `(F + λI)⁻¹ g`.
 *
 * @example
 * await init();
 * const F = new EmpiricalFisher(512, { damping: 1e-3, decay: 0.95 });
 * F.update(grads, 128);            // 128 per-example gradients of length 512, row-major
 * const step = F.precondition(g);  // (F + λI)⁻¹ g, a Float32Array of length 512
 */
export class EmpiricalFisher {
  /** number of parameters: F is d × d */
  readonly d: number;
  readonly precision: Precision;
  readonly representation: Exclude<Representation, 'auto'>;
  readonly decay: number;
  readonly biasCorrection: boolean;

  private _damping: number;
  private _steps = 0;
  private _examples = 0;
  /** β^t, by repeated multiplication (bit-identical in every engine) */
  private betaPow = 1;
  private _effectiveDamping: number;
  private _factorizations = 0;
  /** the factor block holds a valid factor of F + factorShift·I for the current F */
  private factorValid = false;
  private factorDampingUsed = Number.NaN;
  private store: DenseStore | undefined;
  private readonly e: Engine;
  private readonly token = {};

  /**
   * @param d number of parameters (≥ 1)
   * @throws RangeError on a bad d or option (naming it); TypeError if options is not an object
   */
  constructor(d: number, options?: EmpiricalFisherOptions) {
    check.size('d', d, 1);
    const o = check.options('options', options, OPTION_NAMES);
    const precision = o.precision ?? 'f32';
    if (precision !== 'f32' && precision !== 'f64') {
      throw new RangeError(`options.precision must be 'f32' or 'f64', got ${String(precision)}`);
    }
    const damping = o.damping === undefined ? 1e-3 : check.finite('options.damping', o.damping);
    if (damping < 0) throw new RangeError(`options.damping must be ≥ 0, got ${damping}`);
    const decay = o.decay === undefined ? 0 : check.finite('options.decay', o.decay);
    if (!(decay >= 0 && decay < 1)) throw new RangeError(`options.decay must be in [0, 1), got ${decay}`);
    const bias = o.biasCorrection ?? true;
    if (typeof bias !== 'boolean') throw new TypeError(`options.biasCorrection must be a boolean, got ${check.describe(bias)}`);
    const rep = o.representation ?? 'auto';
    if (typeof rep !== 'string' || !REPRESENTATIONS.includes(rep)) {
      throw new RangeError(`options.representation must be one of ${REPRESENTATIONS.join(', ')}, got ${String(rep)}`);
    }
    this.e = getEngine();
    this.d = d;
    this.precision = precision;
    this.decay = decay;
    this.biasCorrection = bias;
    this._damping = damping;
    this._effectiveDamping = damping;
    this.representation = 'dense';
    this.store = new DenseStore(this.e, precision, d);
    registry?.register(this, { e: this.e, ptrs: this.store.ptrs }, this.token);
  }

  /** Tikhonov damping λ ≥ 0; changing it refactors at the next `precondition`. */
  get damping(): number {
    return this._damping;
  }
  set damping(value: number) {
    this.live();
    check.finite('damping', value);
    if (value < 0) throw new RangeError(`damping must be ≥ 0, got ${value}`);
    this._damping = value;
  }

  /** number of accepted `update` calls since construction or `reset` */
  get steps(): number {
    return this._steps;
  }
  /** number of examples (rows of G) accepted since construction or `reset` */
  get examples(): number {
    return this._examples;
  }
  /** the damping the latest factorisation used: λ, plus the jitter a failed factorisation needed */
  get effectiveDamping(): number {
    return this._effectiveDamping;
  }
  /** how many Cholesky factorisations have run (retries included) */
  get factorizations(): number {
    return this._factorizations;
  }
  get disposed(): boolean {
    return this.store === undefined;
  }

  /**
   * Adds a minibatch of per-example gradients.
   * With decay β = 0, F becomes (1/n)GᵀG; otherwise F ← βF + (1 − β)(1/n)GᵀG.
   * @param G [in] n × d row-major, one gradient per row (either float type; converted)
   * @param n number of examples (≥ 1)
   * @returns this
   * @throws RangeError on a length mismatch or a non-finite entry; nothing changes then
   */
  update(G: FloatArray, n: number): this {
    const store = this.live();
    check.floatArray('G', G);
    check.size('n', n, 1);
    check.length('G', G, n * this.d, 'n·d');
    const { e, precision, d } = this;
    const gp = e.alloc(n * d * BYTES[precision]);
    try {
      e.put(precision, gp, G);
      check.finiteInWasm(e, precision, 'G', G, gp, n * d);
      // from here on nothing can fail: the state changes only after every check passed
      const beta = this.decay;
      const first = this._steps === 0;
      if (beta === 0 || first) store.accumulate(gp, n, 0, (beta === 0 ? 1 : 1 - beta) / n);
      else store.accumulate(gp, n, beta, (1 - beta) / n);
    } finally {
      e.free(gp);
    }
    this._steps++;
    this._examples += n;
    this.betaPow *= this.decay;
    this.factorValid = false;
    return this;
  }

  /**
   * `(F + λI)⁻¹ g`. Factors F + λI only when F or λ changed since the last call. If the
   * factorisation fails (λ = 0 and a singular F, say), retries with a jitter of mean(diag F)·1e-6
   * (f32) or ·1e-8 (f64), ten times larger per try, three tries; `effectiveDamping` tells what was
   * used.
   * @param g [in] length d (either float type; converted)
   * @param out [out] length d, the Fisher's precision; may be `g`
   * @throws NotPositiveDefiniteError if F + λI cannot be factored even with jitter
   */
  precondition<T extends FloatArray>(g: FloatArray, out?: T): T {
    const store = this.live();
    check.floatArray('g', g);
    check.length('g', g, this.d, 'd');
    const result = out === undefined ? (allocArray(this.precision, this.d) as T) : check.output<T>(out, this.precision, this.d, 'd');
    const { e, precision, d } = this;
    const xp = e.alloc(d * BYTES[precision]);
    try {
      e.put(precision, xp, g);
      check.finiteInWasm(e, precision, 'g', g, xp, d);
      this.ensureFactor(store);
      store.solve(xp);
      result.set(e.view(precision, xp, d));
      return result;
    } finally {
      e.free(xp);
    }
  }

  /** `vᵀ F v` (F without damping). */
  quadratic(v: FloatArray): number {
    const store = this.live();
    check.floatArray('v', v);
    check.length('v', v, this.d, 'd');
    const { e, precision, d } = this;
    const vp = e.alloc(2 * d * BYTES[precision]);
    try {
      e.put(precision, vp, v);
      check.finiteInWasm(e, precision, 'v', v, vp, d);
      return store.quadratic(vp, vp + d * BYTES[precision], this.scale());
    } finally {
      e.free(vp);
    }
  }

  /** F as a full symmetric d × d matrix (no damping). */
  toDense<T extends FloatArray>(out?: T): T {
    const store = this.live();
    const { e, precision, d } = this;
    const result = out === undefined ? (allocArray(precision, d * d) as T) : check.output<T>(out, precision, d * d, 'd·d');
    const op = e.alloc(d * d * BYTES[precision]);
    try {
      store.toDense(op, this.scale());
      result.set(e.view(precision, op, d * d));
      return result;
    } finally {
      e.free(op);
    }
  }

  /** Forgets every update: F = 0, steps = 0, examples = 0. */
  reset(): void {
    const store = this.live();
    store.reset();
    this._steps = 0;
    this._examples = 0;
    this.betaPow = 1;
    this.factorValid = false;
  }

  /** Frees the wasm memory. A second call does nothing. */
  dispose(): void {
    if (!this.store) return;
    registry?.unregister(this.token);
    for (const p of this.store.ptrs) this.e.free(p);
    this.store = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The factor F = scale()·S: 0 before any update, 1/(1 − β^t) with bias correction. */
  private scale(): number {
    if (this._steps === 0) return 0;
    if (this.decay === 0 || !this.biasCorrection) return 1;
    return 1 / (1 - this.betaPow);
  }

  private ensureFactor(store: DenseStore): void {
    if (this.factorValid && this.factorDampingUsed === this._damping) return;
    const c = this.scale();
    let shift = this._damping;
    let info = store.factor(c, shift);
    this._factorizations++;
    if (info !== 0) {
      const base = c * store.meanDiagonal();
      let jitter = base * JITTER[this.precision];
      for (let t = 0; t < JITTER_TRIES && info !== 0 && jitter > 0; t++) {
        shift = this._damping + jitter;
        info = store.factor(c, shift);
        this._factorizations++;
        jitter *= 10;
      }
    }
    if (info !== 0) {
      this.factorValid = false;
      throw new NotPositiveDefiniteError(
        info,
        `F + λI with λ = ${this._damping}, after ${JITTER_TRIES} tries with jitter up to mean(diag F)·${
          JITTER[this.precision] * 100
        }; increase the damping`,
      );
    }
    this.factorValid = true;
    this.factorDampingUsed = this._damping;
    this._effectiveDamping = shift;
  }

  private live(): DenseStore {
    if (!this.store) throw check.disposedError('EmpiricalFisher');
    return this.store;
  }
}
