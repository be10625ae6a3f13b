/**
 * The empirical Fisher F = (1/n) GᵀG of per-example gradients, its running average, and the
 * damped solve (F + λI)⁻¹ g, in six representations.
 */
import { getEngine, type Engine, type FloatArray, type Precision } from './engine.js';
import { NotPositiveDefiniteError } from './errors.js';
import { allocArray, BYTES } from './linalg.js';
import { formatBytes } from './memory.js';
import {
  BlockDiagStore,
  DenseStore,
  DiagStore,
  floatType,
  freeHolder,
  StateFields,
  type FisherStore,
  type Holder,
  type StoreClass,
  type StoreKind,
  type StoreSpec,
  type StoreState,
  pow2,
  scalePow2,
} from './stores.js';
import { LowRankStore } from './lowrank.js';
import { EkfacStore, KroneckerStore, type LayerShape } from './kronecker.js';

import * as check from './validate.js';
import type { DenseLayerShape, DenseLayerStats } from './layers/index.js';
import type { LayerInWasm } from './layers/inwasm.js';
import { checkLayers, copyLayersIn, maxAbsGradient, writeLayerRows } from './layerstats.js';

/** The damped inverse of 'kronecker': S⊗Ā + λI itself ('exact'), or π-damped factors ('pi'). */
export type KroneckerDamping = 'exact' | 'pi';

/**
 * @internal The statistics whose mean gradient ḡ the vector to solve with is (the latest update's,
 * in wasm memory, this precision): 'kronecker' and 'ekfac' may take ḡ's rotation from them.
 */
export interface MeanOf {
  list: readonly LayerInWasm[];
  n: number;
}

/** Bytes of the row chunks 'dense' and 'blockdiag' materialise from layer statistics. */
const LAYER_CHUNK_BYTES = 16 << 20;

export type Representation = 'auto' | StoreKind;
const REPRESENTATIONS: readonly string[] = ['auto', 'dense', 'lowrank', 'blockdiag', 'diag', 'kronecker', 'ekfac'];

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
   * ℓ, the rows of the 'lowrank' Frequent-Directions sketch of the running average (it holds up to
   * ℓ plus a buffer of about ℓ rows of whole batches between shrinks). Default: the latest minibatch
   * whole when decay = 0; 256 otherwise
   */
  rank?: number;
  /** memory budget of 'auto' and the limit for 'dense' (default 256 MiB) */
  maxBytes?: number;
  /**
   * the dense layers of 'kronecker' and 'ekfac', in parameter order ({ inputs, outputs, bias
   * (default true) }; their parameters, layer after layer W row-major then b, must add up to d)
   */
  layers?: readonly DenseLayerShape[];
  /**
   * the damped inverse of 'kronecker': 'exact' (default) solves with S⊗Ā + λI itself (eigh of both
   * factors); 'pi' with (S + √λ/π·I)⊗(Ā + π√λ·I), the factored damping of Martens & Grosse
   */
  kroneckerDamping?: KroneckerDamping;
}

/** @internal the option names of EmpiricalFisher (the optimizer accepts them too) */
export const OPTION_NAMES = [
  'precision',
  'damping',
  'decay',
  'biasCorrection',
  'representation',
  'blocks',
  'rank',
  'maxBytes',
  'layers',
  'kroneckerDamping',
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
  /**
   * 2: 'lowrank' holds a sketch (version 1 states of the other representations load too);
   * 3: 'lowrank' holds the latest batch as dense-layer statistics (`updateLayers` with decay 0)
   */
  version: 1 | 2 | 3;
  d: number;
  precision: Precision;
  representation: StoreKind;
  damping: number;
  decay: number;
  biasCorrection: boolean;
  blocks: number[] | undefined;
  rank: number | undefined;
  maxBytes: number;
  /** the layers of 'kronecker' and 'ekfac' (bias explicit) */
  layers?: Required<DenseLayerShape>[];
  /** the damped inverse of 'kronecker' */
  kroneckerDamping?: KroneckerDamping;
  steps: number;
  examples: number;
  /** rows of the latest update */
  lastBatch: number;
  /** σ², the power of two the stored statistics are divided by */
  sigma2: number;
  betaPow: number;
  store: StoreState;
  /** the factor held when it is of an older F (the optimizer's updateEvery), so a load reuses it */
  staleFactor?: { values: FloatArray; damping: number; effectiveDamping: number };
}

const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<Holder>(freeHolder)
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
  layers: LayerShape[] | undefined;
  kroneckerDamping: KroneckerDamping;
}

