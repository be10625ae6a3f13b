/**
 * The optimizer of the seed: θ ← θ − η (F + λI)⁻¹ ḡ, with F the empirical Fisher of per-example
 * gradients and η chosen, when asked, so that the mean squared predicted change of the
 * per-example losses stays within ε.
 */
import { getEngine, type Engine, type FloatArray, type Precision } from './engine.js';
import { EmpiricalFisher, OPTION_NAMES as FISHER_OPTION_NAMES, type EmpiricalFisherOptions, type EmpiricalFisherState, type Representation } from './fisher.js';
import { BYTES } from './linalg.js';
import * as check from './validate.js';
import { gradientTimesInWasm, meanGradientInWasm, type LayerInWasm } from './layers/inwasm.js';
import type { DenseLayerStats } from './layers/index.js';
import { checkLayers, copyLayersIn } from './layerstats.js';

/** Where a step's per-example gradients come from: rows of G in wasm, or dense-layer statistics. */
type GradientSource = { rows: number } | { layers: readonly LayerInWasm[] };

export interface AdaptiveDampingOptions {
  /** T: adapt every T steps (default 5) */
  interval?: number;
  /** lower clip of λ (default 1e-8) */
  min?: number;
  /** upper clip of λ (default 1e4) */
  max?: number;
}

/**
 * Options of the optimizer: those of its EmpiricalFisher (biasCorrection, representation, blocks,
 * rank, maxBytes; see EmpiricalFisherOptions), with other defaults where noted, and its own.
 */
export interface EmpiricalFisherOptimizerOptions
  extends Omit<EmpiricalFisherOptions, 'damping' | 'decay' | 'precision'> {
  /** learning rate η, the largest step scale (default 0.1) */
  lr?: number;
  /** Tikhonov damping λ ≥ 0, or a function of the step count (0, 1, …) returning it (default 1e-3) */
  damping?: number | ((step: number) => number);
  /** running-average factor β of F (default 0.95) */
  decay?: number;
  /** precision of F and of the step (default: the type of params) */
  precision?: Precision;
  /**
   * ε: scale the step so that the predicted mean squared change of the per-example losses,
   * δᵀFδ (undamped F), is at most ε: η = min(lr, √(ε / uᵀFu)) for the direction u
   */
  lossChangeBound?: number;
  /**
   * refactor F + λI every k steps, reusing the factor between (default 1). F itself is updated with
   * every minibatch. 'lowrank' refactors at every step regardless: its factor is tied to the rows,
   * which every update changes, and costs r³/3 against the update's n·r·d. 'kronecker': the
   * eigendecompositions (or Cholesky factors, 'pi') of the factors every k steps; 'ekfac': the
   * eigenbasis every k steps, its diagonal re-estimated and used at every step
   */
  updateEvery?: number;
  /** decoupled weight decay: θ ← θ − η·weightDecay·θ as part of the step (default 0) */
  weightDecay?: number;
  /** heavy-ball momentum on the preconditioned direction: u ← μu + v (default 0) */
  momentum?: number;
  /**
   * Levenberg–Marquardt adaptation of λ as in K-FAC (needs `step(G, n, { loss })`): every T steps
   * ρ = (actual loss change) / (predicted by ḡᵀδ + ½δᵀFδ); ρ < ¼ → λ ← λ/ω, ρ > ¾ → λ ← λ·ω,
   * ω = 0.95^T, λ clipped to [min, max]; a NaN ρ raises λ. `true` for the defaults.
   */
  adaptiveDamping?: boolean | AdaptiveDampingOptions;
}

const OPTION_NAMES = [
  ...FISHER_OPTION_NAMES,
  'lr',
  'lossChangeBound',
  'updateEvery',
  'weightDecay',
  'momentum',
  'adaptiveDamping',
] as const;

export interface StepInfo {
  /** η used for this step */
  rate: number;
  /** ‖δ‖₂ of the step taken */
  stepNorm: number;
  /** mean over the batch of the predicted per-example loss change g_iᵀδ (= −η g_iᵀv) */
  predictedLossChange: number;
  /** root mean square of the predicted per-example loss changes */
  predictedLossChangeRms: number;
  /** the damping the solve used (λ, plus any jitter) */
  damping: number;
  /** steps taken, this one included */
  step: number;
  /** whether the factor of F + λI was refreshed this step (see updateEvery) */
  refreshed: boolean;
  /** ρ of the adaptive damping when it was measured this step */
  reductionRatio?: number;
}

