/**
 * Memory lifetime: dispose() returns memory (10,000 objects of mixed sizes keep wasm memory
 * bounded), forgotten objects are reclaimed by the FinalizationRegistry (a child node with
 * --expose-gc against dist/), requests beyond 4 GiB or the budget fail with a RangeError before
 * anything is allocated, and the engine keeps working after every error.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmpiricalFisher, EmpiricalFisherOptimizer, initSync, linalg, memoryInfo } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = pathToFileURL(join(root, 'dist', 'index.js')).href;

beforeAll(() => initSync());

/** A small solve whose answer is known: the engine still works. */
function engineWorks(): void {
  const x = linalg.solveSPD(new Float64Array([4, 2, 2, 5]), 2, new Float64Array([6, 7]));
  expect(Array.from(x)).toEqual([1, 1]);
  const F = new EmpiricalFisher(3, { precision: 'f64' });
  F.update(new Float64Array([1, 0, 0, 0, 1, 0]), 2);
  expect(Array.from(F.precondition(new Float64Array([1, 1, 1]))).every(Number.isFinite)).toBe(true);
  F.dispose();
}

// first in the file: peakBytes is still that of a fresh engine
describe('requests beyond the 4 GiB limit or the budget', () => {
  const cases: [string, () => unknown][] = [
    ['syrk: d·d beyond 4 GiB (G itself small)', () => linalg.syrk(new Float32Array(40_000), 1, 40_000)],
    ['syrk: n = 0, d = 2^20', () => linalg.syrk(new Float32Array(0), 0, 2 ** 20)],
    ['EmpiricalFisher diag d = 2^31', () => new EmpiricalFisher(2 ** 31, { representation: 'diag' })],
    ['EmpiricalFisher lowrank d = 2^40', () => new EmpiricalFisher(2 ** 40, { representation: 'lowrank' })],
    ['EmpiricalFisher lowrank d = 1, rank 25,000 (r² Gram beyond 4 GiB, rows small)', () => new EmpiricalFisher(1, { representation: 'lowrank', rank: 25_000 })],
    ['EmpiricalFisher lowrank rank over an explicit maxBytes', () => new EmpiricalFisher(1000, { representation: 'lowrank', rank: 500, maxBytes: 1 << 20 })],
    ['EmpiricalFisher dense over maxBytes', () => new EmpiricalFisher(4096, { representation: 'dense', maxBytes: 1 << 20 })],
    ['EmpiricalFisher blockdiag over maxBytes', () => new EmpiricalFisher(2048, { representation: 'blockdiag', blocks: [1024, 1024], maxBytes: 1 << 20 })],
    ['EmpiricalFisher dense d = 40,000 in the default budget', () => new EmpiricalFisher(40_000, { representation: 'dense' })],
    ['optimizer over the budget', () => new EmpiricalFisherOptimizer(new Float32Array(4096), { representation: 'dense', maxBytes: 1 << 20, momentum: 0.9 })],
  ];
  for (const [name, fn] of cases) {
    it(`${name}: RangeError, nothing allocated, memory not grown, engine keeps working`, () => {
      const before = memoryInfo();
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RangeError);
      expect((err as Error).message).toMatch(/GiB|TiB|MiB|memory|maxBytes|budget|allocat/);
      const after = memoryInfo();
      expect(after.allocatedBytes).toBe(before.allocatedBytes);
      expect(after.liveBlocks).toBe(before.liveBlocks);
      expect(after.wasmBytes, 'wasm memory grew for a request that failed').toBe(before.wasmBytes);
      expect(after.peakBytes, 'something was allocated before the request failed').toBe(before.peakBytes);
      engineWorks();
    });
  }
});

