/**
 * Initialisation: nothing works before init(); init() and initSync() are idempotent; features().
 * (Its own file: the module state — an uninitialised engine — must be fresh.)
 */
import { describe, expect, it } from 'vitest';
import { EmpiricalFisher, features, init, initSync, linalg, memoryInfo } from '../src/index.js';

describe('before init', () => {
  it('every API call throws an Error that mentions init', () => {
    expect(() => linalg.syrk(new Float32Array(4), 2, 2)).toThrow(/init/);
    expect(() => linalg.cholesky(new Float64Array([4]), 1)).toThrow(/init/);
    expect(() => linalg.choleskySolve(new Float64Array([2]), 1, new Float64Array([1]))).toThrow(/init/);
    expect(() => linalg.solveSPD(new Float64Array([4]), 1, new Float64Array([1]))).toThrow(/init/);
    expect(() => linalg.choleskyFactor(new Float64Array([4]), 1)).toThrow(/init/);
    expect(() => new EmpiricalFisher(3)).toThrow(/init/);
    expect(() => memoryInfo()).toThrow(/init/);
  });
});

describe('init', () => {
  it('init() resolves, is idempotent (also concurrently), and initSync() after it is a no-op', async () => {
    const p1 = init();
    const p2 = init();
    await Promise.all([p1, p2]);
    await init();
    expect(() => initSync()).not.toThrow();
    expect(Array.from(linalg.cholesky(new Float64Array([4, 0, 2, 5]), 2))).toEqual([2, 0, 1, 2]);
  });

  it('features() reports SIMD, one thread and the module size', () => {
    const f = features();
    expect(f.simd).toBe(true);
    expect(typeof f.relaxedSimd).toBe('boolean');
    expect(f.threads).toBe(1);
    expect(Number.isInteger(f.wasmBytes) && f.wasmBytes > 0).toBe(true);
  });

  it('memoryInfo() reports the memory and the allocator', () => {
    const m = memoryInfo();
    expect(m.wasmBytes % 65536).toBe(0);
    expect(m.wasmBytes).toBeGreaterThan(0);
    expect(m.allocatedBytes).toBeGreaterThanOrEqual(0);
    expect(m.allocatedBytes).toBeLessThanOrEqual(m.wasmBytes);
    expect(Number.isInteger(m.liveBlocks) && m.liveBlocks >= 0).toBe(true);
  });
});
