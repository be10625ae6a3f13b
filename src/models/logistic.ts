/**
 * Multinomial logistic regression (softmax regression): logits z = W x + b, softmax
 * cross-entropy. A dense network of one layer (network.ts).
 *
 * Parameter layout (the layer kit's; d = classes·inputs + classes, 7,850 for MNIST's 784 → 10):
 *   params[k·inputs + j]              W[k][j], the weight of input j for class k
 *   params[classes·inputs + k]        b[k]
 *
 * Per-example gradient of ℓ_i = −log softmax(z_i)[y_i]: with e_i = softmax(z_i) − onehot(y_i),
 * ∇_W ℓ_i = e_i x_iᵀ (an outer product) and ∇_b ℓ_i = e_i.
 *
 * @example
 * await init();
 * const model = new LogisticRegression();            // 784 → 10
 * const params = model.initialize(new Float32Array(model.size), 1);
 * const G = new Float32Array(n * model.size);
 * const loss = model.perExampleGradients(params, x, labels, n, G);
 * optimizer.step(G, n);
 */
import { DenseNetwork } from './network.js';
import { SeededRandom } from './random.js';
import { checkOut, type FloatArray } from './classifier.js';
import type { Precision } from '../index.js';

export interface LogisticRegressionOptions {
  /** input length (default 784) */
  inputs?: number;
  /** number of classes (default 10) */
  classes?: number;
  /**
   * initial weights are uniform in ±initScale (default 0: start at zero, the usual choice for
   * this convex problem; the seed then has no effect)
   */
  initScale?: number;
  /** precision of the arithmetic; default: that of `params` in each call */
  precision?: Precision;
}

export class LogisticRegression extends DenseNetwork {
  private readonly initScale: number;

  constructor(options: LogisticRegressionOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('LogisticRegression options must be an object');
    const inputs = options.inputs ?? 784;
    const classes = options.classes ?? 10;
    if (!Number.isSafeInteger(inputs) || inputs < 1) throw new RangeError(`inputs must be an integer ≥ 1, got ${inputs}`);
    if (!Number.isSafeInteger(classes) || classes < 2) throw new RangeError(`classes must be an integer ≥ 2, got ${classes}`);
    super('logistic', { sizes: [inputs, classes], precision: options.precision });
    const a = options.initScale ?? 0;
    if (!Number.isFinite(a) || a < 0) throw new RangeError(`initScale must be a finite number ≥ 0, got ${a}`);
    this.initScale = a;
  }

  override initialize<T extends FloatArray>(params: T, seed: number): T {
    checkOut('params', params, this.size, 'd');
    const rng = new SeededRandom(seed);
    const a = this.initScale;
    const nw = this.classes * this.inputs;
    for (let p = 0; p < nw; p++) params[p] = a === 0 ? 0 : rng.symmetric(a);
    params.fill(0, nw, this.size);
    return params;
  }
}
