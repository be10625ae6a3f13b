/**
 * The example models and baselines of src/models: per-example gradients against central finite
 * differences in float64, the mean gradient against the mean of G's rows, and SGD / Adam against
 * steps computed by hand.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.js';
import { Adam, LogisticRegression, MLP, SGD, SeededRandom, type Classifier } from '../src/models/index.js';

beforeAll(async () => {
  await init();
});

/** A small random batch: n inputs in [0, 1) (like pixels) and labels. */
function batch(model: Classifier, n: number, seed: number): { x: Float64Array; labels: Uint8Array } {
  const rng = new SeededRandom(seed);
  const x = new Float64Array(n * model.inputs);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = rng.nextU32() % model.classes;
  return { x, labels };
}

/** Random parameters (not the zero start), so that every gradient entry is exercised. */
function randomParams(model: Classifier, seed: number, scale: number): Float64Array {
  const rng = new SeededRandom(seed);
  const p = new Float64Array(model.size);
  for (let i = 0; i < p.length; i++) p[i] = rng.symmetric(scale);
  return p;
}

/** ∂ℓ_i/∂θ_p by central differences, for every example i and parameter p: an n × d matrix. */
function finiteDifferenceG(model: Classifier, params: Float64Array, x: Float64Array, labels: Uint8Array, n: number): Float64Array {
  const d = model.size;
  const h = 1e-6;
  const G = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const xi = x.subarray(i * model.inputs, (i + 1) * model.inputs);
    const yi = labels.subarray(i, i + 1);
    for (let p = 0; p < d; p++) {
      const keep = params[p];
      params[p] = keep + h;
      const up = model.evaluate(params, xi, yi, 1).loss;
      params[p] = keep - h;
      const down = model.evaluate(params, xi, yi, 1).loss;
      params[p] = keep;
      G[i * d + p] = (up - down) / (2 * h);
    }
  }
  return G;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const MODELS: [string, () => Classifier][] = [
  ['logistic 7 → 4', () => new LogisticRegression({ inputs: 7, classes: 4 })],
  ['mlp-tanh 6–5–3', () => new MLP({ inputs: 6, hidden: 5, classes: 3, activation: 'tanh' })],
  ['mlp-relu 6–5–3', () => new MLP({ inputs: 6, hidden: 5, classes: 3, activation: 'relu' })],
];

describe('sizes and layout', () => {
  it('has the documented parameter counts on MNIST', () => {
    expect(new LogisticRegression().size).toBe(7850);
    expect(new MLP().size).toBe(25450);
    expect(new MLP({ activation: 'relu' }).name).toBe('mlp-relu');
  });

  it('initialises deterministically from the seed', () => {
    const m = new MLP({ inputs: 6, hidden: 5, classes: 3 });
    const a = m.initialize(new Float64Array(m.size), 7);
    const b = m.initialize(new Float64Array(m.size), 7);
    const c = m.initialize(new Float64Array(m.size), 8);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    // biases start at zero, weights within the Glorot bound √(6/(6+5))
    for (let u = 0; u < 5; u++) expect(a[30 + u]).toBe(0);
    for (let p = 0; p < 30; p++) expect(Math.abs(a[p])).toBeLessThanOrEqual(Math.sqrt(6 / 11));
  });

  it('rejects bad shapes with a RangeError naming the argument', () => {
    const m = new LogisticRegression({ inputs: 3, classes: 2 });
    const p = new Float64Array(m.size);
    expect(() => m.evaluate(new Float64Array(3), new Float64Array(3), [0], 1)).toThrow(/params has length 3, expected 8/);
    expect(() => m.evaluate(p, new Float64Array(2), [0], 1)).toThrow(/x has length 2/);
    expect(() => m.evaluate(p, new Float64Array(3), [2], 1)).toThrow(/labels\[0\] is 2/);
    expect(() => m.perExampleGradients(p, new Float64Array(6), [0, 1], 2, new Float64Array(8))).toThrow(/out has length 8, expected n·d = 16/);
  });
});

describe.each(MODELS)('%s', (_name, create) => {
  const n = 5;

  it('per-example gradients match central finite differences (float64)', () => {
    const model = create();
    const params = randomParams(model, 3, 0.8);
    const { x, labels } = batch(model, n, 4);
    const G = new Float64Array(n * model.size);
    const loss = model.perExampleGradients(params, x, labels, n, G);
    const reference = finiteDifferenceG(model, params, x, labels, n);
    // truncation O(h²) and rounding O(u/h): about 1e-9 for these O(1) losses
    expect(maxAbsDiff(G, reference)).toBeLessThan(1e-7);
    expect(loss).toBeCloseTo(model.evaluate(params, x, labels, n).loss, 12);
  });

  it('the mean gradient is the mean of the rows of G', () => {
    const model = create();
    const params = randomParams(model, 5, 0.8);
    const { x, labels } = batch(model, n, 6);
    const G = new Float64Array(n * model.size);
    model.perExampleGradients(params, x, labels, n, G);
    const mean = new Float64Array(model.size);
    for (let i = 0; i < n; i++) for (let p = 0; p < model.size; p++) mean[p] += G[i * model.size + p] / n;
    const g = new Float64Array(model.size);
    const loss = model.gradient(params, x, labels, n, g);
    expect(maxAbsDiff(g, mean)).toBeLessThan(1e-14);
    expect(loss).toBeCloseTo(model.evaluate(params, x, labels, n).loss, 12);
  });

  it('writes Float32 outputs from Float32 parameters', () => {
    const model = create();
    const p64 = randomParams(model, 9, 0.5);
    const p32 = Float32Array.from(p64);
    const { x, labels } = batch(model, n, 10);
    const G64 = new Float64Array(n * model.size);
    const G32 = new Float32Array(n * model.size);
    model.perExampleGradients(Float64Array.from(p32), x, labels, n, G64);
    model.perExampleGradients(p32, Float32Array.from(x), labels, n, G32);
    expect(maxAbsDiff(G32, G64)).toBeLessThan(1e-5);
  });
});

