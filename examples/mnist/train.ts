/**
 * The training loop shared by every run: same epochs, batch size and batch order (from the seed)
 * for every optimizer. Wall-clock time counts the optimisation steps only; the per-epoch
 * evaluation on the full train and test sets is not timed.
 */
import { SeededRandom, type Classifier, type FloatArray } from '../../src/models/index.js';
import { PIXELS, type Dataset } from './data.js';
import type { Stepper } from './runs.js';

export interface EpochRecord {
  /** 0 is the initial model */
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
  /** called after every step and epoch, for a progress display */
  onProgress?: (p: { epoch: number; step: number; stepsPerEpoch: number; time: number; last?: EpochRecord }) => void;
}

export interface TrainResult {
  history: EpochRecord[];
  steps: number;
  /** seconds of training (steps only) */
  wallTime: number;
  /** true if the loss became NaN or infinite, or the optimizer rejected a non-finite gradient (training stopped there) */
  diverged: boolean;
}

export function train(model: Classifier, params: FloatArray, stepper: Stepper, data: { train: Dataset; test: Dataset }, options: TrainOptions): TrainResult {
  const { epochs, batch } = options;
  const { train: tr, test: te } = data;
  const rng = new SeededRandom(options.seed);
  const order = new Uint32Array(tr.n);
  const bx = new Float32Array(batch * PIXELS);
  const by = new Uint8Array(batch);
  const stepsPerEpoch = Math.ceil(tr.n / batch);
  const evaluate = (epoch: number, time: number): EpochRecord => {
    const a = model.evaluate(params, tr.x, tr.labels, tr.n);
    const b = model.evaluate(params, te.x, te.labels, te.n);
    return { epoch, time, trainLoss: a.loss, trainAccuracy: a.accuracy, testLoss: b.loss, testAccuracy: b.accuracy };
  };
  const history = [evaluate(0, 0)];
  let time = 0;
  let steps = 0;
  let diverged = false;
  for (let epoch = 1; epoch <= epochs && !diverged; epoch++) {
    rng.permutation(tr.n, order);
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
        stepper.step(bx, by, n);
      } catch (err) {
        // a diverged run hands NaN gradients to the optimizer, which rejects them
        if (!(err instanceof RangeError)) throw err;
        diverged = true;
        break;
      }
      time += (performance.now() - t0) / 1000;
      steps++;
      options.onProgress?.({ epoch, step: s + 1, stepsPerEpoch, time });
    }
    const record = evaluate(epoch, time);
    history.push(record);
    diverged ||= !Number.isFinite(record.trainLoss);
    options.onProgress?.({ epoch, step: stepsPerEpoch, stepsPerEpoch, time, last: record });
  }
  return { history, steps, wallTime: time, diverged };
}