export interface StepOptions {
  /** the minibatch loss at the current params (called before and after the step on adaptation steps) */
  loss?: () => number;
}

/** Saved optimizer state: plain numbers and typed arrays (structuredClone-safe). */
export interface EmpiricalFisherOptimizerState {
  format: 'empirical-fisher/EmpiricalFisherOptimizer';
  version: 1;
  d: number;
  lr: number;
  /** λ in force (for a damping function, its last value; pass the function again to `load`) */
  damping: number;
  dampingIsFunction: boolean;
  lossChangeBound: number | undefined;
  updateEvery: number;
  weightDecay: number;
  momentum: number;
  adaptive: { interval: number; min: number; max: number } | undefined;
  steps: number;
  /** damping of the factor in use between refreshes (updateEvery > 1), if any */
  factorDamping: number | undefined;
  velocity: FloatArray | undefined;
  fisher: EmpiricalFisherState;
}

const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ e: Engine; ptr: number }>(({ e, ptr }) => e.free(ptr))
    : undefined;

function nonNegative(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  const x = check.finite(name, v);
  if (x < 0) throw new RangeError(`${name} must be ≥ 0, got ${x}`);
  return x;
}

/**
 * Second-order optimizer on the empirical Fisher.
 *
 * Each `step(G, n)`: ḡ = mean of G's rows; F updated with G (its factor refreshed every
 * `updateEvery` steps);
 * v = (F + λI)⁻¹ ḡ; u = v (or μu + v with momentum); δ = −η u − η·weightDecay·θ with η = lr, or
 * min(lr, √(ε / uᵀFu)) when `lossChangeBound` ε is set; θ ← θ + δ in place.
 *
 * @example
 * const params = new Float32Array(d);                      // updated in place
 * const opt = new EmpiricalFisherOptimizer(params, { lr: 0.1, damping: 1e-3 });
 * const info = opt.step(perExampleGrads, n);               // { rate, stepNorm, ... }
 */
export class EmpiricalFisherOptimizer {
  readonly params: FloatArray;
  readonly d: number;
  /** the Fisher the optimizer maintains (read it, do not update it yourself) */
  readonly fisher: EmpiricalFisher;
  readonly lr: number;
  readonly lossChangeBound: number | undefined;
  readonly updateEvery: number;
  readonly weightDecay: number;
  readonly momentum: number;
  private readonly dampingFn: ((step: number) => number) | undefined;
  private readonly adaptive: { interval: number; min: number; max: number; omega: number } | undefined;
  private _steps = 0;
  /** momentum buffer u in wasm (precision of F), 0 if no momentum */
  private velocity = 0;
  private readonly e: Engine;
  private readonly token = {};

