/**
 * examples/tfjs: a tfjs-core network trained with EmpiricalFisherOptimizer from each dense layer's
 * A and E taken from tfjs. Checked on the cpu and the wasm backends:
 * - the per-example gradients the layer kit forms from tfjs's A and E equal (f32 tolerance)
 *   tfjs's own gradient of each example's loss alone with respect to the variables
 *   (tf.variableGrads, one example at a time), and a float64 back-propagation of the definition;
 * - the mean loss it reports is the loss of the definition;
 * - training with opt.stepLayers lowers the loss, and the tfjs variables hold the flat parameters.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { init, layers, type DenseLayerStats } from '../src/index.js';
import { useBackend } from '../examples/tfjs/backend.js';
import {
  createModel,
  disposeModel,
  lossAndLayerStats,
  meanLoss,
  perExampleGradients,
  perExampleLosses,
  random,
  syntheticData,
  train,
  writeBack,
  type Model,
} from '../examples/tfjs/model.js';

beforeAll(async () => {
  await init();
});

/**
 * Float64 reference of the definition for example i: the loss ℓ_i = logsumexp(z) − z[label] of
 * the tanh network with the model's parameters, and its gradient in the parameter layout (per
 * layer W row-major then b), by back-propagation written out from the chain rule.
 */
function referenceExample(model: Model, x: Float32Array, inputs: number, label: number, i: number): { loss: number; grad: Float64Array } {
  const L = model.shapes.length;
  const acts: Float64Array[] = [Float64Array.from(x.subarray(i * inputs, (i + 1) * inputs))];
  for (let l = 0; l < L; l++) {
    const { inputs: m, outputs: k } = model.shapes[l];
    const { W, b } = model.views[l];
    const y = new Float64Array(k);
    for (let o = 0; o < k; o++) {
      let s = b![o];
      for (let j = 0; j < m; j++) s += W[o * m + j] * acts[l][j];
      y[o] = l === L - 1 ? s : Math.tanh(s);
    }
    acts.push(y);
  }
  const z = acts[L];
  const zmax = Math.max(...z);
  let sum = 0;
  for (const v of z) sum += Math.exp(v - zmax);
  const loss = zmax + Math.log(sum) - z[label];
  const grad = new Float64Array(model.params.length);
  // e = ∂ℓ/∂y of the last layer: softmax(z) − onehot(label)
  let e = Float64Array.from(z, (v, c) => Math.exp(v - zmax) / sum - (c === label ? 1 : 0));
  for (let l = L - 1; l >= 0; l--) {
    const { inputs: m, outputs: k } = model.shapes[l];
    const { W, offset } = model.views[l];
    for (let o = 0; o < k; o++) {
      for (let j = 0; j < m; j++) grad[offset + o * m + j] = e[o] * acts[l][j];
      grad[offset + k * m + o] = e[o];
    }
    if (l > 0) {
      const prev = new Float64Array(m);
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let o = 0; o < k; o++) s += W[o * m + j] * e[o];
        prev[j] = s * (1 - acts[l][j] * acts[l][j]); // tanh′ = 1 − tanh²
      }
      e = prev;
    }
  }
  return { loss, grad };
}

