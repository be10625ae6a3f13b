/**
 * The async methods of EmpiricalFisher and the optimizer on 2 threads against the synchronous calls,
 * bit for bit (test/threads-async.ts). Its own file: each file has a fresh engine.
 */
import os from 'node:os';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { expectSameBits } from './util.js';
import { features, init } from '../src/index.js';
import { asyncBattery } from './threads-async.js';

beforeAll(async () => {
  vi.spyOn(os, 'availableParallelism').mockReturnValue(Math.max(2, os.availableParallelism()));
  await init({ threads: 2 });
});

describe('2 threads', () => {
  it('init runs 2 threads', () => {
    expect(features().threads).toBe(2);
    expect(features().threadsUnavailable).toBeUndefined();
  });

  it('updateAsync, preconditionAsync, updateLayersAsync, stepAsync, stepLayersAsync equal the synchronous calls bit for bit', async () => {
    const r = await asyncBattery();
    expect(r.differ).toEqual([]);
    expect(r.checked).toBeGreaterThan(300);
    expect(r.runs, 'the async calls ran operations on the threads').toBeGreaterThan(100);
  }, 300_000);
});

describe('async calls of every kind in flight together', () => {
  it('linalg calls on the workers alone, then stepAsync and updateAsync: each waits its turn, the same bits', async () => {
    const { linalg, EmpiricalFisherOptimizer, EmpiricalFisher } = await import('../src/index.js');
    const { getEngine } = await import('../src/engine.js');
    const pool = getEngine().pool!;
    const blockBelow = pool.blockBelow;
    pool.blockBelow = 0; // linalg calls on the workers alone (the calling thread awaits them)
    try {
      const d = 700;
      const n = 64;
      const G = new Float64Array(n * d).map((_, i) => Math.sin(i * 0.37) * 0.5);
      const A = linalg.syrk(G, n, d, { alpha: 1 / n });
      for (let i = 0; i < d; i++) A[i * d + i] += 0.1;
      const one = new EmpiricalFisherOptimizer(new Float64Array(d).fill(0.01), { representation: 'dense', decay: 0.5 });
      const two = new EmpiricalFisherOptimizer(new Float64Array(d).fill(0.01), { representation: 'dense', decay: 0.5 });
      const F1 = new EmpiricalFisher(d, { precision: 'f64', representation: 'dense' });
      const F2 = new EmpiricalFisher(d, { precision: 'f64', representation: 'dense' });
      try {
        const pending = [linalg.choleskyAsync(A, d), linalg.syrkAsync(G, n, d)];
        const step = two.stepAsync(G, n);
        const update = F2.updateAsync(G, n);
        const more = linalg.choleskyAsync(A, d);
        const [L, C, info, , L2] = await Promise.all([...pending, step, update, more]);
        expectSameBits(L as Float64Array, linalg.cholesky(A, d), 'cholesky');
        expectSameBits(L2 as Float64Array, linalg.cholesky(A, d), 'cholesky after');
        expectSameBits(C as Float64Array, linalg.syrk(G, n, d), 'syrk');
        expect(info).toEqual(one.step(G, n));
        expectSameBits(two.params, one.params, 'params');
        F1.update(G, n);
        const g = G.subarray(0, d);
        expectSameBits(await F2.preconditionAsync(g), F1.precondition(g), 'precondition');
      } finally {
        one.dispose();
        two.dispose();
        F1.dispose();
        F2.dispose();
      }
    } finally {
      pool.blockBelow = blockBelow;
    }
  }, 120_000);
});
