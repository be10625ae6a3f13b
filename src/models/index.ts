/**
 * empirical-fisher/models: example models with per-example gradients, and first-order baselines.
 *
 * The models run on the core's engine (call `init()` from 'empirical-fisher' first): forward and
 * backward as gemms in wasm memory, activations and losses in wasm (the same bits in every
 * engine). A model gives either its per-example gradients G (n × d, the layout of its flat
 * parameter vector) for `EmpiricalFisherOptimizer.step(G, n)`, or each dense layer's statistics
 * { A, E } for the layer kit and `opt.stepLayers(layers, n)`.
 *
 * @example
 * import { init, EmpiricalFisherOptimizer } from 'empirical-fisher';
 * import { MLP } from 'empirical-fisher/models';
 * await init();
 * const model = new MLP({ sizes: [784, 32, 10], activation: 'tanh' });
 * const params = model.initialize(new Float32Array(model.size), 42);
 * const G = new Float32Array(n * model.size);
 * model.perExampleGradients(params, x, labels, n, G);
 */
export { LogisticRegression } from './logistic.js';
export type { LogisticRegressionOptions } from './logistic.js';
export { MLP } from './mlp.js';
export type { MLPOptions } from './mlp.js';
export { DenseNetwork } from './network.js';
export type { Activation, Loss, TargetKind, DenseNetworkOptions } from './network.js';
export { SGD, Adam } from './optimizers.js';
export type { SGDOptions, AdamOptions } from './optimizers.js';
export { SeededRandom } from './random.js';
export type { Classifier, Evaluation, ForwardBackward, FloatArray, Labels, Targets, DenseLayerStats } from './classifier.js';
