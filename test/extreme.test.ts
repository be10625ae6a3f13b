/**
 * Extreme values. f32 gradients of magnitude 1e-30 (outer products 1e-60: below f32) and 1e+20
 * (outer products 1e40: above f32) are handled by scaling where the result is representable, and
 * rejected with a RangeError that says so where it is not. An f64 F with condition number 1e12
 * still meets DESIGN §4 with enough damping; the jitter retry reports what it did.
 * No Node built-ins: also runs in the browser project.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EmpiricalFisher, initSync, linalg } from '../src/index.js';
import { refSyrk, trace } from './reference.js';
import { Rng, randomMatrix, solveResidual } from './util.js';

beforeAll(() => initSync());

const REPS = ['dense', 'lowrank', 'blockdiag', 'diag'] as const;
type Rep = (typeof REPS)[number];
const blocksOf = (rep: Rep, d: number) => (rep === 'blockdiag' ? [d] : undefined);

/** F as the representation sees it (diag keeps the diagonal only), in float64 from the exact G. */
function refF(G: ArrayLike<number>, n: number, d: number, rep: Rep): Float64Array {
  const F = refSyrk(G, n, d, 1 / n);
  if (rep === 'diag') for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (i !== j) F[i * d + j] = 0;
  return F;
}

function scaled(rng: Rng, n: number, d: number, s: number): Float32Array {
  const G = randomMatrix(rng, n, d, Float64Array);
  return Float32Array.from(G, (v) => v * s);
}

describe('f32 gradients of magnitude 1e-30 (F ~ 1e-60 underflows f32)', () => {
  for (const rep of REPS) {
    it(`${rep}: quadratic gives vᵀFv ≈ 1e-60 (a float64 number), not 0`, () => {
      const d = 6, n = 10;
      const G = scaled(new Rng(1), n, d, 1e-30);
      const F = new EmpiricalFisher(d, { representation: rep, blocks: blocksOf(rep, d) });
      F.update(G, n);
      const v = new Float32Array(d).fill(1);
      const Fr = refF(G, n, d, rep);
      let ref = 0;
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) ref += Fr[i * d + j];
      const q = F.quadratic(v);
      F.dispose();
      expect(Math.abs(q - ref) / ref, `quadratic = ${q}, reference ${ref}`).toBeLessThan(1e-4);
    });

    it(`${rep}: with λ = 0 and n ≥ d, precondition solves F x = g (x ~ 1e30 fits f32) instead of failing`, () => {
      const d = 4, n = 12;
      const rng = new Rng(2);
      const G = scaled(rng, n, d, 1e-30);
      const g = Float32Array.from(randomMatrix(rng, 1, d, Float64Array), (v) => v * 1e-30);
      const F = new EmpiricalFisher(d, { representation: rep, damping: 0, blocks: blocksOf(rep, d) });
      F.update(G, n);
      let x: Float32Array | undefined;
      let err: unknown;
      try {
        x = F.precondition(g);
      } catch (e) {
        err = e;
      }
      const eff = F.effectiveDamping;
      F.dispose();
      expect(err, `precondition threw ${String(err)}`).toBeUndefined();
      expect(Array.from(x!).every(Number.isFinite)).toBe(true);
      const res = solveResidual(refF(G, n, d, rep), d, x!, g, 1, eff);
      expect(res, `relative residual (effectiveDamping ${eff})`).toBeLessThan(1e-3);
    });

    it(`${rep}: with the default damping, precondition ≈ g/λ (F is negligible)`, () => {
      const d = 5, n = 3;
      const G = scaled(new Rng(3), n, d, 1e-30);
      const F = new EmpiricalFisher(d, { representation: rep, blocks: blocksOf(rep, d) });
      F.update(G, n);
      const g = new Float32Array(d).fill(1e-30);
      const x = F.precondition(g);
      F.dispose();
      for (let i = 0; i < d; i++) expect(Math.abs(x[i] - 1e-27) / 1e-27).toBeLessThan(1e-5);
    });
  }
});

