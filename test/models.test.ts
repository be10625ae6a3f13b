/**
 * The example models and baselines of src/models (empirical-fisher/models): per-example gradients
 * against central finite differences of a plain float64 loss of each example (every activation
 * and loss, depth 1–3), against a float64 backpropagation of the definition across the kernels'
 * tile edges, losses and logits against float64 references, the mean gradient against the mean of
 * G's rows, the layer statistics against G through the layer kit, and SGD / Adam against steps
 * computed by hand.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, layers } from '../src/index.js';
import { Adam, LogisticRegression, MLP, SGD, SeededRandom, type Activation, type Classifier, type Loss } from '../src/models/index.js';
import { refLayerG } from './layers-reference.js';

beforeAll(async () => {
  await init();
});

// ---------------------------------------------------------------------------------------------
// float64 references of the definitions (independent of src/: their own forward pass, Math.*)

interface RefNet {
  sizes: readonly number[];
  activation: Activation;
  loss: Loss;
}

function refAct(kind: Activation, z: number): number {
  if (kind === 'tanh') return Math.tanh(z);
  if (kind === 'relu') return z > 0 ? z : 0;
  return 1 / (1 + Math.exp(-z));
}

/** The outputs of every layer for one example (hs[0] = x, hs[L] = logits). */
function refForward(net: RefNet, params: ArrayLike<number>, x: ArrayLike<number>, xo: number): Float64Array[] {
  const { sizes } = net;
  const hs = [Float64Array.from({ length: sizes[0] }, (_, j) => x[xo + j])];
  let off = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const ni = sizes[l];
    const no = sizes[l + 1];
    const h = new Float64Array(no);
    for (let o = 0; o < no; o++) {
      let s = params[off + ni * no + o];
      for (let j = 0; j < ni; j++) s += params[off + o * ni + j] * hs[l][j];
      h[o] = l + 2 < sizes.length ? refAct(net.activation, s) : s;
    }
    hs.push(h);
    off += ni * no + no;
  }
  return hs;
}

/** ℓ(z, y): −log softmax(z)[y] (log-sum-exp, shifted), or ½‖z − onehot(y)‖². */
function refLoss(loss: Loss, z: Float64Array, y: number): number {
  if (loss === 'squared-error') {
    let s = 0;
    for (let k = 0; k < z.length; k++) s += (z[k] - (k === y ? 1 : 0)) ** 2;
    return s / 2;
  }
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  for (const v of z) sum += Math.exp(v - max);
  return Math.log(sum) + max - z[y];
}

function refExampleLoss(net: RefNet, params: ArrayLike<number>, x: ArrayLike<number>, i: number, y: number): number {
  const hs = refForward(net, params, x, i * net.sizes[0]);
  return refLoss(net.loss, hs[hs.length - 1], y);
}

function refSize(sizes: readonly number[]): number {
  let d = 0;
  for (let l = 0; l + 1 < sizes.length; l++) d += sizes[l + 1] * (sizes[l] + 1);
  return d;
}

/** G (n × d) by backpropagation written from the definitions (float64). */
function refBackpropG(net: RefNet, params: ArrayLike<number>, x: ArrayLike<number>, labels: ArrayLike<number>, n: number): Float64Array {
  const { sizes } = net;
  const L = sizes.length - 1;
  const d = refSize(sizes);
  const offsets: number[] = [];
  for (let l = 0, o = 0; l < L; o += sizes[l + 1] * (sizes[l] + 1), l++) offsets.push(o);
  const G = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const hs = refForward(net, params, x, i * sizes[0]);
    const z = hs[L];
    let e = new Float64Array(z.length);
    if (net.loss === 'squared-error') for (let k = 0; k < z.length; k++) e[k] = z[k] - (k === labels[i] ? 1 : 0);
    else {
      let max = -Infinity;
      for (const v of z) max = Math.max(max, v);
      let sum = 0;
      for (const v of z) sum += Math.exp(v - max);
      for (let k = 0; k < z.length; k++) e[k] = Math.exp(z[k] - max) / sum - (k === labels[i] ? 1 : 0);
    }
    for (let l = L - 1; l >= 0; l--) {
      const ni = sizes[l];
      const no = sizes[l + 1];
      const row = i * d + offsets[l];
      for (let o = 0; o < no; o++) {
        for (let j = 0; j < ni; j++) G[row + o * ni + j] = e[o] * hs[l][j];
        G[row + ni * no + o] = e[o];
      }
      if (l > 0) {
        const prev = new Float64Array(ni);
        for (let j = 0; j < ni; j++) {
          let s = 0;
          for (let o = 0; o < no; o++) s += params[offsets[l] + o * ni + j] * e[o];
          const h = hs[l][j];
          const dh = net.activation === 'tanh' ? 1 - h * h : net.activation === 'relu' ? (h > 0 ? 1 : 0) : h * (1 - h);
          prev[j] = s * dh;
        }
        e = prev;
      }
    }
  }
  return G;
}

