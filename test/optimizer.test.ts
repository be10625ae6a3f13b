/**
 * EmpiricalFisherOptimizer (issue 3, item 5): the step the constraint asks for (ε binding or not),
 * updateEvery, damping schedules, weight decay and momentum against a float64 hand computation,
 * Levenberg–Marquardt adaptive damping, the step info, save/load continuation, a logistic
 * regression against SGD, and option / input validation that leaves everything unchanged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EmpiricalFisherOptimizer, initSync, NotPositiveDefiniteError } from '../src/index.js';
import type { EmpiricalFisherOptimizerOptions, StepInfo } from '../src/index.js';
import { frobenius, frobeniusDiff, refFisherBatch, refPrecondition, refQuadratic, RefRunningFisher } from './reference.js';
import { FLOAT_TYPES, Rng, expectSameBits, randomMatrix, typeName, type FloatArray, type FloatArrayCtor } from './util.js';
import { batchSchedule, logisticGrads, logisticLoss, makeLogistic, relErr } from './helpers-scale.js';

beforeAll(() => {
  initSync();
});

const types = FLOAT_TYPES.map((T) => [typeName(T), T] as const);

function meanRow(G: ArrayLike<number>, n: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m[j] += G[i * d + j];
  for (let j = 0; j < d; j++) m[j] /= n;
  return m;
}

function diff(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const REPS: [string, EmpiricalFisherOptimizerOptions][] = [
  ['dense', { representation: 'dense' }],
  ['lowrank', { representation: 'lowrank' }],
  ['blockdiag', { representation: 'blockdiag', blocks: [7, 1, 12, 10] }],
  ['diag', { representation: 'diag' }],
];
const D = 30;

// ---------------------------------------------------------------------------------------------
describe.each(types)('the step size %s', (name, Type) => {
  const precision = typeName(Type);

  it.each(REPS)('%s: with ε binding, δᵀFδ = ε (to 1e-5 relative), by the Fisher and by the float64 reference', (label, rep) => {
    const rng = new Rng(10 + label.length);
    const n = 10;
    const eps = 1e-4;
    const params = new Type(D);
    const opt = new EmpiricalFisherOptimizer(params, { ...rep, lr: 1, damping: 0.01, lossChangeBound: eps });
    const ref = new RefRunningFisher(D, 0.95);
    for (let t = 0; t < 4; t++) {
      const G = randomMatrix(rng, n, D, Type);
      ref.update(G, n);
      // start every step from θ = 0 so that δ = θ_after − θ_before is exact in either precision
      params.fill(0);
      const info = opt.step(G, n);
      const delta = Float64Array.from(params);
      expect(info.rate, 'ε binds: η < lr').toBeLessThan(1);
      expect(relErr(opt.fisher.quadratic(Type.from(delta)), eps), `step ${t}: δᵀFδ (Fisher) vs ε`).toBeLessThanOrEqual(1e-5);
      if (label !== 'lowrank' && label !== 'blockdiag' && label !== 'diag') {
        expect(relErr(refQuadratic(ref.dense(), D, delta), eps), `step ${t}: δᵀFδ (reference) vs ε`).toBeLessThanOrEqual(1e-5);
      }
      expect(relErr(info.stepNorm, frobenius(delta)), 'stepNorm').toBeLessThanOrEqual(1e-6);
    }
    opt.dispose();
  });

  it('dense, decay 0: with ε binding the mean squared predicted per-example loss change is ε', () => {
    const rng = new Rng(20);
    const n = 12;
    const eps = 2.5e-3;
    const params = new Type(D);
    const opt = new EmpiricalFisherOptimizer(params, { lr: 10, damping: 0.02, decay: 0, lossChangeBound: eps });
    const G = randomMatrix(rng, n, D, Type);
    const info = opt.step(G, n);
    // decay 0: F is this batch's Fisher, so δᵀFδ = mean_i (g_iᵀδ)² = RMS²
    expect(relErr(info.predictedLossChangeRms * info.predictedLossChangeRms, eps)).toBeLessThanOrEqual(1e-5);
    // and the reference on the actual δ
    const Fref = new RefRunningFisher(D, 0).update(G, n).dense();
    expect(relErr(refQuadratic(Fref, D, params), eps)).toBeLessThanOrEqual(1e-5);
    opt.dispose();
  });

  it.each(REPS)('%s: when ε does not bind (or is not set), rate = lr exactly and δ = −lr·(F+λI)⁻¹ḡ', (label, rep) => {
    const rng = new Rng(30 + label.length);
    const n = 9;
    for (const lossChangeBound of [undefined, 1e9]) {
      const params = new Type(D);
      const opt = new EmpiricalFisherOptimizer(params, { ...rep, lr: 0.25, damping: 0.5, decay: 0, lossChangeBound });
      const G = randomMatrix(rng, n, D, Type);
      const info = opt.step(G, n);
      expect(info.rate).toBe(0.25);
      // compare with the Fisher's own solve of the mean gradient (same object, same representation)
      const v = opt.fisher.precondition(Type.from(meanRow(G, n, D)));
      const want = Float64Array.from(v, (x) => -0.25 * x);
      const err = frobenius(diff(params, want)) / frobenius(want);
      expect(err, `ε = ${lossChangeBound}`).toBeLessThanOrEqual(Type === Float32Array ? 1e-5 : 1e-13);
      opt.dispose();
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe.each(types)('updateEvery and damping schedules %s', (name, Type) => {
  it.each([
    ['dense', 4],
    ['lowrank', 3],
    ['blockdiag', 5],
    ['diag', 2],
  ] as const)('%s, updateEvery %i: F takes every minibatch, its factor is refreshed every k steps and reused between', (label, k) => {
    const rng = new Rng(40 + k);
    const n = 6;
    const steps = 13;
    const rep = REPS.find(([l]) => l === label)![1];
    const params = new Type(D);
    const opt = new EmpiricalFisherOptimizer(params, { ...rep, lr: 0.5, damping: 0.3, decay: 0, updateEvery: k });
    expect(opt.updateEvery).toBe(k);
    const refreshed: boolean[] = [];
    let Fwhen: Float64Array | undefined;
    for (let t = 0; t < steps; t++) {
      const G = randomMatrix(rng, n, D, Type);
      const before = Float64Array.from(params);
      const info = opt.step(G, n);
      refreshed.push(info.refreshed);
      expect(info.step).toBe(t + 1);
      if (t % k === 0) Fwhen = Float64Array.from(opt.fisher.toDense());
      // every minibatch reaches F (decay 0: F is the latest batch's)
      // (blockdiag and diag hold the exact diagonal: compare that)
      const full = label === 'dense' || label === 'lowrank';
      const diagOnly = (M: ArrayLike<number>) => Float64Array.from(M, (v, i) => (full || i % (D + 1) === 0 ? v : 0));
      const Fbatch = diagOnly(refFisherBatch(G, n, D));
      const Fnow = diagOnly(opt.fisher.toDense());
      expect(frobeniusDiff(Fnow, Fbatch) / frobenius(Fbatch), `step ${t}: F is this batch's`).toBeLessThanOrEqual(
        Type === Float64Array ? 1e-13 : 1e-5,
      );
      // the step solves with the F of the last refresh (not the latest batch's)
      if (label === 'dense' && Type === Float64Array) {
        const v = refPrecondition(Fwhen!, D, 0.3, meanRow(G, n, D));
        const want = Float64Array.from(v, (x) => -0.5 * x);
        const got = diff(params, before);
        expect(frobenius(diff(got, want)) / frobenius(want), `step ${t}`).toBeLessThanOrEqual(1e-10);
      }
    }
    // 'lowrank' refactors every step (its factor belongs to the rows an update replaces)
    const lowrank = label === 'lowrank';
    const expected = lowrank ? steps : Math.ceil(steps / k);
    expect(refreshed).toEqual(Array.from({ length: steps }, (_, t) => lowrank || t % k === 0));
    expect(opt.fisher.steps, 'F updated at every step').toBe(steps);
    expect(opt.fisher.factorizations, 'factorisations only on refresh steps').toBe(expected);
    expect(opt.steps).toBe(steps);
    // and updateEvery 1 factors every step
    const p1 = new Type(D);
    const o1 = new EmpiricalFisherOptimizer(p1, { ...rep, lr: 0.5, damping: 0.3, decay: 0 });
    for (let t = 0; t < steps; t++) o1.step(randomMatrix(rng, n, D, Type), n);
    expect(o1.fisher.factorizations).toBe(steps);
    expect(o1.fisher.steps).toBe(steps);
    opt.dispose();
    o1.dispose();
  });

  it('damping as a function of the step count: called with 0, 1, 2, …; the solve and info.damping use it', () => {
    const rng = new Rng(50);
    const n = 8;
    const params = new Type(D);
    const calls: number[] = [];
    const schedule = (t: number) => {
      calls.push(t);
      return 1 / (2 + t);
    };
    const opt = new EmpiricalFisherOptimizer(params, { lr: 0.5, damping: schedule, decay: 0.9 });
    const ref = new RefRunningFisher(D, 0.9);
    for (let t = 0; t < 6; t++) {
      const G = randomMatrix(rng, n, D, Type);
      ref.update(G, n);
      const before = Float64Array.from(params);
      const info = opt.step(G, n);
      expect(info.damping, `step ${t}`).toBe(1 / (2 + t));
      expect(opt.damping).toBe(1 / (2 + t));
      const v = refPrecondition(ref.dense(), D, 1 / (2 + t), meanRow(G, n, D));
      const want = Float64Array.from(v, (x) => -0.5 * x);
      const err = frobenius(diff(diff(params, before), want)) / frobenius(want);
      expect(err, `step ${t}: δ = −lr (F + λ_t I)⁻¹ ḡ`).toBeLessThanOrEqual(Type === Float32Array ? 1e-4 : 1e-10);
    }
    expect(calls).toEqual([0, 1, 2, 3, 4, 5]);
    opt.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
describe('weight decay and momentum against a float64 hand computation', () => {
  it.each([
    ['momentum 0.8, weightDecay 0.1', { momentum: 0.8, weightDecay: 0.1 }],
    ['momentum 0.5', { momentum: 0.5 }],
    ['weightDecay 0.3', { weightDecay: 0.3 }],
    ['momentum 0.9, weightDecay 0.05, ε binding', { momentum: 0.9, weightDecay: 0.05, lossChangeBound: 1e-3 }],
  ] as const)('%s', (label, extra) => {
    const rng = new Rng(60 + label.length);
    const d = 14;
    const n = 5;
    const lr = 0.3;
    const lambda = 0.05;
    const decay = 0.9;
    const theta0 = randomMatrix(rng, 1, d, Float64Array);
    const params = theta0.slice();
    const opt = new EmpiricalFisherOptimizer(params, { lr, damping: lambda, decay, ...extra });
    const mu = (extra as { momentum?: number }).momentum ?? 0;
    const wd = (extra as { weightDecay?: number }).weightDecay ?? 0;
    const eps = (extra as { lossChangeBound?: number }).lossChangeBound;
    const ref = new RefRunningFisher(d, decay);
    const theta = Float64Array.from(theta0);
    const u = new Float64Array(d);
    let bound = 0;
    for (let t = 0; t < 8; t++) {
      const G = randomMatrix(rng, n, d, Float64Array);
      ref.update(G, n);
      const F = ref.dense();
      const v = refPrecondition(F, d, lambda, meanRow(G, n, d));
      for (let j = 0; j < d; j++) u[j] = mu * u[j] + v[j];
      let eta = lr;
      if (eps !== undefined) {
        const q = refQuadratic(F, d, u);
        if (Math.sqrt(eps / q) < eta) {
          eta = Math.sqrt(eps / q);
          bound++;
        }
      }
      for (let j = 0; j < d; j++) theta[j] = theta[j] - eta * u[j] - eta * wd * theta[j];
      const info = opt.step(G, n);
      expect(relErr(info.rate, eta), `step ${t}: rate`).toBeLessThanOrEqual(1e-12);
      const err = frobenius(diff(params, theta)) / frobenius(theta);
      expect(err, `step ${t}: θ vs hand computation`).toBeLessThanOrEqual(1e-11);
    }
    if (eps !== undefined) expect(bound, 'ε bound on some steps').toBeGreaterThan(0);
    opt.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
describe('adaptive damping (Levenberg–Marquardt)', () => {
  const d = 16;
  const n = 8;

  /**
   * Runs `steps` steps on fixed random gradients with `loss` built from the quadratic model at the
   * start of each step: model(θ) = ḡᵀ(θ − θ_t) + ½(θ − θ_t)ᵀF_t(θ − θ_t), F_t the float64 running
   * Fisher after this step's update. `shape(model, θ)` turns it into the loss.
   */
  function run(
    opts: EmpiricalFisherOptimizerOptions,
    steps: number,
    shape: (model: number) => number,
  ): { opt: EmpiricalFisherOptimizer; infos: StepInfo[]; lambdas: number[] } {
    const rng = new Rng(70);
    const params = randomMatrix(rng, 1, d, Float64Array);
    const opt = new EmpiricalFisherOptimizer(params, { lr: 0.5, decay: 0.9, ...opts });
    const ref = new RefRunningFisher(d, 0.9);
    const infos: StepInfo[] = [];
    const lambdas: number[] = [];
    for (let t = 0; t < steps; t++) {
      const G = randomMatrix(rng, n, d, Float64Array);
      ref.update(G, n);
      const F = ref.dense();
      const gbar = meanRow(G, n, d);
      const start = params.slice();
      const loss = () => {
        const dl = diff(params, start);
        return shape(dot(gbar, dl) + 0.5 * refQuadratic(F, d, dl));
      };
      infos.push(opt.step(G, n, { loss }));
      lambdas.push(opt.damping);
    }
    return { opt, infos, lambdas };
  }

  it('the loss barely changes (the model over-predicts, ρ ≈ 0): λ goes up by 1/ω every T steps', () => {
    const T = 2;
    const { opt, infos, lambdas } = run({ damping: 0.1, adaptiveDamping: { interval: T, min: 1e-6, max: 1e3 } }, 6, (m) => 1 + 1e-9 * m);
    const omega = 0.95 * 0.95;
    let lam = 0.1;
    for (let t = 0; t < 6; t++) {
      if (t % T === 0) {
        expect(infos[t].reductionRatio, `step ${t}: ρ measured`).toBeDefined();
        expect(Math.abs(infos[t].reductionRatio!), `step ${t}: ρ ≈ 0`).toBeLessThan(1e-6);
        lam = lam / omega;
      } else {
        expect(infos[t].reductionRatio, `step ${t}: no measurement`).toBeUndefined();
      }
      expect(lambdas[t], `λ after step ${t}`).toBe(lam);
      if (t > 0) expect(infos[t].damping, `step ${t} solved with the λ in force`).toBe(lambdas[t - 1]);
    }
    expect(lambdas[5]).toBeGreaterThan(0.1);
    opt.dispose();
  });

  it('the loss is the quadratic model itself (Hessian = F, ρ = 1) or better (ρ = 3): λ goes down by ω', () => {
    for (const factor of [1, 3]) {
      const { opt, infos, lambdas } = run({ damping: 0.1, adaptiveDamping: { interval: 1, min: 1e-6, max: 1e3 } }, 5, (m) => factor * m);
      let lam = 0.1;
      for (let t = 0; t < 5; t++) {
        expect(relErr(infos[t].reductionRatio!, factor), `ρ at step ${t}`).toBeLessThanOrEqual(1e-8);
        lam = lam * 0.95;
        expect(lambdas[t]).toBe(lam);
      }
      opt.dispose();
    }
  });

  it('ρ between ¼ and ¾ leaves λ alone; a loss that rises (ρ < 0) raises it', () => {
    const half = run({ damping: 0.1, adaptiveDamping: { interval: 1 } }, 3, (m) => 0.5 * m);
    expect(half.lambdas).toEqual([0.1, 0.1, 0.1]);
    half.opt.dispose();
    const worse = run({ damping: 0.1, adaptiveDamping: { interval: 1 } }, 3, (m) => -m);
    expect(worse.lambdas[0]).toBe(0.1 / 0.95);
    expect(worse.infos[0].reductionRatio).toBeLessThan(0);
    worse.opt.dispose();
  });

  it('a NaN loss raises λ', () => {
    const { opt, infos, lambdas } = run({ damping: 0.1, adaptiveDamping: { interval: 1 } }, 3, () => Number.NaN);
    expect(Number.isNaN(infos[0].reductionRatio)).toBe(true);
    expect(lambdas).toEqual([0.1 / 0.95, 0.1 / 0.95 / 0.95, 0.1 / 0.95 / 0.95 / 0.95]);
    opt.dispose();
  });

  it('λ stays within [min, max], and a damping outside them starts clipped', () => {
    const up = run({ damping: 0.1, adaptiveDamping: { interval: 1, min: 0.01, max: 0.12 } }, 8, (m) => 1e-9 * m);
    expect(Math.max(...up.lambdas)).toBe(0.12);
    expect(up.lambdas[7]).toBe(0.12);
    up.opt.dispose();
    const down = run({ damping: 0.1, adaptiveDamping: { interval: 1, min: 0.08, max: 1 } }, 8, (m) => m);
    expect(Math.min(...down.lambdas)).toBe(0.08);
    expect(down.lambdas[7]).toBe(0.08);
    down.opt.dispose();
    const clipped = new EmpiricalFisherOptimizer(new Float64Array(4), { damping: 10, adaptiveDamping: { min: 0.5, max: 2 } });
    expect(clipped.damping).toBe(2);
    clipped.dispose();
  });

  it('without a loss function the damping does not adapt', () => {
    const rng = new Rng(71);
    const params = new Float64Array(d);
    const opt = new EmpiricalFisherOptimizer(params, { damping: 0.1, adaptiveDamping: { interval: 1 } });
    for (let t = 0; t < 3; t++) {
      const info = opt.step(randomMatrix(rng, n, d, Float64Array), n);
      expect(info.reductionRatio).toBeUndefined();
    }
    expect(opt.damping).toBe(0.1);
    opt.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
describe.each(types)('step info %s', (name, Type) => {
  it.each(REPS)('%s: predicted per-example loss changes −η g_iᵀv: mean and RMS from G and the actual δ', (label, rep) => {
    const rng = new Rng(80 + label.length);
    const n = 11;
    const params = new Type(D);
    const opt = new EmpiricalFisherOptimizer(params, { ...rep, lr: 0.2, damping: 0.1, lossChangeBound: 1e-3 });
    for (let t = 0; t < 3; t++) {
      const G = randomMatrix(rng, n, D, Type);
      params.fill(0); // δ = θ_after exactly
      const info = opt.step(G, n);
      const delta = Float64Array.from(params);
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += G[i * D + j] * delta[j];
        sum += s;
        sq += s * s;
      }
      const tol = Type === Float32Array ? 1e-4 : 1e-12;
      expect(relErr(info.predictedLossChange, sum / n), 'mean').toBeLessThanOrEqual(tol);
      expect(relErr(info.predictedLossChangeRms, Math.sqrt(sq / n)), 'RMS').toBeLessThanOrEqual(tol);
      expect(info.predictedLossChange, 'the mean gradient direction reduces the loss').toBeLessThan(0);
      expect(info.predictedLossChangeRms).toBeGreaterThanOrEqual(Math.abs(info.predictedLossChange) * (1 - tol));
      expect(relErr(info.stepNorm, frobenius(delta))).toBeLessThanOrEqual(tol);
      expect(info.damping).toBe(0.1);
      expect(Object.keys(info).sort()).toEqual(
        ['damping', 'predictedLossChange', 'predictedLossChangeRms', 'rate', 'refreshed', 'step', 'stepNorm'].sort(),
      );
    }
    opt.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
describe('save → structuredClone → load → continue: bit-identical to an uninterrupted run', () => {
  const P = makeLogistic(90, 3, 8, 120);
  const m = 16;
  const total = 10;
  const cut = 4;
  const sched = batchSchedule(91, P.N, m, total);

  function runSteps(opt: EmpiricalFisherOptimizer, params: FloatArray, Type: FloatArrayCtor, from: number, to: number): StepInfo[] {
    const infos: StepInfo[] = [];
    for (let t = from; t < to; t++) {
      const idx = sched[t];
      const G = logisticGrads(P, params, idx, Type as Float64ArrayConstructor);
      infos.push(opt.step(G, m, { loss: () => logisticLoss(P, params, idx) }));
    }
    return infos;
  }

  const schedule = (t: number) => 0.05 / (1 + 0.5 * t);
  const CASES: [string, FloatArrayCtor, EmpiricalFisherOptimizerOptions, boolean][] = [
    ['dense f64, momentum, weight decay, ε, adaptive damping', Float64Array, { momentum: 0.9, weightDecay: 0.01, lossChangeBound: 0.05, adaptiveDamping: { interval: 2 } }, false],
    ['lowrank f32, updateEvery 3, constant damping', Float32Array, { representation: 'lowrank', updateEvery: 3, damping: 0.02 }, false],
    ['blockdiag f32, momentum', Float32Array, { representation: 'blockdiag', blocks: [8, 8, 8, 3], momentum: 0.5 }, false],
    ['diag f64, adaptive damping', Float64Array, { representation: 'diag', adaptiveDamping: { interval: 1 } }, false],
    ['dense f64, damping function', Float64Array, { damping: schedule }, true],
    ['dense f64, damping function and updateEvery 3 (saved between refreshes)', Float64Array, { damping: schedule, updateEvery: 3 }, true],
    ['lowrank f64, adaptive damping and updateEvery 3 (saved between refreshes)', Float64Array, { representation: 'lowrank', updateEvery: 3, adaptiveDamping: { interval: 1 } }, false],
  ];

  it.each(CASES)('%s', (label, Type, opts, fn) => {
    const pa = new Type(P.d);
    const a = new EmpiricalFisherOptimizer(pa, { lr: 0.3, ...opts });
    const infosA = runSteps(a, pa, Type, 0, total);

    const pb = new Type(P.d);
    const b = new EmpiricalFisherOptimizer(pb, { lr: 0.3, ...opts });
    runSteps(b, pb, Type, 0, cut);
    const state = structuredClone(b.save());
    const pc = pb.slice() as FloatArray;
    b.dispose();
    const c = EmpiricalFisherOptimizer.load(state, pc, fn ? { damping: schedule } : undefined);
    expect(c.steps).toBe(cut);
    const infosC = runSteps(c, pc, Type, cut, total);
    expectSameBits(pc, pa, 'params after the continued run');
    for (let i = 0; i < total - cut; i++) expect(infosC[i], `info of step ${cut + i}`).toEqual(infosA[cut + i]);
    expect(c.steps).toBe(a.steps);
    expect(c.fisher.steps).toBe(a.fisher.steps);
    expect(c.damping).toBe(a.damping);
    expectSameBits(c.fisher.toDense(), a.fisher.toDense(), 'F');
    a.dispose();
    c.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
describe('logistic regression: lower loss than plain SGD at equal steps', () => {
  it.each([
    ['dense', Float64Array, {}],
    ['dense', Float32Array, {}],
    ['lowrank', Float32Array, { representation: 'lowrank' }],
    ['diag', Float64Array, { representation: 'diag' }],
  ] as const)('%s (%o)', (label, Type, rep) => {
    const P = makeLogistic(11, 3, 15, 400); // d = 48, features on scales 10, 1, 0.1
    const steps = 60;
    const m = 32;
    const sched = batchSchedule(12, P.N, m, steps);
    const initial = logisticLoss(P, new Float64Array(P.d));
    // plain SGD, best of seven rates
    let sgd = Infinity;
    for (const lr of [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3]) {
      const th = new Float64Array(P.d);
      for (const idx of sched) {
        const g = meanRow(logisticGrads(P, th, idx, Float64Array), m, P.d);
        for (let j = 0; j < P.d; j++) th[j] -= lr * g[j];
      }
      const l = logisticLoss(P, th);
      if (l < sgd) sgd = l;
    }
    // the optimizer, best of three rates (damping fixed)
    let ef = Infinity;
    for (const lr of [0.03, 0.1, 0.3]) {
      const th = new Type(P.d);
      const opt = new EmpiricalFisherOptimizer(th, { lr, damping: 1e-2, ...rep });
      for (const idx of sched) opt.step(logisticGrads(P, th, idx, Type as Float64ArrayConstructor), m);
      opt.dispose();
      const l = logisticLoss(P, th);
      if (l < ef) ef = l;
    }
    expect(sgd).toBeLessThan(initial);
    expect(ef, `optimizer ${ef} vs best SGD ${sgd} (initial ${initial})`).toBeLessThan(0.9 * sgd);
  });
});

// ---------------------------------------------------------------------------------------------
describe('bad options and inputs: named errors, nothing changes', () => {
  const params = () => new Float64Array(6);

  it.each([
    ['lr', { lr: 0 }, RangeError],
    ['lr', { lr: -1 }, RangeError],
    ['lr', { lr: Number.NaN }, RangeError],
    ['lr', { lr: Infinity }, RangeError],
    ['lr', { lr: '0.1' }, RangeError],
    ['damping', { damping: -1e-3 }, RangeError],
    ['damping', { damping: Number.NaN }, RangeError],
    ['damping', { damping: 'big' }, RangeError],
    ['decay', { decay: 1 }, RangeError],
    ['decay', { decay: 1.5 }, RangeError],
    ['decay', { decay: -0.1 }, RangeError],
    ['momentum', { momentum: 1 }, RangeError],
    ['momentum', { momentum: -0.5 }, RangeError],
    ['momentum', { momentum: Number.NaN }, RangeError],
    ['weightDecay', { weightDecay: -0.1 }, RangeError],
    ['weightDecay', { weightDecay: Infinity }, RangeError],
    ['updateEvery', { updateEvery: 0 }, RangeError],
    ['updateEvery', { updateEvery: 1.5 }, RangeError],
    ['updateEvery', { updateEvery: -2 }, RangeError],
    ['lossChangeBound', { lossChangeBound: 0 }, RangeError],
    ['lossChangeBound', { lossChangeBound: -1 }, RangeError],
    ['lossChangeBound', { lossChangeBound: Number.NaN }, RangeError],
    ['learningRate', { learningRate: 0.1 }, RangeError],
    ['adaptiveDamping', { adaptiveDamping: { min: 1, max: 0.5 } }, RangeError],
    ['interval', { adaptiveDamping: { interval: 0 } }, RangeError],
    ['min', { adaptiveDamping: { min: -1 } }, RangeError],
    ['max', { adaptiveDamping: { max: Number.NaN } }, RangeError],
    ['omega', { adaptiveDamping: { omega: 2 } }, RangeError],
    ['adaptiveDamping', { adaptiveDamping: true, damping: () => 1 }, RangeError],
    ['representation', { representation: 'sparse' }, RangeError],
    ['blocks', { representation: 'blockdiag', blocks: [2, 2] }, RangeError],
    ['blocks', { representation: 'blockdiag' }, RangeError],
    ['rank', { representation: 'lowrank', rank: 0 }, RangeError],
    ['precision', { precision: 'f16' }, RangeError],
    ['maxBytes', { maxBytes: 0 }, RangeError],
    ['biasCorrection', { biasCorrection: 'yes' }, TypeError],
    ['options', 'fast', TypeError],
  ] as const)('option %s: %o → %o naming it', (what, options, ErrorType) => {
    let err: unknown;
    try {
      new EmpiricalFisherOptimizer(params(), options as unknown as EmpiricalFisherOptimizerOptions);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ErrorType);
    expect((err as Error).message).toContain(what);
  });

  it('params that are not a float array, empty or non-finite are rejected', () => {
    expect(() => new EmpiricalFisherOptimizer([1, 2] as unknown as Float64Array)).toThrow(TypeError);
    expect(() => new EmpiricalFisherOptimizer(new Int32Array(3) as unknown as Float64Array)).toThrow(/params/);
    expect(() => new EmpiricalFisherOptimizer(new Float64Array(0))).toThrow(RangeError);
    expect(() => new EmpiricalFisherOptimizer(new Float64Array([1, Number.NaN]))).toThrow(/params\[1\]/);
  });

  /** State of an optimizer, to compare before and after a rejected call. */
  function snapshot(opt: EmpiricalFisherOptimizer) {
    return {
      params: opt.params.slice() as FloatArray,
      F: opt.fisher.toDense() as FloatArray,
      fsteps: opt.fisher.steps,
      examples: opt.fisher.examples,
      steps: opt.steps,
      damping: opt.damping,
    };
  }
  function expectUnchanged(opt: EmpiricalFisherOptimizer, s: ReturnType<typeof snapshot>, what: string) {
    expectSameBits(opt.params, s.params, `${what}: params`);
    expectSameBits(opt.fisher.toDense(), s.F, `${what}: F`);
    expect(opt.fisher.steps, `${what}: F.steps`).toBe(s.fsteps);
    expect(opt.fisher.examples, `${what}: F.examples`).toBe(s.examples);
    expect(opt.steps, `${what}: steps`).toBe(s.steps);
    expect(opt.damping, `${what}: damping`).toBe(s.damping);
  }

  it.each(['dense', 'lowrank', 'blockdiag', 'diag'] as const)(
    '%s: rejected steps leave params, F and the step count unchanged; the next valid step is as if they never happened',
    (representation) => {
      const d = 6;
      const n = 3;
      const rng = new Rng(100);
      const blocks = representation === 'blockdiag' ? [2, 4] : undefined;
      let bad = false;
      const schedule = (t: number) => (bad ? Number.NaN : 0.1 + t);
      const make = (p: Float64Array) =>
        new EmpiricalFisherOptimizer(p, { representation, blocks, damping: schedule, momentum: 0.5, decay: 0.9 });
      const pa = randomMatrix(rng, 1, d, Float64Array);
      const pb = pa.slice();
      const A = make(pa);
      const B = make(pb);
      const G0 = randomMatrix(rng, n, d, Float64Array);
      A.step(G0, n);
      B.step(G0, n);
      const s = snapshot(A);
      const G = randomMatrix(rng, n, d, Float64Array);
      const withNaN = G.slice();
      withNaN[7] = Number.NaN;
      const rejections: [string, () => unknown, RegExp][] = [
        ['G with a NaN', () => A.step(withNaN, n), /G\[7\]/],
        ['G too short', () => A.step(G.subarray(1), n), /G/],
        ['n = 0', () => A.step(G, 0), /\bn\b/],
        ['n = 1.5', () => A.step(G, 1.5), /\bn\b/],
        ['G an Array', () => A.step(Array.from(G) as unknown as Float64Array, n), /G/],
        ['unknown step option', () => A.step(G, n, { lost: 1 } as never), /lost/],
        ['loss not a function', () => A.step(G, n, { loss: 3 } as never), /loss/],
        [
          'damping function returning NaN',
          () => {
            bad = true;
            try {
              return A.step(G, n);
            } finally {
              bad = false;
            }
          },
          /damping/,
        ],
      ];
      for (const [what, call, re] of rejections) {
        expect(call, what).toThrow(re);
        expectUnchanged(A, s, what);
      }
      // params made non-finite by the caller: rejected, and nothing else changes
      const keep = pa[2];
      pa[2] = Number.POSITIVE_INFINITY;
      expect(() => A.step(G, n)).toThrow(/params\[2\]/);
      pa[2] = keep;
      expectUnchanged(A, s, 'params with ∞');
      // the next valid step gives the same bits as an optimizer that never saw the rejections
      A.step(G, n);
      B.step(G, n);
      expectSameBits(pa, pb, 'params after the next valid step');
      expectSameBits(A.fisher.toDense(), B.fisher.toDense(), 'F after the next valid step');
      A.dispose();
      B.dispose();
    },
  );

  it('adaptive damping: a loss function that throws (before the step) changes nothing', () => {
    const d = 6;
    const rng = new Rng(102);
    const params = randomMatrix(rng, 1, d, Float64Array);
    const opt = new EmpiricalFisherOptimizer(params, { damping: 0.1, adaptiveDamping: { interval: 1 }, momentum: 0.3 });
    opt.step(randomMatrix(rng, 4, d, Float64Array), 4);
    const s = snapshot(opt);
    const boom = () => {
      throw new Error('boom');
    };
    expect(() => opt.step(randomMatrix(rng, 4, d, Float64Array), 4, { loss: boom })).toThrow(/boom/);
    expectUnchanged(opt, s, 'after a throwing loss');
    opt.dispose();
  });

  it('a step whose factorisation fails (NotPositiveDefiniteError) leaves params, F and the step count unchanged', () => {
    const d = 5;
    const params = new Float64Array([1, 2, 3, 4, 5]);
    let lam = 0.5;
    // decay 0: a batch of zero gradients makes F = 0, and with λ = 0 no jitter can help (mean diag 0)
    const opt = new EmpiricalFisherOptimizer(params, { representation: 'dense', damping: () => lam, decay: 0 });
    const rng = new Rng(101);
    opt.step(randomMatrix(rng, 3, d, Float64Array), 3);
    const s = snapshot(opt);
    lam = 0;
    expect(() => opt.step(new Float64Array(2 * d), 2)).toThrow(NotPositiveDefiniteError);
    expectUnchanged(opt, s, 'after NotPositiveDefiniteError');
    opt.dispose();
  });

  it('use after dispose throws "disposed"; dispose twice is a no-op', () => {
    const opt = new EmpiricalFisherOptimizer(new Float64Array(3), { momentum: 0.5 });
    opt.dispose();
    opt.dispose();
    expect(() => opt.step(new Float64Array(3), 1)).toThrow(/disposed/);
    expect(() => opt.save()).toThrow(/disposed/);
  });

  it('load rejects what is not a saved state, a wrong params length, and a missing damping function', () => {
    const p = new Float64Array(4);
    const opt = new EmpiricalFisherOptimizer(p, { damping: (t) => 1 + t });
    opt.step(new Float64Array([1, 2, 3, 4]), 1);
    const state = structuredClone(opt.save());
    expect(() => EmpiricalFisherOptimizer.load({} as never, p)).toThrow(TypeError);
    expect(() => EmpiricalFisherOptimizer.load(state, new Float64Array(5), { damping: (t) => t })).toThrow(/params/);
    expect(() => EmpiricalFisherOptimizer.load(state, p)).toThrow(/damping/);
    opt.dispose();
  });
});

