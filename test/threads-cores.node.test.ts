/**
 * init({ threads: k }) with k above the machine's cores runs as many threads as it has cores
 * (more would take turns on the cores: on 2 cores, 3 threads were 3–10× slower than one), and
 * features() says so. Its own file: the engine must be fresh.
 */
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { features, init, linalg } from '../src/index.js';
import { Rng, expectSameBits, randomSPD } from './util.js';

describe('init({ threads }) above the number of cores', () => {
  it('runs as many threads as the machine has cores, and says why', async () => {
    const cores = availableParallelism();
    await init({ threads: 64 });
    const f = features();
    expect(f.threads).toBe(cores);
    if (cores < 64) expect(f.threadsUnavailable).toMatch(new RegExp(`^${cores} threads? instead of 64: this machine runs ${cores} at once`));
    const rng = new Rng(0xc0e5);
    const A = randomSPD(rng, 512, Float64Array);
    expectSameBits(await linalg.choleskyAsync(A, 512), linalg.cholesky(A, 512), 'choleskyAsync');
  });
});
