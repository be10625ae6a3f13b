/**
 * Memory: growing the wasm memory (which detaches every view of the old buffer) must not disturb
 * objects made before; dispose() and every rejected call give their memory back.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EmpiricalFisher, initSync, linalg, memoryInfo, NotPositiveDefiniteError } from '../src/index.js';
import { norm2 } from './reference.js';
import { Rng, expectSameBits, randomMatrix, randomSPD } from './util.js';

beforeAll(() => {
  initSync();
});

/** 2I + (1/d)·ones: SPD, condition ≤ 1.5, and (A x)_i = 2x_i + Σx/d is cheap to check. */
function easySPD(d: number): Float64Array {
  const A = new Float64Array(d * d).fill(1 / d);
  for (let i = 0; i < d; i++) A[i * d + i] += 2;
  return A;
}

describe('memory growth', () => {
  it('objects made before a growth give the same results, bit for bit, after it', () => {
    const start = memoryInfo();
    const rng = new Rng(1);
    const F64 = new EmpiricalFisher(40, { precision: 'f64', decay: 0.9, damping: 0.01 });
    const F32 = new EmpiricalFisher(33, { precision: 'f32', damping: 0.1 });
    const batches64 = [randomMatrix(rng, 5, 40, Float64Array), randomMatrix(rng, 7, 40, Float64Array)];
    const batches32 = [randomMatrix(rng, 9, 33, Float32Array)];
    for (const G of batches64) F64.update(G, G.length / 40);
    for (const G of batches32) F32.update(G, G.length / 33);
    const A50 = randomSPD(rng, 50, Float64Array);
    const A30 = randomSPD(rng, 30, Float32Array);
    const chol64 = linalg.choleskyFactor(A50, 50);
    const chol32 = linalg.choleskyFactor(A30, 30);
    const g64 = randomMatrix(rng, 1, 40, Float64Array);
    const g32 = randomMatrix(rng, 1, 33, Float32Array);
    const b64 = randomMatrix(rng, 3, 50, Float64Array);
    const b32 = randomMatrix(rng, 2, 30, Float32Array);
    const before = {
      d64: F64.toDense(),
      x64: F64.precondition(g64),
      q64: F64.quadratic(g64),
      d32: F32.toDense(),
      x32: F32.precondition(g32),
      s64: chol64.solve(b64),
      l64: chol64.lower(),
      s32: chol32.solve(b32),
      l32: chol32.lower(),
    };
    const factorizations = F64.factorizations;

    const m0 = memoryInfo();
    // past the initial memory: a d = 2048 f64 factor is 32 MiB
    const d = 2048;
    const big = linalg.choleskyFactor(easySPD(d), d);
    const m1 = memoryInfo();
    expect(m1.wasmBytes, 'the memory grew').toBeGreaterThan(m0.wasmBytes);
    expect(m1.allocatedBytes - m0.allocatedBytes).toBeGreaterThanOrEqual(d * d * 8);
    // the big factor works
    const b = randomMatrix(rng, 1, d, Float64Array);
    const x = big.solve(b);
    let sum = 0;
    for (let i = 0; i < d; i++) sum += x[i];
    const r = Float64Array.from(x, (xi, i) => 2 * xi + sum / d - b[i]);
    expect(norm2(r) / norm2(b)).toBeLessThanOrEqual(1e-12);
    // a second growth from a fresh object, while everything else is alive
    const huge = new EmpiricalFisher(1500, { precision: 'f64' });
    huge.update(randomMatrix(rng, 1, 1500, Float64Array), 1);
    expect(memoryInfo().wasmBytes).toBeGreaterThanOrEqual(m1.wasmBytes);

    expectSameBits(F64.toDense(), before.d64, 'F64 toDense');
    expectSameBits(F64.precondition(g64), before.x64, 'F64 precondition');
    expect(F64.quadratic(g64)).toBe(before.q64);
    expect(F64.factorizations, 'no refactorisation needed').toBe(factorizations);
    expectSameBits(F32.toDense(), before.d32, 'F32 toDense');
    expectSameBits(F32.precondition(g32), before.x32, 'F32 precondition');
    expectSameBits(chol64.solve(b64), before.s64, 'chol64 solve');
    expectSameBits(chol64.lower(), before.l64, 'chol64 lower');
    expectSameBits(chol32.solve(b32), before.s32, 'chol32 solve');
    expectSameBits(chol32.lower(), before.l32, 'chol32 lower');

    // the old objects keep accumulating correctly: same bits as a twin made after the growth
    const G3 = randomMatrix(rng, 4, 40, Float64Array);
    F64.update(G3, 4);
    const twin = new EmpiricalFisher(40, { precision: 'f64', decay: 0.9, damping: 0.01 });
    for (const G of [...batches64, G3]) twin.update(G, G.length / 40);
    expectSameBits(F64.toDense(), twin.toDense(), 'F64 vs twin');
    expectSameBits(F64.precondition(g64), twin.precondition(g64), 'F64 vs twin precondition');

    const m2 = memoryInfo();
    big.dispose();
    huge.dispose();
    const m3 = memoryInfo();
    expect(m3.allocatedBytes).toBeLessThan(m2.allocatedBytes - d * d * 8);
    for (const o of [F64, F32, chol64, chol32, twin]) o.dispose();
    expect(memoryInfo().allocatedBytes, 'everything made in this test is freed').toBe(start.allocatedBytes);
    expect(memoryInfo().liveBlocks).toBe(start.liveBlocks);
  });
});

