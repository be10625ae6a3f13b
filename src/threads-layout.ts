/**
 * The control block the threads share (src/threads.ts writes it, src/threads-worker.ts reads it):
 * its words, the operations, and each operation's argument slots. One definition for both sides.
 */

/** Control block layout: Int32 word indices, and byte offsets (`…_BYTE`) of the f64 areas. */
export const CTL = {
  DONE: 1,
  /** syrk: pieces of Gᵀ packed */
  PACKED: 2,
  OP: 4,
  INFO: 5,
  ERROR: 6,
  /** the next piece to claim (syrk: of Gᵀ to pack; gemm, gram: of rows) */
  CLAIM: 8,
  /** how many workers were signalled (the last one to finish notifies DONE) */
  SIGNALLED: 9,
  /** syrk: the next piece of columns */
  CLAIM_COLS: 10,
  /** ARGS f64 argument slots (the operation's layout below) */
  ARGS_BYTE: 64,
  /** MAX_RATES f64: each thread's measured speed in potrf */
  RATES_BYTE: 192,
  /** MAX_RATES i32: worker t's go word (odd: primed; moved to the next even value: run OP) */
  GO_BYTE: 704,
  /** f64: thread 0's time for a diagonal block in potrf */
  LOOK_BYTE: 960,
  /** MAX_PIECES f64: the pieces' results of a scan */
  RESULTS_BYTE: 976,
  BYTES: 976 + 8 * 32,
} as const;

/** f64 argument slots at ARGS_BYTE */
export const ARGS = 16;
/** threads whose speeds potrf keeps (and go words) */
export const MAX_RATES = 64;
/** pieces of a scan at most (one result slot each) */
export const MAX_PIECES = 32;

export const OP = { SYRK: 1, POTRF: 2, EXIT: 3, GEMM: 4, GRAM: 5, GEMV_N: 6, GEMV_T: 7, POTRS: 8, SCAN: 9 } as const;
export type Op = (typeof OP)[keyof typeof OP];

/** precision slot value: 0 f32, 1 f64; 2 for gemv: f32 matrix, f64 vectors (the _f32f64 kernels) */
export type PrecisionCode = 0 | 1 | 2;

/**
 * `lower(C) ← β·lower(C) + α·lower(GᵀG)`, G n × d; `full`: 1 mirrors the lower triangle into the
 * upper one (linalg.syrk), 0 leaves the upper one as it was (the stores' syrk). `packed`: a buffer
 * of syrk_packed_bytes(n, d).
 */
export const SYRK_ARGS = { precision: 0, n: 1, d: 2, alpha: 3, g: 4, ldg: 5, beta: 6, c: 7, ldc: 8, packed: 9, full: 10 } as const;
/**
 * potrf of the d × d matrix at a (lower triangle); `panels`: two packed panels of
 * potrf_packed_bytes(d); `state`: potrfStateBytes(threads, steps), zeroed; `zeroUpper`: 1 zeroes
 * the strict upper triangle at the end (linalg.cholesky), 0 leaves it (the stores' potrf).
 */
export const POTRF_ARGS = { precision: 0, d: 1, a: 2, lda: 3, panels: 4, state: 5, zeroUpper: 6 } as const;
/** gemm of the kernel table (`C ← β·C + α·op(A)·op(B)`, m × n), split by rows of C. */
export const GEMM_ARGS = {
  precision: 0, m: 1, n: 2, k: 3, alpha: 4, a: 5, lda: 6, transA: 7, b: 8, ldb: 9, transB: 10, beta: 11, c: 12, ldc: 13,
} as const;
/** gram of the kernel table (`lower(C) ← β·lower(C) + α·lower(GGᵀ)`, G n × d), split by rows of C. */
export const GRAM_ARGS = { precision: 0, n: 1, d: 2, alpha: 3, g: 4, ldg: 5, beta: 6, c: 7, ldc: 8 } as const;

/**
 * gemv_n of the kernel table (`y ← β·y + α·A·x`, A m × n; the f32f64 kernel has no β), split by
 * rows of A in multiples of 8 (its four-row groups stay whole).
 */
export const GEMV_N_ARGS = { precision: 0, m: 1, n: 2, alpha: 3, a: 4, lda: 5, x: 6, beta: 7, y: 8 } as const;
/** gemv_t of the kernel table (`y ← β·y + α·Aᵀx`, A m × n), split by columns of A in multiples of 16. */
export const GEMV_T_ARGS = GEMV_N_ARGS;

/** potrs of the kernel table (each of the nrhs rows of B ← (L·Lᵀ)⁻¹ row), split by rows of B. */
export const POTRS_ARGS = { precision: 0, d: 1, nrhs: 2, l: 3, ldl: 4, b: 5, ldb: 6 } as const;

/**
 * A scan of x (n elements) by pieces: `kind` 0 max_abs (each piece's largest |x_i|), 1
 * first_nonfinite (each piece's first index, −1 if none); `pieces` results at RESULTS_BYTE, which the
 * calling thread combines (the largest; the first).
 */
export const SCAN_ARGS = { precision: 0, kind: 1, n: 2, x: 3, pieces: 4 } as const;

/** An operation's arguments by name, for its layout L. */
export type ArgsOf<L extends Record<string, number>> = { [K in keyof L]: number };

/** Writes `values` into the argument slots `a` (zeroed first) in `layout`. */
export function writeArgs<L extends Record<string, number>>(a: Float64Array, layout: L, values: ArgsOf<L>): void {
  a.fill(0);
  for (const k of Object.keys(layout) as (keyof L)[]) a[layout[k]] = values[k];
}

/**
 * potrf's state block (Int32 words; must start zeroed): the number of diagonal blocks factored; on
 * a cache line of its own, the number of threads asleep in a wait; a cache line per thread (panel
 * rows of step k packed: k + 1; update of step k done: k + 1; started: 1); the cuts of every step
 * (thread 0 may run any number of steps ahead of a thread that has nothing to do, so no slot is
 * reused).
 */
export const POTRF_STATE = { DIAG: 0, SLEEPERS: 8, THREAD: 16 } as const;

export function potrfStateInts(threads: number, steps: number): number {
  return POTRF_STATE.THREAD + 16 * threads + steps * 2 * (threads + 1);
}

/** Bytes of potrf's state block for `threads` threads and `steps` block columns. */
export function potrfStateBytes(threads: number, steps: number): number {
  return 4 * potrfStateInts(threads, steps);
}

/** What a thread is given when it starts (the calling thread's part gets the same, id 0). */
export interface ThreadInit {
  memory: WebAssembly.Memory;
  /** byte address of the control block */
  ctl: number;
  /** this thread's packing workspace */
  work: number;
  id: number;
  threads: number;
  /** false where Atomics.wait is not allowed (a page's main thread): waits only poll */
  canBlock: boolean;
}

/** A worker's first message: its ThreadInit and the threaded kernels' module. */
export interface WorkerStart extends ThreadInit {
  module: WebAssembly.Module;
}

/** A worker's answer to WorkerStart. */
export type WorkerReply = { ready: true } | { ready?: undefined; error: string };
