/**
 * The public layer kit (`layers`): every call against the float64 materialised G of the definition
 * (g_i = vec(e_i a_iᵀ) then e_i, test/layers-reference.ts), sizes across the tile boundaries, f32
 * and f64, with and without bias, sentinels around outputs, out reuse and aliasing, offset/ld; a
 * finite-difference check of a real loss (a 2-layer tanh network with squared error); size and
 * parameters; the errors. Runs in Node and in Chromium.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initSync, layers, type DenseLayerStats } from '../src/index.js';
import { refLayerCount, refLayerG, refRowGram, refSquaresMean, refTimes, refTransposeTimes } from './layers-reference.js';
import { FLOAT_TYPES, Rng, SENTINEL, expectPadding, randomMatrix, typeName, unitRoundoff, type FloatArray, type FloatArrayCtor } from './util.js';

beforeAll(() => {
  initSync();
});

const types = FLOAT_TYPES.map((T) => [typeName(T), T] as const);

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number>, depth: number, Type: FloatArrayCtor, what: string): void {
  expect(got.length, `${what}: length`).toBe(ref.length);
  const tol = 4 * (depth + 4) * unitRoundoff(Type);
  let worst = 0;
  let at = -1;
  for (let t = 0; t < ref.length; t++) {
    const r = Math.abs(got[t] - ref[t]) / (scale[t] + 1e-300);
    if (!(r <= worst)) {
      worst = r;
      at = t;
    }
  }
  expect(worst, `${what}: worst scaled error ${worst} at ${at} (got ${got[at]}, want ${ref[at]}), bar ${tol}`).toBeLessThanOrEqual(tol);
}

/** An array of len elements inside a bigger one filled with sentinels: [buffer, view]. */
function fenced<T extends FloatArrayCtor>(Type: T, len: number, pad = 3): [InstanceType<T>, InstanceType<T>] {
  const buf = new Type(len + 2 * pad).fill(SENTINEL) as InstanceType<T>;
  return [buf, buf.subarray(pad, pad + len) as InstanceType<T>];
}

function makeList<T extends FloatArrayCtor>(rng: Rng, n: number, shapes: readonly (readonly [number, number, boolean])[], Type: T): DenseLayerStats<InstanceType<T>>[] {
  return shapes.map(([inputs, outputs, bias]) => ({
    inputs,
    outputs,
    bias,
    A: randomMatrix(rng, n, inputs, Type),
    E: randomMatrix(rng, n, outputs, Type),
  }));
}

const SIZES = [1, 3, 4, 5, 8, 17, 33, 65];

// n × (inputs, outputs) combinations across the register tiles (4 × 8 f32, 4 × 4 f64) and lanes
const CASES: { n: number; shapes: [number, number, boolean][] }[] = [];
for (const [k, n] of SIZES.entries()) {
  const a = SIZES[(k + 3) % SIZES.length];
  const b = SIZES[(k + 5) % SIZES.length];
  const c = SIZES[(k + 2) % SIZES.length];
  CASES.push({ n, shapes: [[a, b, k % 2 === 0], [b, c, true]] });
  CASES.push({ n, shapes: [[b, a, k % 2 === 1]] });
}

