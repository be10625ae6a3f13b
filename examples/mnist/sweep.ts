/**
 * The sweep behind the demo's hyperparameters (runs.ts DEFAULTS): for each model, every
 * optimizer's learning rate on a grid (and the empirical Fisher's damping), a few epochs each,
 * scored by the loss on a validation set carved out of the training digits: the test digits are
 * never looked at. Prints Markdown tables; SWEEP.md records a run.
 *
 *   node scripts/sweep.mjs                     # everything (about 25 minutes on 2 cores)
 *   node scripts/sweep.mjs --model mlp --optimizer ef --epochs 2
 *   node scripts/sweep.mjs --optimizer ef --lr 10      # only the grid points with lr = 10
 *   node scripts/sweep.mjs --optimizer ef --decay 0.95 # only the running-average points
 */
import { parseArgs } from 'node:util';
import { initSync } from '../../src/index.js';
import { loadMnist, pick, split } from './data.js';
import { FULL } from './run.js';
import {
  createModel,
  createStepper,
  describeHyperparameters,
  MODEL_NAMES,
  OPTIMIZER_NAMES,
  type Hyperparameters,
  type ModelName,
  type OptimizerName,
} from './runs.js';
import { train } from './train.js';

/** The grids. SGD uses momentum 0.9 throughout (a stronger baseline than plain SGD). */
export const GRID: Record<OptimizerName, Hyperparameters[]> = {
  sgd: [0.01, 0.03, 0.1, 0.3, 1].map((lr) => ({ lr, momentum: 0.9 })),
  adam: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2].map((lr) => ({ lr })),
  ef: [
    // lr × damping, then further along the diagonal where the best point of the square lay
    ...[0.1, 0.3, 1, 3, 10].flatMap((lr) => [1e-2, 1e-1, 1, 10].map((damping) => ({ lr, damping }))),
    { lr: 30, damping: 10 },
    { lr: 30, damping: 100 },
    { lr: 100, damping: 100 },
  ]
    .map((hp) => ({ ...hp, decay: 0 }))
    // and with a running average over batches (the optimizer's default decay, 0.95): lr × damping
    // on a smaller grid around the best decay-0 points (each point costs 5–8× a decay-0 point)
    .concat(
      [
        ...[0.3, 1, 3, 10].flatMap((lr) => [0.1, 1, 10].map((damping) => ({ lr, damping }))),
        // then, because the best point of that grid (0.3, 0.1) lay on its corner, beyond it
        ...[0.1, 0.3].flatMap((lr) => [0.01, 0.03].map((damping) => ({ lr, damping }))),
        { lr: 0.1, damping: 0.1 },
        { lr: 0.03, damping: 0.01 },
      ].map((hp) => ({ ...hp, decay: 0.95 })),
    ),
};

const VALIDATION = 1000;

function main(): void {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string' },
      model: { type: 'string' },
      optimizer: { type: 'string' },
      lr: { type: 'string' },
      damping: { type: 'string' },
      decay: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: node scripts/sweep.mjs [--epochs N (default 3)] [--model logistic,mlp] [--optimizer sgd,adam,ef] [--lr 0.1,1] [--damping 1,10] [--decay 0,0.95]\n' +
        'The lists keep only the grid points with those values (--damping and --decay filter only the empirical Fisher points).\n' +
        `Trains on ${FULL.train - VALIDATION} of the demo's ${FULL.train} training digits, scores on the other ${VALIDATION}.\n`,
    );
    return;
  }
  const epochs = Number(values.epochs ?? 3);
  if (!Number.isSafeInteger(epochs) || epochs < 1) throw new RangeError(`--epochs must be an integer ≥ 1, got '${values.epochs}'`);
  const models = (values.model?.split(',') ?? MODEL_NAMES) as ModelName[];
  const optimizers = (values.optimizer?.split(',') ?? OPTIMIZER_NAMES) as OptimizerName[];
  for (const m of models) if (!MODEL_NAMES.includes(m)) throw new RangeError(`--model: unknown '${m}' (expected ${MODEL_NAMES.join(', ')})`);
  for (const o of optimizers) {
    if (!OPTIMIZER_NAMES.includes(o)) throw new RangeError(`--optimizer: unknown '${o}' (expected ${OPTIMIZER_NAMES.join(', ')})`);
  }
  const list = (v: string | undefined) => v?.split(',').map(Number);
  const rates = list(values.lr);
  const dampings = list(values.damping);
  const decays = list(values.decay);
  const keep = (h: Hyperparameters) =>
    (rates === undefined || rates.includes(h.lr)) &&
    (dampings === undefined || h.damping === undefined || dampings.includes(h.damping)) &&
    (decays === undefined || h.decay === undefined || decays.includes(h.decay));
  initSync();
  // the demo's split, then a validation part of its training set
  const { train: all } = split(loadMnist(), FULL.train, FULL.test, FULL.seed);
  const idx = Array.from({ length: all.n }, (_, i) => i);
  const data = { train: pick(all, idx.slice(0, all.n - VALIDATION)), test: pick(all, idx.slice(all.n - VALIDATION)) };
  process.stdout.write(
    `# sweep: ${data.train.n} training / ${data.test.n} validation digits, ${epochs} epochs, batch ${FULL.batch}, seed ${FULL.seed}\n`,
  );
  for (const modelName of models) {
    for (const optimizerName of optimizers) {
      process.stdout.write(`\n## ${modelName} · ${optimizerName}\n\n`);
      process.stdout.write('| hyperparameters | train loss | validation loss | validation accuracy | time |\n|---|---:|---:|---:|---:|\n');
      const rows: { hp: Hyperparameters; loss: number; line: string }[] = [];
      for (const hp of GRID[optimizerName].filter(keep)) {
        const model = createModel(modelName);
        const params = model.initialize(new Float32Array(model.size), FULL.seed);
        const stepper = createStepper(optimizerName, model, params, hp, FULL.batch);
        const r = train(model, params, stepper, data, { epochs, batch: FULL.batch, seed: FULL.seed });
        stepper.dispose();
        const last = r.history[r.history.length - 1];
        const loss = r.diverged ? Number.NaN : last.testLoss;
        const line = `| ${describeHyperparameters(optimizerName, hp)} | ${r.diverged ? 'diverged' : last.trainLoss.toFixed(4)} | ${
          r.diverged ? '–' : loss.toFixed(4)
        } | ${r.diverged ? '–' : `${(100 * last.testAccuracy).toFixed(1)}%`} | ${r.wallTime.toFixed(1)} s |`;
        process.stdout.write(`${line}\n`);
        rows.push({ hp, loss, line });
      }
      const best = rows.filter((r) => Number.isFinite(r.loss)).sort((a, b) => a.loss - b.loss)[0];
      if (best) process.stdout.write(`\nbest (lowest validation loss): ${describeHyperparameters(optimizerName, best.hp)}\n`);
    }
  }
}

main();
