/**
 * The MNIST demo as a function: loads the digits, runs each requested task (every problem of the
 * task with every optimizer: same epochs, batch size, initial weights and batch order for all),
 * prints progress and a table with each run's time to target, and writes demo-output/TASK.svg and
 * demo-output/TASK.json per task.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { initSync } from '../../src/index.js';
import { applyMap, conditioningMap } from './conditioning.js';
import { loadMnist, PIXELS, split, type Dataset } from './data.js';
import { renderLossPlot, type Series } from './plot.js';
import { Progress, type ProgressSink } from './progress.js';
import { formatTable, type RunSummary } from './report.js';
import {
  createModel,
  createStepper,
  describeHyperparameters,
  FIRST_ORDER,
  hyperparametersFor,
  TASK_NAMES,
  TASKS,
  type OptimizerName,
  type ProblemName,
  type TaskName,
} from './runs.js';
import { timeToTarget, train, type EvalRecord } from './train.js';

/** How long a task trains and how often it is evaluated. */
export interface TaskSettings {
  epochs: number;
  /** evaluations per epoch (the time-to-target resolution) */
  evalsPerEpoch: number;
  /** training examples the training loss is measured on (the first ones of the shuffled split) */
  trainEval: number;
  /** test examples evaluated */
  testEval: number;
}

export interface DemoOptions {
  tasks: readonly TaskName[];
  /** the optimizers to run; undefined: each task's own list */
  optimizers?: readonly OptimizerName[];
  settings: Record<TaskName, TaskSettings>;
  batch: number;
  /** training and test digits of the seeded split (every task uses the same split) */
  train: number;
  test: number;
  seed: number;
  /** seeds the conditioned task's map T */
  mapSeed: number;
  /** directory of TASK.svg and TASK.json */
  outDir: string;
  quick: boolean;
}

/**
 * The full demo: 8,000 / 2,000 digits. Classification and the conditioned task share their
 * settings (the conditioned task reuses the raw-pixel logistic runs).
 */
export const FULL: Omit<DemoOptions, 'outDir'> = {
  tasks: TASK_NAMES,
  settings: {
    classification: { epochs: 2, evalsPerEpoch: 4, trainEval: 8000, testEval: 2000 },
    conditioned: { epochs: 2, evalsPerEpoch: 4, trainEval: 8000, testEval: 2000 },
    autoencoder: { epochs: 3, evalsPerEpoch: 3, trainEval: 1000, testEval: 1000 },
  },
  batch: 128,
  train: 8000,
  test: 2000,
  seed: 1,
  mapSeed: 7,
  quick: false,
};

/** --quick: a small subset, a few seconds per run (the test suite runs this). */
export const QUICK: Omit<DemoOptions, 'outDir'> = {
  ...FULL,
  settings: {
    classification: { epochs: 2, evalsPerEpoch: 2, trainEval: 1500, testEval: 500 },
    conditioned: { epochs: 2, evalsPerEpoch: 2, trainEval: 1500, testEval: 500 },
    autoencoder: { epochs: 2, evalsPerEpoch: 2, trainEval: 500, testEval: 500 },
  },
  train: 1500,
  test: 500,
  quick: true,
};

export interface RunRecord extends RunSummary {
  parameters: number;
  steps: number;
  diverged: boolean;
  /** the evaluation points, the first being the initial model */
  history: EvalRecord[];
}

export interface TaskResult {
  task: TaskName;
  runs: RunRecord[];
  svgPath: string;
  jsonPath: string;
}

export interface DemoResult {
  tasks: TaskResult[];
  /** every run once, in the order run */
  runs: RunRecord[];
}

