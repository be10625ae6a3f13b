/**
 * The models and optimizers the demo compares, with their hyperparameters.
 *
 * Every hyperparameter here comes from the sweep in ./sweep.ts (results in ./SWEEP.md): each
 * optimizer's learning rate (and the empirical Fisher's damping) is the one with the lowest
 * validation loss after a few epochs on a held-out part of the training digits.
 */
import { EmpiricalFisherOptimizer } from '../../src/index.js';
import { Adam, LogisticRegression, MLP, SGD, type Classifier, type FloatArray } from '../../src/models/index.js';

export type ModelName = 'logistic' | 'mlp';
export type OptimizerName = 'sgd' | 'adam' | 'ef';
export const MODEL_NAMES: readonly ModelName[] = ['logistic', 'mlp'];
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'ef'];

export function createModel(name: ModelName): Classifier {
  return name === 'logistic' ? new LogisticRegression() : new MLP({ hidden: 32, activation: 'tanh' });
}

/** Hyperparameters of one optimizer; unknown keys are ignored by the others. */
export interface Hyperparameters {
  lr: number;
  momentum?: number;
  damping?: number;
  decay?: number;
  lossChangeBound?: number;
}

/** The defaults chosen by the sweep (SWEEP.md), per model and optimizer. */
export const DEFAULTS: Record<ModelName, Record<OptimizerName, Hyperparameters>> = {
  logistic: {
    sgd: { lr: 0.1, momentum: 0.9 },
    adam: { lr: 0.01 },
    ef: { lr: 0.1, damping: 0.03, decay: 0.95 },
  },
  mlp: {
    sgd: { lr: 0.1, momentum: 0.9 },
    adam: { lr: 0.01 },
    ef: { lr: 0.3, damping: 0.1, decay: 0.95 },
  },
};

/** One optimizer bound to a model and its parameters: `step` does a whole minibatch update. */
export interface Stepper {
  step(x: Float32Array, labels: Uint8Array, n: number): void;
  dispose(): void;
}

/**
 * SGD and Adam need only the mean gradient; the empirical Fisher needs the per-example
 * gradients G (n × d), from which it forms ḡ and F itself.
 */
export function createStepper(
  optimizer: OptimizerName,
  model: Classifier,
  params: FloatArray,
  hp: Hyperparameters,
  maxBatch: number,
): Stepper {
  const d = model.size;
  if (optimizer === 'ef') {
    const G = params instanceof Float64Array ? new Float64Array(maxBatch * d) : new Float32Array(maxBatch * d);
    const opt = new EmpiricalFisherOptimizer(params, {
      lr: hp.lr,
      damping: hp.damping,
      decay: hp.decay,
      representation: 'auto',
      lossChangeBound: hp.lossChangeBound,
    });
    return {
      step(x, labels, n) {
        const rows = G.subarray(0, n * d);
        model.perExampleGradients(params, x, labels, n, rows);
        opt.step(rows, n);
      },
      dispose() {
        opt.dispose();
      },
    };
  }
  const grad = params instanceof Float64Array ? new Float64Array(d) : new Float32Array(d);
  const opt = optimizer === 'sgd' ? new SGD(params, { lr: hp.lr, momentum: hp.momentum }) : new Adam(params, { lr: hp.lr });
  return {
    step(x, labels, n) {
      model.gradient(params, x, labels, n, grad);
      opt.step(grad);
    },
    dispose() {},
  };
}

export function describeHyperparameters(optimizer: OptimizerName, hp: Hyperparameters): string {
  if (optimizer === 'sgd') return `lr ${hp.lr}${hp.momentum ? `, momentum ${hp.momentum}` : ''}`;
  if (optimizer === 'adam') return `lr ${hp.lr}`;
  return `lr ${hp.lr}, damping ${hp.damping}${hp.decay ? `, decay ${hp.decay}` : ''}${
    hp.lossChangeBound !== undefined ? `, ε ${hp.lossChangeBound}` : ''
  }`;
}
