/**
 * A dense network y_L = W_L act(… act(W_1 x + b_1) …) + b_L with a loss on y_L: what
 * LogisticRegression (one layer) and MLP (any depth) are. Forward and backward are batched in wasm
 * memory: each layer one gemm (plus the bias rows), the activations, their derivatives and the loss
 * in wasm (assembly/models.ts), so the results are the same bits in every engine.
 *
 * Losses: softmax cross-entropy and squared error against class labels (one-hot), and, with
 * real-valued targets t (`targets: 'values'`, e.g. pixels for an autoencoder), squared error
 * ½‖z − t‖² and Bernoulli cross-entropy of sigmoid outputs, Σ_k −t_k log σ(z_k) − (1 − t_k)
 * log(1 − σ(z_k)), for t ∈ [0, 1].
 *
 * Backward: E_L = ∂ℓ/∂y_L per example (softmax(z) − onehot, z − onehot, z − t or σ(z) − t), then
 * E_{l−1} = (E_l W_l) ∘ act′(H_{l−1}). Each layer's inputs A_l and E_l are the layer kit's
 * statistics; the mean gradient and the rows of G come from the layer kit (src/layers/inwasm.ts).
 *
 * Parameter layout (the layer kit's): layer after layer, W_l row-major (outputs × inputs:
 * W_l[o][i] at off_l + o·inputs + i), then b_l (outputs).
 */
import { __internal } from '../index.js';
import type { FloatArray, Precision } from '../index.js';
import type { Engine } from '../engine.js';
import type { LayerInWasm } from '../layers/inwasm.js';
import { checkBatch, checkOut, checkTargets, type Classifier, type DenseLayerStats, type Evaluation, type ForwardBackward, type Targets } from './classifier.js';
import { SeededRandom } from './random.js';

export type Activation = 'tanh' | 'relu' | 'sigmoid';
export type Loss = 'softmax-cross-entropy' | 'squared-error' | 'bernoulli-cross-entropy';
/** what the loss compares the outputs with: class indices, or n × outputs real values */
export type TargetKind = 'labels' | 'values';

/** the kernels' numbers (assembly/models.ts) */
const ACTIVATIONS: Record<Activation, number> = { tanh: 0, relu: 1, sigmoid: 2 };
const LOSSES: Record<Loss, number> = { 'softmax-cross-entropy': 0, 'squared-error': 1, 'bernoulli-cross-entropy': 2 };
/** rows per forward pass in logits() and evaluate(): bounds the wasm memory a large set takes */
const CHUNK = 1024;

function bytes(p: Precision): number {
  return p === 'f32' ? 4 : 8;
}

/** The wasm buffers of one pass over m rows; freed by release(). */
interface Pass {
  e: Engine;
  p: Precision;
  m: number;
  /** parameters (d) */
  w: number;
  /** labels (m i32), real targets (m × outputs), or 0 */
  y: number;
  /** act[0] = x (m × sizes[0]); act[l] = the output of layer l (m × sizes[l]), logits last */
  act: number[];
  /** err[l] = E of layer l (m × sizes[l + 1]) */
  err: number[];
  ptrs: number[];
}

export interface DenseNetworkOptions {
  /** layer widths, inputs first and classes last: [784, 32, 10] */
  sizes: readonly number[];
  /** the activation of every hidden layer (default 'tanh') */
  activation?: Activation;
  /**
   * 'softmax-cross-entropy' (default), 'squared-error' or 'bernoulli-cross-entropy' (sigmoid
   * outputs against targets in [0, 1]; real-valued targets only)
   */
  loss?: Loss;
  /**
   * 'labels' (class indices; the default) or 'values' (n × outputs real targets, passed where
   * the labels go): 'values' for 'squared-error' or 'bernoulli-cross-entropy' (where it is the
   * default)
   */
  targets?: TargetKind;
  /** the precision of the arithmetic; default: that of `params` in each call */
  precision?: Precision;
}

