// npm run example:tfjs -- [options]: a tfjs-core model trained with EmpiricalFisherOptimizer.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { init } from '../../src/index.js';
import { loadMnist, PIXELS } from '../mnist/data.js';
import { useBackend, type BackendName } from './backend.js';
import { createModel, disposeModel, syntheticData, train, type Data } from './model.js';

const HELP = `Usage: npm run example:tfjs -- [options]

Trains a dense network (tanh hidden layer, softmax cross-entropy) built in TensorFlow.js
(tfjs-core) with the empirical Fisher optimizer: tfjs computes each layer's input A and the
gradient E of the summed loss with respect to the layer's output; the optimizer does the rest.

Options:
  --backend cpu|wasm  the tfjs backend (default cpu; wasm falls back to cpu where it does not load)
  --mnist N           the first N digits of the mnist package (784-32-10) instead of the
                      synthetic set (8 inputs, 3 classes, 512 points; 8-32-3)
  --epochs N          default 5
  --batch N           default 64
  -h, --help          this help
`;

function main(argv: string[]): Promise<number> | number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        backend: { type: 'string', default: 'cpu' },
        mnist: { type: 'string' },
        epochs: { type: 'string', default: '5' },
        batch: { type: 'string', default: '64' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const int = (name: string, v: string) => {
    const k = Number(v);
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`--${name} must be a positive integer, got ${v}`);
    return k;
  };
  const backend = values.backend as BackendName;
  if (backend !== 'cpu' && backend !== 'wasm') {
    process.stderr.write(`--backend must be cpu or wasm, got ${values.backend}\n`);
    return 2;
  }
  return run(backend, values.mnist === undefined ? undefined : int('mnist', values.mnist), int('epochs', values.epochs), int('batch', values.batch));
}

async function run(backend: BackendName, mnist: number | undefined, epochs: number, batch: number): Promise<number> {
  await init();
  if (!(await useBackend(backend))) {
    console.log(`the tfjs ${backend} backend did not load here; using cpu`);
    await useBackend('cpu');
  }
  let data: Data;
  let sizes: number[];
  if (mnist !== undefined) {
    const all = loadMnist();
    // the package's digits come sorted by class: take every (10000/N)-th for all ten classes
    const n = Math.min(mnist, all.n);
    const x = new Float32Array(n * PIXELS);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = Math.floor((i * all.n) / n);
      x.set(all.x.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
      labels[i] = all.labels[k];
    }
    data = { x, labels, n, inputs: PIXELS, classes: 10 };
    sizes = [PIXELS, 32, 10];
  } else {
    data = syntheticData(512, 8, 3);
    sizes = [8, 32, 3];
  }
  const model = createModel(sizes);
  console.log(`tfjs ${tf.getBackend()} backend; ${sizes.join('-')} network, ${model.params.length} parameters, ${data.n} examples, batch ${batch}`);
  const t0 = performance.now();
  train(model, data, { epochs, batch, log: (line) => console.log(line) });
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  disposeModel(model);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