/** ∂ℓ_i/∂θ_p by central differences of the float64 reference loss: an n × d matrix. */
function finiteDifferenceG(net: RefNet, params: Float64Array, x: Float64Array, labels: Uint8Array, n: number): Float64Array {
  const d = params.length;
  const h = 1e-6;
  const G = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < d; p++) {
      const keep = params[p];
      params[p] = keep + h;
      const up = refExampleLoss(net, params, x, i, labels[i]);
      params[p] = keep - h;
      const down = refExampleLoss(net, params, x, i, labels[i]);
      params[p] = keep;
      G[i * d + p] = (up - down) / (2 * h);
    }
  }
  return G;
}

// ---------------------------------------------------------------------------------------------

/** n inputs in [0, 1) (like pixels) and labels. */
function batch(inputs: number, classes: number, n: number, seed: number): { x: Float64Array; labels: Uint8Array } {
  const rng = new SeededRandom(seed);
  const x = new Float64Array(n * inputs);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = rng.nextU32() % classes;
  return { x, labels };
}

/** Random parameters (not the zero start), so that every gradient entry is exercised. */
function randomParams(d: number, seed: number, scale: number): Float64Array {
  const rng = new SeededRandom(seed);
  const p = new Float64Array(d);
  for (let i = 0; i < p.length; i++) p[i] = rng.symmetric(scale);
  return p;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

const ACTIVATIONS: Activation[] = ['tanh', 'relu', 'sigmoid'];
const LOSSES: Loss[] = ['softmax-cross-entropy', 'squared-error'];
const DEPTHS: number[][] = [
  [5, 3],
  [6, 4, 3],
  [5, 4, 3, 3],
];
const CASES = ACTIVATIONS.flatMap((activation) => LOSSES.flatMap((loss) => DEPTHS.map((sizes) => ({ activation, loss, sizes }))));

describe('sizes and layout', () => {
  it('has the documented parameter counts on MNIST', () => {
    expect(new LogisticRegression().size).toBe(7850);
    expect(new MLP().size).toBe(25450);
    expect(new MLP({ sizes: [784, 1024, 1024, 10] }).size).toBe(784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10);
    expect(new MLP({ inputs: 7, hidden: [5, 4], classes: 3 }).sizes).toEqual([7, 5, 4, 3]);
    expect(new MLP({ activation: 'relu' }).name).toBe('mlp-relu');
    // the layer kit's layout: the same d
    const m = new MLP({ sizes: [9, 7, 5, 3] });
    expect(layers.size([{ inputs: 9, outputs: 7 }, { inputs: 7, outputs: 5 }, { inputs: 5, outputs: 3 }])).toBe(m.size);
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
    // He for a ReLU hidden layer: √(6/fan_in), and the output layer Glorot
    const r = new MLP({ sizes: [6, 5, 3], activation: 'relu' });
    const pr = r.initialize(new Float64Array(r.size), 7);
    expect(maxAbs(pr.subarray(0, 30))).toBeGreaterThan(Math.sqrt(6 / 11));
    expect(maxAbs(pr.subarray(0, 30))).toBeLessThanOrEqual(1);
    expect(maxAbs(pr.subarray(35, 50))).toBeLessThanOrEqual(Math.sqrt(6 / 8));
  });

  it('rejects bad options and shapes with errors naming the argument, leaving the outputs untouched', () => {
    expect(() => new MLP({ sizes: [4] })).toThrow(/sizes/);
    expect(() => new MLP({ sizes: [4, 0, 3] })).toThrow(/sizes\[1\]/);
    expect(() => new MLP({ sizes: [4, 3, 1] })).toThrow(/sizes\[2\] must be an integer ≥ 2/);
    expect(() => new MLP({ activation: 'gelu' as Activation })).toThrow(/activation/);
    expect(() => new MLP({ hidden: '32' as unknown as number })).toThrow(TypeError);
    expect(() => new MLP({ hidden: [8, 0] })).toThrow(/sizes\[2\]/);
    expect(() => new MLP({ loss: 'hinge' as Loss })).toThrow(/loss/);
    expect(() => new MLP({ precision: 'f16' as 'f32' })).toThrow(/precision/);
    expect(() => new LogisticRegression({ classes: 1 })).toThrow(/classes/);
    const m = new LogisticRegression({ inputs: 3, classes: 2 });
    const p = new Float64Array(m.size);
    expect(() => m.evaluate(new Float64Array(3), new Float64Array(3), [0], 1)).toThrow(/params has length 3, expected 8/);
    expect(() => m.evaluate(p, new Float64Array(2), [0], 1)).toThrow(/x has length 2/);
    expect(() => m.evaluate(p, new Float64Array(3), [2], 1)).toThrow(/labels\[0\] is 2/);
    expect(() => m.evaluate(p, new Float64Array(3), [0.5], 1)).toThrow(/labels\[0\] is 0.5/);
    expect(() => m.evaluate(p, new Float64Array(3), [0], -1)).toThrow(/n must be an integer/);
    expect(() => m.evaluate(p, [0, 1, 2] as unknown as Float64Array, [0], 1)).toThrow(TypeError);
    const G = new Float64Array(8).fill(7);
    expect(() => m.perExampleGradients(p, new Float64Array(6), [0, 1], 2, G)).toThrow(/out has length 8, expected n·d = 16/);
    expect(() => m.perExampleGradients(p, new Float64Array(6), [0, 5], 2, new Float64Array(16).fill(7))).toThrow(/labels\[1\]/);
    expect(Array.from(G)).toEqual(new Array(8).fill(7));
    const g = new Float32Array(8).fill(7);
    expect(() => m.gradient(p, new Float64Array(3), [3], 1, g)).toThrow(RangeError);
    expect(Array.from(g)).toEqual(new Array(8).fill(7));
    expect(() => m.forwardBackward(p, new Float64Array(3), [0], 1, { gradient: new Float64Array(7) })).toThrow(/options.gradient has length 7/);
    expect(() => m.logits(p, new Float64Array(6), 2, new Float64Array(3))).toThrow(/out has length 3/);
  });
});

describe.each(CASES)('$activation, $loss, sizes $sizes', ({ activation, loss, sizes }) => {
  const n = 4;
  const net: RefNet = { sizes, activation, loss };

  it('per-example gradients match central finite differences of each example’s float64 loss', () => {
    const model = new MLP({ sizes, activation, loss });
    expect(model.size).toBe(refSize(sizes));
    const params = randomParams(model.size, 3, 0.8);
    const { x, labels } = batch(sizes[0], sizes[sizes.length - 1], n, 4);
    const G = new Float64Array(n * model.size);
    const mean = model.perExampleGradients(params, x, labels, n, G);
    const reference = finiteDifferenceG(net, params, x, labels, n);
    // truncation O(h²) and rounding O(u/h): about 1e-9 for these O(1) losses (a ReLU kink within
    // h of a pre-activation would break this; these seeds have none)
    expect(maxAbsDiff(G, reference)).toBeLessThan(1e-7);
    expect(maxAbs(G)).toBeGreaterThan(1e-2);
    let refMean = 0;
    for (let i = 0; i < n; i++) refMean += refExampleLoss(net, params, x, i, labels[i]) / n;
    expect(Math.abs(mean - refMean)).toBeLessThan(1e-14 * Math.max(1, refMean) * 10);
  });

  it('the mean gradient is the mean of G’s rows; the layer statistics give G through the layer kit', () => {
    const model = new MLP({ sizes, activation, loss });
    const params = randomParams(model.size, 5, 0.8);
    const { x, labels } = batch(sizes[0], sizes[sizes.length - 1], n, 6);
    const d = model.size;
    const G = new Float64Array(n * d);
    model.perExampleGradients(params, x, labels, n, G);
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let p = 0; p < d; p++) mean[p] += G[i * d + p] / n;
    const g = new Float64Array(d);
    const lossG = model.gradient(params, x, labels, n, g);
    expect(maxAbsDiff(g, mean)).toBeLessThan(1e-14);
    // forwardBackward: the same loss and mean gradient, and A, E that rebuild G
    const g2 = new Float64Array(d);
    const fb = model.forwardBackward(params, x, labels, n, { gradient: g2 });
    expect(fb.loss).toBe(lossG);
    expect(fb.gradient).toBe(g2);
    expect(Array.from(g2)).toEqual(Array.from(g));
    expect(fb.layers.map((s) => [s.inputs, s.outputs, s.bias])).toEqual(sizes.slice(1).map((o, l) => [sizes[l], o, true]));
    expect(Array.from(fb.layers[0].A)).toEqual(Array.from(x));
    const viaKit = new Float64Array(n * d).fill(999);
    let offset = 0;
    for (const s of fb.layers) {
      expect(s.A).toBeInstanceOf(Float64Array);
      expect(s.A.length).toBe(n * s.inputs);
      expect(s.E.length).toBe(n * s.outputs);
      layers.perExampleGradients(s, n, { out: viaKit, offset, ld: d });
      offset += s.outputs * (s.inputs + 1);
    }
    expect(Array.from(viaKit)).toEqual(Array.from(G));
    expect(maxAbsDiff(refLayerG(fb.layers, n), G)).toBeLessThan(1e-15);
    expect(maxAbsDiff(layers.meanGradient(fb.layers, n), g)).toBeLessThan(1e-15);
  });

  it('the loss and logits match the float64 definition', () => {
    const model = new MLP({ sizes, activation, loss });
    const params = randomParams(model.size, 7, 1.5);
    const m = 9;
    const { x, labels } = batch(sizes[0], sizes[sizes.length - 1], m, 8);
    const C = sizes[sizes.length - 1];
    const z = model.logits(params, x, m);
    let refMean = 0;
    let correct = 0;
    for (let i = 0; i < m; i++) {
      const hs = refForward(net, params, x, i * sizes[0]);
      const zi = hs[hs.length - 1];
      for (let k = 0; k < C; k++) expect(Math.abs(z[i * C + k] - zi[k])).toBeLessThan(1e-14 * 8);
      refMean += refLoss(loss, zi, labels[i]) / m;
      let arg = 0;
      for (let k = 1; k < C; k++) if (zi[k] > zi[arg]) arg = k;
      if (arg === labels[i]) correct++;
    }
    const ev = model.evaluate(params, x, labels, m);
    expect(Math.abs(ev.loss - refMean) / refMean).toBeLessThan(1e-14);
    expect(ev.accuracy).toBe(correct / m);
  });
});

