/**
 * EmpiricalFisher.updateLayers and EmpiricalFisherOptimizer.stepLayers (issue 14, item 3): every
 * representation, decay 0 and > 0, with and without bias, several layers, against the materialised
 * path (G from the definition, then update / step) and a float64 reference of the definition;
 * save / load / merge / reset / toDense on a layer-backed store; bad input that changes nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EmpiricalFisher, EmpiricalFisherOptimizer, initSync } from '../src/index.js';
import type { EmpiricalFisherOptimizerOptions, EmpiricalFisherOptions } from '../src/index.js';
import type { DenseLayerStats } from '../src/index.js';
import { getEngine } from '../src/engine.js';
import { refFisherBatch, refPrecondition, RefRunningFisher } from './reference.js';
import { FLOAT_TYPES, Rng, randomMatrix, typeName, type FloatArray, type FloatArrayCtor } from './util.js';

beforeAll(() => {
  initSync();
});

interface Shape {
  inputs: number;
  outputs: number;
  bias?: boolean;
}

/** three layers, a bias on the first and last only; and one wide layer without bias */
const NETS: Shape[][] = [
  [
    { inputs: 5, outputs: 4 },
    { inputs: 4, outputs: 3, bias: false },
    { inputs: 3, outputs: 2, bias: true },
  ],
  [{ inputs: 17, outputs: 3, bias: false }],
];

function size(shapes: Shape[]): number {
  let d = 0;
  for (const s of shapes) d += s.inputs * s.outputs + (s.bias === false ? 0 : s.outputs);
  return d;
}

function makeStats(rng: Rng, shapes: Shape[], n: number, Type: FloatArrayCtor, scale = 1): DenseLayerStats[] {
  return shapes.map((s) => {
    const A = randomMatrix(rng, n, s.inputs, Type);
    const E = randomMatrix(rng, n, s.outputs, Type);
    if (scale !== 1) for (let i = 0; i < E.length; i++) E[i] *= scale;
    return { ...s, A, E };
  });
}

/** G (n × d) from the definition, rounded once to Type (g_ij = e·a, then e for a bias). */
function materialise<T extends FloatArrayCtor>(list: DenseLayerStats[], n: number, Type: T): InstanceType<T> {
  const d = size(list);
  const G = new Type(n * d) as InstanceType<T>;
  for (let i = 0; i < n; i++) {
    let c = i * d;
    for (const l of list) {
      for (let o = 0; o < l.outputs; o++) for (let j = 0; j < l.inputs; j++) G[c++] = l.E[i * l.outputs + o] * l.A[i * l.inputs + j];
      if (l.bias !== false) for (let o = 0; o < l.outputs; o++) G[c++] = l.E[i * l.outputs + o];
    }
  }
  return G;
}