describe('softmax cross-entropy', () => {
  it('is log(classes) at zero logits and stable for huge logits', () => {
    const model = new LogisticRegression({ inputs: 2, classes: 4 });
    const p = new Float64Array(model.size);
    const x = new Float64Array([0.3, 0.7]);
    expect(model.evaluate(p, x, [2], 1).loss).toBeCloseTo(Math.log(4), 14);
    p[0] = 1e4; // logit of class 0 is 3000: loss of label 1 ≈ 3000, finite
    const e = model.evaluate(p, x, [1], 1);
    expect(e.loss).toBeCloseTo(3000, 9);
    expect(e.accuracy).toBe(0);
  });
});

describe('SGD', () => {
  it('takes θ − η g', () => {
    const params = new Float64Array([1, -2, 0.5]);
    const opt = new SGD(params, { lr: 0.1 });
    opt.step(new Float64Array([0.5, -1, 2]));
    expect(Array.from(params)).toEqual([1 - 0.05, -2 + 0.1, 0.5 - 0.2]);
    expect(opt.steps).toBe(1);
  });

  it('with momentum: v ← μv + g, θ ← θ − ηv', () => {
    const params = new Float64Array([1, -1]);
    const opt = new SGD(params, { lr: 0.5, momentum: 0.9 });
    opt.step(new Float64Array([1, 2])); // v = (1, 2); θ = (0.5, −2)
    expect(Array.from(params)).toEqual([0.5, -2]);
    opt.step(new Float64Array([-1, 0])); // v = (0.9 − 1, 1.8) = (−0.1, 1.8); θ = (0.55, −2.9)
    expect(params[0]).toBeCloseTo(0.55, 15);
    expect(params[1]).toBeCloseTo(-2.9, 15);
  });

  it('validates', () => {
    const params = new Float32Array(3);
    expect(() => new SGD(params, { lr: -1 })).toThrow(RangeError);
    expect(() => new SGD(params, { momentum: 1 })).toThrow(/momentum/);
    expect(() => new SGD(params).step(new Float32Array(2))).toThrow(/grad has length 2, expected d = 3/);
  });
});

describe('Adam', () => {
  it('matches two steps computed by hand', () => {
    const params = new Float64Array([1, -1]);
    const opt = new Adam(params, { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    // step 1, g = (0.2, −0.4): m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g²: Δ = −0.1·g/(|g| + ε)
    opt.step(new Float64Array([0.2, -0.4]));
    expect(params[0]).toBeCloseTo(1 - (0.1 * 0.2) / (0.2 + 1e-8), 14);
    expect(params[1]).toBeCloseTo(-1 + (0.1 * 0.4) / (0.4 + 1e-8), 14);
    // step 2, g = (0.1, 0.3)
    const m = [0.9 * 0.02 + 0.1 * 0.1, 0.9 * -0.04 + 0.1 * 0.3];
    const v = [0.999 * 0.001 * 0.04 + 0.001 * 0.01, 0.999 * 0.001 * 0.16 + 0.001 * 0.09];
    const c1 = 1 - 0.9 * 0.9;
    const c2 = 1 - 0.999 * 0.999;
    const expected = [
      1 - (0.1 * 0.2) / (0.2 + 1e-8) - (0.1 * (m[0] / c1)) / (Math.sqrt(v[0] / c2) + 1e-8),
      -1 + (0.1 * 0.4) / (0.4 + 1e-8) - (0.1 * (m[1] / c1)) / (Math.sqrt(v[1] / c2) + 1e-8),
    ];
    opt.step(new Float64Array([0.1, 0.3]));
    expect(params[0]).toBeCloseTo(expected[0], 13);
    expect(params[1]).toBeCloseTo(expected[1], 13);
    expect(opt.steps).toBe(2);
  });

  it('validates', () => {
    const params = new Float64Array(2);
    expect(() => new Adam(params, { beta1: 1 })).toThrow(/beta1/);
    expect(() => new Adam(params, { epsilon: Number.NaN })).toThrow(/epsilon/);
  });
});

describe('training', () => {
  it('a few SGD steps on logistic regression reduce the loss', () => {
    const model = new LogisticRegression({ inputs: 10, classes: 3 });
    const rng = new SeededRandom(11);
    const n = 60;
    const x = new Float32Array(n * 10);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 3;
      for (let j = 0; j < 10; j++) x[i * 10 + j] = rng.uniform() + (j % 3 === labels[i] ? 1 : 0);
    }
    const params = model.initialize(new Float32Array(model.size), 1);
    const grad = new Float32Array(model.size);
    const opt = new SGD(params, { lr: 0.5 });
    const before = model.evaluate(params, x, labels, n).loss;
    for (let s = 0; s < 20; s++) {
      model.gradient(params, x, labels, n, grad);
      opt.step(grad);
    }
    const after = model.evaluate(params, x, labels, n);
    expect(after.loss).toBeLessThan(0.5 * before);
    expect(after.accuracy).toBe(1);
  });
});
