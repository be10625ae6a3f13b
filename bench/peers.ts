// JavaScript libraries that the bench runs side by side with ours, when they are installed.
//
// A peer is one table entry: its name, the precisions it supports, how to load it (a dynamic
// import, so a missing package only drops the peer) and, per operation, a `prepare` that builds
// the peer's own data structures outside the timed region and returns the timed call. A new peer
// (e.g. the tfjs wasm backend) is one more entry in `PEERS`.

import type { FloatArray, Precision } from './plain.js';

/** eigh: values and vectors; eigh-values: values only; gemm: A·M, both d × d */
export type Op = 'syrk' | 'cholesky' | 'solve' | 'eigh' | 'eigh-values' | 'gemm';

/** The inputs of one benchmark case, shared by every contender (never modified by them). */
export interface CaseInputs {
  op: Op;
  /** rows of G (syrk) */
  n: number;
  d: number;
  /** right-hand sides (solve) */
  nrhs: number;
  precision: Precision;
  /** n × d, row-major */
  G: FloatArray;
  /** d × d symmetric positive definite (exactly symmetric), row-major */
  A: FloatArray;
  /** d × d general, row-major: gemm computes A·M */
  M: FloatArray;
  /** nrhs vectors of length d one after another: B[k·d + i] */
  B: FloatArray;
}

/** A prepared, timed call. */
export interface Prepared {
  /** Runs the operation once and returns one element of the result (fed into a sink). */
  run(): number;
  /** The result of the latest run in our layout (syrk: C, cholesky: L, solve: X as B; eigh: the
   *  eigenvalues, ascending; gemm: A·M), for checks. */
  result(): ArrayLike<number>;
  /** Releases what prepare() acquired (called after the case, also when it failed). */
  dispose?(): void;
}

export interface Peer {
  name: string;
  precisions: readonly Precision[];
  /** true when the peer runs wasm: it then gets the same short warm-up calls as ours */
  wasm?: boolean;
  /** Loads the package; throws (or rejects) when it is not installed. */
  load(): Promise<unknown>;
  /** Per operation: builds the peer's inputs and returns the timed call; undefined = not offered. */
  prepare: Partial<Record<Op, (lib: any, c: CaseInputs) => Prepared>>;
}

/** Copies a row-major r × c array into the peer's matrix type, element by element. */
function toMlMatrix(lib: any, data: ArrayLike<number>, rows: number, cols: number): any {
  const m = new lib.Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j]);
  return m;
}

/** ml-matrix result (rows × cols) back to a row-major array; `transpose` reads it column-wise. */
function fromMlMatrix(m: any, transpose = false): Float64Array {
  const rows: number = m.rows;
  const cols: number = m.columns;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (transpose) out[j * rows + i] = m.get(i, j);
      else out[i * cols + j] = m.get(i, j);
    }
  }
  return out;
}

/** ml-matrix's EigenvalueDecomposition of the symmetric c.A; result(): the eigenvalues. */
function mlEigh(lib: any, c: CaseInputs): Prepared {
  const A = toMlMatrix(lib, c.A, c.d, c.d);
  let e: any;
  return {
    run() {
      e = new lib.EigenvalueDecomposition(A, { assumeSymmetric: true });
      return e.realEigenvalues[0] + e.eigenvectorMatrix.get(0, 0);
    },
    result: () => Float64Array.from(e.realEigenvalues as number[]),
  };
}

/**
 * Loads @tensorflow/tfjs-core with the wasm backend (XNNPACK), single-threaded and SIMD, its
 * .wasm files read from node_modules (setWasmPaths with the package's dist/ directory).
 */
async function loadTfjsWasm(): Promise<{ tf: any; threads: number }> {
  const tf: any = await import('@tensorflow/tfjs-core');
  const wasm: any = await import('@tensorflow/tfjs-backend-wasm');
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const require = createRequire(import.meta.url);
  const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  // one thread, as ours: no threaded binary (it would start a pool of web workers)
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setThreadsCount(1);
  wasm.setWasmPaths(dist);
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not initialise');
  await tf.ready();
  if (tf.getBackend() !== 'wasm') throw new Error(`tfjs backend is ${tf.getBackend()}, not wasm`);
  return { tf, threads: wasm.getThreadsCount?.() ?? 1 };
}