/** tfjs's gradient of example i's loss alone with respect to the variables, flattened in our layout. */
function tfjsExampleGradient(model: Model, x: tf.Tensor2D, labels: tf.Tensor1D, i: number): Float32Array {
  const out = new Float32Array(model.params.length);
  const varList = model.vars.flatMap((v) => [v.W, v.b]);
  const { value, grads } = tf.variableGrads(() =>
    tf.tidy(() => {
      const xi = tf.slice(x, [i, 0], [1, -1]);
      const yi = tf.slice(labels, [i], [1]);
      return tf.sum(perExampleLosses(forwardLogits(model, xi), yi)) as tf.Scalar;
    }),
    varList,
  );
  model.vars.forEach((v, l) => {
    const { offset, inputs, outputs } = model.views[l];
    out.set(grads[v.W.name].dataSync(), offset);
    out.set(grads[v.b.name].dataSync(), offset + inputs * outputs);
  });
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/** The logits: y = a Wᵀ + b per layer, tanh between layers (written here apart from the example's). */
function forwardLogits(model: Model, x: tf.Tensor2D): tf.Tensor2D {
  let a = x;
  model.vars.forEach(({ W, b }, l) => {
    const y = tf.add(tf.matMul(a, W, false, true), b) as tf.Tensor2D;
    a = l === model.vars.length - 1 ? y : tf.tanh(y);
  });
  return a;
}

/** max_j |x_j − ref_j| / max_j |ref_j| */
function relativeError(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let j = 0; j < ref.length; j++) {
    err = Math.max(err, Math.abs(x[j] - ref[j]));
    scale = Math.max(scale, Math.abs(ref[j]));
  }
  return err / scale;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`examples/tfjs on the tfjs ${backend} backend`, () => {
    beforeAll(async () => {
      // the wasm backend loads in Node from node_modules: that it does is part of the test
      expect(await useBackend(backend)).toBe(true);
      expect(tf.getBackend()).toBe(backend);
    });

    // sizes across the SIMD widths of the kernels; a 3-layer network as well as the 2-layer one
    for (const [sizes, n] of [
      [[5, 7, 3], 1],
      [[8, 17, 4], 9],
      [[13, 33, 5, 3], 17],
    ] as const) {
      it(`per-example gradients from A and E (network ${sizes.join('-')}, n = ${n}) equal tfjs's per example and the float64 definition`, () => {
        const model = createModel([...sizes], 3);
        // biases away from 0, so that a bias gradient in the wrong place shows
        const rand = random(11);
        for (const v of model.views) for (let o = 0; o < v.b!.length; o++) v.b![o] = rand();
        const data = syntheticData(n, sizes[0], sizes[sizes.length - 1], 5);
        const x = tf.tensor2d(data.x, [n, data.inputs]);
        const labels = tf.tensor1d(data.labels, 'int32');
        try {
          writeBack(model);
          const { loss, stats } = lossAndLayerStats(model, x, labels);
          expect(stats.map((s) => [s.A.length, s.E.length])).toEqual(model.shapes.map((s) => [n * s.inputs, n * s.outputs]));
          expect(stats[0].A).toEqual(data.x); // the first layer's input is the batch
          const G = perExampleGradients(model, stats as DenseLayerStats<Float32Array>[], n);
          const d = model.params.length;
          let meanRef = 0;
          for (let i = 0; i < n; i++) {
            const row = G.subarray(i * d, (i + 1) * d);
            const ref = referenceExample(model, data.x, data.inputs, data.labels[i], i);
            meanRef += ref.loss / n;
            expect(relativeError(row, ref.grad), `row ${i} against the float64 definition`).toBeLessThan(2e-6);
            expect(relativeError(row, tfjsExampleGradient(model, x, labels, i)), `row ${i} against tf.variableGrads of example ${i}`).toBeLessThan(2e-6);
          }
          expect(Math.abs(loss - meanRef) / meanRef).toBeLessThan(1e-5);
          expect(Math.abs(meanLoss(model, x, labels) - meanRef) / meanRef).toBeLessThan(1e-5);
          // the kit's mean gradient from the same A and E is the mean of the rows
          const mean = layers.meanGradient(stats, n);
          const meanRows = new Float64Array(d);
          for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) meanRows[j] += G[i * d + j] / n;
          expect(relativeError(mean, meanRows)).toBeLessThan(1e-5);
        } finally {
          tf.dispose([x, labels]);
          disposeModel(model);
        }
      });
    }

    it('leaves no tensor behind per step', () => {
      const model = createModel([6, 9, 3], 2);
      const data = syntheticData(16, 6, 3, 9);
      const x = tf.tensor2d(data.x, [16, 6]);
      const labels = tf.tensor1d(data.labels, 'int32');
      const before = tf.memory().numTensors;
      for (let k = 0; k < 3; k++) lossAndLayerStats(model, x, labels);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, labels]);
      disposeModel(model);
    });

    it('training with opt.stepLayers lowers the loss; the tfjs variables hold the flat parameters', () => {
      const model = createModel([8, 32, 3], 1);
      const initial = Float32Array.from(model.params);
      const data = syntheticData(256, 8, 3);
      const losses = train(model, data, { epochs: 4, batch: 32 });
      expect(losses).toHaveLength(5);
      for (const l of losses) expect(Number.isFinite(l)).toBe(true);
      expect(losses[0]).toBeGreaterThan(0.8); // about log 3 at the start
      expect(losses[4]).toBeLessThan(0.5 * losses[0]);
      expect(Array.from(model.params)).not.toEqual(Array.from(initial));
      model.vars.forEach((v, l) => {
        expect(v.W.dataSync()).toEqual(model.views[l].W);
        expect(v.b.dataSync()).toEqual(model.views[l].b);
      });
      disposeModel(model);
    });
  });
}
