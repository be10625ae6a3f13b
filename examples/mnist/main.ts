/**
 * `npm run demo` / `npx empirical-fisher demo`: the MNIST comparison from the command line.
 * Run `npm run demo -- --help` for the options.
 */
import { parseArgs } from 'node:util';
import { FULL, QUICK, runDemo } from './run.js';
import { MODEL_NAMES, OPTIMIZER_NAMES, type ModelName, type OptimizerName } from './runs.js';

const HELP = `Usage: npm run demo -- [options]      (or: npx empirical-fisher demo [options])

Trains multinomial logistic regression (7,850 parameters) and an MLP 784-32-10 (25,450
parameters) on the MNIST digits of the mnist npm package, with SGD, Adam and the empirical
Fisher optimizer, and writes a plot and the numbers.

Options:
  --epochs N          epochs per run (default ${FULL.epochs}; --quick: ${QUICK.epochs})
  --batch N           minibatch size (default ${FULL.batch})
  --model NAMES       comma-separated: ${MODEL_NAMES.join(', ')} (default: all)
  --optimizer NAMES   comma-separated: ${OPTIMIZER_NAMES.join(', ')} (default: all)
  --train N --test N  digits in the seeded split (default ${FULL.train} / ${FULL.test}; --quick: ${QUICK.train} / ${QUICK.test})
  --seed N            seeds the split, the initial weights and the batch order (default ${FULL.seed})
  --out DIR           output directory (default demo-output)
  --quick             a small subset, about 20 s in all (used by the tests)
  -h, --help          this help

Writes DIR/mnist.svg (training loss against epoch and against wall-clock time) and
DIR/mnist.json (per-epoch series and final figures of every run).
`;

function list<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): readonly T[] {
  if (value === undefined) return allowed;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new RangeError(`--${name}: unknown '${item}' (expected ${allowed.join(', ')})`);
  }
  return items as T[];
}

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`--${name} must be an integer ≥ ${min}, got '${value}'`);
  return v;
}

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        epochs: { type: 'string' },
        batch: { type: 'string' },
        model: { type: 'string' },
        optimizer: { type: 'string' },
        train: { type: 'string' },
        test: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        quick: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const base = values.quick ? QUICK : FULL;
  let options;
  try {
    options = {
      ...base,
      epochs: integer('epochs', values.epochs, base.epochs, 1),
      batch: integer('batch', values.batch, base.batch, 1),
      train: integer('train', values.train, base.train, 1),
      test: integer('test', values.test, base.test, 1),
      seed: integer('seed', values.seed, base.seed, 0),
      models: list<ModelName>('model', values.model, MODEL_NAMES),
      optimizers: list<OptimizerName>('optimizer', values.optimizer, OPTIMIZER_NAMES),
      outDir: values.out ?? 'demo-output',
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const t0 = performance.now();
  runDemo(options, process.stdout);
  process.stdout.write(`total ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
