/** Messages between the page (main.ts) and the training worker (worker.ts). */

import type { ProblemName } from '../../examples/mnist/defaults.js';

export type OptimizerId = 'ef' | 'sgd' | 'adam' | 'kronecker' | 'ekfac';
/** the tasks of examples/mnist: raw-pixel logistic regression and MLP, conditioned logistic regression, the autoencoder */
export type ModelId = ProblemName;

export interface RunConfig {
  id: OptimizerId;
  /** learning rate */
  lr: number;
  /** Tikhonov damping λ (the empirical-Fisher runs) */
  damping?: number;
  /** heavy-ball momentum (SGD) */
  momentum?: number;
  /** running-average factor of F (the empirical-Fisher runs) */
  decay?: number;
  /** refresh period of the factorisation ('kronecker', 'ekfac') */
  updateEvery?: number;
  /** ε: the step scaled to a predicted mean squared per-example loss change of at most ε (the empirical-Fisher runs) */
  lossChangeBound?: number;
}

export interface TrainConfig {
  model: ModelId;
  batch: number;
  /** the optimizers to train side by side, each on its own copy of the same initial parameters */
  runs: RunConfig[];
  /** evaluate on the test digits every this many steps (and at step 0) */
  evalEvery: number;
  /** stop after this many steps (0: until paused) */
  maxSteps: number;
  seed: number;
}

export type ToWorker =
  | { type: 'start'; config: TrainConfig }
  | { type: 'pause' }
  | { type: 'resume' };

export interface StepResult {
  id: OptimizerId;
  /** mean loss of the minibatch, before the step */
  loss: number;
  /** milliseconds of this step (gradients and update) */
  ms: number;
}

export interface EvalResult {
  id: OptimizerId;
  loss: number;
  accuracy: number;
}

export type FromWorker =
  | { type: 'ready'; train: number; test: number; simd: boolean; isolated: boolean; d: Record<ModelId, number> }
  | { type: 'started'; config: TrainConfig; d: number }
  | { type: 'step'; step: number; results: StepResult[] }
  | { type: 'eval'; step: number; results: EvalResult[] }
  | { type: 'run-error'; id: OptimizerId; step: number; message: string }
  | { type: 'state'; running: boolean; step: number; /** stopped at the step limit */ done: boolean }
  | { type: 'error'; message: string };
