// A TensorFlow.js model trained with the empirical Fisher: tfjs does the forward pass and the
// back-propagation, empirical-fisher the step. For each dense layer y = W a + b we take from tfjs
//   A (n × inputs):  the layer's input a_i, one row per example (kept from the forward pass);
//   E (n × outputs): e_i = ∂ℓ_i/∂y_i, tfjs's gradient of the SUM of the per-example losses with
//                    respect to the layer's pre-activation output y (example i's loss depends on
//                    row i of y only, so row i of that gradient is e_i),
// and hand them to `opt.stepLayers` (the per-example gradient of the layer is vec(e_i a_iᵀ), then
// e_i for b; the optimizer never forms them). The parameters live in one flat Float32Array laid
// out by `layers.parameters` (W row-major, outputs × inputs, then b, layer after layer), with a
// view per W and b; the tfjs variables are refreshed from the views after every step.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers its gradients in a separate module (the @tensorflow/tfjs package imports it)
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { EmpiricalFisherOptimizer, layers, type DenseLayerParameters, type DenseLayerStats, type EmpiricalFisherOptimizerOptions } from '../../src/index.js';

export interface Model {
  shapes: { inputs: number; outputs: number; bias: boolean }[];
  /** all parameters, in the layer kit's layout */
  params: Float32Array;
  /** per layer, views into params: W (outputs × inputs, row-major), b, and W's offset in params */
  views: DenseLayerParameters<Float32Array>[];
  /** the tfjs variables, W of shape [outputs, inputs] (so y = a Wᵀ + b) */
  vars: { W: tf.Variable; b: tf.Variable }[];
}

export interface Data {
  /** n × inputs, row-major */
  x: Float32Array;
  labels: Int32Array;
  n: number;
  inputs: number;
  classes: number;
}

/** Seeded uniform numbers in [−0.5, 0.5) (Park–Miller). */
export function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
}

/**
 * A dense network sizes[0] → sizes[1] → … (tanh between layers, softmax cross-entropy at the
 * end), weights uniform in ±1/√inputs from `seed`, biases 0.
 */
export function createModel(sizes: number[], seed = 1): Model {
  const named = sizes.slice(1).map((outputs, l) => ({ name: `dense${l + 1}`, inputs: sizes[l], outputs }));
  // one zero-filled Float32Array for all parameters, and subarray views of each W and b
  const { params, list: views, shapes } = layers.parameters(named, { precision: 'f32' });
  const rand = random(seed);
  shapes.forEach((s, l) => {
    const scale = 2 / Math.sqrt(s.inputs);
    for (let i = 0; i < views[l].W.length; i++) views[l].W[i] = scale * rand();
  });
  const vars = shapes.map((s, l) => ({
    W: tf.variable(tf.tensor2d(views[l].W, [s.outputs, s.inputs]), true),
    b: tf.variable(tf.tensor1d(views[l].b!), true),
  }));
  return { shapes, params, views, vars };
}

/** Copies the flat parameters (updated in place by the optimizer) into the tfjs variables. */
export function writeBack(model: Model): void {
  tf.tidy(() => {
    model.shapes.forEach((s, l) => {
      model.vars[l].W.assign(tf.tensor2d(model.views[l].W, [s.outputs, s.inputs]));
      model.vars[l].b.assign(tf.tensor1d(model.views[l].b!));
    });
  });
}

export function disposeModel(model: Model): void {
  for (const v of model.vars) tf.dispose([v.W, v.b]);
}

/**
 * The logits for a batch x (n × inputs). `probes[l]`, if given, is added to layer l's
 * pre-activation output; `inputs`, if given, collects each layer's input (kept past tfjs's tidy).
 */
export function forward(model: Model, x: tf.Tensor2D, probes?: tf.Tensor[], inputs?: tf.Tensor[]): tf.Tensor2D {
  let a: tf.Tensor2D = x;
  const last = model.vars.length - 1;
  model.vars.forEach(({ W, b }, l) => {
    if (inputs) inputs.push(l === 0 ? a : tf.keep(a));
    let y: tf.Tensor2D = tf.add(tf.matMul(a, W, false, true), b);
    if (probes) y = tf.add(y, probes[l]);
    a = l === last ? y : tf.tanh(y);
  });
  return a;
}

/** ℓ_i = logsumexp(z_i) − z_i[label_i] for logits z (n × classes): a length-n tensor. */
export function perExampleLosses(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const onehot = tf.oneHot(labels, logits.shape[1]);
  return tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(onehot, logits), 1));
}

/**
 * One forward and backward pass through tfjs: the mean loss of the batch and, per dense layer in
 * parameter order, its A and E (the list the layer kit and `opt.stepLayers` take).
 * x: n × inputs (float32), labels: n class indices (int32).
 */
