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
}

/** the refresh period of the curvature-aware runs (not swept) */
export const UPDATE_EVERY = 10;

/** The defaults chosen by the sweep (SWEEP.md), per problem and optimizer. */
export const DEFAULTS: Record<ProblemName, Partial<Record<OptimizerName, Hyperparameters>>> = {
  logistic: {
    sgd: { lr: 0.1, momentum: 0.9 },
    adam: { lr: 0.01 },
    ef: { lr: 0.1, damping: 0.03, decay: 0.95 },
    kronecker: { lr: 0.3, damping: 0.01, decay: 0.95, updateEvery: UPDATE_EVERY },
    ekfac: { lr: 0.3, damping: 0.01, decay: 0.95, updateEvery: UPDATE_EVERY },
    dense: { lr: 0.3, damping: 0.01, decay: 0.95, updateEvery: UPDATE_EVERY },
  },
  mlp: {
    sgd: { lr: 0.1, momentum: 0.9 },
    adam: { lr: 0.01 },
    ef: { lr: 0.3, damping: 0.1, decay: 0.95 },
    kronecker: { lr: 0.3, damping: 0.01, decay: 0.95, updateEvery: UPDATE_EVERY },
    ekfac: { lr: 0.3, damping: 0.01, decay: 0.95, updateEvery: UPDATE_EVERY },
  },
  conditioned: {
    sgd: { lr: 1e-4, momentum: 0.9 },
    adam: { lr: 0.01 },
    ef: { lr: 0.1, damping: 0.03, decay: 0.95 },
    kronecker: { lr: 0.3, damping: 0.01, decay: 0.95, updateEvery: UPDATE_EVERY },
    ekfac: { lr: 0.3, damping: 0.01, decay: 0.95, updateEvery: UPDATE_EVERY },
    dense: { lr: 0.3, damping: 0.01, decay: 0.95, updateEvery: UPDATE_EVERY },
  },
  autoencoder: {
    sgd: { lr: 0.1, momentum: 0.9 },
    adam: { lr: 1e-3 },
    kronecker: { lr: 0.3, damping: 0.01, decay: 0.95, updateEvery: UPDATE_EVERY },
    ekfac: { lr: 0.3, damping: 0.01, decay: 0.95, updateEvery: UPDATE_EVERY },
  },
};

