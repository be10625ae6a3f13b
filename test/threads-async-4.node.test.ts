/**
 * The async methods of EmpiricalFisher and the optimizer on 4 threads against the synchronous calls,
 * bit for bit (test/threads-async.ts). The test pretends the machine has 4 cores (os.availableParallelism,
 * which init reads to cap the threads, is mocked here: nothing in the library changes), so that
 * the 4-thread splits run on the 2-core CI machine too (slower: the threads take turns).
 */
import os from 'node:os';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { features, init, linalg } from '../src/index.js';
import { getEngine } from '../src/engine.js';
import { threadTuning } from '../src/tuning.js';
import { FLOAT_TYPES, Rng, expectSameBits, randomMatrix, randomSPD, typeName } from './util.js';
import { asyncBattery } from './threads-async.js';

beforeAll(async () => {
  vi.spyOn(os, 'availableParallelism').mockReturnValue(Math.max(4, os.availableParallelism()));
  await init({ threads: 4 });
});

describe('4 threads', () => {
  it('init runs 4 threads', () => {
    expect(features().threads).toBe(4);
    expect(features().threadsUnavailable).toBeUndefined();
  });

  it('updateAsync, preconditionAsync, updateLayersAsync, stepAsync, stepLayersAsync equal the synchronous calls bit for bit', async () => {
    const r = await asyncBattery();
    expect(r.differ).toEqual([]);
    expect(r.checked).toBeGreaterThan(300);
    expect(r.runs, 'the async calls ran operations on the threads').toBeGreaterThan(100);
  }, 300_000);

  it('linalg.syrkAsync and choleskyAsync on 4 threads equal the one-thread calls (the calling thread taking part, and the workers alone)', async () => {
    const saved = { ...threadTuning };
    Object.assign(threadTuning, { minFlops: 0, minCholeskySeconds: 0, asleepSeconds: 0 });
    const pool = getEngine().pool!;
    const blockBelow = pool.blockBelow;
    try {
      const rng = new Rng(0x3a4 + 4);
      for (const block of [Infinity, 0]) {
        pool.blockBelow = block;
        for (const Type of FLOAT_TYPES) {
          for (const d of [17, 65, 129, 300, 513, 769]) {
            const A = randomSPD(rng, d, Type);
            expectSameBits(await linalg.choleskyAsync(A, d), linalg.cholesky(A, d), `cholesky ${typeName(Type)} d=${d}`);
            const G = randomMatrix(rng, 33, d, Type);
            expectSameBits(await linalg.syrkAsync(G, 33, d), linalg.syrk(G, 33, d), `syrk ${typeName(Type)} d=${d}`);
          }
        }
      }
    } finally {
      pool.blockBelow = blockBelow;
      Object.assign(threadTuning, saved);
    }
  }, 300_000);
});