export function lossAndLayerStats(model: Model, x: tf.Tensor2D, labels: tf.Tensor1D): { loss: number; stats: DenseLayerStats<Float32Array>[] } {
  const n = x.shape[0];
  const inputs: tf.Tensor[] = [];
  // a zero added to each pre-activation output y_l: the gradient with respect to it is ∂L/∂y_l
  const probes = model.shapes.map((s) => tf.zeros([n, s.outputs]));
  const sumOfLosses = (...p: tf.Tensor[]) => tf.sum(perExampleLosses(forward(model, x, p, inputs), labels));
  const { value, grads } = tf.valueAndGrads(sumOfLosses)(probes);
  const A = inputs.map((t) => t.dataSync() as Float32Array); // row i: a_i
  const E = grads.map((t) => t.dataSync() as Float32Array); // row i: e_i = ∂ℓ_i/∂y_i
  const stats = model.shapes.map((s, l) => ({ ...s, A: A[l], E: E[l] }));
  const loss = value.dataSync()[0] / n;
  tf.dispose([value, ...grads, ...probes, ...inputs.slice(1)]);
  return { loss, stats };
}

/** The mean loss of a batch (forward only). */
export function meanLoss(model: Model, x: tf.Tensor2D, labels: tf.Tensor1D): number {
  return tf.tidy(() => tf.mean(perExampleLosses(forward(model, x), labels)).dataSync()[0]);
}

/**
 * G itself (n × d), when it is wanted (the optimizer does not need it): each layer's rows written
 * by the layer kit at the layer's column offset in one buffer.
 */
export function perExampleGradients(model: Model, stats: DenseLayerStats<Float32Array>[], n: number): Float32Array {
  const d = model.params.length;
  const G = new Float32Array(n * d);
  stats.forEach((s, l) => layers.perExampleGradients(s, n, { out: G, offset: model.views[l].offset, ld: d }));
  return G;
}

export interface TrainOptions {
  epochs?: number;
  batch?: number;
  /** the order of the examples in each epoch */
  seed?: number;
  optimizer?: EmpiricalFisherOptimizerOptions;
  log?: (line: string) => void;
}

/**
 * Trains `model` on `data` in minibatches (a seeded shuffle per epoch, the last partial batch
 * left out) with EmpiricalFisherOptimizer; returns the mean training loss before training and
 * after each epoch. Needs `init()` of empirical-fisher and a tfjs backend set.
 */
export function train(model: Model, data: Data, o: TrainOptions = {}): number[] {
  const { epochs = 5, batch = 64, seed = 1, log } = o;
  const opt = new EmpiricalFisherOptimizer(model.params, { lr: 0.5, damping: 0.1, decay: 0.9, ...o.optimizer });
  const xAll = tf.tensor2d(data.x, [data.n, data.inputs]);
  const yAll = tf.tensor1d(data.labels, 'int32');
  const losses = [meanLoss(model, xAll, yAll)];
  log?.(`epoch 0: loss ${losses[0].toFixed(4)}`);
  const order = Array.from({ length: data.n }, (_, i) => i);
  const rand = random(seed);
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      for (let i = data.n - 1; i > 0; i--) {
        const j = Math.floor((rand() + 0.5) * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let start = 0; start + batch <= data.n; start += batch) {
        const idx = tf.tensor1d(order.slice(start, start + batch), 'int32');
        const xb = tf.gather(xAll, idx) as tf.Tensor2D;
        const yb = tf.gather(yAll, idx) as tf.Tensor1D;
        const { stats } = lossAndLayerStats(model, xb, yb);
        tf.dispose([idx, xb, yb]);
        opt.stepLayers(stats, batch); // updates model.params (and so the views) in place
        writeBack(model);
      }
      losses.push(meanLoss(model, xAll, yAll));
      log?.(`epoch ${epoch}: loss ${losses[epoch].toFixed(4)}`);
    }
  } finally {
    opt.dispose();
    tf.dispose([xAll, yAll]);
  }
  return losses;
}

/**
 * A synthetic classification set: n points in `inputs` dimensions, uniform in [−1, 1), labelled
 * by the argmax of a random teacher network (inputs → 16 → classes, tanh), seeded.
 */
export function syntheticData(n: number, inputs: number, classes: number, seed = 7): Data {
  const rand = random(seed);
  const hidden = 16;
  const W1 = Float64Array.from({ length: hidden * inputs }, () => 4 * rand());
  const W2 = Float64Array.from({ length: classes * hidden }, () => 4 * rand());
  const x = new Float32Array(n * inputs);
  const labels = new Int32Array(n);
  const h = new Float64Array(hidden);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < inputs; j++) x[i * inputs + j] = 2 * rand();
    for (let k = 0; k < hidden; k++) {
      let s = 0;
      for (let j = 0; j < inputs; j++) s += W1[k * inputs + j] * x[i * inputs + j];
      h[k] = Math.tanh(s);
    }
    let best = 0;
    let bestValue = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let k = 0; k < hidden; k++) s += W2[c * hidden + k] * h[k];
      if (s > bestValue) [best, bestValue] = [c, s];
    }
    labels[i] = best;
  }
  return { x, labels, n, inputs, classes };
}