describe.each(types)('layers against the materialised G (%s)', (_name, Type) => {
  for (const { n, shapes } of CASES) {
    it(`n = ${n}, layers ${shapes.map(([i, o, b]) => `${i}→${o}${b ? '+b' : ''}`).join(', ')}`, () => {
      const rng = new Rng(77 + 13 * n + shapes[0][0]);
      const list = makeList(rng, n, shapes, Type);
      const snapshot = list.map((l) => [l.A.slice(), l.E.slice()]);
      const d = refLayerCount(list);
      expect(layers.size(list)).toBe(d);
      const G = refLayerG(list, n);
      const Gabs = refLayerG(list, n, true);

      // K
      const [kb, K] = fenced(Type, n * n);
      expect(layers.gram(list, n, K)).toBe(K);
      expectPadding(kb, 3, 1, n * n, n * n, SENTINEL, 'around K');
      expectClose(K, refRowGram(G, n, d), refRowGram(Gabs, n, d), d, Type, 'K');
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(K[i * n + j]).toBe(K[j * n + i]);
      expect(layers.gram(list, n)).toEqual(K);

      // G v (v in the other precision too: converted)
      const v = randomMatrix(rng, 1, d, Float64Array);
      const [yb, y] = fenced(Type, n);
      y.fill(NaN);
      expect(layers.gradientTimes(list, n, v, y)).toBe(y);
      expectPadding(yb, 3, 1, n, n, SENTINEL, 'around G v');
      const vT = Type.from(v);
      expectClose(y, refTimes(G, n, d, vT), refTimes(Gabs, n, d, vT, true), d, Type, 'G v');

      // Gᵀ u, twice into the same out (out reuse: not read, overwritten)
      const u = randomMatrix(rng, 1, n, Type);
      const [xb, x] = fenced(Type, d);
      layers.gradientTransposeTimes(list, n, u, x);
      const first = x.slice();
      expect(layers.gradientTransposeTimes(list, n, u, x)).toBe(x);
      expect(x).toEqual(first);
      expectPadding(xb, 3, 1, d, d, SENTINEL, 'around Gᵀ u');
      expectClose(x, refTransposeTimes(G, n, d, u), refTransposeTimes(Gabs, n, d, u, true), n, Type, 'Gᵀ u');

      // mean and diagonal
      const ones = new Float64Array(n).fill(1 / n);
      const [mb, m] = fenced(Type, d);
      layers.meanGradient(list, n, m);
      expectPadding(mb, 3, 1, d, d, SENTINEL, 'around the mean');
      expectClose(m, refTransposeTimes(G, n, d, ones), refTransposeTimes(Gabs, n, d, ones), n, Type, 'mean');
      const [db, dg] = fenced(Type, d);
      layers.diagonal(list, n, dg);
      expectPadding(db, 3, 1, d, d, SENTINEL, 'around the diagonal');
      const sq = refSquaresMean(G, n, d);
      expectClose(dg, sq, sq, n, Type, 'diagonal');

      // the rows, layer by layer into one G with two padding columns per row and sentinels around
      const ld = d + 2;
      const [gb, Gw] = fenced(Type, n * ld);
      let offset = 0;
      for (const l of list) {
        expect(layers.perExampleGradients(l, n, { out: Gw, offset, ld })).toBe(Gw);
        offset += l.inputs * l.outputs + (l.bias ? l.outputs : 0);
      }
      expectPadding(gb, 3 , n, d, ld, SENTINEL, 'around and between the rows of G');
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) {
          const want = Type === Float32Array ? Math.fround(G[i * d + j]) : G[i * d + j];
          if (Gw[i * ld + j] !== want) expect(Gw[i * ld + j], `G[${i}, ${j}]`).toBe(want);
        }
      }
      // ld from out.length / n, and a new array (ld = offset + s, zeros before offset)
      const last = list[list.length - 1];
      const s = last.inputs * last.outputs + (last.bias ? last.outputs : 0);
      const G2 = layers.perExampleGradients(last, n, { offset: 2 });
      expect(G2.length).toBe(n * (s + 2));
      expect(G2.constructor).toBe(Type);
      for (let i = 0; i < n; i++) {
        expect(G2[i * (s + 2)]).toBe(0);
        expect(G2[i * (s + 2) + 1]).toBe(0);
        for (let j = 0; j < s; j++) expect(G2[i * (s + 2) + 2 + j]).toBe(Gw[i * ld + (d - s) + j]);
      }
      const G3 = new Type(n * s);
      layers.perExampleGradients(last, n, { out: G3 });
      for (let i = 0; i < n; i++) for (let j = 0; j < s; j++) expect(G3[i * s + j]).toBe(G2[i * (s + 2) + 2 + j]);

      // the inputs are untouched
      list.forEach((l, t) => {
        expect(l.A).toEqual(snapshot[t][0]);
        expect(l.E).toEqual(snapshot[t][1]);
      });
    });
  }

  it('out may alias an input (everything is copied first)', () => {
    const rng = new Rng(5);
    const n = 5;
    const list = makeList(rng, n, [[n, 3, true]], Type); // A is n × n: the size of K
    const want = layers.gram(list, n);
    layers.gram(list, n, list[0].A);
    expect(list[0].A).toEqual(want);
    const l2 = makeList(rng, n, [[2, 3, false]], Type);
    const u = l2[0].E.subarray(0, n) as InstanceType<typeof Type>;
    const d = 6;
    const wantY = layers.gradientTimes(l2, n, l2[0].A.subarray(0, d) as FloatArray);
    layers.gradientTimes(l2, n, l2[0].A.subarray(0, d) as FloatArray, u);
    expect(u).toEqual(wantY);
  });

  it('n = 0: empty results for gram, gradientTimes, perExampleGradients; zeros for Gᵀ u', () => {
    const list = [{ A: new Type(0), E: new Type(0), inputs: 3, outputs: 2 }];
    expect(layers.gram(list, 0).length).toBe(0);
    expect(layers.gradientTimes(list, 0, new Type(8)).length).toBe(0);
    expect(layers.perExampleGradients(list[0], 0).length).toBe(0);
    expect(layers.perExampleGradients(list[0], 0, { out: new Type(0), offset: 1 }).length).toBe(0);
    const x = new Type(8).fill(SENTINEL);
    expect(Array.from(layers.gradientTransposeTimes(list, 0, new Type(0), x))).toEqual(new Array(8).fill(0));
  });
});