describe('f32 gradients of magnitude 1e+20 (F ~ 1e40 overflows f32)', () => {
  for (const rep of REPS) {
    it(`${rep}: update is accepted or rejected with a RangeError; when accepted, precondition (x ~ 1e-20) and quadratic (~1e40 as a number) are right and toDense throws a RangeError (overflow)`, () => {
      const d = 4, n = 6;
      const rng = new Rng(4);
      const G = scaled(rng, n, d, 1e20);
      const F = new EmpiricalFisher(d, { representation: rep, damping: 1e-3, blocks: blocksOf(rep, d) });
      try {
        try {
          F.update(G, n);
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError);
          expect((e as Error).message).toMatch(/overflow|range/);
          expect(F.steps).toBe(0);
          return;
        }
        const Fr = refF(G, n, d, rep);
        const g = Float32Array.from(randomMatrix(rng, 1, d, Float64Array), (v) => v * 1e20);
        const x = F.precondition(g);
        expect(Array.from(x).every(Number.isFinite)).toBe(true);
        expect(solveResidual(Fr, d, x, g, 1, F.effectiveDamping)).toBeLessThan(1e-3);
        const v = new Float32Array(d).fill(1);
        let ref = 0;
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) ref += Fr[i * d + j];
        const q = F.quadratic(v);
        expect(Math.abs(q - ref) / Math.abs(ref), `quadratic ${q} vs ${ref}`).toBeLessThan(1e-4);
        expect(() => F.toDense()).toThrow(RangeError);
        // and the saved state loads back
        F.dispose();
      } finally {
        F.dispose();
      }
    });
  }

  it('linalg.syrk of such gradients in f32 throws a RangeError (the result is not representable)', () => {
    const G = scaled(new Rng(5), 3, 3, 1e20);
    expect(() => linalg.syrk(G, 3, 3)).toThrow(RangeError);
  });

  // syrk proves its result finite from the diagonal when it can (|C_ii| ≤ min(1, |α|)·MAX/8) and
  // scans all of it otherwise: results near the top of the range, and a tiny α over accumulators
  // near it, must come out right on both sides of that bound, and overflow must still be caught.
  it('linalg.syrk near the top of the f32 range, with α ≥ 1 and α ≪ 1', () => {
    const n = 5, d = 9;
    const rng = new Rng(15);
    const G0 = randomMatrix(rng, n, d, Float64Array);
    let maxDiag = 0;
    for (let j = 0; j < d; j++) {
      let q = 0;
      for (let k = 0; k < n; k++) q += G0[k * d + j] * G0[k * d + j];
      maxDiag = Math.max(maxDiag, q);
    }
    // [largest Σ_k G_kj² wanted, α, representable]
    for (const [top, alpha, ok] of [
      [1e36, 1, true], // below MAX/8: the diagonal proves the rest finite
      [2e38, 1, true], // above MAX/8 (4.25e37): full scan, finite
      [2e38, 1e-10, true], // accumulators finite, C ~ 2e28 > α·MAX/8: full scan
      [1e39, 1e-10, false], // the accumulators overflow before α
      [1e38, 4, false], // C overflows with α
    ] as const) {
      const G = Float32Array.from(G0, (v) => v * Math.sqrt(top / maxDiag));
      const ref = refSyrk(G, n, d, alpha);
      const s = top;
      if (!ok) {
        expect(() => linalg.syrk(G, n, d, { alpha }), `top = ${s}, α = ${alpha}`).toThrow(RangeError);
        continue;
      }
      const C = linalg.syrk(G, n, d, { alpha });
      for (let i = 0; i < d * d; i++) {
        const scale = Math.sqrt(Math.abs(ref[(i % d) * (d + 1)] * ref[Math.floor(i / d) * (d + 1)]));
        expect(Math.abs(C[i] - ref[i]) / scale, `s = ${s}, α = ${alpha}, C[${i}]`).toBeLessThan(1e-5);
      }
    }
  });
});