export const PEERS: readonly Peer[] = [
  {
    name: 'ml-matrix',
    precisions: ['f64'],
    load: () => import('ml-matrix'),
    prepare: {
      // The Gram matrix GᵀG through the public API: a transposed copy and a general product.
      syrk(lib, c) {
        const G = toMlMatrix(lib, c.G, c.n, c.d);
        let C: any;
        return {
          run() {
            C = G.transpose().mmul(G);
            return C.get(1, 0);
          },
          result: () => fromMlMatrix(C),
        };
      },
      cholesky(lib, c) {
        const A = toMlMatrix(lib, c.A, c.d, c.d);
        let chol: any;
        return {
          run() {
            chol = new lib.CholeskyDecomposition(A);
            return chol.lowerTriangularMatrix.get(1, 0);
          },
          result: () => fromMlMatrix(chol.lowerTriangularMatrix),
        };
      },
      // JAMA's tred2 + tql2 (Householder tridiagonalisation, implicit QL) on a Matrix. It has no
      // values-only mode: the eigh-values rows time the same full decomposition.
      // the general product of two Matrix objects (its plain triple loop over a cached column)
      gemm(lib, c) {
        const A = toMlMatrix(lib, c.A, c.d, c.d);
        const M = toMlMatrix(lib, c.M, c.d, c.d);
        let C: any;
        return {
          run() {
            C = A.mmul(M);
            return C.get(1, 0);
          },
          result: () => fromMlMatrix(C),
        };
      },
      eigh: (lib, c) => mlEigh(lib, c),
      'eigh-values': (lib, c) => mlEigh(lib, c),
      // The factor is computed outside the timed call; ml-matrix wants the right-hand sides as
      // the columns of a d × nrhs matrix.
      solve(lib, c) {
        const chol = new lib.CholeskyDecomposition(toMlMatrix(lib, c.A, c.d, c.d));
        const Bt = new lib.Matrix(c.d, c.nrhs);
        for (let k = 0; k < c.nrhs; k++) for (let i = 0; i < c.d; i++) Bt.set(i, k, c.B[k * c.d + i]);
        let X: any;
        return {
          run() {
            X = chol.solve(Bt);
            return X.get(0, 0);
          },
          result: () => fromMlMatrix(X, true),
        };
      },
    },
  },
  {
    // GᵀG the fastest way TF.js offers: a tensor from G (a copy into wasm memory), an explicit
    // transpose, then matMul (matMul(g, g, true) — transposeA — is 25× slower: 0.36 vs 9 GFLOP/s
    // at d = 1024, it misses XNNPACK's fast path), the result read back with dataSync (a copy
    // out); f32 only. TF.js has no Cholesky factorisation and no SPD solve.
    name: 'tfjs-wasm',
    precisions: ['f32'],
    wasm: true,
    load: loadTfjsWasm,
    prepare: {
      syrk(lib, c) {
        const tf = lib.tf;
        let C: Float32Array = new Float32Array(0);
        return {
          run() {
            const g = tf.tensor2d(c.G, [c.n, c.d], 'float32');
            const gt = tf.transpose(g);
            const p = tf.matMul(gt, g);
            C = p.dataSync() as Float32Array;
            g.dispose();
            gt.dispose();
            p.dispose();
            return C[1];
          },
          result: () => C,
        };
      },
      // A·M as matMul of two tensors made from the typed arrays, read back with dataSync (the
      // same copies in and out as ours)
      gemm(lib, c) {
        const tf = lib.tf;
        let C: Float32Array = new Float32Array(0);
        return {
          run() {
            const a = tf.tensor2d(c.A, [c.d, c.d], 'float32');
            const m = tf.tensor2d(c.M, [c.d, c.d], 'float32');
            const p = tf.matMul(a, m);
            C = p.dataSync() as Float32Array;
            a.dispose();
            m.dispose();
            p.dispose();
            return C[1];
          },
          result: () => C,
        };
      },
    },
  },
];