/** The common implementation of LogisticRegression and MLP (see the file comment). */
export class DenseNetwork implements Classifier {
  readonly name: string;
  readonly inputs: number;
  readonly classes: number;
  readonly size: number;
  /** layer widths, inputs first, classes last */
  readonly sizes: readonly number[];
  readonly activation: Activation;
  readonly loss: Loss;
  readonly targets: TargetKind;
  /** the precision of the arithmetic, or undefined: that of `params` in each call */
  readonly precision: Precision | undefined;
  /** offsets of W_l in params */
  private readonly offsets: number[];
  /** forwardBackward's statistics, grown on demand and reused */
  private stats: { p: Precision; n: number; list: DenseLayerStats[] } | undefined;

  constructor(name: string, options: DenseNetworkOptions) {
    const sizes = options.sizes;
    if (!Array.isArray(sizes) || sizes.length < 2) {
      throw new RangeError(`sizes must list at least the inputs and the classes, got ${JSON.stringify(sizes)}`);
    }
    sizes.forEach((v, l) => {
      const min = l === sizes.length - 1 ? 2 : 1;
      if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`sizes[${l}] must be an integer ≥ ${min}, got ${v}`);
    });
    const activation = options.activation ?? 'tanh';
    if (!Object.hasOwn(ACTIVATIONS, activation)) {
      throw new RangeError(`activation must be 'tanh', 'relu' or 'sigmoid', got ${String(activation)}`);
    }
    const loss = options.loss ?? 'softmax-cross-entropy';
    if (!Object.hasOwn(LOSSES, loss)) {
      throw new RangeError(`loss must be 'softmax-cross-entropy', 'squared-error' or 'bernoulli-cross-entropy', got ${String(loss)}`);
    }
    const targets = options.targets ?? (loss === 'bernoulli-cross-entropy' ? 'values' : 'labels');
    if (targets !== 'labels' && targets !== 'values') throw new RangeError(`targets must be 'labels' or 'values', got ${String(targets)}`);
    if (targets === 'labels' && loss === 'bernoulli-cross-entropy') {
      throw new RangeError("targets must be 'values' for loss 'bernoulli-cross-entropy' (targets in [0, 1])");
    }
    if (targets === 'values' && loss === 'softmax-cross-entropy') {
      throw new RangeError("targets must be 'labels' for loss 'softmax-cross-entropy' (use 'bernoulli-cross-entropy' or 'squared-error' for real targets)");
    }
    const precision = options.precision;
    if (precision !== undefined && precision !== 'f32' && precision !== 'f64') {
      throw new RangeError(`precision must be 'f32' or 'f64', got ${String(precision)}`);
    }
    this.name = name;
    this.sizes = Object.freeze(sizes.slice());
    this.inputs = sizes[0];
    this.classes = sizes[sizes.length - 1];
    this.activation = activation;
    this.loss = loss;
    this.targets = targets;
    this.precision = precision;
    this.offsets = [];
    let d = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      this.offsets.push(d);
      d += sizes[l + 1] * sizes[l] + sizes[l + 1];
    }
    this.size = d;
  }

  /** number of dense layers */
  get depth(): number {
    return this.sizes.length - 1;
  }

  /**
   * Glorot-uniform weights (±√(6/(fan_in + fan_out))), He-uniform (±√(6/fan_in)) for a layer
   * followed by ReLU; zero biases. Drawn layer after layer, W row by row, from `seed`.
   */
  initialize<T extends FloatArray>(params: T, seed: number): T {
    checkOut('params', params, this.size, 'd');
    const rng = new SeededRandom(seed);
    const { sizes } = this;
    for (let l = 0; l < this.depth; l++) {
      const fanIn = sizes[l];
      const fanOut = sizes[l + 1];
      const he = this.activation === 'relu' && l + 1 < this.depth;
      const a = Math.sqrt(6 / (he ? fanIn : fanIn + fanOut));
      const o = this.offsets[l];
      for (let p = o; p < o + fanIn * fanOut; p++) params[p] = rng.symmetric(a);
      params.fill(0, o + fanIn * fanOut, o + fanIn * fanOut + fanOut);
    }
    return params;
  }

  logits(params: FloatArray, x: FloatArray, n: number, out?: Float64Array): Float64Array {
    checkBatch(this, params, x, n);
    const C = this.classes;
    if (out !== undefined && !(out instanceof Float64Array)) throw new TypeError('out must be a Float64Array');
    const z = out ?? new Float64Array(n * C);
    if (z.length < n * C) throw new RangeError(`out has length ${z.length}, expected at least n·classes = ${n * C}`);
    this.chunks(params, x, n, undefined, (pass, i0, m) => {
      z.set(pass.e.view(pass.p, pass.act[this.depth], m * C), i0 * C);
    });
    return z;
  }

  evaluate(params: FloatArray, x: FloatArray, labels: Targets, n: number): Evaluation {
    this.check(params, x, n, labels);
    let loss = 0;
    let correct = 0;
    const C = this.classes;
    const values = this.targets === 'values';
    // an output of a sigmoid is above ½ when its logit is above 0
    const threshold = this.loss === 'bernoulli-cross-entropy' ? 0 : 0.5;
    this.chunks(params, x, n, labels, (pass, _i0, m) => {
      const z = pass.act[this.depth];
      if (values) {
        loss += pass.e.k('loss_sum_values', pass.p)(LOSSES[this.loss], m, C, z, C, pass.y, C);
        correct += pass.e.k('count_agree', pass.p)(m, C, z, C, pass.y, C, threshold);
      } else {
        loss += pass.e.k('loss_sum', pass.p)(LOSSES[this.loss], m, C, z, C, pass.y);
        correct += pass.e.k('count_correct', pass.p)(m, C, z, C, pass.y);
      }
    });
    return { loss: n > 0 ? loss / n : 0, accuracy: n > 0 ? correct / (values ? n * C : n) : 0 };
  }

  gradient(params: FloatArray, x: FloatArray, labels: Targets, n: number, out: FloatArray): number {
    this.check(params, x, n, labels);
    checkOut('out', out, this.size, 'd');
    return this.pass(params, x, labels, n, (pass) => this.meanGradient(pass, out));
  }

  perExampleGradients(params: FloatArray, x: FloatArray, labels: Targets, n: number, out: FloatArray): number {
    this.check(params, x, n, labels);
    checkOut('out', out, n * this.size, 'n·d');
    return this.pass(params, x, labels, n, (pass) => {
      const { e, p } = pass;
      const d = this.size;
      const g = e.alloc(Math.max(n * d * bytes(p), 16));
      try {
        const list = this.layersInWasm(pass);
        for (let l = 0; l < list.length; l++) __internal.perExampleGradientsInWasm(e, p, list[l], n, g, this.offsets[l], d);
        out.set(e.view(p, g, n * d));
      } finally {
        e.free(g);
      }
    });
  }

  /**
   * One forward and backward pass: the layer kit's statistics of every layer (A_l, E_l in the
   * model's precision; arrays owned by the model, overwritten by its next call), the mean loss,
   * and the mean gradient into `options.gradient` (length d) when given.
   *
   * @example
   * const { loss, layers } = model.forwardBackward(params, x, labels, n);
   * opt.stepLayers(layers, n);     // the same step as opt.step(G, n), without forming G
   */
  forwardBackward(params: FloatArray, x: FloatArray, labels: Targets, n: number, options: { gradient?: FloatArray } = {}): ForwardBackward {
    this.check(params, x, n, labels);
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const gradient = options.gradient;
    if (gradient !== undefined) checkOut('options.gradient', gradient, this.size, 'd');
    let list: DenseLayerStats[] = [];
    const loss = this.pass(params, x, labels, n, (pass) => {
      list = this.statsBuffers(pass.p, n);
      for (let l = 0; l < this.depth; l++) {
        list[l].A.set(pass.e.view(pass.p, pass.act[l], n * this.sizes[l]));
        list[l].E.set(pass.e.view(pass.p, pass.err[l], n * this.sizes[l + 1]));
      }
      if (gradient) this.meanGradient(pass, gradient);
    });
    return gradient ? { loss, layers: list, gradient } : { loss, layers: list };
  }

  /** The shape checks, and the targets' range for real-valued targets. */
  private check(params: FloatArray, x: FloatArray, n: number, targets: Targets): void {
    checkBatch(this, params, x, n, targets);
    if (this.loss === 'bernoulli-cross-entropy') checkTargets(this, targets, n, 0, 1);
  }

  private precisionFor(params: FloatArray): Precision {
    return this.precision ?? (params instanceof Float64Array ? 'f64' : 'f32');
  }

  /** Allocates the buffers of a pass over m rows, copies params (and labels) in, runs `f`, frees. */
  private withPass<R>(params: FloatArray, m: number, withLabels: boolean, backward: boolean, f: (pass: Pass) => R): R {
    const e = __internal.getEngine();
    const p = this.precisionFor(params);
    const S = bytes(p);
    const ptrs: number[] = [];
    const take = (count: number): number => {
      const ptr = e.alloc(Math.max(count, 16));
      ptrs.push(ptr);
      return ptr;
    };
    try {
      const targetBytes = this.targets === 'values' ? m * this.classes * S : m * 4;
      const pass: Pass = { e, p, m, w: take(this.size * S), y: withLabels ? take(targetBytes) : 0, act: [], err: [], ptrs };
      for (let l = 0; l <= this.depth; l++) pass.act.push(take(m * this.sizes[l] * S));
      if (backward) for (let l = 0; l < this.depth; l++) pass.err.push(take(m * this.sizes[l + 1] * S));
      e.put(p, pass.w, params);
      return f(pass);
    } finally {
      for (let i = ptrs.length - 1; i >= 0; i--) e.free(ptrs[i]);
    }
  }

  /** Copies x rows [i0, i0 + m) and their labels into the pass. */
  private load(pass: Pass, x: FloatArray, labels: Targets | undefined, i0: number, m: number): void {
    const I = this.inputs;
    pass.e.put(pass.p, pass.act[0], x.subarray(i0 * I, (i0 + m) * I));
    if (labels && this.targets === 'values') {
      const C = this.classes;
      pass.e.put(pass.p, pass.y, (labels as FloatArray).subarray(i0 * C, (i0 + m) * C));
    } else if (labels) {
      const y = new Int32Array(pass.e.memory.buffer, pass.y, m);
      for (let i = 0; i < m; i++) y[i] = labels[i0 + i];
    }
  }

  /** Forward over the rows in pass.act[0]: act[l + 1] = act(act[l] W_lᵀ + b_l), logits last. */
  private forward(pass: Pass): void {
    const { e, p, m } = pass;
    const S = bytes(p);
    const gemm = e.k('gemm', p);
    const kind = ACTIVATIONS[this.activation];
    for (let l = 0; l < this.depth; l++) {
      const ni = this.sizes[l];
      const no = this.sizes[l + 1];
      const w = pass.w + this.offsets[l] * S;
      const out = pass.act[l + 1];
      e.k('bias_rows', p)(m, no, w + ni * no * S, out, no);
      gemm(m, no, ni, 1, pass.act[l], ni, 0, w, ni, 1, 1, out, no, e.work);
      if (l + 1 < this.depth) e.k('activate', p)(kind, m, no, out, no);
    }
  }

  /** Backward after forward: E of every layer; returns Σ_i ℓ_i. */
  private backward(pass: Pass): number {
    const { e, p, m } = pass;
    const S = bytes(p);
    const L = this.depth;
    const C = this.classes;
    const z = pass.act[L];
    const total =
      this.targets === 'values'
        ? e.k(this.loss === 'bernoulli-cross-entropy' ? 'sigmoid_xent' : 'squared_error_values', p)(m, C, z, C, pass.y, C, pass.err[L - 1], C)
        : e.k(this.loss === 'softmax-cross-entropy' ? 'softmax_xent' : 'squared_error', p)(m, C, z, C, pass.y, pass.err[L - 1], C);
    const kind = ACTIVATIONS[this.activation];
    for (let l = L - 1; l > 0; l--) {
      const ni = this.sizes[l];
      const no = this.sizes[l + 1];
      // E_{l−1} = (E_l W_l) ∘ act′(H_{l−1}), H_{l−1} = act[l]
      e.k('gemm', p)(m, ni, no, 1, pass.err[l], no, 0, pass.w + this.offsets[l] * S, ni, 0, 0, pass.err[l - 1], ni, e.work);
      e.k('activate_backward', p)(kind, m, ni, pass.act[l], ni, pass.err[l - 1], ni);
    }
    return total;
  }

  /** A whole batch forward and backward in one pass; `f` reads the results; returns the mean loss. */
  private pass(params: FloatArray, x: FloatArray, labels: Targets, n: number, f: (pass: Pass) => void): number {
    return this.withPass(params, n, true, true, (pass) => {
      let total = 0;
      if (n > 0) {
        this.load(pass, x, labels, 0, n);
        this.forward(pass);
        total = this.backward(pass);
      }
      f(pass);
      return n > 0 ? total / n : 0;
    });
  }

  /** Forward only, CHUNK rows at a time: `f(pass, i0, m)` after each chunk. */
  private chunks(params: FloatArray, x: FloatArray, n: number, labels: Targets | undefined, f: (pass: Pass, i0: number, m: number) => void): void {
    if (n === 0) return;
    const rows = Math.min(n, CHUNK);
    this.withPass(params, rows, labels !== undefined, false, (pass) => {
      for (let i0 = 0; i0 < n; i0 += rows) {
        const m = Math.min(rows, n - i0);
        pass.m = m;
        this.load(pass, x, labels, i0, m);
        this.forward(pass);
        f(pass, i0, m);
      }
    });
  }

  private layersInWasm(pass: Pass): LayerInWasm[] {
    const list: LayerInWasm[] = [];
    for (let l = 0; l < this.depth; l++) {
      list.push({ ap: pass.act[l], ep: pass.err[l], inputs: this.sizes[l], outputs: this.sizes[l + 1], bias: true });
    }
    return list;
  }

  /** out (d, any float type) = the mean gradient of the pass (zeros for n = 0). */
  private meanGradient(pass: Pass, out: FloatArray): void {
    const { e, p, m } = pass;
    const g = e.alloc(Math.max(this.size * bytes(p), 16));
    try {
      __internal.meanGradientInWasm(e, p, this.layersInWasm(pass), m, g);
      out.set(e.view(p, g, this.size));
    } finally {
      e.free(g);
    }
  }

  private statsBuffers(p: Precision, n: number): DenseLayerStats[] {
    const s = this.stats;
    if (!s || s.p !== p || s.n < n) {
      const T = p === 'f32' ? Float32Array : Float64Array;
      const list = [];
      for (let l = 0; l < this.depth; l++) {
        list.push({ A: new T(n * this.sizes[l]), E: new T(n * this.sizes[l + 1]), inputs: this.sizes[l], outputs: this.sizes[l + 1], bias: true });
      }
      this.stats = { p, n, list };
    }
    // views of exactly n rows
    return this.stats!.list.map((b) => ({
      A: b.A.subarray(0, n * b.inputs),
      E: b.E.subarray(0, n * b.outputs),
      inputs: b.inputs,
      outputs: b.outputs,
      bias: true,
    }));
  }
}