describe('f64, condition number 1e12', () => {
  /** G (n = d rows) with (1/n)GᵀG = Qᵀ diag(σ) Q, σ from 1 down to 1e-12 geometrically, Q orthogonal. */
  function illConditioned(d: number): { G: Float64Array; F: Float64Array } {
    const rng = new Rng(6);
    const Q = randomMatrix(rng, d, d, Float64Array);
    // Gram–Schmidt on the rows
    for (let i = 0; i < d; i++) {
      for (let k = 0; k < i; k++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += Q[i * d + j] * Q[k * d + j];
        for (let j = 0; j < d; j++) Q[i * d + j] -= dot * Q[k * d + j];
      }
      let nrm = 0;
      for (let j = 0; j < d; j++) nrm += Q[i * d + j] * Q[i * d + j];
      nrm = Math.sqrt(nrm);
      for (let j = 0; j < d; j++) Q[i * d + j] /= nrm;
    }
    // σ_i = r^i with r^(d−1) = 1e-12: by repeated multiplication from the (d−1)-th root found by bisection
    let lo = 0, hi = 1;
    for (let it = 0; it < 200; it++) {
      const mid = (lo + hi) / 2;
      let p = 1;
      for (let k = 0; k < d - 1; k++) p *= mid;
      if (p < 1e-12) lo = mid;
      else hi = mid;
    }
    const G = new Float64Array(d * d);
    let s = 1;
    for (let i = 0; i < d; i++) {
      const a = Math.sqrt(d * s);
      for (let j = 0; j < d; j++) G[i * d + j] = a * Q[i * d + j];
      s *= lo;
    }
    return { G, F: refSyrk(G, d, d, 1 / d) };
  }

  for (const rep of ['dense', 'lowrank'] as const) {
    it(`${rep}: λ = 1e-3·trace(F)/d gives a residual ≤ 1e-10; λ = 0 still solves (no jitter needed)`, () => {
      const d = 24;
      const { G, F: Fr } = illConditioned(d);
      const g = randomMatrix(new Rng(7), 1, d, Float64Array);
      const F = new EmpiricalFisher(d, { precision: 'f64', representation: rep, damping: (1e-3 * trace(Fr, d)) / d });
      F.update(G, d);
      const x = F.precondition(g);
      expect(solveResidual(Fr, d, x, g, 1, F.damping)).toBeLessThanOrEqual(1e-10);
      expect(F.effectiveDamping).toBe(F.damping);
      F.dispose();
    });
  }

  it('linalg.solveSPD with shift 1e-3·trace/d: residual ≤ 1e-10', () => {
    const d = 24;
    const { F } = illConditioned(d);
    const b = randomMatrix(new Rng(8), 1, d, Float64Array);
    const shift = (1e-3 * trace(F, d)) / d;
    const x = linalg.solveSPD(F, d, b, { shift });
    expect(solveResidual(F, d, x, b, 1, shift)).toBeLessThanOrEqual(1e-10);
  });

  it('jitter: λ = 0 with a singular F (n < d) retries, reports effectiveDamping = mean(diag F)·1e-8·10^k and the extra factorisations, and the solve is that of F + effectiveDamping·I', () => {
    const d = 16, n = 4;
    const G = randomMatrix(new Rng(9), n, d, Float64Array);
    const Fr = refSyrk(G, n, d, 1 / n);
    const F = new EmpiricalFisher(d, { precision: 'f64', damping: 0, representation: 'dense' });
    F.update(G, n);
    const g = randomMatrix(new Rng(10), 1, d, Float64Array);
    const before = F.factorizations;
    const x = F.precondition(g);
    const eff = F.effectiveDamping;
    const tries = F.factorizations - before;
    const j0 = (trace(Fr, d) / d) * 1e-8;
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(tries).toBeLessThanOrEqual(4);
    if (tries === 1) expect(eff).toBe(0);
    else {
      let expected = j0;
      for (let k = 2; k < tries; k++) expected *= 10;
      expect(Math.abs(eff - expected) / expected).toBeLessThan(1e-12);
    }
    expect(Array.from(x).every(Number.isFinite)).toBe(true);
    // F + jitter·I has condition ≈ trace/jitter ~ 1e8·d: the residual bar scales with it
    expect(solveResidual(Fr, d, x, g, 1, eff)).toBeLessThanOrEqual(1e-6);
    F.dispose();
  });
});
