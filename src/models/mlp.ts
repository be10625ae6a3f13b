/**
 * A multilayer perceptron with one hidden layer: h = act(W₁x + b₁), z = W₂h + b₂, softmax
 * cross-entropy on z. 784–32–10 on MNIST: 25,450 parameters.
 *
 * Parameter layout (H = hidden, I = inputs, C = classes; d = H·I + H + C·H + C):
 *   [0, H·I)                  W₁[u][j]  at u·I + j
 *   [H·I, H·I + H)            b₁[u]
 *   [H·I + H, … + C·H)        W₂[k][u]  at H·I + H + k·H + u
 *   [d − C, d)                b₂[k]
 *
 * Per-example gradients by backpropagation, one example at a time: δ₂ = softmax(z) − onehot(y),
 * δ₁ = (W₂ᵀδ₂) ⊙ act′(W₁x + b₁). Each dense layer's weight gradient is an outer product
 * (δ₂hᵀ and δ₁xᵀ), written straight into row i of G; scratch vectors are allocated once per
 * batch size and reused.
 *
 * @example
 * const model = new MLP({ hidden: 32, activation: 'tanh' });   // 784–32–10
 * const params = model.initialize(new Float32Array(model.size), 1);
 * model.perExampleGradients(params, x, labels, n, G);          // G: n × 25,450
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

export type Activation = 'tanh' | 'relu';

export interface MLPOptions {
  /** input length (default 784) */
  inputs?: number;
  /** hidden units (default 32) */
  hidden?: number;
  /** number of classes (default 10) */
  classes?: number;
  /** hidden activation (default 'tanh') */
  activation?: Activation;
}

export class MLP implements Classifier {
  readonly name: string;
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  readonly activation: Activation;
  readonly size: number;
  /** offsets of b₁, W₂ and b₂ in params */
  private readonly b1: number;
  private readonly w2: number;
  private readonly b2: number;
  /** n × hidden: activations h; n × classes: logits, then δ₂; δ₁, δ₂, h of one example */
  private h = new Float64Array(0);
  private z = new Float64Array(0);
  private readonly d1: Float64Array;
  private readonly d2: Float64Array;
  private readonly hi: Float64Array;
  /** d: float64 accumulator of the mean gradient */
  private readonly acc: Float64Array;

  constructor(options: MLPOptions = {}) {
    this.inputs = options.inputs ?? 784;
    this.hidden = options.hidden ?? 32;
    this.classes = options.classes ?? 10;
    this.activation = options.activation ?? 'tanh';
    for (const [name, v, min] of [['inputs', this.inputs, 1], ['hidden', this.hidden, 1], ['classes', this.classes, 2]] as const) {
      if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
    }
    if (this.activation !== 'tanh' && this.activation !== 'relu') {
      throw new RangeError(`activation must be 'tanh' or 'relu', got ${String(this.activation)}`);
    }
    this.name = `mlp-${this.activation}`;
    const { inputs: I, hidden: H, classes: C } = this;
    this.b1 = H * I;
    this.w2 = this.b1 + H;
    this.b2 = this.w2 + C * H;
    this.size = this.b2 + C;
    this.d1 = new Float64Array(H);
    this.d2 = new Float64Array(C);
    this.hi = new Float64Array(H);
    this.acc = new Float64Array(this.size);
  }

  /**
   * Glorot-uniform weights for tanh (±√(6/(fan_in + fan_out))), He-uniform for ReLU
   * (±√(6/fan_in)); zero biases.
   */
  initialize<T extends FloatArray>(params: T, seed: number): T {
    checkOut('params', params, this.size, 'd');
    const rng = new SeededRandom(seed);
    const { inputs: I, hidden: H, classes: C } = this;
    const relu = this.activation === 'relu';
    const a1 = Math.sqrt(6 / (relu ? I : I + H));
    const a2 = Math.sqrt(6 / (H + C));
    for (let p = 0; p < this.b1; p++) params[p] = rng.symmetric(a1);
    for (let p = this.b1; p < this.w2; p++) params[p] = 0;
    for (let p = this.w2; p < this.b2; p++) params[p] = rng.symmetric(a2);
    for (let p = this.b2; p < this.size; p++) params[p] = 0;
    return params;
  }

  logits(params: FloatArray, x: FloatArray, n: number, out?: Float64Array): Float64Array {
    checkBatch(this, params, x, n);
    const z = out ?? new Float64Array(n * this.classes);
    if (z.length < n * this.classes) throw new RangeError(`out has length ${z.length}, expected at least n·classes = ${n * this.classes}`);
    this.forward(params, x, n, z);
    return z;
  }

  evaluate(params: FloatArray, x: FloatArray, labels: Labels, n: number): Evaluation {
    checkBatch(this, params, x, n, labels);
    this.reserve(n);
    this.forward(params, x, n, this.z);
    return crossEntropyAndAccuracy(this.z, labels, n, this.classes);
  }