  /**
   * @param params [in,out] the parameters, updated in place by `step`
   * @throws TypeError / RangeError naming a bad argument or option
   */
  constructor(params: FloatArray, options?: EmpiricalFisherOptimizerOptions) {
    const ptype = check.precisionOf('params', params);
    if (params.length < 1) throw new RangeError('params must hold at least one parameter');
    check.finiteArray('params', params);
    const o = check.options('options', options, OPTION_NAMES);
    this.lr = o.lr === undefined ? 0.1 : check.finite('options.lr', o.lr);
    if (!(this.lr > 0)) throw new RangeError(`options.lr must be > 0, got ${this.lr}`);
    let damping = 1e-3;
    if (typeof o.damping === 'function') {
      this.dampingFn = o.damping as (step: number) => number;
    } else if (o.damping !== undefined) {
      damping = nonNegative('options.damping', o.damping, 1e-3);
    }
    if (o.lossChangeBound !== undefined) {
      const eps = check.finite('options.lossChangeBound', o.lossChangeBound);
      if (!(eps > 0)) throw new RangeError(`options.lossChangeBound must be > 0, got ${eps}`);
      this.lossChangeBound = eps;
    }
    this.updateEvery = o.updateEvery === undefined ? 1 : check.size('options.updateEvery', o.updateEvery, 1);
    this.weightDecay = nonNegative('options.weightDecay', o.weightDecay, 0);
    this.momentum = nonNegative('options.momentum', o.momentum, 0);
    if (this.momentum >= 1) throw new RangeError(`options.momentum must be in [0, 1), got ${this.momentum}`);
    if (o.adaptiveDamping !== undefined && o.adaptiveDamping !== false) {
      if (this.dampingFn) {
        throw new RangeError('options.adaptiveDamping cannot be combined with a damping function: give a number');
      }
      const a = o.adaptiveDamping === true ? {} : check.options('options.adaptiveDamping', o.adaptiveDamping, ['interval', 'min', 'max']);
      const interval = a.interval === undefined ? 5 : check.size('options.adaptiveDamping.interval', a.interval, 1);
      const min = nonNegative('options.adaptiveDamping.min', a.min, 1e-8);
      const max = nonNegative('options.adaptiveDamping.max', a.max, 1e4);
      if (!(min <= max)) throw new RangeError(`options.adaptiveDamping.min (${min}) must be ≤ max (${max})`);
      let omega = 1;
      for (let i = 0; i < interval; i++) omega *= 0.95; // 0.95^T by repeated multiplication
      this.adaptive = { interval, min, max, omega };
      damping = Math.min(max, Math.max(min, damping));
    }
    const fisherOptions: EmpiricalFisherOptions = {
      precision: o.precision === undefined ? ptype : (o.precision as Precision),
      damping: this.dampingFn ? 0 : damping,
      decay: o.decay === undefined ? 0.95 : (o.decay as number),
      biasCorrection: o.biasCorrection as boolean | undefined,
      representation: o.representation as Representation | undefined,
      blocks: o.blocks as number[] | undefined,
      rank: o.rank as number | undefined,
      maxBytes: o.maxBytes as number | undefined,
      layers: o.layers as EmpiricalFisherOptions['layers'],
      kroneckerDamping: o.kroneckerDamping as EmpiricalFisherOptions['kroneckerDamping'],
    };
    for (const k of Object.keys(fisherOptions) as (keyof EmpiricalFisherOptions)[]) {
      if (fisherOptions[k] === undefined) delete fisherOptions[k];
    }
    this.fisher = new EmpiricalFisher(params.length, fisherOptions);
    this.params = params;
    this.d = params.length;
    this.e = getEngine();
    if (this.momentum > 0) {
      const bytes = this.d * BYTES[this.fisher.precision];
      this.velocity = this.e.alloc(bytes);
      this.e.zero(this.velocity, bytes);
      registry?.register(this, { e: this.e, ptr: this.velocity }, this.token);
    }
  }

  /** steps taken */
  get steps(): number {
    return this._steps;
  }

  /** λ in force (the adaptive damping's current value, or the damping option) */
  get damping(): number {
    return this.fisher.damping;
  }

  /**
   * One optimisation step: updates `params` in place.
   * @param G [in] n × d per-example gradients at the current params, row-major (either float type)
   * @param n number of examples (≥ 1)
   * @param opts `loss`: the minibatch loss at the current params, for the adaptive damping
   * @throws RangeError / TypeError on bad input (nothing changes then); NotPositiveDefiniteError if
   *   F + λI cannot be factored even with jitter (params unchanged)
   */
  step(G: FloatArray, n: number, opts?: StepOptions): StepInfo {
    const F = this.fisher;
    if (F.disposed) throw check.disposedError('EmpiricalFisherOptimizer');
    F.refuseRows('step(G, n)', 'stepLayers(list, n)');
    check.floatArray('G', G);
    check.size('n', n, 1);
    const d = this.d;
    check.length('G', G, n * d, 'n·d');
    const lossFn = this.checkStepOptions(opts);
    const e = this.e;
    const p = F.precision;
    const gp = e.alloc(n * d * BYTES[p]);
    try {
      e.put(p, gp, G);
      check.finiteInWasm(e, p, 'G', G, gp, n * d);
      return this.stepInWasm({ rows: gp }, n, lossFn);
    } finally {
      e.free(gp);
    }
  }

