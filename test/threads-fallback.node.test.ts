/**
 * Where threads are unavailable (here: SharedArrayBuffer hidden before init, as in a page that is
 * not cross-origin isolated), init({ threads: 2 }) falls back to one thread, features().threads
 * says 1 and why, and the async calls still work (on the calling thread, same bits).
 * Its own file: the engine must be fresh.
 */
import { describe, expect, it } from 'vitest';
import { features, init, linalg } from '../src/index.js';

describe('init({ threads }) without SharedArrayBuffer', () => {
  it('falls back to one thread', async () => {
    const g = globalThis as { SharedArrayBuffer?: unknown };
    const saved = g.SharedArrayBuffer;
    delete g.SharedArrayBuffer;
    try {
      await init({ threads: 2 });
    } finally {
      g.SharedArrayBuffer = saved;
    }
    const f = features();
    expect(f.threads).toBe(1);
    expect(f.threadsUnavailable).toMatch(/SharedArrayBuffer/);
    const G = new Float64Array([1, 2, 3, 4]);
    expect(Array.from(await linalg.syrkAsync(G, 2, 2))).toEqual([10, 14, 14, 20]);
    expect(Array.from(await linalg.choleskyAsync(new Float64Array([4, 0, 2, 5]), 2))).toEqual([2, 0, 1, 2]);
  });
});
