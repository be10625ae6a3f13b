/**
 * The empirical Fisher F = (1/n) GᵀG of per-example gradients, its running average, and the
 * damped solve (F + λI)⁻¹ g, in four representations.
 */
import { getEngine, type Engine, type FloatArray, type Precision } from './engine.js';
import { NotPositiveDefiniteError } from './errors.js';
import { allocArray, BYTES } from './linalg.js';
import { formatBytes } from './memory.js';
import {
  BlockDiagStore,
  DenseStore,
  DiagStore,
  LowRankStore,
  type FisherStore,
  type Holder,
  type StoreKind,
  type StoreState,
} from './stores.js';
import * as check from './validate.js';

export type Representation = 'auto' | StoreKind;
const REPRESENTATIONS: readonly string[] = ['auto', 'dense', 'lowrank', 'blockdiag', 'diag'];

export interface EmpiricalFisherOptions {
  /** 'f32' (default) or 'f64': the precision of storage and arithmetic */
  precision?: Precision;
  /** Tikhonov damping λ ≥ 0 (default 1e-3) */
  damping?: number;
  /** running-average factor β ∈ [0, 1) (default 0: F is the latest minibatch's) */
  decay?: number;
  /** divide the running average by 1 − β^t (default true) */
  biasCorrection?: boolean;
  /**
   * how F is stored (default 'auto': dense while its storage, F and its factor, fits `maxBytes`,
   * otherwise lowrank)
   */
  representation?: Representation;
  /** block sizes for 'blockdiag' (one per layer), summing to d */
  blocks?: readonly number[];
  /**
   * rows kept by 'lowrank'. Default: all rows of the latest minibatch when decay = 0; otherwise
   * max(256, n) rows, the newest first
   */
  rank?: number;
  /** memory budget of 'auto' and the limit for 'dense' (default 256 MiB) */
  maxBytes?: number;
}

const OPTION_NAMES = [
  'precision',
  'damping',
  'decay',
  'biasCorrection',
  'representation',
  'blocks',
  'rank',
  'maxBytes',
] as const;

/** Default memory budget of the dense representation. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Rows kept by a low-rank running average when `rank` is not given. */
export const DEFAULT_RANK = 256;

/** Relative jitter of the first retry, per precision (× 10 per further try). */
const JITTER: Record<Precision, number> = { f32: 1e-6, f64: 1e-8 };
const JITTER_TRIES = 3;

/** The saved state of an EmpiricalFisher: plain numbers and typed arrays (structuredClone-safe). */
export interface EmpiricalFisherState {
  format: 'empirical-fisher/EmpiricalFisher';
  version: 1;
  d: number;
  precision: Precision;
  representation: StoreKind;
  damping: number;
  decay: number;
  biasCorrection: boolean;
  blocks: number[] | undefined;
  rank: number | undefined;
  maxBytes: number;
  steps: number;
  examples: number;
  /** rows of the latest update */
  lastBatch: number;
  betaPow: number;
  store: StoreState;
}

const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<Holder>((h) => {
        for (const p of h.ptrs) h.e.free(p);
        h.ptrs = [];
      })
    : undefined;

interface Resolved {
  precision: Precision;
  damping: number;
  decay: number;
  biasCorrection: boolean;
  representation: StoreKind;
  blocks: number[] | undefined;
  rank: number | undefined;
  maxBytes: number;
}

