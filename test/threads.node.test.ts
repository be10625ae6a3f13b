/**
 * Threads: `init({ threads: 2 })` runs the async calls on two worker threads over one shared
 * memory. Every threaded result must equal the one-thread result bit for bit (the split changes
 * which thread computes an element, never its operations), at sizes on both sides of every tile
 * and block boundary (NR = 8 / 4, MR = 4, MC = 96, KC = 256, NB = 64, the 16-element split
 * alignment), for syrk (α, β, out), cholesky (shift, out = A, failures), solveSPD and
 * choleskyFactor. Small problems are sent to the workers too (threadTuning's minimums set to 0).
 * Node only: the vitest browser page is not cross-origin isolated (test/browser/threads.browser.test.ts
 * checks the fallback there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { features, init, initSync, linalg, NotPositiveDefiniteError } from '../src/index.js';
import { threadTuning } from '../src/tuning.js';
import { getEngine } from '../src/engine.js';
import { OP, potrfStateBytes } from '../src/threads.js';
import { POTRF_ARGS, SYRK_ARGS } from '../src/threads-layout.js';
import {
  FLOAT_TYPES, Rng, expectCholeskyAccurate, expectSameBits, randomMatrix, randomSPD, typeName, type FloatArray,
} from './util.js';

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 95, 96, 97, 127, 128, 129, 143, 191, 192, 193, 257];
const ROWS = [1, 3, 17, 64, 257];
const MODES = [
  { name: 'the calling thread takes part', blockBelow: Infinity },
  { name: 'the workers alone', blockBelow: 0 },
];

const savedTuning = { ...threadTuning };
const everySizeOnTheThreads = { minFlops: 0, minCholeskySeconds: 0, asleepSeconds: 0 };
beforeAll(async () => {
  await init({ threads: 2 });
  Object.assign(threadTuning, everySizeOnTheThreads);
});
afterAll(() => {
  Object.assign(threadTuning, savedTuning);
});

describe('init({ threads: 2 })', () => {
  it('starts two workers; features() says so', () => {
    const f = features();
    expect(f.threads).toBe(2);
    expect(f.threadsUnavailable).toBeUndefined();
    expect(f.simd).toBe(true);
  });

  it('later init() calls keep the engine; initSync({ threads: 2 }) is a RangeError; bad options throw', async () => {
    await init();
    await init({ threads: 4 });
    expect(features().threads).toBe(2);
    expect(() => initSync({ threads: 2 as 1 })).toThrow(RangeError);
    await expect(init({ threads: 0 })).rejects.toThrow(RangeError);
    await expect(init({ thread: 2 } as never)).rejects.toThrow(/unknown option/);
    for (const bad of [-1, NaN, '3', null]) {
      await expect(init({ threads: 2, blockMs: bad as number }), `blockMs ${String(bad)}`).rejects.toThrow(/blockMs/);
    }
    await init({ threads: 2, blockMs: Infinity });
    expect(getEngine().pool!.blockBelow, 'later init() calls keep the first options').toBe(0.003);
  });
});

// Each equivalence runs twice: with the calling thread taking part as thread 0 (short calls with
// the default blockMs; every call here, with blockBelow = ∞) and on the workers alone (long calls,
// or blockMs: 0; blockBelow = 0 here).
for (const mode of MODES) {
  describe(mode.name, () => {
    let saved = 0;
    beforeAll(() => {
      const pool = getEngine().pool!;
      saved = pool.blockBelow;
      pool.blockBelow = mode.blockBelow;
    });
    afterAll(() => {
      getEngine().pool!.blockBelow = saved;
    });

    describe('syrkAsync equals syrk bit for bit', () => {
      for (const Type of FLOAT_TYPES) {
        it(`${typeName(Type)}: d across tile boundaries, n across KC`, async () => {
          const rng = new Rng(0x7e11 + Type.BYTES_PER_ELEMENT);
          for (const d of SIZES) {
            for (const n of ROWS) {
              if (n * d > 40000 && n !== 17) continue; // keep the sweep quick; the big ones below
              const G = randomMatrix(rng, n, d, Type);
              const one = linalg.syrk(G, n, d, { alpha: 1 / n });
              const two = await linalg.syrkAsync(G, n, d, { alpha: 1 / n });
              expectSameBits(two, one, `syrk n=${n} d=${d}`);
            }
          }
        });

        it(`${typeName(Type)}: α, β with out, n = 0, and d = 300, 513`, async () => {
          const rng = new Rng(0xbe7a + Type.BYTES_PER_ELEMENT);
          for (const [n, d] of [[0, 40], [33, 300], [257, 513]] as const) {
            const G = randomMatrix(rng, n, d, Type);
            const C0 = randomMatrix(rng, d, d, Type);
            const one = linalg.syrk(G, n, d, { alpha: 0.75, beta: -0.5, out: C0.slice() as FloatArray });
            const out = C0.slice() as FloatArray;
            const two = await linalg.syrkAsync(G, n, d, { alpha: 0.75, beta: -0.5, out });
            expect(two).toBe(out);
            expectSameBits(two, one, `syrk β n=${n} d=${d}`);
            // α = 0: only β·out (no product is formed, as on one thread)
            const zero = await linalg.syrkAsync(G, n, d, { alpha: 0, beta: -0.5, out: C0.slice() as FloatArray });
            expectSameBits(zero, linalg.syrk(G, n, d, { alpha: 0, beta: -0.5, out: C0.slice() as FloatArray }), `syrk α = 0 n=${n} d=${d}`);
          }
        });
      }
    });

    describe('choleskyAsync equals cholesky bit for bit', () => {
      for (const Type of FLOAT_TYPES) {
        it(`${typeName(Type)}: d across NB = 64, NB_LARGE = 128 (from d = 768) and the tiles, with a shift`, async () => {
          const rng = new Rng(0xc401 + Type.BYTES_PER_ELEMENT);
          for (const d of [...SIZES, 300, 513, 767, 768, 769, 897]) {
            const A = randomSPD(rng, d, Type);
            const one = linalg.cholesky(A, d, { shift: 0.25 });
            const two = await linalg.choleskyAsync(A, d, { shift: 0.25 });
            expectSameBits(two, one, `cholesky d=${d}`);
            if (d === 129 || d === 300) expectCholeskyAccurate(two, A, d, Type, 0.25);
          }
        });

        it(`${typeName(Type)}: out may be A; the upper triangle of A is not read`, async () => {
          const rng = new Rng(0xa11a + Type.BYTES_PER_ELEMENT);
          const d = 200;
          const A = randomSPD(rng, d, Type);
          const one = linalg.cholesky(A, d);
          for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) A[i * d + j] = NaN;
          const two = await linalg.choleskyAsync(A, d, { out: A });
          expect(two).toBe(A);
          expectSameBits(two, one, 'cholesky in place');
        });

        it(`${typeName(Type)}: a matrix that is not positive definite rejects with the same pivot`, async () => {
          const rng = new Rng(0x0bad + Type.BYTES_PER_ELEMENT);
          for (const [d, k] of [[40, 7], [150, 100], [300, 64], [300, 299]] as const) {
            const A = randomSPD(rng, d, Type);
            A[k * d + k] = -5; // the leading minor of order k + 1 is indefinite
            let pivot = 0;
            try {
              linalg.cholesky(A, d);
            } catch (e) {
              pivot = (e as NotPositiveDefiniteError).pivot;
            }
            expect(pivot).toBeGreaterThan(0);
            const err = await linalg.choleskyAsync(A, d).then(() => undefined, (e: unknown) => e);
            expect(err).toBeInstanceOf(NotPositiveDefiniteError);
            expect((err as NotPositiveDefiniteError).pivot).toBe(pivot);
          }
        });
      }
    });

    describe('a non-finite element of lower(A) is named, on one thread and on the workers', () => {
      // A is not scanned before the factorisation (a NaN or ∞ always makes it fail, see factorBegin):
      // the element must still be named, wherever it sits (first row, a diagonal, a panel, the last
      // element), and NaN in the upper triangle must still be ignored
      for (const Type of FLOAT_TYPES) {
        it(`${typeName(Type)}`, async () => {
          const rng = new Rng(0x7a7a + Type.BYTES_PER_ELEMENT);
          const d = 300;
          const base = randomSPD(rng, d, Type);
          for (const [i, j] of [[0, 0], [1, 0], [150, 3], [200, 200], [299, 130], [299, 299]] as const) {
            for (const bad of [NaN, Infinity, -Infinity]) {
              const A = base.slice() as FloatArray;
              A[i * d + j] = bad;
              A[(d - 1) * 0 + 5] = NaN; // (0, 5): upper triangle, ignored
              const k = i * d + j;
              const re = new RegExp(`\\bA\\[${k}\\]`);
              expect(() => linalg.cholesky(A, d), `cholesky (${i}, ${j}) = ${bad}`).toThrow(re);
              await expect(linalg.choleskyAsync(A, d), `choleskyAsync (${i}, ${j}) = ${bad}`).rejects.toThrow(re);
              await expect(linalg.choleskyFactorAsync(A, d, { shift: 1 }), `choleskyFactorAsync (${i}, ${j})`).rejects.toThrow(re);
            }
          }
          const A = base.slice() as FloatArray;
          A[5] = NaN;
          expectSameBits(await linalg.choleskyAsync(A, d), linalg.cholesky(base, d), 'NaN in the upper triangle');
        });
      }
    });

    describe('solveSPDAsync and choleskyFactorAsync', () => {
      for (const Type of FLOAT_TYPES) {
        it(`${typeName(Type)}: equal the one-thread calls`, async () => {
          const rng = new Rng(0x5017 + Type.BYTES_PER_ELEMENT);
          for (const d of [65, 200]) {
            const A = randomSPD(rng, d, Type);
            const B = randomMatrix(rng, 5, d, Type);
            expectSameBits(await linalg.solveSPDAsync(A, d, B, { shift: 0.5 }), linalg.solveSPD(A, d, B, { shift: 0.5 }), `solveSPD d=${d}`);
            const f1 = linalg.choleskyFactor(A, d);
            const f2 = await linalg.choleskyFactorAsync(A, d);
            expectSameBits(f2.lower(), f1.lower(), `factor d=${d}`);
            expectSameBits(f2.solve(B), f1.solve(B), `factor solve d=${d}`);
            f1.dispose();
            f2.dispose();
          }
        });
      }
    });
  });
}

describe('long calls', () => {
  // Estimated above blockMs (3 ms by default), a call runs on the workers alone and the calling
  // thread awaits them; it comes back shortly before the estimated end (a timer) to wait for the
  // rest blocking. (Whether the event loop turns meanwhile is not asserted: a garbage collection
  // or a burst of page faults on the calling thread can outlast the call.)
  it('choleskyAsync and syrkAsync at d = 1024 (both precisions) on the workers alone: the same bits', async () => {
    const rng = new Rng(0x10a6);
    for (const Type of FLOAT_TYPES) {
      const d = 1024;
      const G = randomMatrix(rng, 256, d, Type);
      const A = linalg.syrk(G, 256, d, { alpha: 1 / 256 });
      for (let i = 0; i < d; i++) A[i * d + i] += 0.05;
      expectSameBits(await linalg.choleskyAsync(A, d), linalg.cholesky(A, d), `cholesky ${typeName(Type)}`);
      expectSameBits(await linalg.syrkAsync(G, 256, d), linalg.syrk(G, 256, d), `syrk ${typeName(Type)}`);
    }
  }, 60000);
});

describe('short calls that find the workers asleep', () => {
  afterAll(() => {
    Object.assign(threadTuning, everySizeOnTheThreads);
  });
  for (const [op, Type] of [['cholesky', Float32Array], ['syrk', Float64Array]] as const) {
    it(`${op} ${typeName(Type)}: runs on the calling thread after idling, on the threads again in a loop, the same bits`, async () => {
      Object.assign(threadTuning, savedTuning);
      const pool = getEngine().pool!;
      const rng = new Rng(op === 'syrk' ? 0x51ee : 0x5eef);
      // under the default asleepSeconds (0.6 ms at the one-thread estimate: d³/3 or n·d² at 40 GFLOP/s f32, 20 f64)
      const d = op === 'syrk' ? 256 : 400, n = 100;
      const A = randomSPD(rng, d, Type), G = randomMatrix(rng, n, d, Type);
      const sync = () => (op === 'syrk' ? linalg.syrk(G, n, d) : linalg.cholesky(A, d));
      const async_ = () => (op === 'syrk' ? linalg.syrkAsync(G, n, d) : linalg.choleskyAsync(A, d));
      const want = sync();
      // the workers poll for at most 5 ms after a call or a prime: 30 ms later they are asleep
      await new Promise((resolve) => setTimeout(resolve, 30));
      const runs = pool.runs;
      expectSameBits(await async_(), want, 'after idling');
      expect(pool.runs, 'the call after idling ran on the calling thread').toBe(runs);
      // calls in quick succession wake the workers for the calls that follow
      for (let i = 0; i < 40; i++) expectSameBits(await async_(), want, `call ${i} of a loop`);
      expect(pool.runs, 'a loop of calls runs on the threads again').toBeGreaterThan(runs);
    });
  }
});

describe('a worker whose kernel traps', () => {
  // Thread 0 traps in the first diagonal block (an address past the memory); before, thread 1 then
  // waited at the next barrier forever and the call never settled
  it('fails the call (no hang), and the pool works afterwards', async () => {
    const pool = getEngine().pool!;
    expect(pool).toBeDefined();
    const d = 300;
    const pp = getEngine().alloc(1 << 20);
    try {
      for (const op of [OP.POTRF, OP.SYRK]) {
        // (potrf's state block zeroed at pp + 512 KiB)
        new Uint8Array(getEngine().memory.buffer, pp + (1 << 19), potrfStateBytes(2, 5)).fill(0);
        const run = (seconds?: number) =>
          op === OP.POTRF
            ? pool.run(op, POTRF_ARGS, { precision: 0, d, a: 0xf0000000, lda: d, panels: pp, state: pp + (1 << 19), zeroUpper: 1 }, seconds)
            : pool.run(op, SYRK_ARGS, { precision: 0, n: 64, d, alpha: 1, g: 0xf0000000, ldg: d, beta: 0, c: pp, ldc: d, packed: pp, full: 1 }, seconds);
        // seconds = ∞: on the workers alone (worker 0 traps); 0: the calling thread is thread 0 and
        // traps itself (it must still release the barrier and wait for worker 1)
        await expect(run()).rejects.toThrow(/worker thread failed/);
        await expect(run(0)).rejects.toThrow(/worker thread failed/);
      }
    } finally {
      getEngine().free(pp);
    }
    const rng = new Rng(0x7a9);
    for (const Type of FLOAT_TYPES) {
      const A = randomSPD(rng, d, Type);
      expectSameBits(await linalg.choleskyAsync(A, d), linalg.cholesky(A, d), `after the failure, ${typeName(Type)}`);
      const G = randomMatrix(rng, 64, d, Type);
      expectSameBits(await linalg.syrkAsync(G, 64, d), linalg.syrk(G, 64, d), `syrk after the failure, ${typeName(Type)}`);
    }
  }, 20000);
});


describe('calls overlap safely', () => {
  it('many async calls in flight, and sync calls meanwhile, all give the one-thread results', async () => {
    const rng = new Rng(0x0f1e);
    const jobs: { d: number; G: Float64Array; A: Float32Array }[] = [];
    for (const d of [70, 130, 260]) jobs.push({ d, G: randomMatrix(rng, 40, d, Float64Array), A: randomSPD(rng, d, Float32Array) });
    const pending = jobs.flatMap(({ d, G, A }) => [linalg.syrkAsync(G, 40, d), linalg.choleskyAsync(A, d)]);
    // synchronous calls on the main thread while the workers run
    const syncResults = jobs.flatMap(({ d, G, A }) => [linalg.syrk(G, 40, d), linalg.cholesky(A, d)]);
    const asyncResults = await Promise.all(pending);
    asyncResults.forEach((r, i) => expectSameBits(r, syncResults[i], `job ${i}`));
  });

  it('bad inputs reject (not throw) and leave out untouched', async () => {
    const G = new Float64Array(12);
    G[5] = NaN;
    const out = new Float64Array(9).fill(7);
    const p = linalg.syrkAsync(G, 4, 3, { out });
    await expect(p).rejects.toThrow(/G\[5\] is NaN/);
    expect(Array.from(out)).toEqual(new Array(9).fill(7));
    await expect(linalg.choleskyAsync(new Float32Array(3), 2)).rejects.toThrow(RangeError);
  });
});