describe('across the kernels’ tile edges (float64 backpropagation of the definition)', () => {
  for (const [sizes, n] of [
    [[17, 33, 5], 65],
    [[64, 1, 3], 33],
    [[3, 65, 4, 2], 17],
    [[33, 17], 1],
    [[1, 64, 64, 5], 64],
  ] as const) {
    it(`sizes ${sizes.join('–')}, n = ${n}, f64 and f32`, () => {
      const net: RefNet = { sizes, activation: 'tanh', loss: 'softmax-cross-entropy' };
      const model = new MLP({ sizes });
      const params = randomParams(model.size, 11, 0.5);
      const { x, labels } = batch(sizes[0], sizes[sizes.length - 1], n, 12);
      const ref = refBackpropG(net, params, x, labels, n);
      const scale = maxAbs(ref);
      const G = new Float64Array(n * model.size);
      model.perExampleGradients(params, x, labels, n, G);
      expect(maxAbsDiff(G, ref) / scale).toBeLessThan(1e-13);
      // f32 throughout: the same within f32 rounding through the depth
      const G32 = new Float32Array(n * model.size);
      model.perExampleGradients(Float32Array.from(params), Float32Array.from(x), labels, n, G32);
      expect(maxAbsDiff(G32, ref) / scale).toBeLessThan(2e-5);
    });
  }

  it('evaluate and logits go through sets larger than one chunk (1024 rows)', () => {
    const sizes = [5, 7, 3];
    const net: RefNet = { sizes, activation: 'sigmoid', loss: 'softmax-cross-entropy' };
    const model = new MLP({ sizes, activation: 'sigmoid' });
    const params = randomParams(model.size, 13, 1);
    const n = 2500;
    const { x, labels } = batch(5, 3, n, 14);
    const out = new Float64Array(n * 3 + 4).fill(999);
    model.logits(params, x, n, out);
    let refMean = 0;
    for (let i = 0; i < n; i++) {
      const hs = refForward(net, params, x, i * 5);
      for (let k = 0; k < 3; k++) expect(Math.abs(out[i * 3 + k] - hs[2][k])).toBeLessThan(1e-13);
      refMean += refLoss('softmax-cross-entropy', hs[2], labels[i]) / n;
    }
    expect(Array.from(out.subarray(n * 3))).toEqual([999, 999, 999, 999]);
    expect(Math.abs(model.evaluate(params, x, labels, n).loss - refMean) / refMean).toBeLessThan(1e-13);
  });
});