  gradient(params: FloatArray, x: FloatArray, labels: Labels, n: number, out: FloatArray): number {
    checkOut('out', out, this.size, 'd');
    const acc = this.acc;
    acc.fill(0);
    const loss = this.backward(params, x, labels, n, (i, d1, d2, h) => {
      const { inputs: I, hidden: H, classes: C } = this;
      const xo = i * I;
      for (let u = 0; u < H; u++) {
        const du = d1[u];
        if (du === 0) continue; // an inactive ReLU unit contributes nothing
        const wo = u * I;
        for (let j = 0; j < I; j++) acc[wo + j] += du * x[xo + j];
        acc[this.b1 + u] += du;
      }
      for (let k = 0; k < C; k++) {
        const dk = d2[k];
        const wo = this.w2 + k * H;
        for (let u = 0; u < H; u++) acc[wo + u] += dk * h[u];
        acc[this.b2 + k] += dk;
      }
    });
    const inv = n > 0 ? 1 / n : 0;
    for (let p = 0; p < this.size; p++) out[p] = acc[p] * inv;
    return loss;
  }

  perExampleGradients(params: FloatArray, x: FloatArray, labels: Labels, n: number, out: FloatArray): number {
    checkOut('out', out, n * this.size, 'n·d');
    return this.backward(params, x, labels, n, (i, d1, d2, h) => {
      const { inputs: I, hidden: H, classes: C, size } = this;
      const row = i * size;
      const xo = i * I;
      for (let u = 0; u < H; u++) {
        const du = d1[u];
        const wo = row + u * I;
        for (let j = 0; j < I; j++) out[wo + j] = du * x[xo + j]; // (δ₁xᵀ)[u][j]
        out[row + this.b1 + u] = du;
      }
      for (let k = 0; k < C; k++) {
        const dk = d2[k];
        const wo = row + this.w2 + k * H;
        for (let u = 0; u < H; u++) out[wo + u] = dk * h[u]; // (δ₂hᵀ)[k][u]
        out[row + this.b2 + k] = dk;
      }
    });
  }

  /** h (n × hidden, in this.h) and z (n × classes, in `z`) for a batch. */
  private forward(params: FloatArray, x: FloatArray, n: number, z: Float64Array): void {
    this.reserve(n);
    const { inputs: I, hidden: H, classes: C, h } = this;
    const relu = this.activation === 'relu';
    for (let i = 0; i < n; i++) {
      const xo = i * I;
      const ho = i * H;
      for (let u = 0; u < H; u++) {
        const wo = u * I;
        let s = params[this.b1 + u];
        for (let j = 0; j < I; j++) s += params[wo + j] * x[xo + j];
        h[ho + u] = relu ? (s > 0 ? s : 0) : Math.tanh(s);
      }
      for (let k = 0; k < C; k++) {
        const wo = this.w2 + k * H;
        let s = params[this.b2 + k];
        for (let u = 0; u < H; u++) s += params[wo + u] * h[ho + u];
        z[i * C + k] = s;
      }
    }
  }

  /**
   * Forward and backward pass; calls `visit(i, δ₁, δ₂, h)` once per example with scratch vectors
   * that are overwritten for the next example. Returns the mean loss.
   */
  private backward(
    params: FloatArray,
    x: FloatArray,
    labels: Labels,
    n: number,
    visit: (i: number, d1: Float64Array, d2: Float64Array, h: Float64Array) => void,
  ): number {
    checkBatch(this, params, x, n, labels);
    this.reserve(n); // before reading this.z: reserve may replace it
    this.forward(params, x, n, this.z);
    const { hidden: H, classes: C, z, h, d1, d2, hi } = this;
    const relu = this.activation === 'relu';
    let loss = 0;
    for (let i = 0; i < n; i++) {
      loss += softmaxCrossEntropyDelta(z, i * C, C, labels[i]);
      const ho = i * H;
      for (let u = 0; u < H; u++) {
        let s = 0;
        for (let k = 0; k < C; k++) s += params[this.w2 + k * H + u] * z[i * C + k]; // (W₂ᵀδ₂)[u]
        const hu = h[ho + u];
        d1[u] = relu ? (hu > 0 ? s : 0) : s * (1 - hu * hu); // tanh′ = 1 − tanh²
      }
      for (let k = 0; k < C; k++) d2[k] = z[i * C + k];
      for (let u = 0; u < H; u++) hi[u] = h[ho + u];
      visit(i, d1, d2, hi);
    }
    return n > 0 ? loss / n : 0;
  }

  private reserve(n: number): void {
    if (this.h.length < n * this.hidden) this.h = new Float64Array(n * this.hidden);
    if (this.z.length < n * this.classes) this.z = new Float64Array(n * this.classes);
  }
}
