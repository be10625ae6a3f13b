// JavaScript libraries that the bench runs side by side with ours, when they are installed.
//
// A peer is one table entry: its name, the precisions it supports, how to load it (a dynamic
// import, so a missing package only drops the peer) and, per operation, a `prepare` that builds
// the peer's own data structures outside the timed region and returns the timed call. A new peer
// (e.g. the tfjs wasm backend) is one more entry in `PEERS`.

import type { FloatArray, Precision } from './plain.js';

export type Op = 'syrk' | 'cholesky' | 'solve';

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
  /** nrhs vectors of length d one after another: B[k·d + i] */
  B: FloatArray;
}

/** A prepared, timed call. */
export interface Prepared {
  /** Runs the operation once and returns one element of the result (fed into a sink). */
  run(): number;
  /** The result of the latest run in our layout (syrk: C, cholesky: L, solve: X as B), for checks. */
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
];
