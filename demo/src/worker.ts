/**
 * The training worker: loads the MNIST subset, then trains one model (a task of examples/mnist:
 * logistic regression or the MLP on the pixels, logistic regression on the conditioned features
 * T x, or the autoencoder) with several optimizers side by side (SGD, Adam, and the library's
 * empirical Fisher optimizer in its 'auto', 'kronecker' and 'ekfac' representations), each on its
 * own copy of the same initial parameters and on the same minibatches, and posts losses and
 * accuracies as it goes. The models, the steppers and the map T are the Node demo's own code.
 */
import { features, init } from '../../src/index.js';
import { SeededRandom, type DenseNetwork } from '../../src/models/index.js';
import { applyMap, conditioningMap } from '../../examples/mnist/conditioning.js';
import { createModel, createStepper } from '../../examples/mnist/runs.js';
import type { FromWorker, ModelId, OptimizerId, RunConfig, StepResult, ToWorker, TrainConfig } from './protocol.js';

interface Dataset {
  x: Float32Array;
  labels: Uint8Array;
  n: number;
}

interface Run {
  id: OptimizerId;
  params: Float32Array;
  /** one step on the minibatch; returns the minibatch loss before it */
  step(x: Float32Array, targets: Uint8Array | Float32Array, n: number): number;
  dispose(): void;
  failed: boolean;
}

const post = (m: FromWorker) => postMessage(m);
const PIXELS = 784;
let train!: Dataset;
let test!: Dataset;

/** Reads demo/data/mnist-subset.bin (format in scripts/build-demo-web.mjs). */
async function loadData(): Promise<void> {
  const res = await fetch(new URL('../data/mnist-subset.bin', import.meta.url));
  if (!res.ok) throw new Error(`could not load the MNIST subset: HTTP ${res.status} (run npm run build:demo)`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const dv = new DataView(bytes.buffer);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== 'EFMN' || dv.getUint32(4, true) !== 1) {
    throw new Error('mnist-subset.bin: not an EFMN v1 file');
  }
  const nTrain = dv.getUint32(8, true);
  const nTest = dv.getUint32(12, true);
  if (dv.getUint32(16, true) !== PIXELS) throw new Error('mnist-subset.bin: expected 784 pixels per digit');
  const n = nTrain + nTest;
  const labels = bytes.subarray(20, 20 + n);
  const pixels = bytes.subarray(20 + n, 20 + n + n * PIXELS);
  const x = new Float32Array(n * PIXELS);
  for (let i = 0; i < x.length; i++) x[i] = pixels[i] / 255;
  train = { x: x.subarray(0, nTrain * PIXELS), labels: labels.slice(0, nTrain), n: nTrain };
  test = { x: x.subarray(nTrain * PIXELS), labels: labels.slice(nTrain), n: nTest };
}

/** The digits a model trains on: the pixels, or (conditioned) T x, computed on first use. */
let conditioned: { train: Dataset; test: Dataset } | undefined;
function dataFor(id: ModelId): { train: Dataset; test: Dataset } {
  if (id !== 'conditioned') return { train, test };
  if (!conditioned) {
    const map = conditioningMap(PIXELS, 7); // the Node demo's map (FULL.mapSeed)
    const mapped = (d: Dataset): Dataset => ({ x: applyMap(map, d.x, d.n), labels: d.labels, n: d.n });
    conditioned = { train: mapped(train), test: mapped(test) };
  }
  return conditioned;
}

function createRun(model: DenseNetwork, initial: Float32Array, rc: RunConfig): Run {
  const params = initial.slice();
  const stepper = createStepper(rc.id, model, params, {
    lr: rc.lr,
    damping: rc.damping,
    momentum: rc.momentum,
    decay: rc.decay,
    updateEvery: rc.updateEvery,
    lossChangeBound: rc.lossChangeBound,
  });
  return { id: rc.id, params, failed: false, step: (x, targets, n) => stepper.step(x, targets, n), dispose: () => stepper.dispose() };
}

