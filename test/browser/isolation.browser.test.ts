/**
 * No cross-origin isolation needed: the page vitest serves is not cross-origin isolated (no
 * COOP/COEP headers), so SharedArrayBuffer is unavailable, and the engine works anyway — here and in
 * a Web Worker. Browser-only.
 */
import { describe, expect, it } from 'vitest';
import { EmpiricalFisher, EmpiricalFisherOptimizer, features, init, linalg } from '../../src/index.js';

describe('without cross-origin isolation', () => {
  it('crossOriginIsolated is false and SharedArrayBuffer is not exposed', () => {
    expect(globalThis.crossOriginIsolated).toBe(false);
    expect(typeof (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer).toBe('undefined');
  });

  it('init(), features() and every representation work', async () => {
    await init();
    expect(features()).toMatchObject({ simd: true, threads: 1 });
    expect(Array.from(linalg.solveSPD(new Float64Array([4, 2, 2, 5]), 2, new Float64Array([6, 7])))).toEqual([1, 1]);
    for (const representation of ['dense', 'lowrank', 'blockdiag', 'diag'] as const) {
      const F = new EmpiricalFisher(4, { representation, blocks: representation === 'blockdiag' ? [2, 2] : undefined });
      F.update(new Float32Array([1, 2, 3, 4, 0.5, -1, 2, 0]), 2);
      const v = F.precondition(new Float32Array([1, 1, 1, 1]));
      expect(v.every(Number.isFinite)).toBe(true);
      F.dispose();
    }
    const params = new Float64Array([1, -1, 0.5]);
    const opt = new EmpiricalFisherOptimizer(params, { lr: 0.1 });
    opt.step(new Float64Array([0.1, 0.2, 0.3, -0.3, 0.1, 0.2]), 2);
    expect(params[0]).not.toBe(1);
    opt.dispose();
  });

  it('init() in a module Web Worker, which is not cross-origin isolated either', async () => {
    const worker = new Worker(new URL('./isolation-worker.ts', import.meta.url), { type: 'module' });
    try {
      const reply = await new Promise<{ ok: boolean; isolated: boolean; simd: boolean; x: number[]; error?: string }>(
        (resolve, reject) => {
          worker.onmessage = (e) => resolve(e.data);
          worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
          setTimeout(() => reject(new Error('worker did not answer in 30 s')), 30_000);
        },
      );
      expect(reply.error).toBeUndefined();
      expect(reply).toMatchObject({ ok: true, isolated: false, simd: true, x: [1, 1] });
    } finally {
      worker.terminate();
    }
  });
});
