// The baseline of the benchmarks: each benchmarked operation written in plain TypeScript on typed
// arrays, the way a competent JavaScript programmer would write it — row-major storage, loops over
// contiguous rows, no wasm, no SIMD, no blocking or unrolling. The bench reports ours/plain from the
// same run.
//
// Every function works on Float32Array or Float64Array. `plainFor(precision)` hands out a separate
// copy of the functions per precision so that V8's type feedback stays monomorphic in each copy:
// a library that offered both precisions would have one compiled path per type, and a benchmark
// that ran f32 first would otherwise measure f64 through a deoptimised, polymorphic function.

export type FloatArray = Float32Array | Float64Array;
export type Precision = 'f32' | 'f64';

/**
 * C ← GᵀG, full symmetric d × d. G: n × d row-major [in]; C: d × d row-major [out];
 * work: at least n·d elements of scratch (allocated if not given).
 * Transposes G into work so that column j of G is a contiguous row, then fills the lower triangle
 * with dot products of those rows and mirrors each entry into the upper triangle. (Accumulating
 * the outer product of each row of G into C instead measured ~40% slower: it streams all of C
 * through the cache n times.)
 */
export function syrk(G: FloatArray, n: number, d: number, C: FloatArray, work?: FloatArray): FloatArray {
  const T = work ?? new (G.constructor as Float64ArrayConstructor)(n * d);
  for (let r = 0; r < n; r++) {
    const g = r * d;
    for (let i = 0; i < d; i++) T[i * n + r] = G[g + i];
  }
  for (let i = 0; i < d; i++) {
    const a = i * n;
    for (let j = 0; j <= i; j++) {
      const b = j * n;
      let s = 0;
      for (let r = 0; r < n; r++) s += T[a + r] * T[b + r];
      C[i * d + j] = s;
      C[j * d + i] = s;
    }
  }
  return C;
}

/**
 * In-place lower Cholesky (Cholesky–Banachiewicz, row by row): A (d × d, row-major) [in,out];
 * reads the lower triangle of A, leaves L there and zeros the strict upper triangle.
 * Returns 0, or the 1-based index of the first pivot that is not positive (as LAPACK's info).
 */
export function cholesky(A: FloatArray, d: number): number {
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let j = 0; j <= i; j++) {
      const rj = j * d;
      let s = A[ri + j];
      for (let k = 0; k < j; k++) s -= A[ri + k] * A[rj + k];
      if (i === j) {
        if (!(s > 0)) return i + 1;
        A[ri + i] = Math.sqrt(s);
      } else {
        A[ri + j] = s / A[rj + j];
      }
    }
    for (let j = i + 1; j < d; j++) A[ri + j] = 0;
  }
  return 0;
}

/**
 * Solves L·Lᵀ X = B in place for nrhs right-hand sides. L: d × d lower, row-major [in];
 * B [in,out]: nrhs vectors of length d one after another (B[k·d + i]).
 * Forward substitution with dot products over rows of L; back substitution as a sweep that
 * subtracts row i of L (= column i of Lᵀ) times x_i, so both passes read L by rows.
 */
export function choleskySolve(L: FloatArray, d: number, B: FloatArray, nrhs: number): FloatArray {
  for (let k = 0; k < nrhs; k++) {
    const b = k * d;
    for (let i = 0; i < d; i++) {
      const ri = i * d;
      let s = B[b + i];
      for (let j = 0; j < i; j++) s -= L[ri + j] * B[b + j];
      B[b + i] = s / L[ri + i];
    }
    for (let i = d - 1; i >= 0; i--) {
      const ri = i * d;
      const xi = B[b + i] / L[ri + i];
      B[b + i] = xi;
      for (let j = 0; j < i; j++) B[b + j] -= L[ri + j] * xi;
    }
  }
  return B;
}

/**
 * C ← A·B, A m × k, B k × n, C m × n, all row-major [C out]. The i-p-j order: row i of C
 * accumulates A[i, p]·(row p of B), so the inner loop walks rows of B and C contiguously (the
 * i-j-p order of dot products reads B down its columns, one cache line per element).
 */
export function gemm(A: FloatArray, B: FloatArray, m: number, n: number, k: number, C: FloatArray): FloatArray {
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let j = 0; j < n; j++) C[ci + j] = 0;
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p];
      const bp = p * n;
      for (let j = 0; j < n; j++) C[ci + j] += a * B[bp + j];
    }
  }
  return C;
}

export interface PlainKernels {
  syrk: typeof syrk;
  gemm: typeof gemm;
  cholesky: typeof cholesky;
  choleskySolve: typeof choleskySolve;
}

const copies = new Map<Precision, PlainKernels>();

/** A copy of the plain kernels used only with arrays of one precision (see the file comment). */
export function plainFor(precision: Precision): PlainKernels {
  let k = copies.get(precision);
  if (!k) {
    k = {
      syrk: recompile(syrk),
      cholesky: recompile(cholesky),
      choleskySolve: recompile(choleskySolve),
      gemm: recompile(gemm),
    };
    copies.set(precision, k);
  }
  return k;
}

// A fresh function object from the same source gets its own type feedback in V8. The functions
// above refer to nothing but their parameters and Math, so recompiling them is safe.
function recompile<F extends (...args: never[]) => unknown>(f: F): F {
  return new Function(`return (${f.toString()});`)() as F;
}