/** The layers option: shapes with integer inputs, outputs ≥ 1 and a boolean bias, adding up to d. */
function resolveLayers(d: number, v: unknown): LayerShape[] {
  if (!Array.isArray(v)) {
    throw new TypeError(`options.layers must be an array of { inputs, outputs, bias } (one per dense layer), got ${check.describe(v)}`);
  }
  if (v.length === 0) throw new RangeError('options.layers must hold at least one layer');
  const shapes = v.map((l: unknown, i) => {
    const name = `options.layers[${i}]`;
    if (l === null || typeof l !== 'object') throw new TypeError(`${name} must be an object { inputs, outputs, bias }, got ${check.describe(l)}`);
    const o = l as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (k !== 'inputs' && k !== 'outputs' && k !== 'bias') throw new RangeError(`unknown option ${name}.${k}; a layer is { inputs, outputs, bias }`);
    }
    const inputs = check.size(`${name}.inputs`, o.inputs, 1);
    const outputs = check.size(`${name}.outputs`, o.outputs, 1);
    if (o.bias !== undefined && typeof o.bias !== 'boolean') {
      throw new TypeError(`${name}.bias must be a boolean or undefined, got ${check.describe(o.bias)}`);
    }
    return { inputs, outputs, bias: o.bias !== false };
  });
  let sum = 0;
  for (const l of shapes) sum += l.outputs * (l.inputs + (l.bias ? 1 : 0));
  if (sum !== d) {
    throw new RangeError(`options.layers describe ${sum} parameters (Σ outputs·inputs, + outputs with bias), expected d = ${d}`);
  }
  return shapes;
}

function resolveOptions(d: number, options: unknown): Resolved {
  const o = check.options('options', options, OPTION_NAMES);
  const precision = o.precision === undefined ? 'f32' : o.precision;
  if (precision !== 'f32' && precision !== 'f64') {
    throw new RangeError(`options.precision must be 'f32' or 'f64', got ${String(precision)}`);
  }
  const damping = o.damping === undefined ? 1e-3 : check.finiteIn(precision, 'options.damping', o.damping, true);
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
  const layered = rep === 'kronecker' || rep === 'ekfac';
  const layers = o.layers === undefined ? undefined : resolveLayers(d, o.layers);
  if (layers && !layered) throw new RangeError(`options.layers is only for representations 'kronecker' and 'ekfac'`);
  if (layered && !layers) {
    throw new RangeError(`representation '${rep}' needs options.layers: [{ inputs, outputs, bias }, …], the dense layers in parameter order`);
  }
  const kd = o.kroneckerDamping === undefined ? 'exact' : o.kroneckerDamping;
  if (kd !== 'exact' && kd !== 'pi') throw new RangeError(`options.kroneckerDamping must be 'exact' or 'pi', got ${String(kd)}`);
  if (o.kroneckerDamping !== undefined && rep !== 'kronecker') {
    throw new RangeError(`options.kroneckerDamping is only for representation 'kronecker' ('ekfac' damps its diagonal exactly)`);
  }
  if (layered) {
    const bytes = rep === 'kronecker' ? KroneckerStore.bytes(layers!, precision, kd) : EkfacStore.bytes(layers!, precision);
    if (bytes > maxBytes) {
      throw new RangeError(`the Kronecker factors need ${formatBytes(bytes)}, over the budget options.maxBytes = ${formatBytes(maxBytes)}`);
    }
  }
  if (rank !== undefined && rep !== 'lowrank' && rep !== 'auto') {
    throw new RangeError(`options.rank is only for representation 'lowrank' (or 'auto')`);
  }
  let representation: StoreKind;
  const denseBytes = BlockDiagStore.bytes([d], precision);
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
    const bytes = LowRankStore.bytes(d, rank, precision);
    if (bytes > maxBytes) {
      throw new RangeError(
        `options.rank = ${rank} needs ${formatBytes(bytes)} of low-rank storage (float64 rows of length d = ${d}), ` +
          `over the budget options.maxBytes = ${formatBytes(maxBytes)}: lower the rank or raise maxBytes`,
      );
    }
  }
  if (representation === 'diag' && DiagStore.bytes(d, precision) > maxBytes) {
    throw new RangeError(
      `a diagonal Fisher of d = ${d} needs ${formatBytes(DiagStore.bytes(d, precision))}, over options.maxBytes = ${formatBytes(maxBytes)}`,
    );
  }
  return { precision, damping, decay, biasCorrection, representation, blocks, rank, maxBytes, layers, kroneckerDamping: kd };
}

/** The most rows of length d a low-rank store may hold within `maxBytes`. */
function lowRankBudgetRows(d: number, maxBytes: number, precision: Precision): number {
  let r = Math.max(1, Math.floor(maxBytes / (BYTES[precision] * d)));
  while (r > 1 && LowRankStore.bytes(d, r, precision) > maxBytes) r = Math.floor(r * 0.9);
  return r;
}