function relDiff(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (x[i] - ref[i]) * (x[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return Math.sqrt(num) / Math.sqrt(den);
}

function blocksOf(shapes: Shape[]): number[] {
  return shapes.map((s) => s.inputs * s.outputs + (s.bias === false ? 0 : s.outputs));
}

/** structural equality of two saved states (typed arrays compared element by element, bit for bit) */
function expectSameState(a: unknown, b: unknown): void {
  expect(JSON.stringify(a, replacer)).toBe(JSON.stringify(b, replacer));
}
function replacer(_k: string, v: unknown): unknown {
  if (ArrayBuffer.isView(v)) {
    const arr = v as unknown as ArrayLike<number>;
    const dv = new DataView((v as Float64Array).buffer, (v as Float64Array).byteOffset, (v as Float64Array).byteLength);
    const hex: string[] = [];
    for (let i = 0; i < dv.byteLength; i++) hex.push(dv.getUint8(i).toString(16));
    return { type: v.constructor.name, length: arr.length, bits: hex.join(',') };
  }
  return v;
}

const tol = (Type: FloatArrayCtor) => (Type === Float32Array ? 1e-5 : 1e-12);
const REPS = ['dense', 'lowrank', 'blockdiag', 'diag'] as const;
const types = FLOAT_TYPES.map((T) => [typeName(T), T] as const);

describe('EmpiricalFisher.updateLayers equals the materialised update', () => {
  for (const [tn, Type] of types) {
    for (const rep of REPS) {
      for (const decay of [0, 0.9]) {
        for (const [k, shapes] of NETS.entries()) {
          it(`${tn} ${rep} decay ${decay} net ${k}`, () => {
            const rng = new Rng(100 + k);
            const d = size(shapes);
            const opts: EmpiricalFisherOptions = {
              precision: tn,
              representation: rep,
              decay,
              damping: Type === Float32Array ? 0.1 : 1e-3,
              blocks: rep === 'blockdiag' ? blocksOf(shapes) : undefined,
              // a small sketch: with decay the shrinks run
              rank: rep === 'lowrank' && decay > 0 ? 6 : undefined,
            };
            const FL = new EmpiricalFisher(d, opts);
            const FG = new EmpiricalFisher(d, opts);
            const ref = new RefRunningFisher(d, decay);
            try {
              for (const n of [7, 1, 5, 9]) {
                const list = makeStats(rng, shapes, n, Type);
                FL.updateLayers(list, n);
                FG.update(materialise(list, n, Type), n);
                ref.update(materialise(list, n, Float64Array), n);
                expect(FL.steps).toBe(FG.steps);
                expect(FL.examples).toBe(FG.examples);
                expect(FL.rank).toBe(FG.rank);
                const g = randomMatrix(rng, 1, d, Type);
                const xl = FL.precondition(g);
                const xg = FG.precondition(g);
                expect(relDiff(xl, xg)).toBeLessThanOrEqual(tol(Type));
                expect(FL.effectiveDamping).toBeCloseTo(FG.effectiveDamping, 12);
                expect(FL.sketchError).toBeCloseTo(FG.sketchError, 10);
                const ql = FL.quadratic(g);
                const qg = FG.quadratic(g);
                expect(Math.abs(ql - qg)).toBeLessThanOrEqual(tol(Type) * qg);
                expect(relDiff(FL.toDense(), FG.toDense())).toBeLessThanOrEqual(tol(Type));
                if (Type === Float64Array && !(rep === 'lowrank' && decay > 0)) {
                  // the definition in float64 (the sketch is checked against the materialised path only)
                  let Fr = ref.dense();
                  if (rep === 'diag') Fr = Fr.map((v, t) => (Math.floor(t / d) === t % d ? v : 0));
                  if (rep === 'blockdiag') {
                    const owner = new Int32Array(d);
                    let o = 0;
                    blocksOf(shapes).forEach((b, bi) => owner.fill(bi, o, (o += b)));
                    Fr = Fr.map((v, t) => (owner[Math.floor(t / d)] === owner[t % d] ? v : 0));
                  }
                  expect(relDiff(xl, refPrecondition(Fr, d, 1e-3, g))).toBeLessThanOrEqual(1e-10);
                }
              }
            } finally {
              FL.dispose();
              FG.dispose();
            }
          });
        }
      }
    }
  }

  it('scales far-from-one gradients (σ²) the same way as update', () => {
    for (const [tn, Type] of types) {
      for (const rep of REPS) {
        for (const decay of [0, 0.5]) {
          const rng = new Rng(7);
          const shapes = NETS[0];
          const d = size(shapes);
          const opts: EmpiricalFisherOptions = { precision: tn, representation: rep, decay, damping: 1e-30, blocks: rep === 'blockdiag' ? blocksOf(shapes) : undefined };
          const FL = new EmpiricalFisher(d, opts);
          const FG = new EmpiricalFisher(d, opts);
          for (const scale of [1e-15, 1e-12, 1]) {
            const list = makeStats(rng, shapes, 6, Type, scale);
            FL.updateLayers(list, 6);
            FG.update(materialise(list, 6, Type), 6);
            FL.damping = FG.damping = 1e-3 * scale * scale;
            const g = randomMatrix(rng, 1, d, Type).map((v) => v * scale);
            expect(relDiff(FL.precondition(g), FG.precondition(g)), `${tn} ${rep} ${decay} ${scale}`).toBeLessThanOrEqual(
              Type === Float32Array ? 1e-4 : 1e-11,
            );
            expect(relDiff(FL.toDense(), FG.toDense())).toBeLessThanOrEqual(tol(Type));
          }
          FL.dispose();
          FG.dispose();
        }
      }
    }
  });
});

describe('a layer-backed lowrank store (decay 0)', () => {
  for (const [tn, Type] of types) {
    it(`${tn}: save / load (version 3), restore, reset, merge and toDense`, () => {
      const rng = new Rng(21);
      const shapes = NETS[0];
      const d = size(shapes);
      const opts: EmpiricalFisherOptions = { precision: tn, representation: 'lowrank', damping: 0.1 };
      const F = new EmpiricalFisher(d, opts);
      const G1 = new EmpiricalFisher(d, opts);
      const list = makeStats(rng, shapes, 6, Type);
      F.updateLayers(list, 6);
      G1.update(materialise(list, 6, Type), 6);
      const s = F.save();
      expect(s.version).toBe(3);
      expect(G1.save().version).toBe(2);
      const g = randomMatrix(rng, 1, d, Type);
      const x = F.precondition(g);
      const L = EmpiricalFisher.load(structuredClone(s));
      expect(Array.from(L.precondition(g))).toEqual(Array.from(x));
      expect(L.quadratic(g)).toBe(F.quadratic(g));
      expectSameState(L.save(), s);
      // merge two layer-backed Fishers = merge of the materialised ones
      const list2 = makeStats(rng, shapes, 4, Type);
      const F2 = new EmpiricalFisher(d, opts);
      const G2 = new EmpiricalFisher(d, opts);
      F2.updateLayers(list2, 4);
      G2.update(materialise(list2, 4, Type), 4);
      const before2 = F2.save();
      L.merge(F2);
      G1.merge(G2);
      expectSameState(F2.save(), before2); // the other is not changed
      expect(relDiff(L.precondition(g), G1.precondition(g))).toBeLessThanOrEqual(tol(Type));
      expect(relDiff(L.toDense(), G1.toDense())).toBeLessThanOrEqual(tol(Type));
      // a layer-backed merged into a row store, and the reverse
      const R = new EmpiricalFisher(d, opts);
      R.update(materialise(list, 6, Type), 6);
      R.merge(F2);
      const R2 = new EmpiricalFisher(d, opts);
      R2.updateLayers(list, 6);
      R2.merge(G2);
      expect(relDiff(R.precondition(g), G1.precondition(g))).toBeLessThanOrEqual(tol(Type));
      expect(relDiff(R2.precondition(g), G1.precondition(g))).toBeLessThanOrEqual(tol(Type));
      // reset, then rows, then layers again
      F.reset();
      expect(F.steps).toBe(0);
      expect(F.quadratic(g)).toBe(0);
      F.update(materialise(list2, 4, Type), 4);
      expect(relDiff(F.precondition(g), G2.precondition(g))).toBeLessThanOrEqual(tol(Type));
      F.updateLayers(list2, 4);
      expect(relDiff(F.precondition(g), G2.precondition(g))).toBeLessThanOrEqual(tol(Type));
      // version 2 states still load
      const v2 = EmpiricalFisher.load(G2.save());
      expect(relDiff(v2.precondition(g), G2.precondition(g))).toBe(0);
      for (const f of [F, G1, L, F2, G2, R, R2, v2]) f.dispose();
    });
  }

  it('rejects a corrupt version 3 state, naming the field', () => {
    const rng = new Rng(3);
    const F = new EmpiricalFisher(size(NETS[0]), { representation: 'lowrank' });
    F.updateLayers(makeStats(rng, NETS[0], 3, Float32Array), 3);
    const s = F.save();
    const bad1 = structuredClone(s);
    (bad1.store.stats as Float64Array)[5] = Number.NaN;
    expect(() => EmpiricalFisher.load(bad1)).toThrow(/state\.store\.stats\[5\]/);
    const bad2 = structuredClone(s);
    (bad2.store.layers as number[])[0] = 6;
    expect(() => EmpiricalFisher.load(bad2)).toThrow(RangeError);
    const bad3 = structuredClone(s);
    bad3.store.stats = new Float64Array(3);
    expect(() => EmpiricalFisher.load(bad3)).toThrow(/state\.store\.stats has length 3/);
    F.dispose();
  });
});

describe('EmpiricalFisherOptimizer.stepLayers equals step on the materialised G', () => {
  const cases: [string, EmpiricalFisherOptimizerOptions][] = [
    ['plain', {}],
    ['momentum + weightDecay', { momentum: 0.9, weightDecay: 0.01 }],
    ['lossChangeBound', { lossChangeBound: 1e-3 }],
    ['updateEvery 3', { updateEvery: 3 }],
    ['adaptive damping', { adaptiveDamping: { interval: 2 } }],
  ];
  for (const [tn, Type] of types) {
    for (const rep of REPS) {
      for (const decay of [0, 0.9]) {
        for (const [name, extra] of cases) {
          it(`${tn} ${rep} decay ${decay} ${name}`, () => {
            const rng = new Rng(5);
            const shapes = NETS[0];
            const d = size(shapes);
            const opts: EmpiricalFisherOptimizerOptions = {
              lr: 0.05,
              damping: Type === Float32Array ? 0.1 : 1e-3,
              decay,
              representation: rep,
              blocks: rep === 'blockdiag' ? blocksOf(shapes) : undefined,
              rank: rep === 'lowrank' && decay > 0 ? 6 : undefined,
              ...extra,
            };
            const pl = randomMatrix(rng, 1, d, Type);
            const pg = pl.slice() as FloatArray;
            const OL = new EmpiricalFisherOptimizer(pl, opts);
            const OG = new EmpiricalFisherOptimizer(pg, opts);
            // a quadratic loss of the parameters, for the adaptive damping
            const loss = (p: FloatArray) => () => {
              let s = 0;
              for (let i = 0; i < p.length; i++) s += 0.5 * p[i] * p[i];
              return s;
            };
            try {
              for (let t = 0; t < 6; t++) {
                const n = [7, 3, 8][t % 3];
                const list = makeStats(rng, shapes, n, Type);
                const il = OL.stepLayers(list, n, { loss: loss(pl) });
                const ig = OG.step(materialise(list, n, Type), n, { loss: loss(pg) });
                expect(il.refreshed).toBe(ig.refreshed);
                expect(il.step).toBe(ig.step);
                expect(Math.abs(il.rate - ig.rate)).toBeLessThanOrEqual(tol(Type) * ig.rate);
                expect(Math.abs(il.stepNorm - ig.stepNorm)).toBeLessThanOrEqual(tol(Type) * ig.stepNorm);
                const scale = Math.max(Math.abs(ig.predictedLossChange), ig.predictedLossChangeRms);
                expect(Math.abs(il.predictedLossChange - ig.predictedLossChange)).toBeLessThanOrEqual(tol(Type) * scale);
                expect(Math.abs(il.predictedLossChangeRms - ig.predictedLossChangeRms)).toBeLessThanOrEqual(tol(Type) * scale);
                expect(il.damping).toBeCloseTo(ig.damping, 10);
                expect(il.reductionRatio === undefined).toBe(ig.reductionRatio === undefined);
                expect(OL.damping).toBeCloseTo(OG.damping, 12);
                expect(relDiff(pl, pg)).toBeLessThanOrEqual(tol(Type));
              }
            } finally {
              OL.dispose();
              OG.dispose();
            }
          });
        }
      }
    }
  }
});

describe('bad input changes nothing', () => {
  for (const rep of REPS) {
    it(`${rep}: a bad list, a wrong d, an n mismatch, a non-finite value`, () => {
      const rng = new Rng(9);
      const shapes = NETS[0];
      const d = size(shapes);
      const opts = { representation: rep, decay: 0, blocks: rep === 'blockdiag' ? blocksOf(shapes) : undefined } as const;
      const F = new EmpiricalFisher(d, opts);
      const params = randomMatrix(rng, 1, d, Float32Array);
      const O = new EmpiricalFisherOptimizer(params, { ...opts, momentum: 0.5 });
      const good = makeStats(rng, shapes, 4, Float32Array);
      F.updateLayers(good, 4);
      O.stepLayers(good, 4);
      const fBefore = F.save();
      const oBefore = O.save();
      const pBefore = params.slice();
      const inf = makeStats(rng, shapes, 4, Float32Array);
      inf[1].E[3] = Number.POSITIVE_INFINITY;
      const nan = makeStats(rng, shapes, 4, Float64Array);
      nan[2].A[0] = Number.NaN;
      const big = makeStats(rng, shapes, 4, Float64Array);
      big[0].A[2] = 1e300; // beyond f32
      const overflow = makeStats(rng, shapes, 4, Float32Array);
      overflow[0].A[1] = 1e30;
      overflow[0].E[0] = 1e20; // the product overflows f32
      const mixed = makeStats(rng, shapes, 4, Float32Array);
      (mixed[0] as { E: FloatArray }).E = new Float64Array(mixed[0].E);
      const bad: [unknown, number, RegExp, ErrorConstructor][] = [
        [undefined, 4, /list must be an array/, TypeError],
        [[], 4, /at least one layer/, RangeError],
        [[null], 4, /list\[0\] must be an object/, TypeError],
        [good.slice(0, 2), 4, /expected d = /, RangeError],
        [[{ ...good[0], inputs: 0 }, ...good.slice(1)], 4, /list\[0\]\.inputs/, RangeError],
        [[good[0], { ...good[1], bias: 1 }, good[2]], 4, /list\[1\]\.bias/, TypeError],
        [[good[0], { ...good[1], A: [1, 2] }, good[2]], 4, /list\[1\]\.A must be a Float32Array/, TypeError],
        [mixed, 4, /list\[0\]\.E must be a Float32Array like list\[0\]\.A/, TypeError],
        [good, 5, /list\[0\]\.A has length 20, expected n·inputs = 25/, RangeError],
        [good, 0, /n must be an integer ≥ 1/, RangeError],
        [inf, 4, /list\[1\]\.E\[3\] is Infinity/, RangeError],
        [nan, 4, /list\[2\]\.A\[0\] is NaN/, RangeError],
        [big, 4, /list\[0\]\.A\[2\] = 1e\+300 is out of the range of f32/, RangeError],
        [overflow, 4, /list\[0\]: the per-example gradient of example 0/, RangeError],
      ];
      for (const [list, n, msg, Err] of bad) {
        expect(() => F.updateLayers(list as DenseLayerStats[], n)).toThrow(Err);
        expect(() => F.updateLayers(list as DenseLayerStats[], n)).toThrow(msg);
        expect(() => O.stepLayers(list as DenseLayerStats[], n)).toThrow(msg);
        expectSameState(F.save(), fBefore);
        expectSameState(O.save(), oBefore);
        expect(Array.from(params)).toEqual(Array.from(pBefore));
      }
      // and the next good step matches a twin that never saw the bad input
      const twin = EmpiricalFisherOptimizer.load(oBefore, pBefore);
      const next = makeStats(rng, shapes, 4, Float32Array);
      O.stepLayers(next, 4);
      twin.stepLayers(next, 4);
      expect(Array.from(params)).toEqual(Array.from(pBefore));
      F.dispose();
      O.dispose();
      twin.dispose();
    });
  }
});

describe('memory', () => {
  it("'lowrank' with decay 0 through the layers allocates far less than n·d", () => {
    const rng = new Rng(11);
    const shapes: Shape[] = [
      { inputs: 300, outputs: 200 },
      { inputs: 200, outputs: 150 },
      { inputs: 150, outputs: 10 },
    ];
    const d = size(shapes);
    const n = 64;
    const e = getEngine();
    const list = makeStats(rng, shapes, n, Float32Array);
    const g = randomMatrix(rng, 1, d, Float32Array);
    const measure = (f: () => void): number => {
      const live = e.allocator.stats().allocatedBytes;
      e.allocator.resetPeak();
      f();
      return e.allocator.stats().peakBytes - live;
    };
    const F = new EmpiricalFisher(d, { representation: 'lowrank' });
    const layersPeak = measure(() => {
      F.updateLayers(list, n);
      F.precondition(g);
    });
    const G = materialise(list, n, Float32Array);
    const F2 = new EmpiricalFisher(d, { representation: 'lowrank' });
    const rowsPeak = measure(() => {
      F2.update(G, n);
      F2.precondition(g);
    });
    const ndBytes = n * d * 4;
    // statistics n·Σ(in + out) in f32 (the copy in) and f64 (the store), O(n²), a few vectors of d
    expect(layersPeak).toBeLessThan(ndBytes / 4);
    expect(rowsPeak).toBeGreaterThan(ndBytes);
    expect(relDiff(F.precondition(g), F2.precondition(g))).toBeLessThanOrEqual(1e-5);
    F.dispose();
    F2.dispose();
  });

  it("'lowrank' with decay > 0 writes the rows into the sketch's buffer: no separate n × d G", () => {
    const rng = new Rng(12);
    const shapes: Shape[] = [
      { inputs: 120, outputs: 80 },
      { inputs: 80, outputs: 10, bias: false },
    ];
    const d = size(shapes);
    const n = 32;
    const e = getEngine();
    const F = new EmpiricalFisher(d, { representation: 'lowrank', decay: 0.9, rank: 2 * n });
    // fill the buffer first: later steps shrink and append without growing the store
    for (let t = 0; t < 4; t++) F.updateLayers(makeStats(rng, shapes, n, Float32Array), n);
    const twin = EmpiricalFisher.load(F.save());
    const list = makeStats(rng, shapes, n, Float32Array);
    const G = materialise(list, n, Float32Array);
    const measure = (f: () => void): number => {
      const live = e.allocator.stats().allocatedBytes;
      e.allocator.resetPeak();
      f();
      return e.allocator.stats().peakBytes - live;
    };
    const layersPeak = measure(() => F.updateLayers(list, n));
    const rowsPeak = measure(() => twin.update(G, n));
    // the same shrink (its eigensolver's workspace dominates both) and, on the rows path only, G's copy
    expect(rowsPeak - layersPeak).toBeGreaterThanOrEqual(0.9 * n * d * 4);
    const g = randomMatrix(rng, 1, d, Float32Array);
    expect(relDiff(F.precondition(g), twin.precondition(g))).toBeLessThanOrEqual(1e-5);
    F.dispose();
    twin.dispose();
  });
});