describe('precision', () => {
  it('follows params by default; the precision option converts params and x', () => {
    const sizes = [6, 5, 3];
    const model = new MLP({ sizes });
    const p64 = randomParams(model.size, 9, 0.5);
    const p32 = Float32Array.from(p64);
    const { x, labels } = batch(6, 3, 5, 10);
    const G64 = new Float64Array(5 * model.size);
    const G32 = new Float32Array(5 * model.size);
    model.perExampleGradients(Float64Array.from(p32), x, labels, 5, G64);
    model.perExampleGradients(p32, Float32Array.from(x), labels, 5, G32);
    expect(maxAbsDiff(G32, G64)).toBeLessThan(1e-5);
    expect(maxAbsDiff(G32, G64)).toBeGreaterThan(0); // f32 arithmetic, not f64
    // an f32 model on f64 params: the f32 arithmetic, bit for bit, written into an f64 G
    const f32model = new MLP({ sizes, precision: 'f32' });
    const G = new Float64Array(5 * model.size);
    f32model.perExampleGradients(Float64Array.from(p32), x, labels, 5, G);
    expect(Array.from(G)).toEqual(Array.from(G32));
    expect(f32model.forwardBackward(p64, x, labels, 5).layers[0].A).toBeInstanceOf(Float32Array);
  });

  it('forwardBackward reuses its buffers: a smaller batch gives arrays of exactly n rows', () => {
    const model = new MLP({ sizes: [4, 3, 2] });
    const params = randomParams(model.size, 1, 0.5);
    const a = batch(4, 2, 6, 2);
    const first = model.forwardBackward(params, a.x, a.labels, 6).layers.map((s) => Float64Array.from(s.E));
    const b = batch(4, 2, 2, 3);
    const second = model.forwardBackward(params, b.x, b.labels, 2);
    expect(second.layers[0].A.length).toBe(2 * 4);
    expect(second.layers[1].E.length).toBe(2 * 2);
    expect(Array.from(second.layers[0].A)).toEqual(Array.from(b.x));
    expect(first[1].length).toBe(12);
    expect(model.forwardBackward(params, b.x, b.labels, 0).loss).toBe(0);
  });
});

