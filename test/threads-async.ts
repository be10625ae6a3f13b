/**
 * The async methods of EmpiricalFisher and EmpiricalFisherOptimizer against their synchronous
 * twins, for a given number of threads: updateAsync, preconditionAsync, updateLayersAsync,
 * stepAsync, stepLayersAsync must give the same results and the same saved state bit for bit, in
 * every representation, f32 and f64; bad input must reject with the synchronous call's error and
 * change nothing. threadTuning's minimums are set to 0, so every syrk, potrf, gemm and Gram matrix
 * of the async calls is split between the threads. Used by test/threads-async-*.node.test.ts (one
 * engine per file: 2, 3 and 4 threads) and, as a battery, by test/threads-web.node.test.ts.
 * No Node built-ins here (it is bundled for Chromium too).
 */
import { EmpiricalFisher, EmpiricalFisherOptimizer, linalg, type EmpiricalFisherOptimizerOptions } from '../src/index.js';
import { getEngine } from '../src/engine.js';
import { threadTuning } from '../src/tuning.js';

type FloatArray = Float32Array | Float64Array;
type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

/** A seeded generator (LCG), values in [−0.5, 0.5). */
function filled(P: Ctor, len: number, seed: number, scale = 1): FloatArray {
  const a = new P(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = scale * (s / 4294967296 - 0.4999);
  }
  return a;
}

/** Where two values (numbers, typed arrays, arrays, plain objects) differ in a bit, or undefined. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    const x = a as FloatArray, y = b as FloatArray;
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || x.constructor !== y.constructor || x.length !== y.length) return `${path}: arrays of different types or lengths`;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `${path}[${i}]: ${x[i]} vs ${y[i]}`;
    return undefined;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return `${path}: arrays of different lengths`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
}

interface Case {
  name: string;
  d: number;
  n: number;
  options: EmpiricalFisherOptimizerOptions;
}

/** Two dense layers (19 → 7 → 5, with biases): d = 7·19 + 7 + 5·7 + 5 = 180 (Ā of the first is
 *  20 × 20: its syrk is split). */
const SHAPES = [
  { inputs: 19, outputs: 7, bias: true },
  { inputs: 7, outputs: 5, bias: true },
];
const LAYER_D = 180;

function cases(): Case[] {
  return [
    { name: 'dense', d: LAYER_D, n: 19, options: { representation: 'dense', decay: 0.9 } },
    { name: 'dense, updateEvery 2, momentum, ε', d: LAYER_D, n: 9, options: { representation: 'dense', updateEvery: 2, momentum: 0.5, lossChangeBound: 1e-3 } },
    { name: 'blockdiag', d: LAYER_D, n: 17, options: { representation: 'blockdiag', blocks: [140, 40], decay: 0.8 } },
    { name: 'diag', d: LAYER_D, n: 17, options: { representation: 'diag' } },
    { name: 'lowrank, decay 0', d: LAYER_D, n: 21, options: { representation: 'lowrank', decay: 0, lossChangeBound: 1e-2 } },
    // rank 8 with batches of 21: every step shrinks the sketch (eigh, the rotation's gemm)
    { name: 'lowrank, decay 0.9, rank 8 (sketch)', d: LAYER_D, n: 21, options: { representation: 'lowrank', decay: 0.9, rank: 8 } },
    // built from layer statistics only: step(G) and update(G) fail alike
    { name: 'kronecker', d: LAYER_D, n: 21, options: { representation: 'kronecker', layers: SHAPES, decay: 0.9 } },
    { name: "kronecker 'pi'", d: LAYER_D, n: 21, options: { representation: 'kronecker', layers: SHAPES, kroneckerDamping: 'pi' } },
    { name: 'ekfac', d: LAYER_D, n: 21, options: { representation: 'ekfac', layers: SHAPES, decay: 0.8 } },
  ];
}

function layerStats(P: Ctor, n: number, seed: number) {
  return SHAPES.map((s, l) => ({ ...s, A: filled(P, n * s.inputs, seed + 17 * l), E: filled(P, n * s.outputs, seed + 17 * l + 5) }));
}

