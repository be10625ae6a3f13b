/**
 * Multinomial logistic regression (softmax regression): logits z = W x + b.
 *
 * Parameter layout (d = classes·inputs + classes; 7,850 for MNIST's 784 → 10):
 *   params[k·inputs + j]              W[k][j], the weight of input j for class k
 *   params[classes·inputs + k]        b[k]
 *
 * Per-example gradient of ℓ_i = −log softmax(z_i)[y_i]: with δ_i = softmax(z_i) − onehot(y_i),
 * ∇_W ℓ_i = δ_i x_iᵀ (an outer product) and ∇_b ℓ_i = δ_i. Row i of G is written directly from
 * δ_i and x_i, with no per-example allocation.
 *
 * @example
 * const model = new LogisticRegression();            // 784 → 10
 * const params = model.initialize(new Float32Array(model.size), 1);
 * const G = new Float32Array(n * model.size);
 * const loss = model.perExampleGradients(params, x, labels, n, G);
 * optimizer.step(G, n);
 */
import {
  checkBatch,
  checkOut,
  crossEntropyAndAccuracy,
  softmaxCrossEntropyDelta,
  type Classifier,
  type Evaluation,
  type FloatArray,
  type Labels,
} from './classifier.js';
import { SeededRandom } from './random.js';

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
}

export class LogisticRegression implements Classifier {
  readonly name = 'logistic';
  readonly inputs: number;
  readonly classes: number;
  readonly size: number;
  private readonly initScale: number;
  /** n × classes scratch: logits, then δ; grown on demand, reused across calls */
  private z = new Float64Array(0);
  /** d scratch: the float64 accumulator of the mean gradient */
  private acc: Float64Array;

  constructor(options: LogisticRegressionOptions = {}) {
    this.inputs = options.inputs ?? 784;
    this.classes = options.classes ?? 10;
    this.initScale = options.initScale ?? 0;
    if (!Number.isSafeInteger(this.inputs) || this.inputs < 1) throw new RangeError(`inputs must be an integer ≥ 1, got ${this.inputs}`);
    if (!Number.isSafeInteger(this.classes) || this.classes < 2) throw new RangeError(`classes must be an integer ≥ 2, got ${this.classes}`);
    this.size = this.classes * this.inputs + this.classes;
    this.acc = new Float64Array(this.size);
  }

  initialize<T extends FloatArray>(params: T, seed: number): T {
    checkOut('params', params, this.size, 'd');
    const rng = new SeededRandom(seed);
    const a = this.initScale;
    const nw = this.classes * this.inputs;
    for (let p = 0; p < nw; p++) params[p] = a === 0 ? 0 : rng.symmetric(a);
    for (let k = 0; k < this.classes; k++) params[nw + k] = 0;
    return params;
  }

  logits(params: FloatArray, x: FloatArray, n: number, out?: Float64Array): Float64Array {
    checkBatch(this, params, x, n);
    const { inputs, classes } = this;
    const z = out ?? new Float64Array(n * classes);
    if (z.length < n * classes) throw new RangeError(`out has length ${z.length}, expected at least n·classes = ${n * classes}`);
    const bias = classes * inputs;
    for (let i = 0; i < n; i++) {
      const xo = i * inputs;
      for (let k = 0; k < classes; k++) {
        const wo = k * inputs;
        let s = params[bias + k];
        for (let j = 0; j < inputs; j++) s += params[wo + j] * x[xo + j];
        z[i * classes + k] = s;
      }
    }
    return z;
  }

  evaluate(params: FloatArray, x: FloatArray, labels: Labels, n: number): Evaluation {
    checkBatch(this, params, x, n, labels);
    return crossEntropyAndAccuracy(this.logits(params, x, n, this.scratch(n)), labels, n, this.classes);
  }

  gradient(params: FloatArray, x: FloatArray, labels: Labels, n: number, out: FloatArray): number {
    checkOut('out', out, this.size, 'd');
    const loss = this.deltas(params, x, labels, n);
    const { inputs, classes, z, acc } = this;
    const bias = classes * inputs;
    acc.fill(0);
    for (let i = 0; i < n; i++) {
      const xo = i * inputs;
      for (let k = 0; k < classes; k++) {
        const dk = z[i * classes + k];
        const wo = k * inputs;
        for (let j = 0; j < inputs; j++) acc[wo + j] += dk * x[xo + j];
        acc[bias + k] += dk;
      }
    }
    const inv = n > 0 ? 1 / n : 0;
    for (let p = 0; p < this.size; p++) out[p] = acc[p] * inv;
    return loss;
  }

  perExampleGradients(params: FloatArray, x: FloatArray, labels: Labels, n: number, out: FloatArray): number {
    checkOut('out', out, n * this.size, 'n·d');
    const loss = this.deltas(params, x, labels, n);
    const { inputs, classes, z, size } = this;
    const bias = classes * inputs;
    for (let i = 0; i < n; i++) {
      const row = i * size;
      const xo = i * inputs;
      for (let k = 0; k < classes; k++) {
        const dk = z[i * classes + k];
        const wo = row + k * inputs;
        for (let j = 0; j < inputs; j++) out[wo + j] = dk * x[xo + j]; // (δ_i x_iᵀ)[k][j]
        out[row + bias + k] = dk;
      }
    }
    return loss;
  }

  /** Leaves δ_i = softmax(z_i) − onehot(y_i) in this.z; returns the mean loss. */
  private deltas(params: FloatArray, x: FloatArray, labels: Labels, n: number): number {
    checkBatch(this, params, x, n, labels);
    const z = this.logits(params, x, n, this.scratch(n));
    let loss = 0;
    for (let i = 0; i < n; i++) loss += softmaxCrossEntropyDelta(z, i * this.classes, this.classes, labels[i]);
    return n > 0 ? loss / n : 0;
  }

  private scratch(n: number): Float64Array {
    if (this.z.length < n * this.classes) this.z = new Float64Array(n * this.classes);
    return this.z;
  }
}