describe('dispose and rejected calls free their memory', () => {
  it('EmpiricalFisher and CholeskyFactor: dispose returns allocatedBytes to its previous value', () => {
    const rng = new Rng(2);
    const m0 = memoryInfo().allocatedBytes;
    const F = new EmpiricalFisher(64, { precision: 'f64' });
    F.update(randomMatrix(rng, 10, 64, Float64Array), 10);
    F.precondition(randomMatrix(rng, 1, 64, Float64Array));
    expect(memoryInfo().allocatedBytes).toBeGreaterThan(m0);
    F.dispose();
    expect(memoryInfo().allocatedBytes).toBe(m0);
    const c = linalg.choleskyFactor(randomSPD(rng, 70, Float32Array), 70);
    expect(memoryInfo().allocatedBytes).toBeGreaterThan(m0);
    c[Symbol.dispose]();
    expect(memoryInfo().allocatedBytes).toBe(m0);
    c.dispose(); // no-op: does not free twice
    F.dispose();
    expect(memoryInfo().allocatedBytes).toBe(m0);
  });

  it('stateless linalg calls, successful or rejected, leave allocatedBytes unchanged', () => {
    const rng = new Rng(3);
    const m0 = memoryInfo();
    const A = randomSPD(rng, 40, Float64Array);
    const B = randomMatrix(rng, 3, 40, Float64Array);
    linalg.syrk(randomMatrix(rng, 5, 40, Float32Array), 5, 40);
    const L = linalg.cholesky(A, 40);
    linalg.choleskySolve(L, 40, B);
    linalg.solveSPD(A, 40, B, { shift: 1 });
    expect(memoryInfo().allocatedBytes, 'after successful calls').toBe(m0.allocatedBytes);
    expect(memoryInfo().liveBlocks).toBe(m0.liveBlocks);
    const bad = B.slice();
    bad[100] = NaN;
    expect(() => linalg.choleskySolve(L, 40, bad)).toThrow(RangeError);
    expect(() => linalg.solveSPD(A, 40, bad)).toThrow(RangeError);
    const G = randomMatrix(rng, 5, 40, Float64Array);
    G[199] = Infinity;
    expect(() => linalg.syrk(G, 5, 40)).toThrow(RangeError);
    const ones = new Float64Array(40 * 40).fill(1);
    expect(() => linalg.cholesky(ones, 40)).toThrow(NotPositiveDefiniteError);
    expect(() => linalg.solveSPD(ones, 40, B)).toThrow(NotPositiveDefiniteError);
    expect(() => linalg.choleskyFactor(ones, 40)).toThrow(NotPositiveDefiniteError);
    const Lbad = L.slice();
    Lbad[0] = -1;
    expect(() => linalg.choleskySolve(Lbad, 40, B)).toThrow(RangeError);
    expect(memoryInfo().allocatedBytes, 'after rejected calls').toBe(m0.allocatedBytes);
    expect(memoryInfo().liveBlocks).toBe(m0.liveBlocks);
  });

  it('rejected EmpiricalFisher calls and failed factorisations do not leak', () => {
    const rng = new Rng(4);
    const F = new EmpiricalFisher(30, { precision: 'f32', damping: 0 });
    F.update(randomMatrix(rng, 4, 30, Float32Array), 4);
    const m0 = memoryInfo();
    const G = randomMatrix(rng, 4, 30, Float32Array);
    G[119] = NaN;
    expect(() => F.update(G, 4)).toThrow(RangeError);
    const g = randomMatrix(rng, 1, 30, Float32Array);
    g[0] = NaN;
    expect(() => F.precondition(g)).toThrow(RangeError);
    expect(() => F.quadratic(g)).toThrow(RangeError);
    F.reset(); // F = 0 and λ = 0: the factorisation fails even with jitter
    expect(() => F.precondition(new Float32Array(30).fill(1))).toThrow(NotPositiveDefiniteError);
    expect(memoryInfo().allocatedBytes).toBe(m0.allocatedBytes);
    expect(memoryInfo().liveBlocks).toBe(m0.liveBlocks);
    F.dispose();
  });

  it('a dense F too large for WebAssembly memory is a RangeError that allocates nothing', () => {
    const m0 = memoryInfo();
    // 25000² f64 = 5 GB: beyond the 4 GiB of a 32-bit WebAssembly memory
    expect(() => new EmpiricalFisher(25000, { precision: 'f64', representation: 'dense' })).toThrow(RangeError);
    expect(() => new EmpiricalFisher(40000, { precision: 'f32', representation: 'dense' })).toThrow(RangeError);
    const m1 = memoryInfo();
    expect(m1.allocatedBytes).toBe(m0.allocatedBytes);
    expect(m1.liveBlocks).toBe(m0.liveBlocks);
    // and the engine still works
    expect(Array.from(linalg.cholesky(new Float64Array([4, 0, 2, 5]), 2))).toEqual([2, 0, 1, 2]);
  });

  it('memory freed by dispose is reused: repeated create/dispose does not grow the memory', () => {
    const rng = new Rng(5);
    const A = randomSPD(rng, 300, Float64Array);
    const c0 = linalg.choleskyFactor(A, 300);
    c0.dispose();
    const w0 = memoryInfo().wasmBytes;
    for (let k = 0; k < 20; k++) {
      const c = linalg.choleskyFactor(A, 300);
      const F = new EmpiricalFisher(200, { precision: 'f64' });
      F.update(randomMatrix(rng, 2, 200, Float64Array), 2);
      c.dispose();
      F.dispose();
    }
    expect(memoryInfo().wasmBytes).toBe(w0);
  });
});