/** Runs the battery; returns the list of differences (empty: every async result is the sync one). */
export async function asyncBattery(): Promise<{ checked: number; differ: string[]; runs: number }> {
  const saved = { ...threadTuning };
  Object.assign(threadTuning, { minFlops: 0, minCholeskySeconds: 0, asleepSeconds: 0 });
  const pool = getEngine().pool;
  const runs0 = pool?.runs ?? 0;
  const differ: string[] = [];
  let checked = 0;
  const expectSame = (what: string, a: unknown, b: unknown) => {
    checked++;
    const d = firstDifference(a, b);
    if (d) differ.push(`${what}: ${d}`);
  };
  // the async call against the synchronous one: the same result, or the same error
  const both = async (what: string, sync: () => unknown, later: () => Promise<unknown>) => {
    let a: unknown, b: unknown;
    let ea = '', eb = '';
    try {
      a = sync();
    } catch (e) {
      ea = String(e);
    }
    try {
      b = await later();
    } catch (e) {
      eb = String(e);
    }
    if (ea !== eb) {
      checked++;
      differ.push(`${what}: '${eb}' vs '${ea}'`);
    } else if (!ea) expectSame(what, b, a);
    else checked++;
  };
  try {
    for (const P of [Float32Array, Float64Array] as Ctor[]) {
      const pn = P === Float32Array ? 'f32' : 'f64';
      for (const c of cases()) {
        const tag = `${c.name} ${pn}`;
        // the optimizer, G then the layers' statistics, three steps each
        for (const source of ['G', 'layers'] as const) {
          const p0 = filled(P, c.d, 11);
          const one = new EmpiricalFisherOptimizer(p0.slice() as FloatArray, { lr: 0.05, ...c.options });
          const two = new EmpiricalFisherOptimizer(p0.slice() as FloatArray, { lr: 0.05, ...c.options });
          try {
            for (let s = 0; s < 3; s++) {
              if (source === 'G') {
                const G = filled(P, c.n * c.d, 100 * s + c.d);
                await both(`${tag} step ${s}`, () => one.step(G, c.n), () => two.stepAsync(G, c.n));
              } else {
                const list = layerStats(P, c.n, 100 * s + 7);
                await both(`${tag} stepLayers ${s}`, () => one.stepLayers(list, c.n), () => two.stepLayersAsync(list, c.n));
              }
              expectSame(`${tag} ${source} params ${s}`, two.params, one.params);
            }
            expectSame(`${tag} ${source} state`, two.save(), one.save());
            // bad input: the same error, nothing changed
            const before = two.save();
            const G = filled(P, c.n * c.d, 5);
            G[3 * c.d + 2] = Number.NaN;
            let syncError = '';
            try {
              one.step(G, c.n);
            } catch (e) {
              syncError = String(e);
            }
            let asyncError = '';
            await two.stepAsync(G, c.n).catch((e) => (asyncError = String(e)));
            checked++;
            if (!syncError || asyncError !== syncError) differ.push(`${tag} bad G: '${asyncError}' vs '${syncError}'`);
            expectSame(`${tag} ${source} state after a bad G`, two.save(), before);
          } finally {
            one.dispose();
            two.dispose();
          }
        }
        // EmpiricalFisher: updateAsync, updateLayersAsync, preconditionAsync
        const fo = {
          precision: pn, damping: 1e-3, decay: c.options.decay ?? 0, representation: c.options.representation, blocks: c.options.blocks,
          rank: c.options.rank, layers: c.options.layers, kroneckerDamping: c.options.kroneckerDamping,
        } as const;
        const F1 = new EmpiricalFisher(c.d, fo);
        const F2 = new EmpiricalFisher(c.d, fo);
        try {
          for (let s = 0; s < 2; s++) {
            const G = filled(P, c.n * c.d, 300 + s);
            await both(`${tag} update ${s}`, () => F1.update(G, c.n).save(), async () => (await F2.updateAsync(G, c.n)).save());
            const g = filled(P, c.d, 400 + s);
            await both(`${tag} precondition after update ${s}`, () => F1.precondition(g), () => F2.preconditionAsync(g));
            const list = layerStats(P, c.n, 500 + s);
            await both(`${tag} updateLayers ${s}`, () => F1.updateLayers(list, c.n).save(), async () => (await F2.updateLayersAsync(list, c.n)).save());
            const out1 = new P(c.d), out2 = new P(c.d);
            F1.precondition(g, out1);
            const r2 = await F2.preconditionAsync(g, out2);
            checked++;
            if (r2 !== out2) differ.push(`${tag} preconditionAsync does not return out`);
            expectSame(`${tag} precondition after updateLayers ${s}`, out2, out1);
          }
          expectSame(`${tag} Fisher state`, F2.save(), F1.save());
          const before = F2.save();
          let e1 = '';
          let e2 = '';
          try {
            F1.update(new P(5), c.n);
          } catch (e) {
            e1 = String(e);
          }
          await F2.updateAsync(new P(5), c.n).catch((e) => (e2 = String(e)));
          await both(`${tag} precondition of a wrong length`, () => F1.precondition(new P(c.d + 1)), () => F2.preconditionAsync(new P(c.d + 1)));
          const badList = layerStats(P, c.n, 9);
          badList[1].E[4] = Number.POSITIVE_INFINITY;
          let e3 = '';
          let e4 = '';
          try {
            F1.updateLayers(badList, c.n);
          } catch (e) {
            e3 = String(e);
          }
          await F2.updateLayersAsync(badList, c.n).catch((e) => (e4 = String(e)));
          checked++;
          if (!e1 || e1 !== e2 || !e3 || e3 !== e4) differ.push(`${tag} Fisher bad input: '${e2}' vs '${e1}', '${e4}' vs '${e3}'`);
          expectSame(`${tag} Fisher state after bad input`, F2.save(), before);
        } finally {
          F1.dispose();
          F2.dispose();
        }
      }
    }
    // the split kernels alone, at sizes across their pieces' boundaries: synchronous linalg calls
    // run inside onThreads (which hands out the split kernels) against the same calls outside
    const e = getEngine();
    for (const P of [Float32Array, Float64Array] as Ctor[]) {
      const pn = P === Float32Array ? 'f32' : 'f64';
      for (const [m, n, k] of [[2, 3, 5], [17, 33, 9], [65, 40, 129], [130, 257, 64], [300, 17, 700]]) {
        const A = filled(P, m * k, m + k);
        const B = filled(P, k * n, n + 3);
        await both(`gemm ${pn} ${m}×${n}×${k}`, () => linalg.gemm(A, B, m, n, k), () => e.onThreads(() => linalg.gemm(A, B, m, n, k)));
        const At = filled(P, k * m, 7);
        await both(`gemm Aᵀ Bᵀ ${pn} ${m}×${n}×${k}`, () => linalg.gemm(At, B, m, k, n, { transA: true, transB: true, alpha: 0.5 }), () =>
          e.onThreads(() => linalg.gemm(At, B, m, k, n, { transA: true, transB: true, alpha: 0.5 })));
      }
      for (const d of [16, 17, 65, 129, 300, 520]) {
        const G = filled(P, 40 * d, d);
        const S = linalg.syrk(G, 40, d, { alpha: 1 / 40 });
        await both(`cholesky ${pn} d=${d}`, () => linalg.cholesky(S, d, { shift: 0.1 }), () => e.onThreads(() => linalg.cholesky(S, d, { shift: 0.1 })));
        const L = linalg.cholesky(S, d, { shift: 0.1 });
        for (const nrhs of [1, 15, 16, 17, 33, 100]) {
          const R = filled(P, nrhs * d, nrhs);
          await both(`choleskySolve ${pn} d=${d} nrhs=${nrhs}`, () => linalg.choleskySolve(L, d, R, { nrhs }), () => e.onThreads(() => linalg.choleskySolve(L, d, R, { nrhs })));
        }
      }
    }
    // the scans (max_abs, first_nonfinite) on vectors long enough to be split, a bad value planted
    // at each end, inside, and at a piece's edge
    for (const P of [Float32Array, Float64Array] as Ctor[]) {
      const pn = P === Float32Array ? 'f32' : 'f64';
      const n = 300_001;
      const x = filled(P, n, 99);
      const ptr = e.alloc(n * P.BYTES_PER_ELEMENT);
      try {
        for (const at of [-1, 0, 65535, 65536, 150_001, n - 1]) {
          const v = x.slice() as FloatArray;
          if (at >= 0) v[at] = at % 2 === 0 ? Number.NaN : Number.NEGATIVE_INFINITY;
          e.put(pn, ptr, v);
          await both(`first_nonfinite ${pn} at ${at}`, () => e.k('first_nonfinite', pn)(n, ptr), () => e.onThreads(() => e.k('first_nonfinite', pn)(n, ptr)));
          if (at >= 0) v[at] = -3 - at / n;
          e.put(pn, ptr, v);
          await both(`max_abs ${pn} at ${at}`, () => e.k('max_abs', pn)(n, ptr), () => e.onThreads(() => e.k('max_abs', pn)(n, ptr)));
        }
      } finally {
        e.free(ptr);
      }
    }
  } finally {
    Object.assign(threadTuning, saved);
  }
  return { checked, differ, runs: (pool?.runs ?? 0) - runs0 };
}