describe('dispose() returns memory', () => {
  it('10,000 objects of mixed sizes, created and disposed: wasm memory bounded, allocations back to the start', () => {
    const start = memoryInfo();
    let seed = 12345;
    const rnd = (k: number) => ((seed = (seed * 16807) % 2147483647) % k);
    let plateau = 0;
    for (let i = 0; i < 10_000; i++) {
      const d = 1 + rnd(i % 97 === 0 ? 300 : 40);
      const kind = i % 5;
      if (kind === 0) {
        const rep = (['dense', 'lowrank', 'blockdiag', 'diag'] as const)[rnd(4)];
        const F = new EmpiricalFisher(d, { precision: i % 2 ? 'f32' : 'f64', representation: rep, blocks: rep === 'blockdiag' ? [d] : undefined });
        F.dispose();
      } else if (kind === 1) {
        const F = new EmpiricalFisher(d, { representation: 'lowrank', decay: 0.5 });
        F.update(new Float32Array(3 * d).fill(0.5), 3);
        F.precondition(new Float32Array(d).fill(1));
        F.dispose();
      } else if (kind === 2) {
        const A = new Float64Array(d * d);
        for (let j = 0; j < d; j++) A[j * d + j] = 2;
        const chol = linalg.choleskyFactor(A, d);
        chol.solve(new Float64Array(d).fill(1));
        chol.dispose();
      } else if (kind === 3) {
        const opt = new EmpiricalFisherOptimizer(new Float32Array(d), { momentum: 0.5, representation: 'diag' });
        opt.step(new Float32Array(2 * d).fill(0.25), 2);
        opt.dispose();
      } else {
        // a rejected call in between: nothing may leak from it
        try {
          linalg.syrk(new Float32Array(d), 1, d + 1);
        } catch {
          /* expected */
        }
        const F = new EmpiricalFisher(d, { representation: 'dense' });
        F.update(new Float32Array(d).fill(1), 1);
        F.dispose();
      }
      if (i === 1000) plateau = memoryInfo().wasmBytes;
    }
    const end = memoryInfo();
    expect(end.allocatedBytes).toBe(start.allocatedBytes);
    expect(end.liveBlocks).toBe(start.liveBlocks);
    // bounded: no growth after the first thousand objects, and within a few times the largest object
    expect(end.wasmBytes).toBe(plateau);
    expect(end.wasmBytes).toBeLessThan(start.wasmBytes + 16 * 1024 * 1024);
  });
});

describe('FinalizationRegistry', () => {
  it('objects forgotten without dispose() are freed after garbage collection (node --expose-gc, dist/)', () => {
    const script = `
import { initSync, memoryInfo, EmpiricalFisher, EmpiricalFisherOptimizer, linalg } from ${JSON.stringify(dist)};
initSync();
const base = memoryInfo().allocatedBytes;
function forget() {
  for (let i = 0; i < 200; i++) {
    const F = new EmpiricalFisher(64, { representation: ['dense', 'lowrank', 'blockdiag', 'diag'][i % 4], blocks: i % 4 === 2 ? [32, 32] : undefined });
    F.update(new Float32Array(128).fill(0.5), 2);
    const A = new Float64Array(16); A[0] = A[5] = A[10] = A[15] = 1;
    linalg.choleskyFactor(A, 4);
    new EmpiricalFisherOptimizer(new Float32Array(16), { momentum: 0.9 });
  }
}
forget();
const held = memoryInfo().allocatedBytes;
for (let k = 0; k < 20 && memoryInfo().allocatedBytes > base; k++) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 20));
}
console.log(JSON.stringify({ base, held, after: memoryInfo().allocatedBytes }));
`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    const { base, held, after } = JSON.parse(out.trim().split('\n').pop()!);
    expect(held).toBeGreaterThan(base + 1_000_000);
    expect(after).toBe(base);
  });
});

describe('after any thrown error the engine keeps working', () => {
  it('errors of every kind, then correct results', () => {
    const attempts: (() => unknown)[] = [
      () => linalg.cholesky(new Float64Array([-1]), 1),
      () => linalg.syrk([1, 2] as never, 1, 2),
      () => linalg.syrk(new Float32Array([NaN]), 1, 1),
      () => linalg.choleskySolve(new Float64Array([0]), 1, new Float64Array([1])),
      () => new EmpiricalFisher(0),
      () => {
        const F = new EmpiricalFisher(2, { damping: 0 });
        try {
          F.precondition(new Float32Array([1, 1]));
        } finally {
          F.dispose();
        }
      },
      () => {
        const F = new EmpiricalFisher(2);
        F.dispose();
        F.update(new Float32Array(2), 1);
      },
    ];
    const before = memoryInfo().allocatedBytes;
    for (const a of attempts) {
      expect(a).toThrow();
      engineWorks();
    }
    expect(memoryInfo().allocatedBytes).toBe(before);
  });
});
