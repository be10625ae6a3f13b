/**
 * What every example model provides, and the softmax cross-entropy they share.
 *
 * Conventions (the same as the library's):
 * - `params` is one flat Float32Array or Float64Array; each model documents its layout.
 * - `x` holds n inputs of length `inputs`, row-major: x[i·inputs + j].
 * - `labels` holds n class indices in 0 … classes−1.
 * - the per-example gradient matrix G is n × d row-major: row i is ∇ℓ_i(θ), flattened in the
 *   same layout as `params`. That is the matrix `EmpiricalFisher.update(G, n)` and
 *   `EmpiricalFisherOptimizer.step(G, n)` take.
 * - arithmetic is float64 inside; results are written in the type of the output array.
 */
export type FloatArray = Float32Array | Float64Array;

/** Class indices: a Uint8Array, Int32Array, plain array… */
export type Labels = ArrayLike<number>;

/** Mean loss and accuracy over a set. */
export interface Evaluation {
  /** mean cross-entropy (natural log) */
  loss: number;
  /** fraction of examples whose largest logit is the label, in [0, 1] */
  accuracy: number;
}

/** A classifier trained by softmax cross-entropy, with per-example gradients. */
export interface Classifier {
  /** a short name, e.g. 'logistic' or 'mlp-tanh' */
  readonly name: string;
  /** input length (784 for MNIST) */
  readonly inputs: number;
  /** number of classes (10 for MNIST) */
  readonly classes: number;
  /** number of parameters d: the length of `params` and of one row of G */
  readonly size: number;

  /** Fills `params` with initial values drawn from `seed`; returns it. */
  initialize<T extends FloatArray>(params: T, seed: number): T;

  /** The n × classes logits, row-major. */
  logits(params: FloatArray, x: FloatArray, n: number, out?: Float64Array): Float64Array;

  /** Mean cross-entropy and accuracy of n examples. */
  evaluate(params: FloatArray, x: FloatArray, labels: Labels, n: number): Evaluation;

  /** The mean gradient ḡ = (1/n) Σ ∇ℓ_i, length d; returns the mean loss of the batch. */
  gradient(params: FloatArray, x: FloatArray, labels: Labels, n: number, out: FloatArray): number;

  /** The n × d per-example gradients, row i = ∇ℓ_i; returns the mean loss of the batch. */
  perExampleGradients(params: FloatArray, x: FloatArray, labels: Labels, n: number, out: FloatArray): number;
}

/**
 * In place: turns `z` (length `classes`, at `offset`) into softmax probabilities minus the
 * one-hot label, i.e. ∂ℓ/∂z for ℓ = logsumexp(z) − z_label; returns ℓ.
 * Subtracts max(z) first, so no exp overflows.
 */
export function softmaxCrossEntropyDelta(z: Float64Array, offset: number, classes: number, label: number): number {
  let max = z[offset];
  for (let k = 1; k < classes; k++) if (z[offset + k] > max) max = z[offset + k];
  const shiftedLabelLogit = z[offset + label] - max;
  let sum = 0;
  for (let k = 0; k < classes; k++) {
    const e = Math.exp(z[offset + k] - max);
    z[offset + k] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let k = 0; k < classes; k++) z[offset + k] *= inv;
  z[offset + label] -= 1;
  return Math.log(sum) - shiftedLabelLogit;
}

/** Mean cross-entropy and accuracy from n × classes logits (not modified). */
export function crossEntropyAndAccuracy(z: Float64Array, labels: Labels, n: number, classes: number): Evaluation {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const o = i * classes;
    let max = z[o];
    let arg = 0;
    for (let k = 1; k < classes; k++) {
      if (z[o + k] > max) {
        max = z[o + k];
        arg = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(z[o + k] - max);
    loss += Math.log(sum) - (z[o + labels[i]] - max);
    if (arg === labels[i]) correct++;
  }
  return { loss: n > 0 ? loss / n : 0, accuracy: n > 0 ? correct / n : 0 };
}

/** Checks shapes shared by every model call; throws a RangeError naming the argument. */
export function checkBatch(model: Classifier, params: FloatArray, x: FloatArray, n: number, labels?: Labels): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be an integer ≥ 0, got ${n}`);
  if (params.length !== model.size) {
    throw new RangeError(`params has length ${params.length}, expected ${model.size} for ${model.name}`);
  }
  if (x.length < n * model.inputs) {
    throw new RangeError(`x has length ${x.length}, expected at least n·inputs = ${n * model.inputs}`);
  }
  if (labels !== undefined) {
    if (labels.length < n) throw new RangeError(`labels has length ${labels.length}, expected at least n = ${n}`);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      if (!Number.isInteger(c) || c < 0 || c >= model.classes) {
        throw new RangeError(`labels[${i}] is ${c}, expected an integer in 0 … ${model.classes - 1}`);
      }
    }
  }
}

/** Checks that `out` has exactly `length` elements. */
export function checkOut(name: string, out: FloatArray, length: number, what: string): void {
  if (out.length !== length) throw new RangeError(`${name} has length ${out.length}, expected ${what} = ${length}`);
}
