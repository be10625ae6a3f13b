/**
 * The sweep behind the demo's hyperparameters (runs.ts DEFAULTS): for each problem, every
 * optimizer gets the same budget, SIX grid points of the same number of epochs, scored by the
 * loss on a validation set carved out of the training digits: the test digits are never looked
 * at. Prints Markdown tables; SWEEP.md records a run.
 *
 *   node scripts/sweep.mjs                                  # everything
 *   node scripts/sweep.mjs --problem conditioned --optimizer kronecker,ekfac
 *   node scripts/sweep.mjs --problem autoencoder --lr 0.3   # only the grid points with lr 0.3
 */
import { parseArgs } from 'node:util';
import { initSync } from '../../src/index.js';
import { applyMap, conditioningMap } from './conditioning.js';
import { loadMnist, pick, PIXELS, split, type Dataset } from './data.js';
import { FULL } from './run.js';
import {
  createModel,
  createStepper,
  describeHyperparameters,
  OPTIMIZER_NAMES,
  UPDATE_EVERY,
  type Hyperparameters,
  type OptimizerName,
  type ProblemName,
} from './runs.js';
import { train } from './train.js';

export const PROBLEM_NAMES: readonly ProblemName[] = ['logistic', 'mlp', 'conditioned', 'autoencoder'];
/** The optimizers swept per problem: those the demo runs on it ('dense', only on request, takes 'kronecker''s point). */
const SWEPT: Record<ProblemName, readonly OptimizerName[]> = {
  logistic: ['sgd', 'adam', 'ef', 'kronecker', 'ekfac'],
  mlp: ['sgd', 'adam', 'ef', 'kronecker', 'ekfac'],
  conditioned: ['sgd', 'adam', 'ef', 'kronecker', 'ekfac'],
  autoencoder: ['sgd', 'adam', 'kronecker', 'ekfac'],
};

/** lr 1 (the largest step), damping λ × the loss-change bound ε, which scales down any step predicted to change the losses more */
const curvature = (dampings: number[], bounds: number[], extra: Partial<Hyperparameters> = {}): Hyperparameters[] =>
  dampings.flatMap((damping) => bounds.map((lossChangeBound) => ({ lr: 1, damping, decay: 0.95, lossChangeBound, ...extra })));

/**
 * The grids: six points per optimizer and problem. SGD uses momentum 0.9 throughout; its rates
 * span the scale of each problem's inputs (the conditioned features reach 100× the pixels). The
 * empirical-Fisher runs: λ over three decades × two bounds ε on the predicted mean squared change
 * of the per-example losses (per-example losses of about 2 nats for the classifiers, about 200
 * for the autoencoder, whence its larger ε and λ).
 */
export function grid(problem: ProblemName, optimizer: OptimizerName): Hyperparameters[] {
  const sgdRates =
    problem === 'conditioned' ? [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1] : problem === 'autoencoder' ? [1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3] : [0.01, 0.03, 0.1, 0.3, 1, 3];
  switch (optimizer) {
    case 'sgd':
      return sgdRates.map((lr) => ({ lr, momentum: 0.9 }));
    case 'adam':
      return [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2].map((lr) => ({ lr }));
    case 'ef':
    case 'kronecker':
    case 'ekfac':
    case 'dense': {
      const every = optimizer === 'ef' ? {} : { updateEvery: UPDATE_EVERY };
      return problem === 'autoencoder' ? curvature([0.1, 1, 10], [100, 1000], every) : curvature([1e-3, 1e-2, 1e-1], [0.1, 1], every);
    }
  }
}

const VALIDATION = 1000;
const EPOCHS = 1;