const COLORS: Record<OptimizerName, string> = {
  sgd: '#1f77b4',
  adam: '#ff7f0e',
  ef: '#2ca02c',
  kronecker: '#d62728',
  ekfac: '#9467bd',
  dense: '#8c564b',
};
const OPTIMIZER_LABELS: Record<OptimizerName, string> = {
  sgd: 'SGD',
  adam: 'Adam',
  ef: 'empirical Fisher (auto)',
  kronecker: 'EF kronecker',
  ekfac: 'EF ekfac',
  dense: 'EF dense',
};
const PROBLEM_LABELS: Record<ProblemName, string> = {
  logistic: 'logistic',
  mlp: 'mlp-tanh',
  conditioned: 'logistic on T x',
  autoencoder: 'autoencoder',
};

/** Every first-order run's final loss sets the problem's target: the lowest of them. */
function addTimesToTarget(runs: RunRecord[]): void {
  const problems = new Set(runs.map((r) => r.problem));
  for (const problem of problems) {
    const own = runs.filter((r) => r.problem === problem);
    const baselines = own.filter((r) => FIRST_ORDER.includes(r.optimizer as OptimizerName) && Number.isFinite(r.finalTrainLoss));
    if (baselines.length === 0) continue;
    const best = baselines.reduce((a, b) => (b.finalTrainLoss < a.finalTrainLoss ? b : a));
    const target = best.finalTrainLoss;
    const bestTime = timeToTarget(best.history, target)!;
    for (const r of own) {
      r.target = target;
      r.timeToTarget = r.diverged ? undefined : timeToTarget(r.history, target);
      r.timeToTargetRatio = r.timeToTarget === undefined ? undefined : r.timeToTarget / bestTime;
    }
  }
}

/**
 * @param out where progress and the table go (process.stdout in the CLI); `quiet` for none
 */
export function runDemo(options: DemoOptions, out: ProgressSink | 'quiet' = 'quiet'): DemoResult {
  const sink: ProgressSink = out === 'quiet' ? { write() {}, isTTY: false } : out;
  initSync();
  const t0 = performance.now();
  const raw = split(loadMnist(), options.train, options.test, options.seed);
  sink.write(
    `MNIST: ${raw.train.n} training and ${raw.test.n} test digits (seed ${options.seed}), loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
      `batch ${options.batch}\n`,
  );
  let conditioned: { train: Dataset; test: Dataset } | undefined;
  const dataFor = (problem: ProblemName) => {
    if (problem !== 'conditioned') return raw;
    if (!conditioned) {
      const t1 = performance.now();
      const map = conditioningMap(PIXELS, options.mapSeed);
      const mapped = (d: Dataset): Dataset => ({ x: applyMap(map, d.x, d.n), labels: d.labels, n: d.n });
      conditioned = { train: mapped(raw.train), test: mapped(raw.test) };
      sink.write(`conditioned features T x (T = Q D, seed ${options.mapSeed}) in ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
    }
    return conditioned;
  };

  const done = new Map<string, RunRecord>();
  const all: RunRecord[] = [];
  const tasks: TaskResult[] = [];
  for (const taskName of options.tasks) {
    const task = TASKS[taskName];
    const settings = options.settings[taskName];
    const optimizers = (options.optimizers ?? task.optimizers).filter((o) => task.optimizers.includes(o) || (o === 'dense' && taskName === 'conditioned'));
    sink.write(`\n${task.name}: ${task.title}; ${settings.epochs} epochs\n`);
    const runs: RunRecord[] = [];
    for (const problem of task.problems) {
      for (const optimizer of optimizers) {
        const key = `${problem}/${optimizer}/${settings.epochs}`;
        const previous = done.get(key);
        if (previous) {
          runs.push(previous);
          continue;
        }
        const model = createModel(problem);
        const params = model.initialize(new Float32Array(model.size), options.seed);
        const hp = hyperparametersFor(problem, optimizer);
        const stepper = createStepper(optimizer, model, params, hp);
        const progress = new Progress(sink, `${PROBLEM_LABELS[problem]} · ${OPTIMIZER_LABELS[optimizer]}`.padEnd(40), settings.epochs);
        const data = dataFor(problem);
        const result = (() => {
          try {
            return train(model, params, stepper, { train: data.train, test: subset(data.test, settings.testEval) }, {
              epochs: settings.epochs,
              batch: options.batch,
              seed: options.seed,
              evalsPerEpoch: settings.evalsPerEpoch,
              trainEval: settings.trainEval,
              onProgress: (p) => progress.update(p),
            });
          } finally {
            stepper.dispose();
            progress.done();
          }
        })();
        const last = result.history[result.history.length - 1];
        const record: RunRecord = {
          task: taskName,
          problem,
          optimizer,
          hyperparameters: describeHyperparameters(optimizer, hp),
          parameters: model.size,
          finalTrainLoss: result.diverged ? Number.NaN : last.trainLoss,
          testAccuracy: last.testAccuracy,
          wallTime: result.wallTime,
          steps: result.steps,
          stepsPerSecond: result.wallTime > 0 ? result.steps / result.wallTime : 0,
          diverged: result.diverged,
          target: undefined,
          timeToTarget: undefined,
          timeToTargetRatio: undefined,
          history: result.history,
        };
        done.set(key, record);
        runs.push(record);
        all.push(record);
      }
    }
    addTimesToTarget(runs);
    tasks.push(writeTask(options, taskName, runs, raw));
  }
  sink.write(`\n${formatTable(all)}\n\n`);
  sink.write(`time to target: wall time until the training loss first reached the best first-order method's final training loss (× that method's own)\n`);
  for (const t of tasks) sink.write(`wrote ${t.svgPath} and ${t.jsonPath}\n`);
  return { tasks, runs: all };
}

