/**
 * A multilayer perceptron of any depth: h_1 = act(W_1 x + b_1), …, z = W_L h_{L−1} + b_L, with
 * softmax cross-entropy (or squared error against one-hot targets) on z. 784–32–10 on MNIST (the
 * default): 25,450 parameters.
 *
 * Parameter layout (the layer kit's): layer after layer, W_l row-major (outputs × inputs), then
 * b_l. For sizes [I, H, C] (d = H·I + H + C·H + C):
 *   [0, H·I)                  W₁[u][j]  at u·I + j
 *   [H·I, H·I + H)            b₁[u]
 *   [H·I + H, … + C·H)        W₂[k][u]  at H·I + H + k·H + u
 *   [d − C, d)                b₂[k]
 *
 * Forward and backward are batched gemms in wasm memory (see network.ts); per-example gradients
 * come from each layer's inputs A and output gradients E through the layer kit.
 *
 * @example
 * await init();
 * const model = new MLP({ sizes: [784, 128, 64, 10], activation: 'relu' });
 * const params = model.initialize(new Float32Array(model.size), 1);
 * model.perExampleGradients(params, x, labels, n, G);          // G: n × model.size
 * const { layers } = model.forwardBackward(params, x, labels, n);
 * opt.stepLayers(layers, n);                                   // or without G at all
 */
import { DenseNetwork, type Activation, type Loss, type TargetKind } from './network.js';
import type { Precision } from '../index.js';

export type { Activation, Loss, TargetKind };

export interface MLPOptions {
  /** layer widths, inputs first and classes last, e.g. [784, 1024, 1024, 10]; overrides inputs, hidden and classes */
  sizes?: readonly number[];
  /** input length (default 784) */
  inputs?: number;
  /** hidden widths, one number per hidden layer (default 32) */
  hidden?: number | readonly number[];
  /** number of classes (default 10) */
  classes?: number;
  /** hidden activation: 'tanh' (default), 'relu' or 'sigmoid' */
  activation?: Activation;
  /**
   * 'softmax-cross-entropy' (default), 'squared-error' (½‖z − onehot(y)‖², or ½‖z − t‖² with
   * real targets) or 'bernoulli-cross-entropy' (sigmoid outputs against targets t ∈ [0, 1]:
   * Σ_k −t_k log σ(z_k) − (1 − t_k) log(1 − σ(z_k)); e.g. pixels for an autoencoder)
   */
  loss?: Loss;
  /**
   * 'labels' (class indices) or 'values' (n × outputs real targets, passed where the labels go);
   * default 'values' for 'bernoulli-cross-entropy', else 'labels'
   */
  targets?: TargetKind;
  /** precision of the arithmetic; default: that of `params` in each call */
  precision?: Precision;
}

export class MLP extends DenseNetwork {
  /** hidden widths */
  readonly hidden: readonly number[];

  constructor(options: MLPOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('MLP options must be an object');
    let sizes = options.sizes;
    if (sizes === undefined) {
      const hidden = options.hidden ?? 32;
      if (typeof hidden !== 'number' && !Array.isArray(hidden)) throw new TypeError('hidden must be a number or an array of numbers');
      sizes = [options.inputs ?? 784, ...(typeof hidden === 'number' ? [hidden] : hidden), options.classes ?? 10];
    }
    const activation = options.activation ?? 'tanh';
    super(`mlp-${String(activation)}`, { sizes, activation, loss: options.loss, targets: options.targets, precision: options.precision });
    this.hidden = this.sizes.slice(1, -1);
  }
}
