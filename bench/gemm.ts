// linalg.gemm against linalg.syrk per flop (issue 14: gemm within 90% of the SYRK rate at large
// sizes), interleaved call by call so that both see the same load on a shared host.
//
// gemm: d × d times d × d (2·d³ flops); syrk: GᵀG with G 256 × d (n·d·(d+1) flops), the public
// calls with `out` as a user makes them (copies in and out and the checks included). Each sample
// times one gemm call and a batch of syrk calls of about the same flops, the two in alternating
// order; reported are the medians and bests of each, their ratios, and the median of the ratios
// of the two halves of each sample (adjacent in time, so the least affected by load that drifts).

import { linalg } from '../src/index.js';
import type { FloatArray, Precision } from './plain.js';

export interface GemmVsSyrkCase {
  d: number;
  n: number;
  precision: Precision;
  /** syrk calls per sample (about the flops of one gemm call) */
  syrkCalls: number;
  samples: number;
  gemmMedianGflops: number;
  gemmBestGflops: number;
  syrkMedianGflops: number;
  syrkBestGflops: number;
  /** gemm / syrk of the medians, of the bests, and the median of the per-sample ratios */
  ratioMedians: number;
  ratioBests: number;
  ratioPaired: number;
  /** seconds of each sample: gemm (one call), syrk (syrkCalls calls) */
  gemmSeconds: number[];
  syrkSeconds: number[];
}

export interface GemmVsSyrk {
  date: string;
  cases: GemmVsSyrkCase[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Deterministic uniform numbers in (−1, 1) (mulberry32). */
function fill<T extends FloatArray>(a: T, seed: number): T {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    a[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1 + 1 / 4294967296;
  }
  return a;
}

export function runGemmVsSyrk(o: { quick?: boolean; sizes?: number[]; samples?: number } = {}): GemmVsSyrk {
  const sizes = o.sizes ?? (o.quick ? [256] : [1024]);
  const samples = o.samples ?? (o.quick ? 5 : 21);
  const n = 256;
  const cases: GemmVsSyrkCase[] = [];
  for (const precision of ['f32', 'f64'] as const) {
    const P = precision === 'f32' ? Float32Array : Float64Array;
    for (const d of sizes) {
      const A = fill(new P(d * d), 11 + d);
      const M = fill(new P(d * d), 22 + d);
      const G = fill(new P(n * d), 33 + d);
      const C = new P(d * d);
      const S = new P(d * d);
      const gemmFlops = 2 * d * d * d;
      const syrkFlops = n * d * (d + 1);
      const syrkCalls = Math.max(1, Math.round(gemmFlops / syrkFlops));
      let sink = 0;
      const gemm = () => {
        const t0 = performance.now();
        sink += linalg.gemm(A, M, d, d, d, { out: C })[d];
        return (performance.now() - t0) / 1e3;
      };
      const syrk = () => {
        const t0 = performance.now();
        for (let r = 0; r < syrkCalls; r++) sink += linalg.syrk(G, n, d, { out: S })[d];
        return (performance.now() - t0) / 1e3;
      };
      // warm-up (init warmed the kernels; this warms the caches and the page tables of the arrays)
      for (let w = 0; w < 2; w++) {
        gemm();
        syrk();
      }
      const gs: number[] = [];
      const ss: number[] = [];
      for (let s = 0; s < samples; s++) {
        if (s % 2 === 0) {
          gs.push(gemm());
          ss.push(syrk());
        } else {
          ss.push(syrk());
          gs.push(gemm());
        }
      }
      if (!Number.isFinite(sink)) throw new Error('gemm-vs-syrk: a non-finite result');
      const gRate = gs.map((t) => gemmFlops / t / 1e9);
      const sRate = ss.map((t) => (syrkCalls * syrkFlops) / t / 1e9);
      cases.push({
        d, n, precision, syrkCalls, samples,
        gemmMedianGflops: median(gRate),
        gemmBestGflops: Math.max(...gRate),
        syrkMedianGflops: median(sRate),
        syrkBestGflops: Math.max(...sRate),
        ratioMedians: median(gRate) / median(sRate),
        ratioBests: Math.max(...gRate) / Math.max(...sRate),
        ratioPaired: median(gRate.map((g, i) => g / sRate[i])),
        gemmSeconds: gs,
        syrkSeconds: ss,
      });
    }
  }
  return { date: new Date().toISOString(), cases };
}

/** `peak`: the one-thread SIMD peak around the section (bench/peak.ts), for the fractions of peak. */
export function formatGemmVsSyrk(r: GemmVsSyrk, peak?: Record<'f32' | 'f64', number>): string {
  const lines = [
    `gemm (d × d · d × d, 2·d³) against syrk (n = 256, n·d·(d+1)) per flop, interleaved call by call, ` +
      `${r.cases[0]?.samples ?? 0} samples each; GFLOP/s median (best)${peak ? ' [best / one-thread SIMD peak]' : ''}; the issue-14 bar is gemm/syrk ≥ 0.90 at d = 1024`,
  ];
  if (peak) lines.push(`  one-thread SIMD peak around this section (bench/peak.ts): f32 ${peak.f32.toFixed(1)}, f64 ${peak.f64.toFixed(1)} GFLOP/s`);
  for (const c of r.cases) {
    const met = c.ratioMedians >= 0.9 && c.ratioPaired >= 0.9 ? 'met' : 'NOT met';
    const of = (x: number) => (peak ? ` [${(x / peak[c.precision]).toFixed(2)}]` : '');
    lines.push(
      `  d = ${c.d} ${c.precision}: gemm ${c.gemmMedianGflops.toFixed(1)} (${c.gemmBestGflops.toFixed(1)})${of(c.gemmBestGflops)}, ` +
        `syrk ${c.syrkMedianGflops.toFixed(1)} (${c.syrkBestGflops.toFixed(1)})${of(c.syrkBestGflops)} [${c.syrkCalls} calls a sample]; ` +
        `gemm/syrk ${c.ratioMedians.toFixed(3)} of the medians, ${c.ratioBests.toFixed(3)} of the bests, ` +
        `${c.ratioPaired.toFixed(3)} median of the pairs${c.d === 1024 ? ` — ${met}` : ''}`,
    );
  }
  return lines.join('\n');
}