function subset(d: Dataset, n: number): Dataset {
  const m = Math.min(n, d.n);
  return m === d.n ? d : { x: d.x.subarray(0, m * PIXELS), labels: d.labels.subarray(0, m), n: m };
}

function writeTask(options: DemoOptions, taskName: TaskName, runs: RunRecord[], raw: { train: Dataset; test: Dataset }): TaskResult {
  const task = TASKS[taskName];
  const settings = options.settings[taskName];
  const dashes: Partial<Record<ProblemName, string>> =
    taskName === 'conditioned' ? { conditioned: '', logistic: '3 3' } : { logistic: '', mlp: '7 4', autoencoder: '' };
  const series: Series[] = runs.map((r) => ({
    label: `${PROBLEM_LABELS[r.problem as ProblemName]} · ${OPTIMIZER_LABELS[r.optimizer as OptimizerName]}`,
    color: COLORS[r.optimizer as OptimizerName],
    dash: dashes[r.problem as ProblemName] ?? '',
    epochs: r.history.map((e) => e.epoch),
    loss: r.history.map((e) => e.trainLoss),
    time: r.history.map((e) => e.time),
  }));
  mkdirSync(options.outDir, { recursive: true });
  const svgPath = join(options.outDir, `${taskName}.svg`);
  const jsonPath = join(options.outDir, `${taskName}.json`);
  const subtitle =
    `${raw.train.n} train / ${raw.test.n} test digits, ${settings.epochs} epochs, batch ${options.batch}, seed ${options.seed}` +
    (settings.trainEval < raw.train.n ? `; training loss on ${settings.trainEval} of the training digits` : '');
  const yLabel = taskName === 'autoencoder' ? 'training loss (Bernoulli cross-entropy, log scale)' : 'training loss (cross-entropy, log scale)';
  writeFileSync(svgPath, renderLossPlot(series, task.title, subtitle, yLabel));
  const cpu = cpus();
  const json = {
    description: `${task.title}: training loss at each evaluation point and final figures of each run (see examples/mnist/README.md)`,
    task: taskName,
    date: new Date().toISOString(),
    machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version, platform: `${process.platform} ${process.arch}` },
    options: { ...settings, batch: options.batch, train: raw.train.n, test: raw.test.n, seed: options.seed, mapSeed: options.mapSeed, quick: options.quick },
    runs,
  };
  writeFileSync(jsonPath, JSON.stringify(json, null, 2) + '\n');
  return { task: taskName, runs, svgPath, jsonPath };
}