function resolveOptions(d: number, options: unknown): Resolved {
  const o = check.options('options', options, OPTION_NAMES);
  const precision = o.precision === undefined ? 'f32' : o.precision;
  if (precision !== 'f32' && precision !== 'f64') {
    throw new RangeError(`options.precision must be 'f32' or 'f64', got ${String(precision)}`);
  }
  const damping = o.damping === undefined ? 1e-3 : check.finiteIn(precision, 'options.damping', o.damping);
  if (damping < 0) throw new RangeError(`options.damping must be ≥ 0, got ${damping}`);
  const decay = o.decay === undefined ? 0 : check.finite('options.decay', o.decay);
  if (!(decay >= 0 && decay < 1)) throw new RangeError(`options.decay must be in [0, 1), got ${decay}`);
  const biasCorrection = o.biasCorrection === undefined ? true : o.biasCorrection;
  if (typeof biasCorrection !== 'boolean') {
    throw new TypeError(`options.biasCorrection must be a boolean, got ${check.describe(biasCorrection)}`);
  }
  const rep = o.representation === undefined ? 'auto' : o.representation;
  if (typeof rep !== 'string' || !REPRESENTATIONS.includes(rep)) {
    throw new RangeError(`options.representation must be one of ${REPRESENTATIONS.join(', ')}, got ${String(rep)}`);
  }
  const maxBytes = o.maxBytes === undefined ? DEFAULT_MAX_BYTES : check.size('options.maxBytes', o.maxBytes, 1);
  const rank = o.rank === undefined ? undefined : check.size('options.rank', o.rank, 1);
  let blocks: number[] | undefined;
  if (o.blocks !== undefined) {
    if (!Array.isArray(o.blocks) && !ArrayBuffer.isView(o.blocks)) {
      throw new TypeError(`options.blocks must be an array of block sizes, got ${check.describe(o.blocks)}`);
    }
    blocks = Array.from(o.blocks as ArrayLike<number>);
    let sum = 0;
    blocks.forEach((b, i) => {
      check.size(`options.blocks[${i}]`, b, 1);
      sum += b;
    });
    if (sum !== d) throw new RangeError(`options.blocks sum to ${sum}, expected d = ${d}`);
    if (rep !== 'blockdiag') throw new RangeError(`options.blocks is only for representation 'blockdiag'`);
  }
  if (rank !== undefined && rep !== 'lowrank' && rep !== 'auto') {
    throw new RangeError(`options.rank is only for representation 'lowrank' (or 'auto')`);
  }
  let representation: StoreKind;
  const denseBytes = DenseStore.bytes(d, precision);
  if (rep === 'auto') {
    representation = denseBytes <= maxBytes ? 'dense' : 'lowrank';
  } else if (rep === 'dense') {
    if (denseBytes > maxBytes) {
      throw new RangeError(
        `a dense Fisher of d = ${d} in ${precision} needs ${formatBytes(denseBytes)} (F and its factor, ` +
          `2·d² values), over the budget options.maxBytes = ${formatBytes(maxBytes)}: use ` +
          `representation 'lowrank' (memory rank·d) or 'blockdiag' (one block per layer), or raise maxBytes`,
      );
    }
    representation = 'dense';
  } else if (rep === 'blockdiag') {
    if (!blocks) throw new RangeError(`representation 'blockdiag' needs options.blocks (block sizes summing to d)`);
    const bytes = BlockDiagStore.bytes(blocks, precision);
    if (bytes > maxBytes) {
      throw new RangeError(
        `the blocks need ${formatBytes(bytes)}, over the budget options.maxBytes = ${formatBytes(maxBytes)}`,
      );
    }
    representation = 'blockdiag';
  } else {
    representation = rep as StoreKind;
  }
  if (representation === 'lowrank' && rank !== undefined) {
    const bytes = LowRankStore.bytes(d, rank);
    if (bytes > maxBytes && rep === 'lowrank' && o.maxBytes !== undefined) {
      throw new RangeError(`rank ${rank} needs ${formatBytes(bytes)}, over options.maxBytes = ${formatBytes(maxBytes)}`);
    }
  }
  return { precision, damping, decay, biasCorrection, representation, blocks, rank, maxBytes };
}

function makeStore(e: Engine, d: number, r: Resolved): FisherStore {
  switch (r.representation) {
    case 'dense':
      return new DenseStore(e, r.precision, d);
    case 'blockdiag':
      return new BlockDiagStore(e, r.precision, d, r.blocks!);
    case 'diag':
      return new DiagStore(e, r.precision, d);
    case 'lowrank':
      return new LowRankStore(e, r.precision, d, r.rank, DEFAULT_RANK);
  }
}

