/**
 * The bench's peak probe (assembly/peak.ts through bench/peak.ts): peak_T returns the sum of its
 * 12 × lanes accumulators, each started at t·(i+1) and iterated acc ← acc·s + t, so the value is
 * checked against the closed form s^k·acc₀ + t·(1 − s^k)/(1 − s) in float64; the flop count per
 * iteration is 12 vectors × lanes × 2; and a round on this thread reports a finite positive rate.
 * Runs in Node and in Chromium (no Node built-ins).
 */
import { describe, expect, it } from 'vitest';
import { kernelModule, PeakMeter, PeakProbe } from '../bench/peak.js';

interface PeakExports {
  peak_f32(iters: number, s: number, t: number): number;
  peak_f64(iters: number, s: number, t: number): number;
  peak_flops_f32(): number;
  peak_flops_f64(): number;
}

/** Σ over 12 accumulators × lanes of s^k·t·(i+1) + t·(1 + s + … + s^(k−1)), in float64. */
function reference(lanes: number, k: number, s: number, t: number): number {
  let sk = 1;
  let geometric = 0;
  for (let j = 0; j < k; j++) {
    geometric += sk;
    sk *= s;
  }
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += lanes * (sk * t * (i + 1) + t * geometric);
  return sum;
}

describe('peak probe kernel', async () => {
  const instance = await WebAssembly.instantiate(await kernelModule(), {});
  const K = instance.exports as unknown as PeakExports;

  it('counts 12 vectors × lanes × (mul + add) flops per iteration', () => {
    expect(K.peak_flops_f32()).toBe(12 * 4 * 2);
    expect(K.peak_flops_f64()).toBe(12 * 2 * 2);
  });

  for (const [p, lanes, tol] of [['f32', 4, 2e-4], ['f64', 2, 1e-12]] as const) {
    it(`peak_${p} computes its accumulators' sum (closed form, k ∈ {0, 1, 3, 17, 1000, 4099})`, () => {
      const f = p === 'f32' ? K.peak_f32 : K.peak_f64;
      for (const [s, t] of [[0.999, 1e-3], [0.5, 0.25], [-0.75, 1.5]]) {
        for (const k of [0, 1, 3, 17, 1000, 4099]) {
          const want = reference(lanes, k, s, t);
          const got = f(k, s, t);
          // every chain contracts (|s| < 1): rounding errors stay within ~u/(1 − |s|) of the scale
          const scale = lanes * 12 * (12 * Math.abs(t) + Math.abs(t) / (1 - Math.abs(s)));
          expect(Math.abs(got - want) / scale, `${p} s=${s} t=${t} k=${k}: ${got} vs ${want}`).toBeLessThan(tol);
        }
      }
    });
  }

  it('a round on this thread: finite, positive GFLOP/s; the meter without workers measures one thread only', async () => {
    const probe = new PeakProbe(instance);
    for (const p of ['f32', 'f64'] as const) {
      const g = probe.round(p, 3, 2);
      expect(Number.isFinite(g) && g > 0.01, `${p}: ${g}`).toBe(true);
    }
    expect(Number.isFinite(probe.sink)).toBe(true);
    const meter = await PeakMeter.create(2);
    expect(meter.maxThreads).toBe(1);
    expect(await meter.round('f64', 1, 2, 2)).toBeGreaterThan(0.01);
    await expect(meter.round('f32', 2)).rejects.toThrow(RangeError);
    await meter.close();
  });
});
