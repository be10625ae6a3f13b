/**
 * The demo's hyperparameters, chosen by the sweep (./sweep.ts, recorded in ./SWEEP.md): per
 * problem and optimizer, the grid point with the lowest validation loss. No library imports: the
 * live page (demo/) reads its defaults from here too.
 */

/** A model on a data set: raw-pixel logistic regression and MLP, the conditioned logistic regression, the autoencoder. */
export type ProblemName = 'logistic' | 'mlp' | 'conditioned' | 'autoencoder';
export type OptimizerName = 'sgd' | 'adam' | 'ef' | 'kronecker' | 'ekfac' | 'dense';

/** Hyperparameters of one optimizer; unknown keys are ignored by the others. */
export interface Hyperparameters {
  lr: number;
  momentum?: number;
  damping?: number;
  decay?: number;
  /** refresh of the factorisation ('kronecker', 'ekfac', 'dense'): every k steps */
  updateEvery?: number;
  /** ε of the empirical-Fisher runs: the step is scaled so that the predicted mean squared change of the per-example losses is at most ε */
  lossChangeBound?: number;
  /** precision of F and of the step of the empirical-Fisher runs (default: that of the parameters, f32) */
  precision?: 'f32' | 'f64';
}

/** the refresh period of the curvature-aware runs (not swept) */
export const UPDATE_EVERY = 10;

const EF_CLASSIFIER = { lr: 1, decay: 0.95, lossChangeBound: 0.1 } as const;

/**
 * The defaults chosen by the sweep (SWEEP.md), per problem and optimizer; 'dense' (only on
 * request) was not swept and takes 'kronecker''s point.
 */
export const DEFAULTS: Record<ProblemName, Partial<Record<OptimizerName, Hyperparameters>>> = {
  logistic: {
    sgd: { lr: 0.1, momentum: 0.9 },
    adam: { lr: 0.01 },
    ef: { ...EF_CLASSIFIER, damping: 0.1 },
    kronecker: { ...EF_CLASSIFIER, damping: 0.1, updateEvery: UPDATE_EVERY },
    ekfac: { ...EF_CLASSIFIER, damping: 0.1, updateEvery: UPDATE_EVERY },
    dense: { ...EF_CLASSIFIER, damping: 0.1, updateEvery: UPDATE_EVERY },
  },
  mlp: {
    sgd: { lr: 0.1, momentum: 0.9 },
    adam: { lr: 0.01 },
    ef: { ...EF_CLASSIFIER, damping: 0.01 },
    kronecker: { ...EF_CLASSIFIER, damping: 0.01, updateEvery: UPDATE_EVERY },
    ekfac: { ...EF_CLASSIFIER, damping: 0.01, updateEvery: UPDATE_EVERY },
  },
  conditioned: {
    sgd: { lr: 1e-4, momentum: 0.9 },
    adam: { lr: 3e-4 },
    ef: { ...EF_CLASSIFIER, damping: 0.1 },
    kronecker: { ...EF_CLASSIFIER, damping: 0.1, updateEvery: UPDATE_EVERY },
    ekfac: { ...EF_CLASSIFIER, damping: 0.1, updateEvery: UPDATE_EVERY },
    dense: { ...EF_CLASSIFIER, damping: 0.1, updateEvery: UPDATE_EVERY },
  },
  autoencoder: {
    sgd: { lr: 0.003, momentum: 0.9 },
    adam: { lr: 0.003 },
    kronecker: { lr: 1, damping: 0.1, decay: 0.95, lossChangeBound: 100, updateEvery: UPDATE_EVERY },
    ekfac: { lr: 1, damping: 10, decay: 0.95, lossChangeBound: 1000, updateEvery: UPDATE_EVERY },
  },
};