/**
 * The empirical Fisher of per-example gradients, `F = (1/n) Σ g_i g_iᵀ`, optionally as a running
 * average across steps, with damped solves `(F + λI)⁻¹ g`.
 *
 * Representations: 'dense' (d² storage, Cholesky d³/3 per refresh, 2d² per solve); 'lowrank' (the
 * newest rows of gradients, r·d storage, Woodbury solve in r²·d + r³/3); 'blockdiag' (one dense
 * block per layer); 'diag' (F_jj only). 'auto' picks dense while F and its factor fit `maxBytes`
 * (256 MiB: d ≤ 5792 in f32, 4096 in f64), otherwise lowrank.
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
  /** the representation in use ('auto' resolved) */
  readonly representation: StoreKind;
  readonly decay: number;
  readonly biasCorrection: boolean;
  /** block sizes of 'blockdiag' */
  readonly blocks: readonly number[] | undefined;
  /** the memory budget */
  readonly maxBytes: number;

  private readonly rankOption: number | undefined;
  private _damping: number;
  private _steps = 0;
  private _examples = 0;
  /** rows of the latest update (with decay 0, F is that batch's alone) */
  private lastBatch = 0;
  /** β^t, by repeated multiplication (bit-identical in every engine) */
  private betaPow = 1;
  private _effectiveDamping: number;
  private _factorizations = 0;
  /** the store's factor is valid for the current F and `factorDampingUsed` */
  private factorValid = false;
  private factorDampingUsed = Number.NaN;
  /** the store holds a usable factor, possibly of an older F (dense, blockdiag, diag keep it apart from S) */
  private hasFactor = false;
  private store: FisherStore | undefined;
  private readonly e: Engine;
  private readonly token = {};

  /**
   * @param d number of parameters (≥ 1)
   * @throws RangeError on a bad d or option (naming it), or when 'dense' would exceed maxBytes (before
   *   anything is allocated); TypeError if options is not an object
   */
  constructor(d: number, options?: EmpiricalFisherOptions) {
    check.size('d', d, 1);
    const r = resolveOptions(d, options);
    this.e = getEngine();
    this.d = d;
    this.precision = r.precision;
    this.decay = r.decay;
    this.biasCorrection = r.biasCorrection;
    this.representation = r.representation;
    this.blocks = r.blocks ? Object.freeze([...r.blocks]) : undefined;
    this.maxBytes = r.maxBytes;
    this.rankOption = r.rank;
    this._damping = r.damping;
    this._effectiveDamping = r.damping;
    this.store = makeStore(this.e, d, r);
    registry?.register(this, this.store.holder, this.token);
  }

  /** Tikhonov damping λ ≥ 0; changing it refactors at the next `precondition`. */
  get damping(): number {
    return this._damping;
  }
  set damping(value: number) {
    this.live();
    check.finiteIn(this.precision, 'damping', value);
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
  /** how many factorisations have run (retries included) */
  get factorizations(): number {
    return this._factorizations;
  }
  /** rows held by 'lowrank' (r of the Woodbury solve); d otherwise */
  get rank(): number {
    const s = this.live();
    return s instanceof LowRankStore ? s.rank : this.d;
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
    this.live();
    check.floatArray('G', G);
    check.size('n', n, 1);
    check.length('G', G, n * this.d, 'n·d');
    const { e, precision, d } = this;
    const gp = e.alloc(n * d * BYTES[precision]);
    try {
      e.put(precision, gp, G);
      check.finiteInWasm(e, precision, 'G', G, gp, n * d);
      this.updateInWasm(gp, n);
    } finally {
      e.free(gp);
    }
    return this;
  }

  /**
   * @internal Accumulates n validated rows already in wasm memory at gp (row stride d). Changes
   * nothing if it throws (a low-rank store that cannot grow).
   */
  updateInWasm(gp: number, n: number): void {
    const store = this.live();
    const beta = this.decay;
    if (beta === 0 || this._steps === 0) store.accumulate(gp, n, 0, (beta === 0 ? 1 : 1 - beta) / n);
    else store.accumulate(gp, n, beta, (1 - beta) / n);
    this._steps++;
    this._examples += n;
    this.lastBatch = n;
    this.betaPow *= beta;
    this.factorValid = false;
    // the low-rank factor is tied to the rows it was computed from, which an update replaces
    if (store instanceof LowRankStore) this.hasFactor = false;
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
    this.live();
    check.floatArray('g', g);
    check.length('g', g, this.d, 'd');
    const result =
      out === undefined ? (allocArray(this.precision, this.d) as T) : check.output<T>(out, this.precision, this.d, 'd');
    const { e, precision, d } = this;
    const xp = e.alloc(d * BYTES[precision]);
    try {
      e.put(precision, xp, g);
      check.finiteInWasm(e, precision, 'g', g, xp, d);
      this.solveInWasm(xp, true);
      result.set(e.view(precision, xp, d));
      return result;
    } finally {
      e.free(xp);
    }
  }

  /**
   * @internal x ← (F + λI)⁻¹ x for a validated vector at xp. With `refresh` false, reuses the last
   * factor even if F changed since (the optimizer's updateEvery); it still factors if there is none.
   */
  solveInWasm(xp: number, refresh: boolean): void {
    const store = this.live();
    const fresh = this.factorValid && this.factorDampingUsed === this._damping;
    if (!fresh && (refresh || !this.hasFactor)) this.factor(store);
    store.solve(xp);
  }

  /**
   * @internal x ← (F + λI)⁻¹ ḡ where ḡ (at xp) is the mean of the n rows of the latest update: on
   * 'lowrank' holding that whole batch, computed in the span form (exact, no cancellation); on
   * every other path the same as solveInWasm(xp, true).
   */
  solveLatestMeanInWasm(xp: number, n: number): 'span' | 'woodbury' | 'direct' {
    const store = this.live();
    const fresh = this.factorValid && this.factorDampingUsed === this._damping;
    if (!fresh) this.factor(store);
    if (store instanceof LowRankStore) {
      if (store.solveLatestMean(xp, n)) return 'span';
      store.solve(xp);
      return 'woodbury';
    }
    store.solve(xp);
    return 'direct';
  }

  /** @internal the damping of the factor held (possibly stale), or undefined */
  get factorDamping(): number | undefined {
    return this.hasFactor ? this.factorDampingUsed : undefined;
  }

  /** @internal factors F + λI now unless the factor held is current */
  prepareFactor(): void {
    const store = this.live();
    if (!(this.factorValid && this.factorDampingUsed === this._damping)) this.factor(store);
  }

  /** @internal puts back the content and counters of `save()` (an undo); the factor is dropped */
  restore(state: EmpiricalFisherState): void {
    const store = this.live();
    store.load(state.store);
    this._steps = state.steps;
    this._examples = state.examples;
    this.lastBatch = state.lastBatch;
    this.betaPow = state.betaPow;
    this._damping = state.damping;
    this.factorValid = false;
    this.hasFactor = false;
  }

  /** `vᵀ F v` (F without damping). */
  quadratic(v: FloatArray): number {
    this.live();
    check.floatArray('v', v);
    check.length('v', v, this.d, 'd');
    const { e, precision, d } = this;
    const vp = e.alloc(d * BYTES[precision]);
    try {
      e.put(precision, vp, v);
      check.finiteInWasm(e, precision, 'v', v, vp, d);
      return this.quadraticInWasm(vp);
    } finally {
      e.free(vp);
    }
  }

  /** @internal vᵀFv for a validated vector at vp */
  quadraticInWasm(vp: number): number {
    return this.live().quadratic(vp, this.scale());
  }

  /**
   * F as a full symmetric d × d matrix (no damping); for 'lowrank' and 'diag' too, when d² values
   * fit in memory.
   */
  toDense<T extends FloatArray>(out?: T): T {
    const store = this.live();
    const { e, precision, d } = this;
    const result =
      out === undefined ? (allocArray(precision, d * d) as T) : check.output<T>(out, precision, d * d, 'd·d');
    const op = e.alloc(d * d * BYTES[precision]);
    try {
      store.toDense(op, this.scale());
      result.set(e.view(precision, op, d * d));
      return result;
    } finally {
      e.free(op);
    }
  }

  /** Forgets every update: F = 0, steps = 0, examples = 0 (damping and options stay). */
  reset(): void {
    const store = this.live();
    store.reset();
    this._steps = 0;
    this._examples = 0;
    this.lastBatch = 0;
    this.betaPow = 1;
    this.factorValid = false;
    this.hasFactor = false;
  }

  /**
   * Adds another accumulator's statistics, weighted by example counts: F ← (e₁F + e₂F₂)/(e₁ + e₂)
   * with e the examples each has seen, so data-parallel workers can accumulate separately and one
   * combines. Both must have the same d, precision, representation, decay, blocks and step count.
   * `other` is not changed. For 'lowrank' the other's rows are added (the oldest evicted beyond
   * `rank`). @returns this
   */
  merge(other: EmpiricalFisher): this {
    const store = this.live();
    if (!(other instanceof EmpiricalFisher)) {
      throw new TypeError(`other must be an EmpiricalFisher, got ${check.describe(other)}`);
    }
    if (other === this) throw new RangeError('other must be another EmpiricalFisher, not this one');
    const os = other.live();
    const same = (what: string, a: unknown, b: unknown) => {
      if (a !== b) throw new RangeError(`other has ${what} ${String(b)}, this one ${String(a)}: they cannot be merged`);
    };
    same('d', this.d, other.d);
    same('precision', this.precision, other.precision);
    same('representation', this.representation, other.representation);
    same('decay', this.decay, other.decay);
    same('blocks', String(this.blocks), String(other.blocks));
    if (this._steps !== 0 && other._steps !== 0) same('steps', this._steps, other._steps);
    if (other._steps === 0) return this;
    if (this._steps === 0) {
      if (store instanceof LowRankStore) store.reserve(store.mergeCapacity(os as LowRankStore));
      store.merge(os, 0, 1);
      this.lastBatch = 0;
      this._steps = other._steps;
      this.betaPow = other.betaPow;
    } else {
      // weights: the examples behind each F — with decay 0 those of the latest batches alone
      const mine = this.decay === 0 ? this.lastBatch : this._examples;
      const theirs = other.decay === 0 ? other.lastBatch : other._examples;
      const total = mine + theirs;
      if (store instanceof LowRankStore) store.reserve(store.mergeCapacity(os as LowRankStore));
      store.merge(os, mine / total, theirs / total);
    }
    this._examples += other._examples;
    this.lastBatch += other.lastBatch;
    this.factorValid = false;
    this.hasFactor = false;
    return this;
  }

  /** The state as plain numbers and typed arrays (survives structuredClone, JSON with care). */
  save(): EmpiricalFisherState {
    const store = this.live();
    return {
      format: 'empirical-fisher/EmpiricalFisher',
      version: 1,
      d: this.d,
      precision: this.precision,
      representation: this.representation,
      damping: this._damping,
      decay: this.decay,
      biasCorrection: this.biasCorrection,
      blocks: this.blocks ? [...this.blocks] : undefined,
      rank: this.rankOption,
      maxBytes: this.maxBytes,
      steps: this._steps,
      examples: this._examples,
      lastBatch: this.lastBatch,
      betaPow: this.betaPow,
      store: store.save(),
    };
  }

  /** Rebuilds an EmpiricalFisher from `save()`'s output, bit for bit. */
  static load(state: EmpiricalFisherState): EmpiricalFisher {
    if (!state || typeof state !== 'object' || state.format !== 'empirical-fisher/EmpiricalFisher') {
      throw new TypeError('state is not the output of EmpiricalFisher.prototype.save()');
    }
    if (state.version !== 1) throw new RangeError(`state.version ${String(state.version)} is not supported (1 is)`);
    const F = new EmpiricalFisher(state.d, {
      precision: state.precision,
      damping: state.damping,
      decay: state.decay,
      biasCorrection: state.biasCorrection,
      representation: state.representation,
      blocks: state.blocks,
      rank: state.rank,
      maxBytes: state.maxBytes,
    });
    try {
      checkStoreState(state, F.precision);
      F.live().load(state.store);
    } catch (err) {
      F.dispose();
      throw err;
    }
    F._steps = state.steps;
    F._examples = state.examples;
    F.lastBatch = state.lastBatch;
    F.betaPow = state.betaPow;
    return F;
  }

  /** Frees the wasm memory. A second call does nothing. */
  dispose(): void {
    if (!this.store) return;
    registry?.unregister(this.token);
    this.store.free();
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

  private factor(store: FisherStore): void {
    const c = this.scale();
    let shift = this._damping;
    let info = store.factor(c, shift);
    this._factorizations++;
    if (info !== 0) {
      let jitter = c * store.meanDiagonal() * JITTER[this.precision];
      for (let t = 0; t < JITTER_TRIES && info !== 0 && jitter > 0; t++) {
        shift = this._damping + jitter;
        info = store.factor(c, shift);
        this._factorizations++;
        jitter *= 10;
      }
    }
    if (info !== 0) {
      this.factorValid = false;
      this.hasFactor = false;
      throw new NotPositiveDefiniteError(
        info,
        `F + λI with λ = ${this._damping}, after ${JITTER_TRIES} retries with jitter up to mean(diag F)·${
          this.precision === 'f32' ? '1e-4' : '1e-6'
        }; increase the damping`,
      );
    }
    this.factorValid = true;
    this.hasFactor = true;
    this.factorDampingUsed = this._damping;
    this._effectiveDamping = shift;
  }

  private live(): FisherStore {
    if (!this.store) throw check.disposedError('EmpiricalFisher');
    return this.store;
  }
}

function checkStoreState(state: EmpiricalFisherState, precision: Precision): void {
  const s = state.store;
  if (!s || typeof s !== 'object') throw new TypeError('state.store is missing');
  for (const [k, v] of Object.entries(s)) {
    if (ArrayBuffer.isView(v) && (v instanceof Float32Array || v instanceof Float64Array)) {
      // S is kept in the Fisher's precision; the low-rank rows and weights are float64 always
      if (k === 'S' && check.precisionOf(`state.store.${k}`, v) !== precision) {
        throw new TypeError(`state.store.${k} is not ${precision}`);
      }
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i])) throw new RangeError(`state.store.${k}[${i}] is ${v[i]}: values must be finite`);
      }
    }
  }
}