function main(): void {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string' },
      problem: { type: 'string' },
      optimizer: { type: 'string' },
      lr: { type: 'string' },
      damping: { type: 'string' },
      bound: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      `Usage: node scripts/sweep.mjs [--epochs N (default ${EPOCHS})] [--problem ${PROBLEM_NAMES.join(',')}] [--optimizer ${OPTIMIZER_NAMES.join(',')}] [--lr 0.1,1] [--damping 0.01] [--bound 0.1]\n` +
        'The lists keep only the grid points with those values (--damping and --bound filter only the empirical-Fisher points).\n' +
        `Trains on ${FULL.train - VALIDATION} of the demo's ${FULL.train} training digits, scores on the other ${VALIDATION}.\n`,
    );
    return;
  }
  const epochs = Number(values.epochs ?? EPOCHS);
  if (!Number.isSafeInteger(epochs) || epochs < 1) throw new RangeError(`--epochs must be an integer ≥ 1, got '${values.epochs}'`);
  const problems = (values.problem?.split(',') ?? PROBLEM_NAMES) as ProblemName[];
  for (const m of problems) if (!PROBLEM_NAMES.includes(m)) throw new RangeError(`--problem: unknown '${m}' (expected ${PROBLEM_NAMES.join(', ')})`);
  const optimizers = values.optimizer?.split(',') as OptimizerName[] | undefined;
  const swept = (p: ProblemName) => (optimizers ? OPTIMIZER_NAMES.filter((o) => optimizers.includes(o) && (p !== 'autoencoder' || o !== 'ef')) : SWEPT[p]);
  for (const o of optimizers ?? []) {
    if (!OPTIMIZER_NAMES.includes(o)) throw new RangeError(`--optimizer: unknown '${o}' (expected ${OPTIMIZER_NAMES.join(', ')})`);
  }
  const list = (v: string | undefined) => v?.split(',').map(Number);
  const rates = list(values.lr);
  const dampings = list(values.damping);
  const bounds = list(values.bound);
  const keep = (h: Hyperparameters) =>
    (rates === undefined || rates.includes(h.lr)) &&
    (dampings === undefined || h.damping === undefined || dampings.includes(h.damping)) &&
    (bounds === undefined || h.lossChangeBound === undefined || bounds.includes(h.lossChangeBound));
  initSync();
  // the demo's split, then a validation part of its training set
  const { train: all } = split(loadMnist(), FULL.train, FULL.test, FULL.seed);
  const idx = Array.from({ length: all.n }, (_, i) => i);
  const raw = { train: pick(all, idx.slice(0, all.n - VALIDATION)), test: pick(all, idx.slice(all.n - VALIDATION)) };
  let conditioned: { train: Dataset; test: Dataset } | undefined;
  process.stdout.write(
    `# sweep: ${raw.train.n} training / ${raw.test.n} validation digits, ${epochs} epochs, batch ${FULL.batch}, seed ${FULL.seed}\n`,
  );
  for (const problem of problems) {
    let data = raw;
    if (problem === 'conditioned') {
      if (!conditioned) {
        const map = conditioningMap(PIXELS, FULL.mapSeed);
        const mapped = (d: Dataset): Dataset => ({ x: applyMap(map, d.x, d.n), labels: d.labels, n: d.n });
        conditioned = { train: mapped(raw.train), test: mapped(raw.test) };
      }
      data = conditioned;
    }
    for (const optimizer of swept(problem)) {
      process.stdout.write(`\n## ${problem} · ${optimizer}\n\n`);
      process.stdout.write('| hyperparameters | train loss (1,000 digits) | validation loss | validation accuracy | time |\n|---|---:|---:|---:|---:|\n');
      const rows: { hp: Hyperparameters; loss: number }[] = [];
      for (const hp of grid(problem, optimizer).filter(keep)) {
        const model = createModel(problem);
        const params = model.initialize(new Float32Array(model.size), FULL.seed);
        const stepper = createStepper(optimizer, model, params, hp);
        const r = (() => {
          try {
            return train(model, params, stepper, data, { epochs, batch: FULL.batch, seed: FULL.seed, trainEval: VALIDATION });
          } finally {
            stepper.dispose();
          }
        })();
        const last = r.history[r.history.length - 1];
        const loss = r.diverged ? Number.NaN : last.testLoss;
        process.stdout.write(
          `| ${describeHyperparameters(optimizer, hp)} | ${r.diverged ? 'diverged' : last.trainLoss.toFixed(4)} | ${r.diverged ? '–' : loss.toFixed(4)} | ${
            r.diverged ? '–' : `${(100 * last.testAccuracy).toFixed(1)}%`
          } | ${r.wallTime.toFixed(1)} s |\n`,
        );
        rows.push({ hp, loss });
      }
      const best = rows.filter((r) => Number.isFinite(r.loss)).sort((a, b) => a.loss - b.loss)[0];
      if (best) process.stdout.write(`\nbest (lowest validation loss): ${describeHyperparameters(optimizer, best.hp)}\n`);
    }
  }
}

main();
