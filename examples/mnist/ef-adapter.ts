/**
 * TEMPORARY — delete when `EmpiricalFisherOptimizer` lands in src/ (DESIGN §3), and change the one
 * import in ./runs.ts to `import { EmpiricalFisherOptimizer } from '../../src/index.js'`.
 *
 * A stand-in with the same constructor and `step(G, n)` signature, built on the library:
 * - d ≤ DENSE_MAX: `EmpiricalFisher` (dense, with decay) → `precondition(ḡ)`;
 * - larger d (both MNIST models): the minibatch Fisher F = GᵀG/n in Woodbury form, the Gram matrix
 *   GGᵀ from `linalg.syrk` on Gᵀ and an n × n `linalg.solveSPD`. Because ḡ = Gᵀ1/n lies in the
 *   row space of G, (GᵀG/n + λI)⁻¹ḡ = Gᵀ(GGᵀ + nλI)⁻¹1 exactly (push-through identity), which
 *   avoids the cancellation of the general Woodbury formula. This path keeps only the latest
 *   minibatch: it supports decay = 0 only (the real optimizer's low-rank window will not need
 *   that restriction).
 * Step size as in DESIGN §1: η = min(lr, √(ε / vᵀFv)) when `lossChangeBound` ε is given.
 */
import { EmpiricalFisher, linalg } from '../../src/index.js';
import type { FloatArray } from '../../src/models/index.js';

/** The options of DESIGN §3. */
export interface EmpiricalFisherOptimizerOptions {
  lr?: number;
  damping?: number;
  decay?: number;
  representation?: 'auto' | 'dense' | 'lowrank' | 'blockdiag' | 'diag';
  precision?: 'f32' | 'f64';
  lossChangeBound?: number;
  updateEvery?: number;
}

/** What `step` returns (DESIGN §3). */
export interface StepInfo {
  /** the step size η actually used */
  rate: number;
  /** ‖θ_new − θ_old‖ */
  stepNorm: number;
  /** mean_i Δℓ_i, Δℓ_i ≈ −η g_iᵀv the first-order change of example i's loss */
  predictedLossChange: number;
  /** √(mean_i Δℓ_i²) */
  predictedLossChangeRms: number;
  /** the damping λ used */
  damping: number;
}

/** Largest d for which this adapter stores F densely. */
const DENSE_MAX = 2048;

export class EmpiricalFisherOptimizer {
  readonly lr: number;
  readonly damping: number;
  readonly decay: number;
  readonly representation: 'dense' | 'lowrank';
  readonly lossChangeBound: number | undefined;
  private readonly params: FloatArray;
  private readonly d: number;
  private readonly fisher: EmpiricalFisher | undefined;
  private readonly mean: Float64Array;
  private readonly v: Float64Array;
  private gt: FloatArray = new Float32Array(0);
  private gv = new Float64Array(0);

  constructor(params: FloatArray, options: EmpiricalFisherOptimizerOptions = {}) {
    this.params = params;
    this.d = params.length;
    this.lr = options.lr ?? 0.1;
    this.damping = options.damping ?? 1e-3;
    this.decay = options.decay ?? 0.95;
    this.lossChangeBound = options.lossChangeBound;
    const rep = options.representation ?? 'auto';
    this.representation = rep === 'dense' || (rep === 'auto' && this.d <= DENSE_MAX) ? 'dense' : 'lowrank';
    if (rep !== 'auto' && rep !== 'dense' && rep !== 'lowrank') {
      throw new RangeError(`temporary adapter: representation '${rep}' is not supported`);
    }
    if (this.representation === 'lowrank' && this.decay !== 0) {
      throw new RangeError(`temporary adapter: the low-rank path keeps one minibatch, so decay must be 0, got ${this.decay}`);
    }
    const precision = options.precision ?? (params instanceof Float64Array ? 'f64' : 'f32');
    if (this.representation === 'dense') {
      this.fisher = new EmpiricalFisher(this.d, { precision, damping: this.damping, decay: this.decay });
    }
    this.mean = new Float64Array(this.d);
    this.v = new Float64Array(this.d);
  }

  /**
   * θ ← θ − η (F + λI)⁻¹ ḡ from the n × d per-example gradients G [in] (row-major).
   */
  step(G: FloatArray, n: number): StepInfo {
    const { d, mean, v, params } = this;
    if (G.length !== n * d) throw new RangeError(`G has length ${G.length}, expected n·d = ${n * d}`);
    mean.fill(0);
    for (let i = 0; i < n; i++) for (let j = 0, o = i * d; j < d; j++) mean[j] += G[o + j];
    for (let j = 0; j < d; j++) mean[j] /= n;

    if (this.gv.length < n) this.gv = new Float64Array(n);
    const gv = this.gv;
    let quad: number; // vᵀFv
    if (this.fisher) {
      this.fisher.update(G, n);
      v.set(this.fisher.precondition(mean));
      quad = this.fisher.quadratic(v);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0, o = i * d; j < d; j++) s += G[o + j] * v[j];
        gv[i] = s;
      }
    } else {
      // Gᵀ (d × n), so that syrk(Gᵀ) = GGᵀ (n × n)
      if (this.gt.length < n * d || this.gt.constructor !== G.constructor) {
        this.gt = G instanceof Float64Array ? new Float64Array(n * d) : new Float32Array(n * d);
      }
      const gt = this.gt.subarray(0, n * d);
      for (let i = 0; i < n; i++) for (let j = 0, o = i * d; j < d; j++) gt[j * n + i] = G[o + j];
      const gram = Float64Array.from(linalg.syrk(gt, d, n));
      const z = linalg.solveSPD(gram, n, new Float64Array(n).fill(1), { shift: n * this.damping });
      v.fill(0); // v = Gᵀz
      for (let i = 0; i < n; i++) {
        const zi = z[i];
        for (let j = 0, o = i * d; j < d; j++) v[j] += zi * G[o + j];
      }
      // Gv = GGᵀz = 1 − nλz
      quad = 0;
      for (let i = 0; i < n; i++) {
        gv[i] = 1 - n * this.damping * z[i];
        quad += gv[i] * gv[i];
      }
      quad /= n;
    }

    let rate = this.lr;
    if (this.lossChangeBound !== undefined && quad > 0) rate = Math.min(rate, Math.sqrt(this.lossChangeBound / quad));
    let vv = 0;
    for (let j = 0; j < d; j++) {
      params[j] -= rate * v[j];
      vv += v[j] * v[j];
    }
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const dl = -rate * gv[i];
      sum += dl;
      sq += dl * dl;
    }
    return {
      rate,
      stepNorm: rate * Math.sqrt(vv),
      predictedLossChange: sum / n,
      predictedLossChangeRms: Math.sqrt(sq / n),
      damping: this.damping,
    };
  }

  dispose(): void {
    this.fisher?.dispose();
  }
}
