/**
 * Two first-order baselines on flat parameter vectors: SGD (optionally with momentum) and Adam.
 * Both update `params` in place from a mean gradient of the same length and layout.
 *
 * Only + − × ÷ and Math.sqrt on the numeric path, and β^t tracked by repeated multiplication,
 * so the same inputs give the same bits in every JavaScript engine.
 */
import type { FloatArray } from './classifier.js';

function checkGradient(params: FloatArray, grad: FloatArray): void {
  if (grad.length !== params.length) {
    throw new RangeError(`grad has length ${grad.length}, expected d = ${params.length}`);
  }
}

function checkRate(name: string, v: number, lo: number, hi: number, hiOpen: boolean): number {
  if (!Number.isFinite(v) || v < lo || (hiOpen ? v >= hi : v > hi)) {
    throw new RangeError(`${name} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
  }
  return v;
}

export interface SGDOptions {
  /** learning rate η > 0 (default 0.1) */
  lr?: number;
  /** heavy-ball momentum μ ∈ [0, 1) (default 0) */
  momentum?: number;
}

/**
 * Stochastic gradient descent: θ ← θ − η·g, or with momentum μ (the PyTorch convention)
 * v ← μ·v + g, θ ← θ − η·v.
 *
 * @example
 * const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
 * model.gradient(params, x, labels, n, grad);
 * opt.step(grad);            // params updated in place
 */
export class SGD {
  readonly lr: number;
  readonly momentum: number;
  /** steps taken */
  steps = 0;
  private readonly params: FloatArray;
  private readonly velocity: Float64Array | undefined;

  /** @param params [in,out] the parameters, updated in place by `step` */
  constructor(params: FloatArray, options: SGDOptions = {}) {
    this.params = params;
    this.lr = checkRate('lr', options.lr ?? 0.1, 0, Infinity, false);
    this.momentum = checkRate('momentum', options.momentum ?? 0, 0, 1, true);
    this.velocity = this.momentum > 0 ? new Float64Array(params.length) : undefined;
  }

  /** One step from the mean gradient `grad` [in], length d. */
  step(grad: FloatArray): void {
    const { params, lr, momentum, velocity } = this;
    checkGradient(params, grad);
    if (velocity === undefined) {
      for (let p = 0; p < params.length; p++) params[p] -= lr * grad[p];
    } else {
      for (let p = 0; p < params.length; p++) {
        const v = momentum * velocity[p] + grad[p];
        velocity[p] = v;
        params[p] -= lr * v;
      }
    }
    this.steps++;
  }
}

export interface AdamOptions {
  /** learning rate η > 0 (default 1e-3) */
  lr?: number;
  /** decay of the first moment, β₁ ∈ [0, 1) (default 0.9) */
  beta1?: number;
  /** decay of the second moment, β₂ ∈ [0, 1) (default 0.999) */
  beta2?: number;
  /** added to √v̂ (default 1e-8) */
  epsilon?: number;
}

/**
 * Adam (Kingma & Ba, 2015) with bias correction:
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ),
 * θ ← θ − η·m̂/(√v̂ + ε).
 *
 * @example
 * const opt = new Adam(params, { lr: 1e-3 });
 * opt.step(grad);
 */
export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** steps taken */
  steps = 0;
  private readonly params: FloatArray;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  /** β₁ᵗ and β₂ᵗ, by repeated multiplication */
  private beta1Power = 1;
  private beta2Power = 1;

  /** @param params [in,out] the parameters, updated in place by `step` */
  constructor(params: FloatArray, options: AdamOptions = {}) {
    this.params = params;
    this.lr = checkRate('lr', options.lr ?? 1e-3, 0, Infinity, false);
    this.beta1 = checkRate('beta1', options.beta1 ?? 0.9, 0, 1, true);
    this.beta2 = checkRate('beta2', options.beta2 ?? 0.999, 0, 1, true);
    this.epsilon = checkRate('epsilon', options.epsilon ?? 1e-8, 0, Infinity, false);
    this.m = new Float64Array(params.length);
    this.v = new Float64Array(params.length);
  }

  /** One step from the mean gradient `grad` [in], length d. */
  step(grad: FloatArray): void {
    const { params, lr, beta1, beta2, epsilon, m, v } = this;
    checkGradient(params, grad);
    this.beta1Power *= beta1;
    this.beta2Power *= beta2;
    const c1 = 1 / (1 - this.beta1Power);
    const c2 = 1 / (1 - this.beta2Power);
    for (let p = 0; p < params.length; p++) {
      const g = grad[p];
      const mp = beta1 * m[p] + (1 - beta1) * g;
      const vp = beta2 * v[p] + (1 - beta2) * g * g;
      m[p] = mp;
      v[p] = vp;
      params[p] -= (lr * (mp * c1)) / (Math.sqrt(vp * c2) + epsilon);
    }
    this.steps++;
  }
}