/** One training session; `generation` tells a stale loop to stop after a restart. */
let generation = 0;
let running = false;
let session:
  | {
      config: TrainConfig;
      model: DenseNetwork;
      data: { train: Dataset; test: Dataset };
      runs: Run[];
      step: number;
      budget: number;
      order: Uint32Array;
      at: number;
      rng: SeededRandom;
      xb: Float32Array;
      lb: Uint8Array;
    }
  | undefined;

function evaluate(): void {
  const s = session!;
  const te = s.data.test;
  const targets = s.model.targets === 'values' ? te.x : te.labels;
  const results = s.runs.filter((r) => !r.failed).map((r) => ({ id: r.id, ...s.model.evaluate(r.params, te.x, targets, te.n) }));
  post({ type: 'eval', step: s.step, results });
}

function start(config: TrainConfig): void {
  session?.runs.forEach((r) => r.dispose());
  const model = createModel(config.model);
  const initial = model.initialize(new Float32Array(model.size), config.seed);
  const data = dataFor(config.model);
  const batch = Math.max(1, Math.min(config.batch, train.n));
  const rng = new SeededRandom(config.seed + 1);
  session = {
    config: { ...config, batch },
    model,
    data,
    runs: config.runs.map((rc) => createRun(model, initial, rc)),
    step: 0,
    budget: config.maxSteps,
    order: rng.permutation(train.n),
    at: 0,
    rng,
    xb: new Float32Array(batch * PIXELS),
    lb: new Uint8Array(batch),
  };
  post({ type: 'started', config: session.config, d: model.size });
  evaluate();
  running = true;
  void loop(++generation);
}

/** Steps every run once per iteration, yielding to the event loop between (so pause gets through). */
async function loop(gen: number): Promise<void> {
  post({ type: 'state', running: true, step: session!.step, done: false });
  while (running && gen === generation) {
    const s = session!;
    const { batch } = s.config;
    // the next minibatch of a shuffled epoch, the same for every optimizer
    if (s.at + batch > train.n) {
      s.order = s.rng.permutation(train.n, s.order);
      s.at = 0;
    }
    const tr = s.data.train;
    for (let i = 0; i < batch; i++) {
      const k = s.order[s.at + i];
      s.xb.set(tr.x.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
      s.lb[i] = tr.labels[k];
    }
    const targets = s.model.targets === 'values' ? s.xb : s.lb;
    s.at += batch;
    const results: StepResult[] = [];
    for (const r of s.runs) {
      if (r.failed) continue;
      const t0 = performance.now();
      try {
        const loss = r.step(s.xb, targets, batch);
        results.push({ id: r.id, loss, ms: performance.now() - t0 });
      } catch (err) {
        r.failed = true;
        post({ type: 'run-error', id: r.id, step: s.step, message: err instanceof Error ? err.message : String(err) });
      }
    }
    s.step++;
    post({ type: 'step', step: s.step, results });
    if (s.step % s.config.evalEvery === 0) evaluate();
    if (s.config.maxSteps > 0 && s.step >= s.config.maxSteps) running = false;
    await new Promise((r) => setTimeout(r, 0));
  }
  if (gen === generation) {
    const s = session!;
    post({ type: 'state', running: false, step: s.step, done: s.config.maxSteps > 0 && s.step >= s.config.maxSteps });
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    if (m.type === 'start') start(m.config);
    else if (m.type === 'pause') running = false;
    else if (m.type === 'resume' && session && !running) {
      // after "stop after N steps": continue for another N
      const c = session.config;
      if (c.maxSteps > 0 && session.step >= c.maxSteps) c.maxSteps = session.step + session.budget;
      running = true;
      void loop(++generation);
    }
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};

(async () => {
  try {
    await init();
    await loadData();
    post({
      type: 'ready',
      train: train.n,
      test: test.n,
      simd: features().simd,
      isolated: self.crossOriginIsolated,
      d: { logistic: createModel('logistic').size, mlp: createModel('mlp').size, conditioned: createModel('conditioned').size, autoencoder: createModel('autoencoder').size },
    });
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
})();