// ---------------------------------------------------------------------------------------------
// A real loss: a 2-layer tanh network with squared error, per-example gradients by central
// differences against perExampleGradients from the network's own A and E (all in float64).

interface Net {
  nin: number;
  nh: number;
  nout: number;
}

/** ℓ(θ; x, t) = ½‖W2 tanh(W1 x + b1) + b2 − t‖², θ in the layer kit's layout (W1, b1, W2, b2). */
function loss(net: Net, theta: Float64Array, x: ArrayLike<number>, t: ArrayLike<number>): number {
  const { nin, nh, nout } = net;
  const b1 = nh * nin;
  const w2 = b1 + nh;
  const b2 = w2 + nout * nh;
  const h = new Float64Array(nh);
  for (let o = 0; o < nh; o++) {
    let s = theta[b1 + o];
    for (let j = 0; j < nin; j++) s += theta[o * nin + j] * x[j];
    h[o] = Math.tanh(s);
  }
  let l = 0;
  for (let o = 0; o < nout; o++) {
    let s = theta[b2 + o];
    for (let j = 0; j < nh; j++) s += theta[w2 + o * nh + j] * h[j];
    l += 0.5 * (s - t[o]) * (s - t[o]);
  }
  return l;
}

/** Forward and backward pass: each layer's A and E for the batch. */
function statsOf(net: Net, theta: Float64Array, X: Float64Array, T: Float64Array, n: number): DenseLayerStats<Float64Array>[] {
  const { nin, nh, nout } = net;
  const b1 = nh * nin;
  const w2 = b1 + nh;
  const b2 = w2 + nout * nh;
  const H = new Float64Array(n * nh);
  const E1 = new Float64Array(n * nh);
  const E2 = new Float64Array(n * nout);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < nh; o++) {
      let s = theta[b1 + o];
      for (let j = 0; j < nin; j++) s += theta[o * nin + j] * X[i * nin + j];
      H[i * nh + o] = Math.tanh(s);
    }
    for (let o = 0; o < nout; o++) {
      let s = theta[b2 + o];
      for (let j = 0; j < nh; j++) s += theta[w2 + o * nh + j] * H[i * nh + j];
      E2[i * nout + o] = s - T[i * nout + o];
    }
    for (let j = 0; j < nh; j++) {
      let s = 0;
      for (let o = 0; o < nout; o++) s += theta[w2 + o * nh + j] * E2[i * nout + o];
      const h = H[i * nh + j];
      E1[i * nh + j] = s * (1 - h * h);
    }
  }
  return [
    { A: X, E: E1, inputs: nin, outputs: nh },
    { A: H, E: E2, inputs: nh, outputs: nout },
  ];
}

