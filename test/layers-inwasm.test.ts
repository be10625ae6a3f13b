/**
 * The @internal *InWasm functions of the layer kit (src/layers/inwasm.ts) against the float64
 * materialised G of the definition (test/layers-reference.ts): several layers with and without
 * bias, sizes across the tile boundaries, α/β, sentinels around every output in wasm memory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initSync } from '../src/index.js';
import { getEngine, type Engine, type Precision } from '../src/engine.js';
import {
  diagonalInWasm,
  gradientTimesInWasm,
  gradientTransposeTimesInWasm,
  gramInWasm,
  layerParameterCount,
  meanGradientInWasm,
  perExampleGradientsInWasm,
  type LayerInWasm,
} from '../src/layers/inwasm.js';
import { refLayerCount, refLayerG, refRowGram, refSquaresMean, refTimes, refTransposeTimes, type RefLayer } from './layers-reference.js';
import { FLOAT_TYPES, Rng, SENTINEL, randomMatrix, typeName, unitRoundoff, type FloatArrayCtor } from './util.js';

beforeAll(() => {
  initSync();
});

const PAD = 5;

/** A block of len elements with PAD sentinels on each side; returns the pointer of the inside. */
function padded(e: Engine, p: Precision, len: number, ptrs: number[], fill?: ArrayLike<number>): number {
  const S = p === 'f32' ? 4 : 8;
  const base = e.alloc((len + 2 * PAD) * S);
  ptrs.push(base);
  const v = e.view(p, base, len + 2 * PAD);
  v.fill(SENTINEL);
  if (fill) v.set(fill, PAD);
  return base + PAD * S;
}