  /**
   * One optimisation step from the dense layers' statistics instead of G: the same as
   * `step(G, n, opts)` with G the per-example gradients the layers describe (layout: layer after
   * layer, W row-major outputs × inputs, then b; `layers.perExampleGradients`), computed without
   * forming G where the representation allows it (see `EmpiricalFisher.updateLayers`): ḡ = EᵀA/n
   * per layer, and with 'lowrank' and decay 0 the solve (span form through K = Σ (AAᵀ + 1)∘(EEᵀ)
   * and Gᵀu), the ε scaling (Σ w (g_i·u)² through G u) and the predicted loss changes G δ use only
   * the statistics: memory O(n·Σ(inputs + outputs)) plus the parameters.
   * @param list [in] { A (n × inputs), E (n × outputs), inputs, outputs, bias (default true) } per
   *   layer, in parameter order; E the gradients of the per-example losses with respect to the
   *   layer's outputs
   * @param n number of examples (≥ 1)
   * @throws TypeError / RangeError naming the bad layer or argument (parameters that do not add up
   *   to d, a wrong length, a non-finite value); nothing changes then
   * @example
   * const opt = new EmpiricalFisherOptimizer(params, { representation: 'lowrank', decay: 0 });
   * const info = opt.stepLayers([{ A: X, E: E1, inputs: 784, outputs: 1024 }, { A: H, E: E2, inputs: 1024, outputs: 10 }], 128);
   */
  stepLayers(list: readonly DenseLayerStats[], n: number, opts?: StepOptions): StepInfo {
    const F = this.fisher;
    if (F.disposed) throw check.disposedError('EmpiricalFisherOptimizer');
    check.size('n', n, 1);
    const stats = checkLayers(list, n, this.d);
    F.checkLayerShapes(stats);
    const lossFn = this.checkStepOptions(opts);
    const block = copyLayersIn(this.e, F.precision, stats, n);
    try {
      return this.stepInWasm({ layers: block.list }, n, lossFn);
    } finally {
      this.e.free(block.ptr);
    }
  }

  /**
   * `step(G, n, opts)` on the threads of `init({ threads })`: the heavy kernels of the update and
   * the solve (syrk, the Cholesky factorisation, the Gram matrix and gemm) split between them, the
   * calling thread taking part and running the rest (it holds on until the step is done, as `step`
   * would: on a page's main thread, run training in a Worker). The same params, StepInfo and state
   * as `step`, bit for bit; without threads, `step` itself. Bad input rejects with step's error,
   * nothing changed. G is read before the promise is returned.
   */
  stepAsync(G: FloatArray, n: number, opts?: StepOptions): Promise<StepInfo> {
    return this.e.onThreads(() => this.step(G, n, opts));
  }

  /** `stepLayers(list, n, opts)` on the threads (see stepAsync); the same bits. */
  stepLayersAsync(list: readonly DenseLayerStats[], n: number, opts?: StepOptions): Promise<StepInfo> {
    return this.e.onThreads(() => this.stepLayers(list, n, opts));
  }

  private checkStepOptions(opts: StepOptions | undefined): (() => number) | undefined {
    const so = check.options('opts', opts, ['loss']);
    const lossFn = so.loss;
    if (lossFn !== undefined && typeof lossFn !== 'function') {
      throw new TypeError(`opts.loss must be a function returning the minibatch loss, got ${check.describe(lossFn)}`);
    }
    check.finiteArray('params', this.params);
    return lossFn as (() => number) | undefined;
  }