describe('losses at the edges', () => {
  it('cross-entropy is log(classes) at zero logits and stable for huge logits', () => {
    const model = new LogisticRegression({ inputs: 2, classes: 4 });
    const p = new Float64Array(model.size);
    const x = new Float64Array([0.3, 0.7]);
    expect(model.evaluate(p, x, [2], 1).loss).toBeCloseTo(Math.log(4), 14);
    p[0] = 1e4; // logit of class 0 is 3000: loss of label 1 ≈ 3000, finite
    const e = model.evaluate(p, x, [1], 1);
    expect(e.loss).toBeCloseTo(3000, 9);
    expect(e.accuracy).toBe(0);
    const g = new Float64Array(model.size);
    model.gradient(p, x, [1], 1, g);
    // softmax ≈ onehot(0): ∂ℓ/∂b = (1, −1, 0, 0), exactly
    expect(Array.from(g.subarray(8))).toEqual([1, -1, 0, 0]);
  });

  it('sigmoid and tanh saturate without NaN', () => {
    for (const activation of ['sigmoid', 'tanh'] as const) {
      const model = new MLP({ sizes: [1, 2, 2], activation, loss: 'squared-error' });
      const p = new Float64Array(model.size).fill(1);
      for (const v of [-1e3, -40, 40, 1e3]) {
        const G = new Float64Array(model.size);
        const l = model.perExampleGradients(p, new Float64Array([v]), [0], 1, G);
        expect(Number.isFinite(l)).toBe(true);
        for (const gi of G) expect(Number.isFinite(gi)).toBe(true);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// real-valued targets (an autoencoder's pixels): Bernoulli cross-entropy of sigmoid outputs and
// squared error, against the float64 definitions

type ValueLoss = 'bernoulli-cross-entropy' | 'squared-error';

/** ℓ(z, t) from the definition: Σ_k −t_k log σ(z_k) − (1 − t_k) log(1 − σ(z_k)), or ½‖z − t‖². */
function refValueLoss(loss: ValueLoss, z: Float64Array, t: ArrayLike<number>, to: number): number {
  let s = 0;
  for (let k = 0; k < z.length; k++) {
    const tk = t[to + k];
    if (loss === 'squared-error') s += (z[k] - tk) ** 2 / 2;
    else {
      const sig = 1 / (1 + Math.exp(-z[k]));
      s += -tk * Math.log(sig) - (1 - tk) * Math.log(1 - sig);
    }
  }
  return s;
}

/** n targets in [0, 1], some exactly 0 and 1 (as pixels are). */
function valueTargets(c: number, n: number, seed: number): Float64Array {
  const rng = new SeededRandom(seed);
  const t = new Float64Array(n * c);
  for (let i = 0; i < t.length; i++) {
    const u = rng.uniform();
    t[i] = u < 0.3 ? 0 : u > 0.8 ? 1 : rng.uniform();
  }
  return t;
}

describe.each(ACTIVATIONS.flatMap((activation) => (['bernoulli-cross-entropy', 'squared-error'] as const).flatMap((loss) => DEPTHS.map((sizes) => ({ activation, loss, sizes })))))(
  'real-valued targets: $activation, $loss, sizes $sizes',
  ({ activation, loss, sizes }) => {
    const n = 4;
    const net: RefNet = { sizes, activation, loss: 'squared-error' }; // refForward ignores the loss
    const C = sizes[sizes.length - 1];
    const exampleLoss = (params: Float64Array, x: Float64Array, t: Float64Array, i: number) => {
      const hs = refForward(net, params, x, i * sizes[0]);
      return refValueLoss(loss, hs[hs.length - 1], t, i * C);
    };

    it('per-example gradients match central finite differences of the float64 definition; the loss matches it', () => {
      const model = new MLP({ sizes, activation, loss, targets: 'values' });
      expect(model.targets).toBe('values');
      const params = randomParams(model.size, 23, 0.8);
      const { x } = batch(sizes[0], C, n, 24);
      const t = valueTargets(C, n, 25);
      const d = model.size;
      const G = new Float64Array(n * d);
      const mean = model.perExampleGradients(params, x, t, n, G);
      const h = 1e-6;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        for (let p = 0; p < d; p++) {
          const keep = params[p];
          params[p] = keep + h;
          const up = exampleLoss(params, x, t, i);
          params[p] = keep - h;
          const down = exampleLoss(params, x, t, i);
          params[p] = keep;
          worst = Math.max(worst, Math.abs(G[i * d + p] - (up - down) / (2 * h)));
        }
      }
      expect(worst).toBeLessThan(1e-7);
      expect(maxAbs(G)).toBeGreaterThan(1e-2);
      let refMean = 0;
      for (let i = 0; i < n; i++) refMean += exampleLoss(params, x, t, i) / n;
      expect(Math.abs(mean - refMean) / refMean).toBeLessThan(1e-13);
      // the mean gradient and forwardBackward agree with G; evaluate with the same loss
      const g = new Float64Array(d);
      expect(model.gradient(params, x, t, n, g)).toBe(mean);
      for (let p = 0; p < d; p++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += G[i * d + p] / n;
        expect(Math.abs(g[p] - s)).toBeLessThan(1e-14);
      }
      const fb = model.forwardBackward(params, x, t, n);
      expect(fb.loss).toBe(mean);
      expect(maxAbsDiff(refLayerG(fb.layers, n), G)).toBeLessThan(1e-15);
      const ev = model.evaluate(params, x, t, n);
      expect(Math.abs(ev.loss - refMean) / refMean).toBeLessThan(1e-13);
    });

    it('the output gradient is σ(z) − t or z − t, and accuracy counts outputs on the side of ½ of their target', () => {
      const model = new MLP({ sizes, activation, loss, targets: 'values' });
      const params = randomParams(model.size, 27, 1.5);
      const m = 9;
      const { x } = batch(sizes[0], C, m, 28);
      const t = valueTargets(C, m, 29);
      const z = model.logits(params, x, m);
      const fb = model.forwardBackward(params, x, t, m);
      const E = fb.layers[fb.layers.length - 1].E;
      let agree = 0;
      for (let i = 0; i < m * C; i++) {
        const out = loss === 'squared-error' ? z[i] : 1 / (1 + Math.exp(-z[i]));
        expect(Math.abs(E[i] - (out - t[i]))).toBeLessThan(1e-15);
        if (out > 0.5 === t[i] > 0.5) agree++;
      }
      expect(model.evaluate(params, x, t, m).accuracy).toBe(agree / (m * C));
    });
  },
);

describe('real-valued targets at the edges', () => {
  it('Bernoulli cross-entropy is finite and exact for huge logits; f32 follows f64', () => {
    // one layer 1 → 2: z = (w₀x + b₀, w₁x + b₁)
    const model = new MLP({ sizes: [1, 2], loss: 'bernoulli-cross-entropy' });
    const p = new Float64Array([1, 1, 0, 0]);
    for (const v of [-800, -40, 40, 800]) {
      const t = new Float64Array([1, 0]);
      const G = new Float64Array(model.size);
      const l = model.perExampleGradients(p, new Float64Array([v]), t, 1, G);
      // softplus(z) − t z, exact in f64 for |z| ≥ 40: −z for z < 0 (target 1), z for z > 0 (target 0)
      expect(l).toBe(v < 0 ? -v : v);
      for (const gi of G) expect(Number.isFinite(gi)).toBe(true);
    }
    expect(model.evaluate(p, new Float64Array([0]), new Float64Array([0.5, 0.5]), 1).loss).toBeCloseTo(2 * Math.log(2), 15);
    const params = randomParams(new MLP({ sizes: [6, 4, 5], loss: 'bernoulli-cross-entropy' }).size, 3, 1);
    const net = new MLP({ sizes: [6, 4, 5], loss: 'bernoulli-cross-entropy' });
    const { x } = batch(6, 5, 7, 4);
    const t = valueTargets(5, 7, 5);
    const G64 = new Float64Array(7 * net.size);
    const G32 = new Float32Array(7 * net.size);
    net.perExampleGradients(params, x, t, 7, G64);
    net.perExampleGradients(Float32Array.from(params), Float32Array.from(x), Float32Array.from(t), 7, G32);
    expect(maxAbsDiff(G32, G64)).toBeLessThan(1e-5);
  });

  it('rejects targets of the wrong kind, length or range, naming them and leaving outputs untouched', () => {
    expect(() => new MLP({ loss: 'bernoulli-cross-entropy', targets: 'labels' })).toThrow(/targets must be 'values'/);
    expect(() => new MLP({ loss: 'softmax-cross-entropy', targets: 'values' })).toThrow(/targets must be 'labels'/);
    expect(() => new MLP({ targets: 'pixels' as 'values' })).toThrow(/targets must be 'labels' or 'values'/);
    expect(new MLP({ loss: 'squared-error' }).targets).toBe('labels');
    const model = new MLP({ sizes: [3, 2, 4], loss: 'bernoulli-cross-entropy' });
    const p = randomParams(model.size, 1, 1);
    const x = new Float64Array(6);
    const G = new Float64Array(2 * model.size).fill(7);
    expect(() => model.perExampleGradients(p, x, [0, 1], 2, G)).toThrow(TypeError);
    expect(() => model.perExampleGradients(p, x, new Float64Array(7), 2, G)).toThrow(/targets has length 7, expected at least n·outputs = 8/);
    const bad = new Float64Array(8).fill(0.5);
    bad[5] = 1.5;
    expect(() => model.perExampleGradients(p, x, bad, 2, G)).toThrow(/targets\[5\] is 1.5, expected a number in \[0, 1\]/);
    bad[5] = Number.NaN;
    expect(() => model.gradient(p, x, bad, 2, new Float64Array(model.size))).toThrow(/targets\[5\] is NaN/);
    expect(Array.from(G)).toEqual(new Array(G.length).fill(7));
    // squared error with real targets accepts any finite value, not infinity
    const sq = new MLP({ sizes: [3, 2, 4], loss: 'squared-error', targets: 'values' });
    expect(Number.isFinite(sq.evaluate(p, x, new Float64Array(8).fill(-3), 2).loss)).toBe(true);
    const inf = new Float64Array(8);
    inf[2] = Infinity;
    expect(() => sq.evaluate(p, x, inf, 2)).toThrow(/targets\[2\] is Infinity, expected a finite number/);
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
  function separable(n: number): { x: Float32Array; labels: Uint8Array } {
    const rng = new SeededRandom(11);
    const x = new Float32Array(n * 10);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 3;
      for (let j = 0; j < 10; j++) x[i * 10 + j] = rng.uniform() + (j % 3 === labels[i] ? 1 : 0);
    }
    return { x, labels };
  }

  it('a few SGD steps on logistic regression reduce the loss', () => {
    const model = new LogisticRegression({ inputs: 10, classes: 3 });
    const n = 60;
    const { x, labels } = separable(n);
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

  it('Adam on a depth-3 ReLU MLP with squared error reduces the loss', () => {
    const model = new MLP({ sizes: [10, 8, 6, 3], activation: 'relu', loss: 'squared-error' });
    const n = 60;
    const { x, labels } = separable(n);
    const params = model.initialize(new Float32Array(model.size), 2);
    const grad = new Float32Array(model.size);
    const opt = new Adam(params, { lr: 0.01 });
    const before = model.evaluate(params, x, labels, n).loss;
    for (let s = 0; s < 100; s++) {
      model.forwardBackward(params, x, labels, n, { gradient: grad });
      opt.step(grad);
    }
    expect(model.evaluate(params, x, labels, n).loss).toBeLessThan(0.5 * before);
  });
});