function makeStore(e: Engine, d: number, r: Resolved): FisherStore {
  switch (r.representation) {
    case 'dense':
      return new DenseStore(e, r.precision, d);
    case 'blockdiag':
      return new BlockDiagStore(e, r.precision, d, r.blocks!);
    case 'diag':
      return new DiagStore(e, r.precision, d);
    case 'kronecker':
      return new KroneckerStore(e, r.precision, r.layers!, r.kroneckerDamping);
    case 'ekfac':
      return new EkfacStore(e, r.precision, r.layers!);
    case 'lowrank':
      return new LowRankStore(
        e,
        r.precision,
        d,
        r.rank,
        DEFAULT_RANK,
        lowRankBudgetRows(d, r.maxBytes, r.precision),
        r.decay === 0,
      );
  }
}

/**
 * The empirical Fisher of per-example gradients, `F = (1/n) Σ g_i g_iᵀ`, optionally as a running
 * average across steps, with damped solves `(F + λI)⁻¹ g`.
 *
 * Representations: 'dense' (d² storage, Cholesky d³/3 per refresh, 2d² per solve); 'lowrank' (rows
 * of gradients: the latest minibatch with decay 0, a Frequent-Directions sketch of the running
 * average otherwise; r·d storage, Woodbury solve in r²·d + r³/3); 'blockdiag' (one dense
 * block per layer); 'diag' (F_jj only); 'kronecker' (per dense layer of `options.layers`,
 * F_l = S_l ⊗ Ā_l with Ā = (1/n)Σ āāᵀ, ā = [a; 1], and S = (1/n)Σ eeᵀ, each factor a running
 * average with its own bias correction: S ⊗ Ā is the empirical Fisher block exactly when n = 1;
 * storage Σ (in+1)² + out², fed by `updateLayers` only); 'ekfac' (the same factors' eigenbasis with
 * the diagonal in it re-estimated from the projected per-example gradients at every update; the
 * basis is computed at the first update and recomputed at the update after each refresh —
 * `precondition`, or the optimizer's `updateEvery` — from the factors including that batch).
 * 'auto' picks dense while F and its factor fit `maxBytes` (256 MiB: d ≤ 5792 in f32, 4096 in
 * f64), otherwise lowrank.
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
  /** the dense layers of 'kronecker' and 'ekfac' (bias explicit) */
  readonly layers: readonly Readonly<Required<DenseLayerShape>>[] | undefined;
  /** the damped inverse of 'kronecker' */
  readonly kroneckerDamping: KroneckerDamping | undefined;

  private readonly rankOption: number | undefined;
  private _damping: number;
  private _steps = 0;
  private _examples = 0;
  /** rows of the latest update (with decay 0, F is that batch's alone) */
  private lastBatch = 0;
  /**
   * σ², a power of two: the store holds S = F/(c·σ²). It stays 1 unless the gradients are far from
   * 1 in magnitude (beyond 2^±16), so that f32 neither overflows (|g| ≈ 1e20: g² > 3.4e38) nor
   * underflows (|g| ≈ 1e-30: g² < 1.2e-38) in the outer products. Powers of two scale exactly.
   */
  private sigma2 = 1;
  /** the factor held is of F + λI with F negligible next to λ (x = g/λ) */
  private negligibleF = false;
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
    this.layers = r.layers ? Object.freeze(r.layers.map((l) => Object.freeze({ ...l }))) : undefined;
    this.kroneckerDamping = r.representation === 'kronecker' ? r.kroneckerDamping : undefined;
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
    check.finiteIn(this.precision, 'damping', value, true);
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
  /**
   * ρ of 'lowrank' with decay (0 otherwise): the mass its Frequent-Directions sketch dropped, in F's
   * units, with F_sketch ⪯ F ⪯ F_sketch + ρI for F the true running average and F_sketch =
   * `toDense()`. Solves add it to the damping (so `effectiveDamping` includes it).
   */
  get sketchError(): number {
    const s = this.live();
    return s instanceof LowRankStore ? s.dropped * this.scale() * this.sigma2 : 0;
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
    this.refuseRows('update(G, n)', 'updateLayers(list, n)');
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
   * `update(G, n)` on the threads of `init({ threads })`: its syrk ('dense', 'blockdiag') or Gram
   * matrix ('lowrank') split between them, the calling thread taking part (it runs the rest, and
   * holds on until the call is done, as `update` would: on a page's main thread, run training in a
   * Worker). The same result as `update`, bit for bit; without threads, `update` itself. Bad input
   * rejects with update's error, nothing changed. G is read before the promise is returned.
   */
  updateAsync(G: FloatArray, n: number): Promise<this> {
    return this.e.onThreads(() => this.update(G, n));
  }

  /** `updateLayers(list, n)` on the threads (see updateAsync); the same bits. */
  updateLayersAsync(list: readonly DenseLayerStats[], n: number): Promise<this> {
    return this.e.onThreads(() => this.updateLayers(list, n));
  }

  /** `precondition(g, out)` with its factorisation on the threads (see updateAsync); the same bits. */
  preconditionAsync<T extends FloatArray>(g: FloatArray, out?: T): Promise<T> {
    return this.e.onThreads(() => this.precondition(g, out));
  }

  /**
   * @internal Accumulates n validated rows already in wasm memory at gp (row stride d). Changes
   * nothing if it throws (a low-rank store that cannot grow).
   */
  updateInWasm(gp: number, n: number): void {
    const store = this.live();
    this.refuseRows('update(G, n)', 'updateLayers(list, n)');
    const overwrite = this.decay === 0 || this._steps === 0;
    this.accumulateScaled(store, gp, n, overwrite);
    this.counted(store, n);
  }

  /** The counters of an update of n examples just accumulated into `store`. */
  private counted(store: FisherStore, n: number): void {
    this._steps++;
    this._examples += n;
    this.lastBatch = n;
    this.betaPow *= this.decay;
    this.factorValid = false;
    // the low-rank factor is tied to the rows it was computed from, which an update replaces
    if (store instanceof LowRankStore) this.hasFactor = false;
  }

  /**
   * Adds a minibatch described by its dense layers instead of G: the same as
   * `update(G, n)` with G the per-example gradients of the layers (`layers.perExampleGradients`, in
   * the layer kit's parameter layout: layer after layer, W row-major outputs × inputs, then b), but
   * G is not formed where the representation does not need it:
   * - 'lowrank' with decay 0 keeps the batch as the statistics themselves (float64 copies of A and
   *   E): memory n·Σ(inputs + outputs) + O(n²), and every solve, `quadratic` and the optimizer's
   *   diagnostics go through the Gram matrix K = Σ (AAᵀ + 1)∘(EEᵀ) and the products G v, Gᵀu;
   * - 'lowrank' with decay > 0 writes the rows straight into its sketch's row buffer (ℓ rows of
   *   length d, as `update` holds them);
   * - 'diag' accumulates (E∘E)ᵀ(A∘A) directly;
   * - 'dense' and 'blockdiag' (d² storage anyway) materialise the rows in chunks of ≤ 16 MiB.
   * @param list [in] the layers' statistics in parameter order: { A (n × inputs), E (n × outputs),
   *   inputs, outputs, bias (default true) }, row-major, A and E of one float type (converted)
   * @param n number of examples (≥ 1)
   * @returns this
   * @throws TypeError for a list that is not an array of such objects; RangeError naming the
   *   layer for a wrong length, a non-finite value, or parameters that do not add up to d; nothing
   *   changes then
   * @example
   * const F = new EmpiricalFisher(layers.size(shapes), { representation: 'lowrank' });
   * F.updateLayers([{ A: X, E: E1, inputs: 784, outputs: 1024 }, { A: H, E: E2, inputs: 1024, outputs: 10 }], 128);
   * const step = F.precondition(meanGradient);
   */
  updateLayers(list: readonly DenseLayerStats[], n: number): this {
    this.live();
    check.size('n', n, 1);
    const stats = checkLayers(list, n, this.d);
    this.checkLayerShapes(stats);
    const { e, precision } = this;
    const block = copyLayersIn(e, precision, stats, n);
    try {
      this.updateLayersInWasm(block.list, n);
    } finally {
      e.free(block.ptr);
    }
    return this;
  }

  /**
   * @internal For 'kronecker' and 'ekfac': throws an Error saying that G cannot come in as rows
   * (`what`), pointing to the layer path (`instead`).
   */
  refuseRows(what: string, instead: string): void {
    if (this.layers) {
      throw new Error(
        `${what} is not available with representation '${this.representation}': its Kronecker factors are built ` +
          `from each dense layer's inputs and output gradients, not from rows of G; use ${instead}`,
      );
    }
  }

  /** @internal For 'kronecker' and 'ekfac': the statistics must be of the layers given at construction. */
  checkLayerShapes(list: readonly DenseLayerShape[]): void {
    const shapes = this.layers;
    if (!shapes) return;
    if (list.length !== shapes.length) {
      throw new RangeError(`list has ${list.length} layers, this ${this.representation} Fisher was made for ${shapes.length} (options.layers)`);
    }
    list.forEach((l, i) => {
      const s = shapes[i];
      const bias = l.bias !== false;
      if (l.inputs !== s.inputs || l.outputs !== s.outputs || bias !== s.bias) {
        throw new RangeError(
          `list[${i}] is a layer of ${l.inputs} inputs, ${l.outputs} outputs, bias ${bias}; options.layers[${i}] has ` +
            `${s.inputs}, ${s.outputs}, bias ${s.bias}`,
        );
      }
    });
  }

  /**
   * @internal 'ekfac': the next update recomputes the eigenbasis of the factors (with its own
   * batch included) before it re-estimates the diagonal; other representations: nothing.
   */
  requestBasisRefresh(): void {
    const store = this.live();
    if (store instanceof EkfacStore) store.refreshBasis();
  }

  /**
   * @internal Accumulates the per-example gradients of validated layer statistics in wasm memory
   * (this precision; not changed). Throws a RangeError (nothing changed) if a gradient overflows.
   */
  updateLayersInWasm(list: readonly LayerInWasm[], n: number): void {
    const store = this.live();
    const { e, precision, d } = this;
    const b = BYTES[precision];
    const beta = this.decay;
    const overwrite = beta === 0 || this._steps === 0;
    const m = maxAbsGradient(e, precision, list, n);
    const oldExp = exponentOf(this.sigma2) / 2;
    const newExp = this.scaleExponent(m, overwrite);
    // G/σ: E/σ (exact: powers of two), in a copy
    let scaled = list;
    let ecopy = 0;
    let chunk = 0;
    let rowsPer = 0;
    try {
      if (newExp !== 0) {
        let total = 0;
        for (const l of list) total += n * l.outputs;
        ecopy = e.alloc(total * b);
        let q = ecopy;
        scaled = list.map((l) => {
          e.copy(q, l.ep, n * l.outputs * b);
          scalePow2(e, precision, q, n * l.outputs, -newExp);
          const s = { ...l, ep: q };
          q += n * l.outputs * b;
          return s;
        });
      }
      if (!store.accumulateLayers) {
        rowsPer = Math.max(1, Math.min(n, Math.floor(LAYER_CHUNK_BYTES / (d * b))));
        chunk = e.alloc(rowsPer * d * b);
      }
      if (!overwrite && newExp !== oldExp) store.rescale(2 * (oldExp - newExp));
      const keep = overwrite ? 0 : beta;
      const weight = (overwrite ? (beta === 0 ? 1 : 1 - beta) : 1 - beta) / n;
      if (store.accumulateLayers) {
        store.accumulateLayers(scaled, n, keep, weight);
      } else {
        for (let i0 = 0; i0 < n; i0 += rowsPer) {
          const c = Math.min(rowsPer, n - i0);
          writeLayerRows(e, precision, scaled, i0, c, chunk, d);
          store.accumulate(chunk, c, i0 === 0 ? keep : 1, weight);
        }
      }
    } finally {
      if (chunk) e.free(chunk);
      if (ecopy) e.free(ecopy);
    }
    this.sigma2 = pow2(2 * newExp);
    this.counted(store, n);
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
      // 'ekfac': a refreshed factorisation means a new eigenbasis, computed at the next update
      this.requestBasisRefresh();
      return result;
    } finally {
      e.free(xp);
    }
  }

  /**
   * @internal x ← (F + λI)⁻¹ x for a validated vector at xp. With `refresh` false, reuses the last
   * factor even if F changed since (the optimizer's updateEvery); it still factors if there is none.
   */
  solveInWasm(xp: number, refresh: boolean, mean?: MeanOf): void {
    const store = this.live();
    const fresh = this.factorValid && this.factorDampingUsed === this._damping;
    // 'ekfac' refactors whenever F changed: its factor is c·D + λ (O(d)), D re-estimated every
    // update; `refresh` concerns its eigenbasis (requestBasisRefresh)
    if (!fresh && (refresh || !this.hasFactor || store instanceof EkfacStore)) this.factor(store);
    this.solveScaled(store, xp, mean);
  }

  /**
   * @internal x ← (F + λI)⁻¹ ḡ where ḡ (at xp) is the mean of the n rows of the latest update: on
   * 'lowrank' holding that whole batch, computed in the span form (exact, no cancellation); on
   * every other path the same as solveInWasm(xp, true).
   */
  solveLatestMeanInWasm(xp: number, n: number, mean?: MeanOf): 'span' | 'woodbury' | 'direct' {
    const store = this.live();
    const fresh = this.factorValid && this.factorDampingUsed === this._damping;
    if (!fresh) this.factor(store);
    if (store instanceof LowRankStore) {
      if (this.sigma2 === 1 && !this.negligibleF && store.solveLatestMean(xp, n)) {
        check.resultFinite(this.e, this.precision, '(F + λI)⁻¹ḡ', xp, this.d, 'increase the damping');
        return 'span';
      }
      this.solveScaled(store, xp);
      return 'woodbury';
    }
    this.solveScaled(store, xp, mean);
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
    this.sigma2 = state.sigma2;
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
    return this.live().quadratic(vp, this.scale()) * this.sigma2;
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
      if (this.sigma2 !== 1) {
        const s2 = this.sigma2;
        const v = e.view(precision, op, d * d);
        for (let i = 0; i < v.length; i++) v[i] = v[i] * s2;
      }
      check.resultFinite(e, precision, 'F', op, d * d, "it is beyond this precision's range: use precision 'f64'");
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
    this.sigma2 = 1;
    this.factorValid = false;
    this.hasFactor = false;
  }

  /**
   * Adds another accumulator's statistics, weighted by example counts: F ← (e₁F + e₂F₂)/(e₁ + e₂)
   * with e the examples each has seen, so data-parallel workers can accumulate separately and one
   * combines. Both must have the same d, precision, representation, decay, blocks and step count.
   * `other` is not changed. For 'lowrank' the other's rows are added, and shrunk (sketched) if
   * they do not fit: the sketch of the union, ρ adding up. For 'kronecker' and 'ekfac' each factor
   * (and the ekfac diagonal, in this one's eigenbasis) is averaged so, as K-FAC's data-parallel
   * form does: F is then the product of the averaged factors. @returns this
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
    same('layers', JSON.stringify(this.layers), JSON.stringify(other.layers));
    same('kroneckerDamping', this.kroneckerDamping, other.kroneckerDamping);
    if (this._steps !== 0 && other._steps !== 0) same('steps', this._steps, other._steps);
    if (other._steps === 0) return this;
    // bring both to the larger σ² (exact powers of two); the other's S is weighted by σ₂²/σ²
    const myExp = exponentOf(this.sigma2);
    const theirExp = exponentOf(other.sigma2);
    const commonExp = this._steps === 0 ? theirExp : Math.max(myExp, theirExp);
    // what can fail (the low-rank store's room for the other's rows) before the first change
    store.reserveMerge?.(os);
    if (this._steps !== 0 && commonExp !== myExp) store.rescale(myExp - commonExp);
    const rel = pow2(theirExp - commonExp);
    this.sigma2 = pow2(commonExp);
    if (this._steps === 0) {
      store.merge(os, 0, 1, rel);
      this.lastBatch = 0;
      this._steps = other._steps;
      this.betaPow = other.betaPow;
    } else {
      // weights: the examples behind each F — with decay 0 those of the latest batches alone
      const mine = this.decay === 0 ? this.lastBatch : this._examples;
      const theirs = other.decay === 0 ? other.lastBatch : other._examples;
      const total = mine + theirs;
      store.merge(os, mine / total, theirs / total, rel);
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
      version: store instanceof LowRankStore && store.layerMode ? 3 : 2,
      d: this.d,
      precision: this.precision,
      representation: this.representation,
      damping: this._damping,
      decay: this.decay,
      biasCorrection: this.biasCorrection,
      blocks: this.blocks ? [...this.blocks] : undefined,
      rank: this.rankOption,
      maxBytes: this.maxBytes,
      ...(this.layers ? { layers: this.layers.map((l) => ({ ...l })) } : {}),
      ...(this.kroneckerDamping ? { kroneckerDamping: this.kroneckerDamping } : {}),
      steps: this._steps,
      examples: this._examples,
      lastBatch: this.lastBatch,
      sigma2: this.sigma2,
      betaPow: this.betaPow,
      store: store.save(),
      staleFactor:
        this.hasFactor && !this.factorValid && !this.negligibleF && store.factorState
          ? { values: store.factorState(), damping: this.factorDampingUsed, effectiveDamping: this._effectiveDamping }
          : undefined,
    };
  }

  /** Rebuilds an EmpiricalFisher from `save()`'s output, bit for bit. */
  static load(state: EmpiricalFisherState): EmpiricalFisher {
    if (!state || typeof state !== 'object' || state.format !== 'empirical-fisher/EmpiricalFisher') {
      throw new TypeError('state is not the output of EmpiricalFisher.prototype.save()');
    }
    if (state.version !== 1 && state.version !== 2 && state.version !== 3) {
      throw new RangeError(`state.version ${String(state.version)} is not supported (1, 2 and 3 are)`);
    }
    const holdsLayers = state.representation === 'lowrank' && !!state.store && typeof state.store === 'object' && state.store.layers !== undefined;
    if ((state.version === 3) !== holdsLayers) {
      throw new RangeError(
        `state.version ${state.version} does not match its content: version 3 is exactly the states of a ` +
          `'lowrank' Fisher holding dense-layer statistics (store.layers)`,
      );
    }
    if (state.version === 1 && state.representation === 'lowrank') {
      throw new RangeError(
        "state.version 1 of a 'lowrank' Fisher holds a window of rows that was not the running average; " +
          'it cannot be loaded as the version 2 sketch: start a new EmpiricalFisher',
      );
    }
    checkState(state);
    const F = new EmpiricalFisher(state.d, {
      precision: state.precision,
      damping: state.damping,
      decay: state.decay,
      biasCorrection: state.biasCorrection,
      representation: state.representation,
      blocks: state.blocks,
      rank: state.rank,
      maxBytes: state.maxBytes,
      ...(state.layers !== undefined ? { layers: state.layers } : {}),
      ...(state.kroneckerDamping !== undefined ? { kroneckerDamping: state.kroneckerDamping } : {}),
    });
    try {
      F.live().load(state.store);
    } catch (err) {
      F.dispose();
      throw err;
    }
    F._steps = state.steps;
    F._examples = state.examples;
    F.lastBatch = state.lastBatch;
    F.sigma2 = state.sigma2;
    F.betaPow = state.betaPow;
    const sf = state.staleFactor;
    const store = F.live();
    if (sf !== undefined && store.restoreFactor) {
      store.restoreFactor(sf.values);
      F.hasFactor = true;
      F.factorDampingUsed = sf.damping;
      F._effectiveDamping = sf.effectiveDamping;
    }
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

  /**
   * Accumulates the n × d gradients at gp into a dense, block or diagonal store, choosing σ² so
   * that the scaled gradients G/σ are of order 1 when they are far from it (see `sigma2`). The
   * gradients at gp are not changed (a scaled copy is made when needed). Nothing fails after the
   * first change.
   */
  private accumulateScaled(store: FisherStore, gp: number, n: number, overwrite: boolean): void {
    const { e, precision, d } = this;
    const beta = this.decay;
    const m = e.k('max_abs', precision)(n * d, gp);
    const oldExp = exponentOf(this.sigma2) / 2;
    const newExp = this.scaleExponent(m, overwrite);
    let src = gp;
    let tmp = 0;
    if (newExp !== 0) {
      const bytes = n * d * BYTES[precision];
      tmp = e.alloc(bytes);
      e.copy(tmp, gp, bytes);
      scalePow2(e, precision, tmp, n * d, -newExp);
      src = tmp;
    }
    try {
      if (!overwrite && newExp !== oldExp) store.rescale(2 * (oldExp - newExp));
      if (overwrite) store.accumulate(src, n, 0, (beta === 0 ? 1 : 1 - beta) / n);
      else store.accumulate(src, n, beta, (1 - beta) / n);
    } finally {
      if (tmp) e.free(tmp);
    }
    this.sigma2 = pow2(2 * newExp);
  }

  /** log₂ σ for a batch whose largest |g| is m (see `sigma2`). */
  private scaleExponent(m: number, overwrite: boolean): number {
    const oldExp = exponentOf(this.sigma2) / 2;
    let newExp = oldExp;
    if (m > 0) {
      const em = exponentOf(m);
      // σ within 2^±510, so that σ² stays a normal float64
      const clamped = em < -510 ? -510 : em > 510 ? 510 : em;
      if (overwrite) newExp = em >= -16 && em <= 16 ? 0 : clamped;
      else if (em - oldExp > 16) newExp = clamped;
    } else if (overwrite) {
      newExp = 0;
    }
    return newExp;
  }

  /**
   * x ← (F + λI)⁻¹ x at xp with the factor held (of (F + λI)/σ²): the store's solve, then ÷σ² in
   * float64; a result beyond the precision's range is a RangeError.
   */
  private solveScaled(store: FisherStore, xp: number, mean?: MeanOf): void {
    const { e, precision, d } = this;
    const solve = (sigmaInv: number) => (mean && store.solveMean ? store.solveMean(mean.list, mean.n, xp, sigmaInv) : store.solve(xp));
    if (this.negligibleF) {
      const x = e.view(precision, xp, d);
      const lambda = this._effectiveDamping;
      for (let i = 0; i < d; i++) x[i] = x[i] / lambda;
    } else if (this.sigma2 === 1) {
      solve(1);
    } else {
      // (σ²·c·S + λI)x = g  ⇔  (c·S + (λ/σ²)I)(σx) = g/σ: solve for y = σx with g/σ, then x = y/σ;
      // every intermediate stays of the order of the data, whatever σ is
      const sigma = pow2(exponentOf(this.sigma2) / 2);
      const g = e.view(precision, xp, d);
      for (let i = 0; i < d; i++) g[i] = g[i] / sigma;
      solve(1 / sigma);
      const y = e.view(precision, xp, d);
      for (let i = 0; i < d; i++) y[i] = y[i] / sigma;
    }
    check.resultFinite(e, precision, '(F + λI)⁻¹g', xp, d, 'increase the damping');
  }

  /** The factor F = scale()·S: 0 before any update, 1/(1 − β^t) with bias correction. */
  private scale(): number {
    if (this._steps === 0) return 0;
    if (this.decay === 0 || !this.biasCorrection) return 1;
    return 1 / (1 - this.betaPow);
  }

  private factor(store: FisherStore): void {
    const c = this.scale();
    const s2 = this.sigma2;
    // the store factors (F + λI)/σ² = c·S + (λ/σ²)·I
    const lambda = this._damping / s2;
    if (lambda > 1.2676506002282294e30 /* 2¹⁰⁰, exactly */) {
      // F is below λ·2⁻¹⁰⁰: (F + λI)⁻¹g = g/λ to every digit of either precision
      this._factorizations++;
      this.negligibleF = true;
      this.factorValid = true;
      this.hasFactor = true;
      this.factorDampingUsed = this._damping;
      this._effectiveDamping = this._damping;
      return;
    }
    this.negligibleF = false;
    let shift = lambda;
    let info = store.factor(c, shift);
    this._factorizations++;
    if (info !== 0) {
      let jitter = c * store.meanDiagonal() * JITTER[this.precision];
      for (let t = 0; t < JITTER_TRIES && info !== 0 && jitter > 0; t++) {
        shift = lambda + jitter;
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
    this._effectiveDamping = (shift + (store.extraDamping ? store.extraDamping(c) : 0)) * s2;
  }

  private live(): FisherStore {
    if (!this.store) throw check.disposedError('EmpiricalFisher');
    return this.store;
  }
}

/** The class of each representation's store: its own saved-state checks. */
const STORE_CLASSES: Record<StoreKind, StoreClass> = {
  dense: DenseStore,
  blockdiag: BlockDiagStore,
  diag: DiagStore,
  lowrank: LowRankStore,
  kronecker: KroneckerStore,
  ekfac: EkfacStore,
};

/** Validates everything in a saved state before anything is allocated (names the bad field). */
function checkState(state: EmpiricalFisherState): void {
  const top = new StateFields(state as unknown as Record<string, unknown>, 'state');
  top.int('d', state.d, 1);
  const d = state.d;
  top.field('precision', state.precision === 'f32' || state.precision === 'f64', "'f32' or 'f64'", state.precision);
  const rep = state.representation;
  top.field('representation', typeof rep === 'string' && REPRESENTATIONS.includes(rep) && (rep as string) !== 'auto', 'a representation', rep);
  const spec: StoreSpec = { d, precision: state.precision };
  if (rep === 'kronecker' || rep === 'ekfac') {
    try {
      spec.layers = resolveLayers(d, state.layers);
    } catch (err) {
      (err as Error).message = (err as Error).message.replace(/options\.layers/g, 'state.layers');
      throw err;
    }
    const kd = state.kroneckerDamping;
    top.field('kroneckerDamping', rep === 'ekfac' ? kd === undefined : kd === 'exact' || kd === 'pi', rep === 'ekfac' ? 'undefined' : "'exact' or 'pi'", kd);
    spec.kroneckerDamping = kd;
  }
  if (rep === 'blockdiag') {
    top.field('blocks', Array.isArray(state.blocks), 'an array of block sizes', state.blocks);
    spec.blocks = state.blocks;
  }
  top.int('steps', state.steps);
  top.int('examples', state.examples);
  top.int('lastBatch', state.lastBatch);
  const s2 = state.sigma2;
  top.field('sigma2', typeof s2 === 'number' && s2 > 0 && Number.isFinite(s2) && pow2(exponentOf(s2)) === s2, 'a power of two', s2);
  const bp = state.betaPow;
  top.field('betaPow', typeof bp === 'number' && bp >= 0 && bp <= 1, 'a number in [0, 1]', bp);
  const st = state.store as Record<string, unknown> | undefined;
  if (!st || typeof st !== 'object') throw new TypeError('state.store must be an object');
  const kind = STORE_CLASSES[rep];
  kind.checkState(st, spec);
  const sf = state.staleFactor;
  if (sf !== undefined) {
    if (!sf || typeof sf !== 'object') throw new TypeError('state.staleFactor must be an object or undefined');
    const F = floatType(state.precision);
    const len = kind.factorLength(spec) ?? -1;
    if (!(sf.values instanceof F) || sf.values.length !== len) {
      throw new RangeError(`state.staleFactor.values must be a ${F.name} of length ${len} (${rep})`);
    }
    top.field('staleFactor.damping', typeof sf.damping === 'number' && sf.damping >= 0, 'a number ≥ 0', sf.damping);
    top.field('staleFactor.effectiveDamping', typeof sf.effectiveDamping === 'number' && sf.effectiveDamping >= 0, 'a number ≥ 0', sf.effectiveDamping);
  }
}

/** The binary exponent e of x > 0 with 2^e ≤ x < 2^(e+1) (from the IEEE 754 bits: the same everywhere). */
function exponentOf(x: number): number {
  if (x === 0) return -1075;
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x, true);
  const biased = (v.getUint32(4, true) >>> 20) & 0x7ff;
  if (biased === 0) {
    // subnormal double: scale up by 2^64 first
    return exponentOf(x * 18446744073709551616) - 64;
  }
  return biased - 1023;
}


