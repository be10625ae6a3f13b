/**
 * What every example model provides, and the shape checks they share.
 *
 * Conventions (the same as the library's):
 * - `params` is one flat Float32Array or Float64Array in the layer kit's layout: layer after
 *   layer, W row-major (outputs × inputs: W[o][i] at o·inputs + i), then b (outputs).
 * - `x` holds n inputs of length `inputs`, row-major: x[i·inputs + j].
 * - `labels` holds n class indices in 0 … classes−1; for a model with real-valued targets
 *   (`targets: 'values'`, e.g. an autoencoder) it is a float array of n × outputs targets instead.
 * - the per-example gradient matrix G is n × d row-major: row i is ∇ℓ_i(θ), flattened in the
 *   same layout as `params`. That is the matrix `EmpiricalFisher.update(G, n)` and
 *   `EmpiricalFisherOptimizer.step(G, n)` take; `forwardBackward` gives the layer kit's
 *   statistics instead (`opt.stepLayers(layers, n)`), without forming G.
 * - the arithmetic runs in wasm (gemm and the kernels of assembly/models.ts) in the model's
 *   precision; results are written in the type of the output array.
 */
import type { DenseLayerStats, FloatArray } from '../index.js';

export type { DenseLayerStats, FloatArray };

/** Class indices: a Uint8Array, Int32Array, plain array… */
export type Labels = ArrayLike<number>;

/**
 * What a model trains against: class indices (`Labels`), or, for a model with
 * `targets === 'values'`, n × outputs real targets (row-major, a Float32Array or Float64Array).
 */
export type Targets = Labels | FloatArray;

/** Mean loss and accuracy over a set. */
export interface Evaluation {
  /** the mean loss (cross-entropy in nats, or ½‖z − onehot‖² for squared error) */
  loss: number;
  /**
   * fraction of examples whose largest output is the label, in [0, 1]; with real-valued targets,
   * the fraction of the n·outputs entries on the same side of ½ as their target (the output
   * taken through the sigmoid for 'bernoulli-cross-entropy')
   */
  accuracy: number;
}

/** What one forward and backward pass gives (see `Classifier.forwardBackward`). */
export interface ForwardBackward {
  /** the mean loss of the batch */
  loss: number;
  /**
   * per dense layer, in parameter order: A (n × inputs, the layer's inputs) and E (n × outputs,
   * E_i = ∂ℓ_i/∂y_i, not divided by n), in the model's precision: what `layers.*`,
   * `F.updateLayers` and `opt.stepLayers` take. The arrays belong to the model and are
   * overwritten by its next forwardBackward.
   */
  layers: DenseLayerStats[];
  /** the mean gradient, when `gradient` was passed */
  gradient?: FloatArray;
}

/** A classifier with per-example gradients. */
export interface Classifier {
  /** a short name, e.g. 'logistic' or 'mlp-tanh' */
  readonly name: string;
  /** input length (784 for MNIST) */
  readonly inputs: number;
  /** number of classes (10 for MNIST): the length of an output */
  readonly classes: number;
  /** 'labels' (class indices, the default) or 'values' (n × classes real targets) */
  readonly targets?: 'labels' | 'values';
  /** number of parameters d: the length of `params` and of one row of G */
  readonly size: number;

  /** Fills `params` with initial values drawn from `seed`; returns it. */
  initialize<T extends FloatArray>(params: T, seed: number): T;

  /** The n × classes outputs (logits), row-major. */
  logits(params: FloatArray, x: FloatArray, n: number, out?: Float64Array): Float64Array;

  /** Mean loss and accuracy of n examples. */
  evaluate(params: FloatArray, x: FloatArray, labels: Targets, n: number): Evaluation;

  /** The mean gradient ḡ = (1/n) Σ ∇ℓ_i, length d; returns the mean loss of the batch. */
  gradient(params: FloatArray, x: FloatArray, labels: Targets, n: number, out: FloatArray): number;

  /** The n × d per-example gradients, row i = ∇ℓ_i; returns the mean loss of the batch. */
  perExampleGradients(params: FloatArray, x: FloatArray, labels: Targets, n: number, out: FloatArray): number;

  /**
   * One forward and backward pass: each layer's A and E (the layer kit's statistics), the mean
   * loss and, into `options.gradient` (length d) when given, the mean gradient.
   */
  forwardBackward(params: FloatArray, x: FloatArray, labels: Targets, n: number, options?: { gradient?: FloatArray }): ForwardBackward;
}

function isFloatArray(x: unknown): x is FloatArray {
  return x instanceof Float32Array || x instanceof Float64Array;
}

/** Checks shapes shared by every model call; throws a RangeError (TypeError) naming the argument. */
export function checkBatch(model: Classifier, params: FloatArray, x: FloatArray, n: number, labels?: Targets): void {
  if (!isFloatArray(params)) throw new TypeError('params must be a Float32Array or a Float64Array');
  if (!isFloatArray(x)) throw new TypeError('x must be a Float32Array or a Float64Array');
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be an integer ≥ 0, got ${n}`);
  if (params.length !== model.size) {
    throw new RangeError(`params has length ${params.length}, expected ${model.size} for ${model.name}`);
  }
  if (x.length < n * model.inputs) {
    throw new RangeError(`x has length ${x.length}, expected at least n·inputs = ${n * model.inputs}`);
  }
  if (labels !== undefined && model.targets === 'values') {
    checkTargets(model, labels, n, -Infinity, Infinity);
  } else if (labels !== undefined) {
    if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
      throw new TypeError('labels must be an array of class indices');
    }
    if (labels.length < n) throw new RangeError(`labels has length ${labels.length}, expected at least n = ${n}`);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      if (!Number.isInteger(c) || c < 0 || c >= model.classes) {
        throw new RangeError(`labels[${i}] is ${c}, expected an integer in 0 … ${model.classes - 1}`);
      }
    }
  }
}

/**
 * Checks real targets: a float array of at least n·classes finite values in [lo, hi]; a
 * RangeError names the first bad index.
 */
export function checkTargets(model: Classifier, targets: Targets, n: number, lo: number, hi: number): void {
  if (!isFloatArray(targets)) throw new TypeError(`targets must be a Float32Array or a Float64Array (${model.name} has real-valued targets)`);
  const m = n * model.classes;
  if (targets.length < m) throw new RangeError(`targets has length ${targets.length}, expected at least n·outputs = ${m}`);
  for (let i = 0; i < m; i++) {
    const t = targets[i];
    if (!(Number.isFinite(t) && t >= lo && t <= hi)) {
      throw new RangeError(`targets[${i}] is ${t}, expected ${lo === -Infinity ? 'a finite number' : `a number in [${lo}, ${hi}]`}`);
    }
  }
}

/** Checks that `out` is a float array of exactly `length` elements. */
export function checkOut(name: string, out: FloatArray, length: number, what: string): void {
  if (!isFloatArray(out)) throw new TypeError(`${name} must be a Float32Array or a Float64Array`);
  if (out.length !== length) throw new RangeError(`${name} has length ${out.length}, expected ${what} = ${length}`);
}
