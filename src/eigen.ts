/** @internal The symmetric eigendecomposition of a float64 matrix already in wasm memory (the stores' small Gram matrices). */
import type { Engine } from './engine.js';

/**
 * Eigenvalues (ascending) and eigenvectors (vector k at vectors[k·r …]) of the r × r matrix at ap
 * (float64, lower triangle read; destroyed). Allocates everything before the kernel runs and frees
 * it; throws (changing nothing elsewhere) on memory or if the solver does not converge.
 */
export function symmetricEigenInWasm(e: Engine, ap: number, r: number): { values: Float64Array; vectors: Float64Array } {
  if (r === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  const workBytes = (e.exports.eigh_work_bytes_f64 as (d: number, v: number) => number)(r, 1);
  const got: number[] = [];
  try {
    const wp = e.alloc(r * 8);
    got.push(wp);
    const zp = e.alloc(r * r * 8);
    got.push(zp);
    const ew = e.alloc(workBytes);
    got.push(ew);
    const info = e.k('eigh', 'f64')(r, ap, r, wp, zp, r, 1, e.work, ew);
    if (info !== 0) throw new Error(`the eigensolver did not converge on the sketch's ${r} × ${r} Gram matrix (info ${info})`);
    return { values: e.view64(wp, r).slice(), vectors: e.view64(zp, r * r).slice() };
  } finally {
    for (const p of got) e.free(p);
  }
}
