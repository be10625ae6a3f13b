// Milliseconds of the EmpiricalFisher's own work, as a user calls it: `update(G, n)` then
// `precondition(ḡ)` (F changed, so this includes the refactorisation), and one optimizer step —
// for the representations that serve large models (DESIGN §1): lowrank at d = 100,000 with a
// minibatch of 128, and blockdiag with 10 blocks of 1,000. Timed with benchmark.js after short
// warm-up calls; median and best of its samples.

import Benchmark from 'benchmark';
import { EmpiricalFisher, EmpiricalFisherOptimizer } from '../src/index.js';

export interface FisherCase {
  name: string;
  d: number;
  n: number;
  representation: 'lowrank' | 'blockdiag' | 'dense' | 'diag';
  blocks?: number[];
}

export interface FisherResult extends FisherCase {
  op: 'update+precondition' | 'optimizer step';
  medianMs: number;
  bestMs: number;
  samples: number;
}

export const FISHER_CASES: FisherCase[] = [
  { name: 'lowrank d=100000 n=128 f32', d: 100_000, n: 128, representation: 'lowrank' },
  { name: 'blockdiag 10×1000 n=128 f32', d: 10_000, n: 128, representation: 'blockdiag', blocks: new Array(10).fill(1000) },
  { name: 'dense d=1024 n=128 f32', d: 1024, n: 128, representation: 'dense' },
  { name: 'diag d=100000 n=128 f32', d: 100_000, n: 128, representation: 'diag' },
];

/** Seeded uniform values in (−0.5, 0.5), never all zero. */
export function fill(a: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function time(fn: () => void, maxTime: number): { medianMs: number; bestMs: number; samples: number } {
  // warm-up: the same call a few times, so V8 tiers the wasm up before it is timed
  for (let i = 0; i < 3; i++) fn();
  const bench = new Benchmark('case', fn, { maxTime, minSamples: 5, initCount: 1 });
  bench.run();
  const samples = bench.stats.sample.map((s: number) => s * 1e3);
  return { medianMs: median(samples), bestMs: Math.min(...samples), samples: samples.length };
}

/** Runs the cases (after init()); `filter` selects by name. */
export function runFisherBench(options: { quick?: boolean; filter?: RegExp; maxTime?: number } = {}): FisherResult[] {
  const maxTime = options.maxTime ?? (options.quick ? 0.5 : 3);
  const results: FisherResult[] = [];
  for (const c of FISHER_CASES) {
    if (options.filter && !options.filter.test(c.name)) continue;
    if (options.quick && c.d > 20_000) continue;
    const G = fill(new Float32Array(c.n * c.d), c.d + c.n);
    const g = new Float32Array(c.d);
    for (let i = 0; i < c.n; i++) for (let j = 0; j < c.d; j++) g[j] += G[i * c.d + j] / c.n;
    const out = new Float32Array(c.d);
    let sink = 0;
    const F = new EmpiricalFisher(c.d, { representation: c.representation, blocks: c.blocks, damping: 1e-3 });
    try {
      const t = time(() => {
        F.update(G, c.n);
        F.precondition(g, out);
        sink += out[0];
      }, maxTime);
      results.push({ ...c, op: 'update+precondition', ...t });
    } finally {
      F.dispose();
    }
    const params = fill(new Float32Array(c.d), 7);
    const opt = new EmpiricalFisherOptimizer(params, {
      representation: c.representation,
      blocks: c.blocks,
      lr: 1e-3,
      damping: 1,
      decay: 0,
    });
    try {
      const t = time(() => {
        sink += opt.step(G, c.n).stepNorm;
      }, maxTime);
      results.push({ ...c, op: 'optimizer step', ...t });
    } finally {
      opt.dispose();
    }
    if (!Number.isFinite(sink)) throw new Error(`non-finite result in ${c.name}`);
  }
  return results;
}

export function formatFisherResults(results: readonly FisherResult[]): string {
  const rows = [['case', 'operation', 'median ms', 'best ms', 'samples']];
  for (const r of results) rows.push([r.name, r.op, r.medianMs.toFixed(1), r.bestMs.toFixed(1), String(r.samples)]);
  const widths = rows[0].map((_, j) => Math.max(...rows.map((row) => row[j].length)));
  return rows
    .map((row) => row.map((cell, j) => (j >= 2 ? cell.padStart(widths[j]) : cell.padEnd(widths[j]))).join('  '))
    .join('\n');
}
