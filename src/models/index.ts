/**
 * Example models with per-example gradients, and first-order baselines.
 *
 * The pattern to copy: a model writes its per-example gradients as the rows of an n × d matrix G
 * in the layout of its flat parameter vector; `EmpiricalFisherOptimizer.step(G, n)` (or
 * `EmpiricalFisher.update(G, n)`) takes that matrix as it is.
 *
 * @example
 * import { LogisticRegression, MLP, SGD, Adam } from './models/index.js';
 * const model = new MLP({ hidden: 32 });
 * const params = model.initialize(new Float32Array(model.size), 42);
 */
export { LogisticRegression } from './logistic.js';
export type { LogisticRegressionOptions } from './logistic.js';
export { MLP } from './mlp.js';
export type { MLPOptions, Activation } from './mlp.js';
export { SGD, Adam } from './optimizers.js';
export type { SGDOptions, AdamOptions } from './optimizers.js';
export { SeededRandom } from './random.js';
export { crossEntropyAndAccuracy, softmaxCrossEntropyDelta } from './classifier.js';
export type { Classifier, Evaluation, FloatArray, Labels } from './classifier.js';