describe('layers against finite differences of a real loss', () => {
  it('a 2-layer tanh network with squared error (5 → 7 → 3, n = 6)', () => {
    const net: Net = { nin: 5, nh: 7, nout: 3 };
    const n = 6;
    const rng = new Rng(2024);
    const d = layers.size([
      { inputs: net.nin, outputs: net.nh },
      { inputs: net.nh, outputs: net.nout },
    ]);
    expect(d).toBe(7 * 5 + 7 + 3 * 7 + 3);
    const theta = randomMatrix(rng, 1, d, Float64Array).map((t) => 0.5 * t);
    const X = randomMatrix(rng, n, net.nin, Float64Array);
    const T = randomMatrix(rng, n, net.nout, Float64Array);
    const list = statsOf(net, theta, X, T, n);
    const G = new Float64Array(n * d);
    layers.perExampleGradients(list[0], n, { out: G, ld: d });
    layers.perExampleGradients(list[1], n, { out: G, offset: 7 * 5 + 7, ld: d });

    const h = 1e-5;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const x = X.subarray(i * net.nin, (i + 1) * net.nin);
      const t = T.subarray(i * net.nout, (i + 1) * net.nout);
      for (let k = 0; k < d; k++) {
        const tp = theta.slice();
        tp[k] += h;
        const tm = theta.slice();
        tm[k] -= h;
        const fd = (loss(net, tp, x, t) - loss(net, tm, x, t)) / (2 * h);
        worst = Math.max(worst, Math.abs(fd - G[i * d + k]) / (Math.abs(fd) + 1e-3));
      }
    }
    expect(worst, `worst relative difference from central differences: ${worst}`).toBeLessThan(1e-6);

    // the mean gradient is the mean of those rows; G v is the directional derivative
    const mean = layers.meanGradient(list, n);
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += G[i * d + k];
      expect(Math.abs(mean[k] - s / n)).toBeLessThan(1e-12 * (1 + Math.abs(s)));
    }
    const v = randomMatrix(rng, 1, d, Float64Array);
    const gv = layers.gradientTimes(list, n, v);
    for (let i = 0; i < n; i++) {
      const x = X.subarray(i * net.nin, (i + 1) * net.nin);
      const t = T.subarray(i * net.nout, (i + 1) * net.nout);
      const tp = theta.map((th, k) => th + h * v[k]);
      const tm = theta.map((th, k) => th - h * v[k]);
      const fd = (loss(net, tp, x, t) - loss(net, tm, x, t)) / (2 * h);
      expect(Math.abs(gv[i] - fd), `G v row ${i}`).toBeLessThan(1e-6 * (1 + Math.abs(fd)));
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('layers.size and layers.parameters', () => {
  it('size: Σ outputs·inputs (+ outputs)', () => {
    expect(layers.size([{ inputs: 784, outputs: 1024 }, { inputs: 1024, outputs: 10, bias: false }])).toBe(784 * 1024 + 1024 + 10240);
    expect(layers.size([{ inputs: 1, outputs: 1, bias: false }])).toBe(1);
  });

  it('parameters: views into one buffer in the layer kit layout, no copies', () => {
    const r = layers.parameters(
      [
        { name: 'fc1', inputs: 4, outputs: 3 },
        { name: 'fc2', inputs: 3, outputs: 2, bias: false },
        { inputs: 2, outputs: 1 },
      ],
      { precision: 'f64' },
    );
    expect(r.d).toBe(12 + 3 + 6 + 2 + 1);
    expect(r.params).toBeInstanceOf(Float64Array);
    expect(r.params.length).toBe(r.d);
    expect(Object.keys(r.layers).sort()).toEqual(['2', 'fc1', 'fc2']); // (JavaScript lists integer keys first: parameter order is r.list)
    const { fc1, fc2 } = r.layers;
    expect(fc1.W.buffer).toBe(r.params.buffer);
    expect(fc1.W.length).toBe(12);
    expect(fc1.b!.length).toBe(3);
    expect(fc2.b).toBeUndefined();
    expect(fc2.offset).toBe(15);
    expect(r.layers['2'].offset).toBe(21);
    expect(r.list.map((l) => l.offset)).toEqual([0, 15, 21]);
    expect(r.shapes).toEqual([
      { inputs: 4, outputs: 3, bias: true },
      { inputs: 3, outputs: 2, bias: false },
      { inputs: 2, outputs: 1, bias: true },
    ]);
    // writes through a view land in params at W[o·inputs + i], and back
    fc1.W[1 * 4 + 2] = 7;
    fc1.b![2] = 8;
    r.params[15 + 5] = 9;
    expect(r.params[6]).toBe(7);
    expect(r.params[14]).toBe(8);
    expect(fc2.W[5]).toBe(9);
    expect(layers.size(r.shapes)).toBe(r.d);
    // default f32; an existing buffer keeps its values
    expect(layers.parameters([{ inputs: 2, outputs: 2 }]).params).toBeInstanceOf(Float32Array);
    const p = Float32Array.from({ length: 6 }, (_, k) => k + 1);
    const v = layers.parameters([{ name: 'a', inputs: 2, outputs: 2 }], { params: p });
    expect(v.params).toBe(p);
    expect(Array.from(v.layers.a.b!)).toEqual([5, 6]);
  });

  it('parameters: errors', () => {
    expect(() => layers.parameters([])).toThrow(RangeError);
    expect(() => layers.parameters([{ name: 'x', inputs: 1, outputs: 1 }, { name: 'x', inputs: 1, outputs: 1 }])).toThrow(/shapes\[1\]\.name "x"/);
    expect(() => layers.parameters([{ name: '', inputs: 1, outputs: 1 }])).toThrow(TypeError);
    expect(() => layers.parameters([{ inputs: 0, outputs: 1 }])).toThrow(/shapes\[0\]\.inputs/);
    expect(() => layers.parameters([{ inputs: 1, outputs: 1 }], { precision: 'f16' as 'f32' })).toThrow(/precision/);
    expect(() => layers.parameters([{ inputs: 1, outputs: 1 }], { params: new Float32Array(3) })).toThrow(/options\.params has length 3, expected/);
    expect(() => layers.parameters([{ inputs: 1, outputs: 1 }], { precision: 'f64', params: new Float32Array(2) })).toThrow(TypeError);
    expect(() => layers.parameters([{ inputs: 1, outputs: 1 }], { bogus: 1 } as never)).toThrow(/unknown option/);
  });
});

describe.each(types)('layers: errors name the argument and change nothing (%s)', (_name, Type) => {
  const Other = Type === Float32Array ? Float64Array : Float32Array;
  const n = 3;
  const good = () => [
    { A: Type.from([1, 2, 3, 4, 5, 6]), E: Type.from([1, -1, 2]), inputs: 2, outputs: 1 },
    { A: Type.from([1, 2, 3]), E: Type.from([1, 2, 3, 4, 5, 6]), inputs: 1, outputs: 2, bias: false },
  ];
  const d = 2 + 1 + 2;

  it('the list and each layer', () => {
    expect(() => layers.gram([], n)).toThrow(/list is empty/);
    expect(() => layers.gram('x' as never, n)).toThrow(TypeError);
    expect(() => layers.gram([null as never], n)).toThrow(/list\[0\] must be an object/);
    const l = good();
    l[1].inputs = 1.5;
    expect(() => layers.gram(l, n)).toThrow(/list\[1\]\.inputs must be an integer ≥ 1, got 1.5/);
    const l2 = good();
    (l2[0] as { bias?: unknown }).bias = 'yes';
    expect(() => layers.gram(l2 as never, n)).toThrow(/list\[0\]\.bias must be a boolean/);
    const l3 = good();
    (l3[0] as { A: unknown }).A = [1, 2, 3, 4, 5, 6];
    expect(() => layers.gram(l3 as never, n)).toThrow(/list\[0\]\.A must be a Float32Array or Float64Array/);
    const l4 = good();
    (l4[0] as { E: FloatArray }).E = Other.from([1, -1, 2]);
    expect(() => layers.gram(l4, n)).toThrow(/list\[0\]\.E must be a/);
    const l5 = good();
    (l5[1] as { A: FloatArray }).A = Other.from([1, 2, 3]);
    (l5[1] as { E: FloatArray }).E = Other.from([1, 2, 3, 4, 5, 6]);
    expect(() => layers.gram(l5, n)).toThrow(/every layer needs one precision/);
    expect(() => layers.gram(good(), 2)).toThrow(/list\[0\]\.A has length 6, expected n·inputs = 4/);
    const l6 = good();
    l6[1].E = Type.from([1, 2, 3, 4, 5]);
    expect(() => layers.gram(l6, n)).toThrow(/list\[1\]\.E has length 5, expected n·outputs = 6/);
    expect(() => layers.gram(good(), -1)).toThrow(/n must be an integer/);
    expect(() => layers.meanGradient(good(), 0)).toThrow(/n must be an integer ≥ 1/);
    expect(() => layers.diagonal(good(), 0)).toThrow(/n must be an integer ≥ 1/);
  });

  it('non-finite values: RangeError with the layer, the array and the index; out untouched', () => {
    for (const bad of [NaN, Infinity]) {
      const l = good();
      l[1].E[4] = bad;
      const out = new Type(n * n).fill(SENTINEL);
      expect(() => layers.gram(l, n, out)).toThrow(new RegExp(`list\\[1\\]\\.E\\[4\\] is ${bad}`));
      expect(Array.from(out)).toEqual(new Array(n * n).fill(SENTINEL));
      const l2 = good();
      l2[0].A[5] = bad;
      const x = new Type(d).fill(SENTINEL);
      expect(() => layers.meanGradient(l2, n, x)).toThrow(/list\[0\]\.A\[5\]/);
      expect(() => layers.diagonal(l2, n, x)).toThrow(/list\[0\]\.A\[5\]/);
      expect(() => layers.perExampleGradients(l2[0], n, { out: new Type(n * 3).fill(SENTINEL) })).toThrow(/stats\.A\[5\]/);
      expect(Array.from(x)).toEqual(new Array(d).fill(SENTINEL));
    }
    if (Type === Float32Array) {
      const l = good();
      expect(() => layers.gradientTimes(l, n, Float64Array.from([1, 2, 1e300, 4, 5]))).toThrow(/v\[2\] = 1e\+300 is out of the range of f32/);
      // finite inputs whose products overflow f32
      const big = [{ A: Float32Array.from([3e19, 1, 1, 1, 1, 1]), E: Float32Array.from([3e19, 1, 1]), inputs: 2, outputs: 1 }];
      expect(() => layers.perExampleGradients(big[0], n)).toThrow(/overflows f32/);
      expect(() => layers.gram(big, n)).toThrow(/overflows f32/);
    }
    expect(() => layers.gradientTransposeTimes(good(), n, Type.from([1, NaN, 1]))).toThrow(/u\[1\] is NaN/);
  });

  it('vectors and outputs', () => {
    expect(() => layers.gradientTimes(good(), n, new Type(d + 1))).toThrow(/v has length 6, expected the layers' parameter count d = 5/);
    expect(() => layers.gradientTimes(good(), n, [1, 2, 3, 4, 5] as never)).toThrow(/v must be a Float32Array or Float64Array/);
    expect(() => layers.gradientTransposeTimes(good(), n, new Type(n - 1))).toThrow(/u has length 2, expected n = 3/);
    expect(() => layers.gradientTimes(good(), n, new Type(d), new Type(n + 1))).toThrow(/out has length 4, expected n = 3/);
    expect(() => layers.gradientTimes(good(), n, new Type(d), new Other(n) as never)).toThrow(TypeError);
    expect(() => layers.gram(good(), n, new Type(n * n - 1))).toThrow(/out has length 8, expected n·n = 9/);
    expect(() => layers.meanGradient(good(), n, new Type(d - 1))).toThrow(/out has length 4/);
    expect(() => layers.diagonal(good(), n, new Other(d) as never)).toThrow(TypeError);
    expect(() => layers.gradientTransposeTimes(good(), n, new Type(n), new Type(d + 2))).toThrow(RangeError);
  });

  it('perExampleGradients: offset, ld and out', () => {
    const [l] = good(); // 3 parameters
    expect(() => layers.perExampleGradients(l, n, { offset: 2, ld: 4 })).toThrow(/options\.offset \+ the layer's 3 parameters = 5 exceeds options\.ld = 4/);
    expect(() => layers.perExampleGradients(l, n, { offset: -1 })).toThrow(/options\.offset/);
    expect(() => layers.perExampleGradients(l, n, { ld: 0 })).toThrow(/options\.ld/);
    expect(() => layers.perExampleGradients(l, n, { out: new Type(10) })).toThrow(/not a multiple of n = 3: give options\.ld/);
    expect(() => layers.perExampleGradients(l, n, { out: new Type(12), ld: 5 })).toThrow(/options\.out has length 12, expected n·ld = 15/);
    expect(() => layers.perExampleGradients(l, n, { out: new Type(6) })).toThrow(/exceeds options\.ld = 2/);
    expect(() => layers.perExampleGradients(l, n, { out: new Other(9) as never })).toThrow(/options\.out must be a/);
    expect(() => layers.perExampleGradients(l, n, { outt: 1 } as never)).toThrow(/unknown option options\.outt/);
    expect(() => layers.perExampleGradients(l, 2)).toThrow(/stats\.A has length 6, expected n·inputs = 4/);
    const out = new Type(n * 5).fill(SENTINEL);
    expect(() => layers.perExampleGradients(l, n, { out, offset: 3 })).toThrow(RangeError);
    expect(Array.from(out)).toEqual(new Array(n * 5).fill(SENTINEL));
  });
});
