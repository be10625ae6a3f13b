/**
 * The threads' tuning constants, in one place. They were fitted on one 2-vCPU cloud VM (Node 20,
 * V8's wasm SIMD); the measurements behind each are in bench/RESULTS.md, "Threads: the tuning
 * constants". Times in ms unless the name says otherwise.
 */

/** init's blockMs default: a call estimated under 3 ms lets the calling thread take part (waking it
 *  through the event loop costs 0.15–0.35 ms, a tenth of such a call). */
export const BLOCK_MS = 3;
/** The calling thread polls this long for the workers' done count before it sleeps (it has done
 *  its share, so the core is its own). */
export const SPIN_DONE_MS = 2;
/** Long calls: the calling thread comes back this long before the estimated end to wait blocking
 *  (a timer fires late by up to ~1 ms). */
export const WAKE_LEAD_MS = 1;
/** The workers' polling windows are counted as ending this much earlier than they do (clock skew
 *  between threads). */
export const AWAKE_MARGIN_MS = 0.25;
/** A primed worker polls this long instead of sleeping, so its wake-up (0.05–0.5 ms) overlaps the
 *  copy of the operands. */
export const PRIMED_SPIN_MS = 5;
/** After a call the calling thread took part in, its workers poll this long: calls come in loops
 *  with a little work between. */
export const IDLE_SPIN_MS = 2;
/** Inside an operation a thread that waits for another polls this long before it sleeps (waking a
 *  sleeping thread took 0.1–0.3 ms; 20 000 polls last ~20 µs). */
export const SPIN_WAIT_MS = 2;
/** Polls of an idle worker's go word before it sleeps (about 1 ms). */
export const SPIN_CMD = 20000;
/** potrf's row cuts: a row of the trailing update costs r + 1 + ROW_UNITS units (the diagonal
 *  tiles computed whole and merged); 38 fit the measured update times, f32, nb = 64. */
export const ROW_UNITS = 38;
/** potrf: a step shorter than this on thread 0 alone leaves out a thread that has not started. */
export const LATE_STEP_MS = 0.5;
/** potrf: how long thread 0 waits for a polling worker to arrive before the first short step. */
export const ARRIVE_MS = 0.05;
/** syrk packs Gᵀ in up to this many pieces per thread (claimed one at a time: a slower thread
 *  takes fewer). */
export const CHUNKS_PER_THREAD = 4;

/** Pieces of the splits of the async methods' kernels: gemm's rows (each piece packs B again:
 *  n·k against 2·rows·n·k flops, 1.5 % at 32 rows); gemv_t's columns (a multiple of 16); a scan's elements. */
export const PIECE = { gemmRows: 32, gemvColumns: 64, scanElements: 65536 };
/** Below these sizes those kernels run on one thread whatever threadTuning says (a split needs at
 *  least two pieces: syrk's columns come in multiples of 16, gemv's rows and potrs's right-hand
 *  sides of 8). */
export const MIN_SPLIT = { syrkColumns: 16, gemvRows: 16, potrsRhs: 16 };
/** The rate assumed per thread to estimate a call's time (40 GFLOP/s f32, 20 f64: the kernels'
 *  measured rates on one core): it decides only how the calling thread waits. */
export const WORKER_FLOPS = { f32: 40e9, f64: 20e9 };

/**
 * @internal Below these an async call runs on the calling thread: waking the workers and the
 * threads' steps cost more than they save. minFlops: syrk's n·d² (gemm's 2mnk, the Gram matrix's
 * n²d); two threads gained from d = 128 in syrk. minCholeskySeconds: potrf's one-thread time at
 * 40 GFLOP/s f32, 20 f64; two threads broke even near 0.3 ms. asleepSeconds: below it a linalg call
 * that finds the workers asleep runs on the calling thread (waking them cost more, up to 0.6 ms).
 * Tests set all three to 0 to send every size to the threads.
 */
export const threadTuning = { minFlops: 4e6, minCholeskySeconds: 3e-4, asleepSeconds: 6e-4 };