  /** The step for validated gradients in wasm memory (F's precision). */
  private stepInWasm(src: GradientSource, n: number, lossFn: (() => number) | undefined): StepInfo {
    const F = this.fisher;
    const d = this.d;
    const t = this._steps;
    let lambda = F.damping;
    if (this.dampingFn) {
      const v = this.dampingFn(t);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new RangeError(`options.damping(${t}) returned ${String(v)}: it must be a finite number ≥ 0`);
      }
      lambda = v;
    }
    const adapt = this.adaptive !== undefined && lossFn !== undefined && t % this.adaptive.interval === 0;
    // 'lowrank' refactors every step: its factor belongs to the rows the update replaces
    const refresh = t % this.updateEvery === 0 || F.representation === 'lowrank';
    const e = this.e;
    const p = F.precision;
    const b = BYTES[p];
    // one block: ḡ (d) | v (d) | δ (d) | θ (d) | u (d) | ones, Gδ (2n)
    const base = e.alloc((5 * d + 2 * n) * b);
    const gbar = base;
    const vp = gbar + d * b;
    const dp = vp + d * b;
    const thp = dp + d * b;
    const up = thp + d * b;
    const onesp = up + d * b;
    const yp = onesp + n * b;
    try {
      const loss0 = adapt ? (lossFn as () => number)() : Number.NaN;
      // from here on only the factorisation can fail, before anything is changed
      (e.view(p, onesp, n) as FloatArray).fill(1);
      if ('rows' in src) e.k('gemv_t', p)(n, d, 1 / n, src.rows, d, onesp, 0, gbar);
      else meanGradientInWasm(e, p, src.layers, n, gbar);
      e.copy(vp, gbar, d * b);
      const savedDamping = F.damping;
      // with λ = 0 the factorisation can fail even after the jitter retries (F = 0, say): keep a
      // copy of F to put back, so that a failed step changes nothing
      const undo = lambda === 0 ? F.save() : undefined;
      F.damping = lambda;
      try {
        // 'ekfac': a refresh step recomputes the eigenbasis in this update, from factors that
        // include this batch, before the diagonal is re-estimated in it
        if (refresh) F.requestBasisRefresh();
        if ('rows' in src) F.updateInWasm(src.rows, n);
        else F.updateLayersInWasm(src.layers, n);
      } catch (err) {
        F.damping = savedDamping;
        throw err;
      }
      try {
        // on a refresh step ḡ is the mean of the rows just added: 'lowrank' solves in the span form
        const mean = 'layers' in src ? { list: src.layers, n } : undefined;
        if (refresh) F.solveLatestMeanInWasm(vp, n, mean);
        else F.solveInWasm(vp, false, mean);
      } catch (err) {
        if (undo) F.restore(undo);
        F.damping = savedDamping;
        throw err;
      }
      // direction u: v, or the momentum buffer μu + v
      // (into a scratch vector: the momentum buffer changes only when the step is taken)
      e.copy(up, vp, d * b);
      if (this.velocity !== 0) e.k('axpy', p)(d, this.momentum, this.velocity, up);
      let eta = this.lr;
      if (this.lossChangeBound !== undefined) {
        const q = F.quadraticInWasm(up);
        if (q > 0) {
          const bound = Math.sqrt(this.lossChangeBound / q);
          if (bound < eta) eta = bound;
        }
      }
      // δ = −η u − η·wd·θ
      e.put(p, thp, this.params);
      e.k('axpby', p)(d, -eta, up, 0, dp);
      if (this.weightDecay > 0) e.k('axpy', p)(d, -eta * this.weightDecay, thp, dp);
      const stepNorm = Math.sqrt(e.k('dot', p)(d, dp, dp));
      // predicted per-example loss changes g_iᵀδ
      if ('rows' in src) e.k('gemv_n', p)(n, d, 1, src.rows, d, dp, 0, yp);
      else gradientTimesInWasm(e, p, src.layers, n, dp, yp);
      const y = e.view(p, yp, n);
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        sum += y[i];
        sq += y[i] * y[i];
      }
      // model change for the adaptive damping: ḡᵀδ + ½ δᵀFδ
      const predicted = adapt ? e.k('dot', p)(d, gbar, dp) + 0.5 * F.quadraticInWasm(dp) : 0;
      // θ ← θ + δ (plain IEEE arithmetic, rounded to params' type: the same bits everywhere),
      // checked first: a finite lr or weight decay can still make a parameter overflow
      const delta = e.view(p, dp, d);
      const params = this.params;
      const ParamsType = params instanceof Float32Array ? Float32Array : Float64Array;
      const probe = new ParamsType(1);
      for (let i = 0; i < d; i++) {
        probe[0] = params[i] + delta[i];
        if (!Number.isFinite(probe[0])) {
          throw new RangeError(
            `the step would make params[${i}] ${probe[0]} (rate ${eta}, weightDecay ${this.weightDecay}): ` +
              'lower options.lr or options.weightDecay; params are unchanged',
          );
        }
      }
      if (!Number.isFinite(stepNorm) || !Number.isFinite(sum) || !Number.isFinite(sq)) {
        throw new RangeError(`the step overflows (‖δ‖ = ${stepNorm}, rate ${eta}): lower options.lr; params are unchanged`);
      }
      for (let i = 0; i < d; i++) params[i] = params[i] + delta[i];
      if (this.velocity !== 0) e.copy(this.velocity, up, d * b);
      this._steps++;
      const info: StepInfo = {
        rate: eta,
        stepNorm,
        predictedLossChange: sum / n,
        predictedLossChangeRms: Math.sqrt(sq / n),
        damping: F.effectiveDamping,
        step: this._steps,
        refreshed: refresh,
      };
      if (adapt) {
        const loss1 = (lossFn as () => number)();
        const rho = (loss1 - loss0) / predicted;
        info.reductionRatio = rho;
        const a = this.adaptive!;
        let lam = F.damping;
        if (!(rho === rho) || rho < 0.25) lam = lam / a.omega;
        else if (rho > 0.75) lam = lam * a.omega;
        F.damping = Math.min(a.max, Math.max(a.min, lam));
      }
      return info;
    } finally {
      e.free(base);
    }
  }

  /** The state (structuredClone-safe). A damping function is not saved: pass it again to `load`. */
  save(): EmpiricalFisherOptimizerState {
    const F = this.fisher;
    if (F.disposed) throw check.disposedError('EmpiricalFisherOptimizer');
    return {
      format: 'empirical-fisher/EmpiricalFisherOptimizer',
      version: 1,
      d: this.d,
      lr: this.lr,
      damping: F.damping,
      dampingIsFunction: this.dampingFn !== undefined,
      lossChangeBound: this.lossChangeBound,
      updateEvery: this.updateEvery,
      weightDecay: this.weightDecay,
      momentum: this.momentum,
      adaptive: this.adaptive ? { interval: this.adaptive.interval, min: this.adaptive.min, max: this.adaptive.max } : undefined,
      steps: this._steps,
      factorDamping: F.factorDamping,
      velocity: this.velocity !== 0 ? this.e.view(F.precision, this.velocity, this.d).slice() : undefined,
      fisher: F.save(),
    };
  }

  /**
   * Rebuilds an optimizer from `save()` over `params` (the parameters, which the state does not
   * hold). `damping` must be given again if the saved one was a function.
   */
  static load(
    state: EmpiricalFisherOptimizerState,
    params: FloatArray,
    overrides?: { damping?: (step: number) => number },
  ): EmpiricalFisherOptimizer {
    if (!state || typeof state !== 'object' || state.format !== 'empirical-fisher/EmpiricalFisherOptimizer') {
      throw new TypeError('state is not the output of EmpiricalFisherOptimizer.prototype.save()');
    }
    if (state.version !== 1) throw new RangeError(`state.version ${String(state.version)} is not supported (1 is)`);
    check.precisionOf('params', params);
    if (params.length !== state.d) throw new RangeError(`params has length ${params.length}, expected the saved d = ${state.d}`);
    if (state.dampingIsFunction && typeof overrides?.damping !== 'function') {
      throw new RangeError('the saved optimizer used a damping function: pass it again as overrides.damping');
    }
    const fs = state.fisher;
    const opt = new EmpiricalFisherOptimizer(params, {
      lr: state.lr,
      damping: state.dampingIsFunction ? overrides!.damping : state.damping,
      decay: fs.decay,
      biasCorrection: fs.biasCorrection,
      representation: fs.representation,
      blocks: fs.blocks,
      rank: fs.rank,
      maxBytes: fs.maxBytes,
      layers: fs.layers,
      kroneckerDamping: fs.kroneckerDamping,
      precision: fs.precision,
      lossChangeBound: state.lossChangeBound,
      updateEvery: state.updateEvery,
      weightDecay: state.weightDecay,
      momentum: state.momentum,
      adaptiveDamping: state.adaptive,
    });
    try {
      // the optimizer adopts the loaded Fisher in place of the empty one it made
      const F = EmpiricalFisher.load(fs);
      opt.fisher.dispose();
      (opt as { fisher: EmpiricalFisher }).fisher = F;
      // between refreshes the uninterrupted run reuses a factor made with the damping of the last
      // refresh: a factor of an older F came with the state; one of this F is made again (same F,
      // same λ: the same bits)
      if (fs.staleFactor === undefined && state.factorDamping !== undefined && state.steps % state.updateEvery !== 0) {
        F.damping = state.factorDamping;
        F.prepareFactor();
      }
      opt.fisher.damping = state.damping;
      if (state.velocity && opt.velocity !== 0) {
        check.finiteArray('state.velocity', state.velocity);
        opt.e.put(opt.fisher.precision, opt.velocity, state.velocity);
      }
      opt._steps = state.steps;
    } catch (err) {
      opt.dispose();
      throw err;
    }
    return opt;
  }

  /** Frees the wasm memory (the Fisher and the momentum buffer). A second call does nothing. */
  dispose(): void {
    if (this.velocity !== 0) {
      registry?.unregister(this.token);
      this.e.free(this.velocity);
      this.velocity = 0;
    }
    this.fisher.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

