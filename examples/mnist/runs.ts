/**
 * The tasks, problems and optimizers the demo compares, with their hyperparameters.
 *
 * Every hyperparameter here comes from the sweep in ./sweep.ts (results in ./SWEEP.md): each
 * optimizer gets the same number of grid points, and the demo uses the one with the lowest
 * validation loss on a held-out part of the training digits.
 */
import { EmpiricalFisherOptimizer } from '../../src/index.js';
import { Adam, LogisticRegression, MLP, SGD, type DenseNetwork, type FloatArray } from '../../src/models/index.js';
import { DEFAULTS, type Hyperparameters, type OptimizerName, type ProblemName } from './defaults.js';

export { DEFAULTS, UPDATE_EVERY, type Hyperparameters, type OptimizerName, type ProblemName } from './defaults.js';

/** The three tasks of the demo. */
export type TaskName = 'classification' | 'conditioned' | 'autoencoder';

export const TASK_NAMES: readonly TaskName[] = ['classification', 'conditioned', 'autoencoder'];
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'ef', 'kronecker', 'ekfac', 'dense'];
/** the first-order baselines: the time-to-target's target is the best one's final training loss */
export const FIRST_ORDER: readonly OptimizerName[] = ['sgd', 'adam'];

export interface Task {
  name: TaskName;
  /** what it shows, one line */
  title: string;
  /** its problems; the conditioned task trains raw-pixel logistic regression beside the conditioned one */
  problems: readonly ProblemName[];
  /** the optimizers run by default ('dense' only on request: see README) */
  optimizers: readonly OptimizerName[];
}

export const TASKS: Record<TaskName, Task> = {
  classification: {
    name: 'classification',
    title: 'MNIST classification (well conditioned)',
    problems: ['logistic', 'mlp'],
    optimizers: ['sgd', 'adam', 'ef', 'kronecker', 'ekfac'],
  },
  conditioned: {
    name: 'conditioned',
    title: 'logistic regression on conditioned features T x, T = Q D, cond(D) = 1e4',
    problems: ['logistic', 'conditioned'],
    optimizers: ['sgd', 'adam', 'ef', 'kronecker', 'ekfac'],
  },
  autoencoder: {
    name: 'autoencoder',
    title: 'deep autoencoder 784–256–64–16–64–256–784, Bernoulli cross-entropy',
    problems: ['autoencoder'],
    // 'ef' ('auto': low-rank) on 437,664 parameters costs seconds per step: not run by default
    optimizers: ['sgd', 'adam', 'kronecker', 'ekfac'],
  },
};

/** The autoencoder's widths (Hinton & Salakhutdinov's 784–1000–500–250–30, scaled to two cores). */
export const AUTOENCODER_SIZES = [784, 256, 64, 16, 64, 256, 784] as const;

export function createModel(problem: ProblemName): DenseNetwork {
  if (problem === 'logistic' || problem === 'conditioned') return new LogisticRegression();
  if (problem === 'mlp') return new MLP({ hidden: 32, activation: 'tanh' });
  return new MLP({ sizes: AUTOENCODER_SIZES, activation: 'tanh', loss: 'bernoulli-cross-entropy' });
}

export function hyperparametersFor(problem: ProblemName, optimizer: OptimizerName): Hyperparameters {
  const hp = DEFAULTS[problem][optimizer];
  if (!hp) throw new RangeError(`no swept hyperparameters for ${optimizer} on ${problem}`);
  return hp;
}

/** One optimizer bound to a model and its parameters: `step` does a whole minibatch update. */
export interface Stepper {
  /** `targets`: the labels, or the n × outputs real targets of an autoencoder; returns the minibatch's mean loss before the step */
  step(x: Float32Array, targets: Uint8Array | Float32Array, n: number): number;
  dispose(): void;
}

/**
 * SGD and Adam take the mean gradient; the empirical-Fisher runs take each dense layer's
 * statistics { A, E } through `stepLayers`, which forms ḡ and F (in the representation named)
 * without forming the per-example gradients G.
 */
export function createStepper(optimizer: OptimizerName, model: DenseNetwork, params: FloatArray, hp: Hyperparameters): Stepper {
  if (optimizer === 'sgd' || optimizer === 'adam') {
    const grad = params instanceof Float64Array ? new Float64Array(model.size) : new Float32Array(model.size);
    const opt = optimizer === 'sgd' ? new SGD(params, { lr: hp.lr, momentum: hp.momentum }) : new Adam(params, { lr: hp.lr });
    return {
      step(x, targets, n) {
        const loss = model.gradient(params, x, targets, n, grad);
        opt.step(grad);
        return loss;
      },
      dispose() {},
    };
  }
  const layers = model.sizes.slice(1).map((outputs, l) => ({ inputs: model.sizes[l], outputs, bias: true }));
  const opt = new EmpiricalFisherOptimizer(params, {
    lr: hp.lr,
    damping: hp.damping,
    decay: hp.decay,
    momentum: hp.momentum,
    updateEvery: hp.updateEvery,
    lossChangeBound: hp.lossChangeBound,
    precision: hp.precision,
    ...(optimizer === 'ef'
      ? { representation: 'auto' as const }
      : optimizer === 'dense'
        ? { representation: 'dense' as const, maxBytes: 2 ** 30 }
        : { representation: optimizer, layers }),
  });
  return {
    step(x, targets, n) {
      const { loss, layers: stats } = model.forwardBackward(params, x, targets, n);
      opt.stepLayers(stats, n);
      return loss;
    },
    dispose() {
      opt.dispose();
    },
  };
}

export function describeHyperparameters(optimizer: OptimizerName, hp: Hyperparameters): string {
  if (optimizer === 'sgd') return `lr ${hp.lr}${hp.momentum ? `, momentum ${hp.momentum}` : ''}`;
  if (optimizer === 'adam') return `lr ${hp.lr}`;
  return `lr ${hp.lr}, damping ${hp.damping}${hp.decay ? `, decay ${hp.decay}` : ''}${hp.momentum ? `, momentum ${hp.momentum}` : ''}${
    hp.lossChangeBound !== undefined ? `, ε ${hp.lossChangeBound}` : ''
  }${hp.updateEvery && hp.updateEvery > 1 ? `, every ${hp.updateEvery}` : ''}${hp.precision === 'f64' ? ', f64' : ''}`;
}