function read(e: Engine, p: Precision, ptr: number, len: number): Float64Array {
  const S = p === 'f32' ? 4 : 8;
  const v = e.view(p, ptr - PAD * S, len + 2 * PAD);
  for (let t = 0; t < PAD; t++) {
    expect(v[t], `sentinel before the output [${t}]`).toBe(SENTINEL);
    expect(v[PAD + len + t], `sentinel after the output [${t}]`).toBe(SENTINEL);
  }
  return Float64Array.from(v.subarray(PAD, PAD + len));
}

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number>, depth: number, Type: FloatArrayCtor, what: string): void {
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

const CASES: { n: number; shapes: [number, number, boolean][] }[] = [
  { n: 1, shapes: [[1, 1, true]] },
  { n: 3, shapes: [[5, 4, true], [4, 3, false]] },
  { n: 4, shapes: [[17, 8, true], [8, 1, true]] },
  { n: 5, shapes: [[3, 33, false], [33, 5, true]] },
  { n: 17, shapes: [[65, 17, true], [17, 4, true], [4, 3, false]] },
  { n: 33, shapes: [[8, 65, true]] },
  { n: 65, shapes: [[33, 9, false], [9, 17, true]] },
];

describe.each(FLOAT_TYPES.map((T) => [typeName(T), T] as const))('layers in wasm (%s)', (_name, Type) => {
  const p = typeName(Type);
  for (const { n, shapes } of CASES) {
    it(`n = ${n}, layers ${shapes.map(([i, o, b]) => `${i}→${o}${b ? '+b' : ''}`).join(', ')}`, () => {
      const e = getEngine();
      const rng = new Rng(1000 + n * 7 + shapes.length);
      const list: RefLayer[] = shapes.map(([inputs, outputs, bias]) => ({
        inputs,
        outputs,
        bias,
        A: randomMatrix(rng, n, inputs, Type),
        E: randomMatrix(rng, n, outputs, Type),
      }));
      const d = refLayerCount(list);
      expect(layerParameterCount(list)).toBe(d);
      const G = refLayerG(list, n);
      const Gabs = refLayerG(list, n, true);
      const v = randomMatrix(rng, 1, d, Type);
      const u = randomMatrix(rng, 1, n, Type);
      const x0 = randomMatrix(rng, 1, d, Type);
      const ptrs: number[] = [];
      try {
        const wl: LayerInWasm[] = list.map((l) => ({
          ap: padded(e, p, n * l.inputs, ptrs, l.A),
          ep: padded(e, p, n * l.outputs, ptrs, l.E),
          inputs: l.inputs,
          outputs: l.outputs,
          bias: l.bias !== false,
        }));
        const vp = padded(e, p, d, ptrs, v);
        const up = padded(e, p, n, ptrs, u);

        // K = G Gᵀ, inside a wider matrix (ldk = n + 3) whose padding columns keep their sentinels
        const ldk = n + 3;
        const kp = padded(e, p, n * ldk, ptrs, new Array(n * ldk).fill(SENTINEL));
        gramInWasm(e, p, wl, n, kp, ldk);
        const Kw = read(e, p, kp, n * ldk);
        const K = new Float64Array(n * n);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) K[i * n + j] = Kw[i * ldk + j];
          for (let j = n; j < ldk; j++) expect(Kw[i * ldk + j], `K padding (${i}, ${j})`).toBe(SENTINEL);
        }
        expectClose(K, refRowGram(G, n, d), refRowGram(Gabs, n, d), d, Type, 'K');

        // y = G v (NaN in y first: not read)
        const yp = padded(e, p, n, ptrs, new Array(n).fill(NaN));
        gradientTimesInWasm(e, p, wl, n, vp, yp);
        expectClose(read(e, p, yp, n), refTimes(G, n, d, v), refTimes(Gabs, n, d, v, true), d, Type, 'G v');

        // x = β x + α Gᵀ u, β = 0 (x not read) and β ≠ 0
        const alpha = -0.75;
        const xp = padded(e, p, d, ptrs, new Array(d).fill(NaN));
        gradientTransposeTimesInWasm(e, p, wl, n, alpha, up, 0, xp);
        const gtu = refTransposeTimes(G, n, d, u);
        const gtuAbs = refTransposeTimes(Gabs, n, d, u, true);
        expectClose(read(e, p, xp, d), gtu.map((t) => alpha * t), gtuAbs.map((t) => 0.75 * t), n, Type, 'α Gᵀ u');
        const beta = 0.5;
        e.view(p, xp, d).set(x0);
        gradientTransposeTimesInWasm(e, p, wl, n, alpha, up, beta, xp);
        expectClose(
          read(e, p, xp, d),
          gtu.map((t, j) => alpha * t + beta * x0[j]),
          gtuAbs.map((t, j) => 0.75 * t + beta * Math.abs(x0[j])),
          n,
          Type,
          'β x + α Gᵀ u',
        );

        // mean gradient
        const mp = padded(e, p, d, ptrs, new Array(d).fill(NaN));
        meanGradientInWasm(e, p, wl, n, mp);
        const ones = new Float64Array(n).fill(1 / n);
        expectClose(read(e, p, mp, d), refTransposeTimes(G, n, d, ones), refTransposeTimes(Gabs, n, d, ones), n, Type, 'mean');

        // diagonal: β = 0 then β ≠ 0
        const dp = padded(e, p, d, ptrs, new Array(d).fill(NaN));
        const sq = refSquaresMean(G, n, d);
        diagonalInWasm(e, p, wl, n, 1 / n, 0, dp);
        expectClose(read(e, p, dp, d), sq, sq, n, Type, 'diagonal');
        e.view(p, dp, d).set(x0);
        diagonalInWasm(e, p, wl, n, 2, -0.25, dp);
        expectClose(
          read(e, p, dp, d),
          sq.map((t, j) => 2 * n * t - 0.25 * x0[j]),
          sq.map((t, j) => 2 * n * t + 0.25 * Math.abs(x0[j])),
          n,
          Type,
          'β out + α Σ g∘g',
        );

        // the rows of G, layer by layer into one G with ld = d + 2 (2 sentinel columns per row)
        const ld = d + 2;
        const gp = padded(e, p, n * ld, ptrs, new Array(n * ld).fill(SENTINEL));
        let offset = 0;
        for (const l of wl) {
          perExampleGradientsInWasm(e, p, l, n, gp, offset, ld);
          offset += l.inputs * l.outputs + (l.bias ? l.outputs : 0);
        }
        const Gw = read(e, p, gp, n * ld);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < d; j++) {
            const want = Type === Float32Array ? Math.fround(G[i * d + j]) : G[i * d + j];
            if (Gw[i * ld + j] !== want) expect(Gw[i * ld + j], `G[${i}, ${j}]`).toBe(want);
          }
          expect(Gw[i * ld + d], `G padding row ${i}`).toBe(SENTINEL);
          expect(Gw[i * ld + d + 1], `G padding row ${i}`).toBe(SENTINEL);
        }
      } finally {
        for (const q of ptrs.reverse()) e.free(q);
      }
    });
  }
});
