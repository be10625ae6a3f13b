/**
 * The training loop shared by every run: same epochs, batch size and batch order (from the seed)
 * for every optimizer. Wall-clock time counts the optimisation steps only; the evaluations
 * (`evalsPerEpoch` times an epoch, on a fixed part of the training set and on the test set) are
 * not timed.
 */
import { SeededRandom, type DenseNetwork, type FloatArray } from '../../src/models/index.js';
import { PIXELS, type Dataset } from './data.js';
import type { Stepper } from './runs.js';

export interface EvalRecord {
  /** steps taken */
  step: number;
  /** epochs done, fractional (0 is the initial model) */
  epoch: number;
  /** seconds of training so far */
  time: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
}

export interface TrainOptions {
  epochs: number;
  batch: number;
  /** seeds the batch order (the model's initialisation is seeded by the caller) */
  seed: number;
  /** evaluations per epoch, evenly spaced in steps (default 1: at the end of each epoch) */
  evalsPerEpoch?: number;
  /** the training loss is measured on the first `trainEval` training examples (default: all) */
  trainEval?: number;
  /** called after every step and evaluation, for a progress display */
  onProgress?: (p: { epoch: number; step: number; stepsPerEpoch: number; time: number; last?: EvalRecord }) => void;
}

export interface TrainResult {
  history: EvalRecord[];
  steps: number;
  /** seconds of training (steps only) */
  wallTime: number;
  /** true if the loss became NaN or infinite, or the optimizer rejected a non-finite gradient (training stopped there) */
  diverged: boolean;
}

/**
 * Trains `params` in place. With `model.targets === 'values'` (the autoencoder) each example's
 * target is its own input.
 */
export function train(model: DenseNetwork, params: FloatArray, stepper: Stepper, data: { train: Dataset; test: Dataset }, options: TrainOptions): TrainResult {
  const { epochs, batch } = options;
  const { train: tr, test: te } = data;
  const values = model.targets === 'values';
  const rng = new SeededRandom(options.seed);
  const order = new Uint32Array(tr.n);
  const bx = new Float32Array(batch * PIXELS);
  const by = new Uint8Array(batch);
  const stepsPerEpoch = Math.ceil(tr.n / batch);
  const evals = Math.max(1, Math.min(options.evalsPerEpoch ?? 1, stepsPerEpoch));
  const trainEval = Math.min(options.trainEval ?? tr.n, tr.n);
  const trX = tr.x.subarray(0, trainEval * PIXELS);
  const evaluate = (step: number, time: number): EvalRecord => {
    const a = model.evaluate(params, trX, values ? trX : tr.labels, trainEval);
    const b = model.evaluate(params, te.x, values ? te.x : te.labels, te.n);
    return { step, epoch: step / stepsPerEpoch, time, trainLoss: a.loss, trainAccuracy: a.accuracy, testLoss: b.loss, testAccuracy: b.accuracy };
  };
  const history = [evaluate(0, 0)];
  let time = 0;
  let steps = 0;
  let diverged = false;
  for (let epoch = 1; epoch <= epochs && !diverged; epoch++) {
    rng.permutation(tr.n, order);
    let nextEval = 1;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const start = s * batch;
      const n = Math.min(batch, tr.n - start);
      for (let i = 0; i < n; i++) {
        const src = order[start + i];
        bx.set(tr.x.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
        by[i] = tr.labels[src];
      }
      const t0 = performance.now();
      try {
        stepper.step(bx, values ? bx : by, n);
      } catch (err) {
        // a diverged run hands NaN gradients to the optimizer, which rejects them
        if (!(err instanceof RangeError)) throw err;
        diverged = true;
        break;
      }
      time += (performance.now() - t0) / 1000;
      steps++;
      options.onProgress?.({ epoch, step: s + 1, stepsPerEpoch, time });
      // evaluation points at ⌈k·stepsPerEpoch/evals⌉ steps into the epoch, k = 1 … evals
      if (s + 1 === Math.ceil((nextEval * stepsPerEpoch) / evals)) {
        const record = evaluate(steps, time);
        history.push(record);
        nextEval++;
        if (!Number.isFinite(record.trainLoss)) {
          diverged = true;
          break;
        }
        options.onProgress?.({ epoch, step: s + 1, stepsPerEpoch, time, last: record });
      }
    }
  }
  return { history, steps, wallTime: time, diverged };
}

/**
 * Seconds of training until the training loss first reached `target` (≤), from the evaluation
 * points (so a resolution of one evaluation interval); undefined if it never did.
 */
export function timeToTarget(history: readonly EvalRecord[], target: number): number | undefined {
  for (const r of history) if (r.trainLoss <= target) return r.time;
  return undefined;
}
