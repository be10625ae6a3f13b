/**
 * What each thread of the pool runs (src/threads.ts): its share of an operation in the control
 * block (threads-layout.ts). The workers run it (threads-worker-entry.ts, bundled at build time
 * into src/worker.generated.ts), and so does the calling thread as thread 0 when it takes part
 * (this module is in the main bundle too): every thread splits the work by the same code.
 *
 * The split rules depend only on the sizes, the number of threads and the speeds measured in
 * shared memory, so no thread is told its range.
 *   syrk    Gᵀ packed once in row pieces, then the columns of the lower triangle in pieces, big
 *           ones first, both claimed one at a time from atomic counters (a thread that starts
 *           late or runs slower takes fewer); each thread mirrors the columns it wrote.
 *   potrf   per block column, without barriers: thread 0 factors the diagonal block and cuts the
 *           step; each thread owns rows of the trailing matrix (cut by predicted time at each
 *           thread's measured speed, the same rows from step to step as far as the shrinking
 *           matrix allows), solves the panel rows it owns and packs them into a shared packed panel
 *           (two, used by turns), then updates its rows from it, waiting only for the packed rows
 *           it reads. Thread 0 looks ahead: the next diagonal block, then its rows of the next
 *           panel, then the rest of its update.
 *   gemm    the rows of C in pieces claimed one at a time.
 *   gram    the rows of lower(C) in pieces of equal area, claimed one at a time: a piece is a
 *           rectangle against the rows above it (gemm) and its own lower triangle (gram).
 *   gemv    y = Ax by rows of A, y = Aᵀx by columns of A, in pieces claimed one at a time.
 *   scan    the largest magnitude, or the first non-finite element, of pieces of a vector (the
 *           calling thread combines the pieces' results).
 *   potrs   the right-hand sides (rows of B) in pieces of at least 4 (the blocked path, as in one
 *           call of 4 or more), claimed one at a time.
 * Every element sees the same operations in the same order as on one thread (assembly/parallel.ts,
 * assembly/gemm.ts): the results are bit-identical.
 */
import {
  ARGS, CTL, GEMM_ARGS, GEMV_N_ARGS, GEMV_T_ARGS, GRAM_ARGS, MAX_RATES, OP, POTRF_ARGS, POTRS_ARGS, POTRF_STATE, SCAN_ARGS, SYRK_ARGS, potrfStateInts, type ThreadInit,
} from './threads-layout.js';
import {
  ARRIVE_MS, CHUNKS_PER_THREAD, IDLE_SPIN_MS, LATE_STEP_MS, PIECE, PRIMED_SPIN_MS, ROW_UNITS, SPIN_CMD, SPIN_WAIT_MS,
} from './tuning.js';

/** The threaded build's exports: every kernel takes and returns numbers. */
export type Kernels = Record<string, unknown>;
type Kernel = (...args: number[]) => number;

/** syrk's pieces start at multiples of ALIGN columns */
const ALIGN = 16;
/** potrf's row cuts, gemm's and gram's row pieces at multiples of ROW_ALIGN (NR and MR rows) */
const ROW_ALIGN = 8;

function up(x: number): number {
  return Math.ceil(x / ALIGN) * ALIGN;
}

/** cuts[0..C] of the columns [0, m) of a lower triangle, parts of about the same area, at multiples of ALIGN */
export function areaCuts(m: number, C: number): number[] {
  const cuts = [0];
  for (let i = 1; i < C; i++) cuts.push(Math.max(cuts[i - 1], Math.min(m, up(m * (1 - Math.sqrt(1 - i / C))))));
  cuts.push(m);
  return cuts;
}

/** cuts[0..C] of [0, m) into C parts of about the same size, at multiples of ALIGN */
function areaCutsEqual(m: number, C: number): number[] {
  const cuts = [0];
  for (let i = 1; i < C; i++) cuts.push(Math.max(cuts[i - 1], Math.min(m, up((m * i) / C))));
  cuts.push(m);
  return cuts;
}

/** cuts[0..C] of the rows [0, m) of a lower triangle (row i holds i + 1 elements), parts of about
 *  the same area, at multiples of ROW_ALIGN */
function rowAreaCuts(m: number, C: number): number[] {
  const cuts = [0];
  for (let i = 1; i < C; i++) {
    const r = Math.round((m * Math.sqrt(i / C)) / ROW_ALIGN) * ROW_ALIGN;
    cuts.push(Math.max(cuts[i - 1], Math.min(m, r)));
  }
  cuts.push(m);
  return cuts;
}

/**
 * Cuts of the columns [0, d) of a lower triangle (column j holds d − j elements) into pieces
 * claimed in order, each a share of what is left (1/(2T)), down to 1/(10T) of the whole: the
 * threads take big pieces first and finish on small ones.
 */
function guidedCuts(d: number, T: number): number[] {
  const total = (d * (d + 1)) / 2;
  const b = 2 * d + 1;
  const cuts = [0];
  let done = 0;
  while (cuts[cuts.length - 1] < d) {
    done += Math.max((total - done) / (2 * T), total / (10 * T));
    // columns [0, c) hold c·d − c(c − 1)/2
    const c = done >= total ? d : up((b - Math.sqrt(Math.max(0, b * b - 8 * done))) / 2);
    const last = cuts[cuts.length - 1];
    cuts.push(Math.max(last + ALIGN, Math.min(d, c)));
    const now = cuts[cuts.length - 1];
    done = Math.max(done, now * d - (now * (now - 1)) / 2);
  }
  cuts[cuts.length - 1] = d;
  return cuts;
}

/** cuts[0..T] of [0, m), part t about in proportion to w[t] (equal without w), at multiples of ROW_ALIGN */
function weightedCuts(m: number, T: number, w: number[] | null): number[] {
  let sum = 0;
  for (let t = 0; t < T; t++) sum += w ? w[t] : 1;
  const cuts = [0];
  let acc = 0;
  for (let t = 1; t < T; t++) {
    acc += w ? w[t - 1] : 1;
    const r = Math.round((m * acc) / sum / ROW_ALIGN) * ROW_ALIGN;
    cuts.push(Math.max(cuts[t - 1], Math.min(m, r)));
  }
  cuts.push(m);
  return idleNothing(cuts, T, w);
}

/** a thread of weight 0 gets nothing, whatever the rounding (its rows go to the thread before it) */
function idleNothing(cuts: number[], T: number, w: number[] | null): number[] {
  for (let t = T - 1; w && t >= 1; t--) if (w[t] === 0) cuts[t] = cuts[t + 1];
  return cuts;
}

/**
 * cuts[0..T] of the rows [0, m) of a lower triangle, where row r costs r + 1 + c units (see
 * ROW_UNITS), such that thread t, at speed w[t] (all equal without w) and with pre[t] units of other
 * work in the step, finishes with the others; at multiples of ROW_ALIGN, the first part at least
 * firstMin rows.
 */
function rowCuts(m: number, T: number, firstMin: number, w: number[] | null, pre: number[], c: number): number[] {
  let speed = 0;
  let work = (m * (m + 1)) / 2 + c * m;
  for (let t = 0; t < T; t++) {
    speed += w ? w[t] : 1;
    work += pre[t];
  }
  const cuts = [0];
  let units = 0;
  for (let t = 1; t < T; t++) {
    units += Math.max(0, (work * (w ? w[t - 1] : 1)) / speed - pre[t - 1]);
    // rows [0, r) cost r(r + 1)/2 + c·r
    const b = 1 + 2 * c;
    let r = Math.round((Math.sqrt(b * b + 8 * units) - b) / 2 / ROW_ALIGN) * ROW_ALIGN;
    if (r < firstMin) r = firstMin;
    cuts.push(Math.max(cuts[t - 1], Math.min(m, r)));
  }
  cuts.push(m);
  return idleNothing(cuts, T, w);
}

/** potrf's update: units of the rows [r0, r1) of the trailing matrix (see rowCuts) */
function rowUnits(r0: number, r1: number, c: number): number {
  return (r1 * (r1 + 1) - r0 * (r0 + 1)) / 2 + c * (r1 - r0);
}

/** Thrown inside an operation when another thread's kernel has failed (ERROR raised). */
const ABORT = {};

/** One thread's part of the operations: `run(op)` does its share of the operation in the control block. */
export interface ThreadPart {
  readonly ctl: Int32Array;
  run(op: number): void;
}

/**
 * Thread `init.id`'s part of the operations. A failure (a wasm trap) raises ERROR and wakes the
 * others instead of throwing; they leave the operation at their next wait.
 */
export function makeThread(K: Kernels, init: ThreadInit): ThreadPart {
  const T = init.threads;
  const id = init.id;
  const work = init.work;
  const canBlock = init.canBlock;
  // (the control block lies below the heap's start; a shared memory that grows gets a new, longer
  // buffer, so operands are viewed through the current one)
  const buffer = init.memory.buffer;
  const ctl = new Int32Array(buffer, init.ctl, CTL.GO_BYTE / 4 + MAX_RATES);
  const args = new Float64Array(buffer, init.ctl + CTL.ARGS_BYTE, ARGS);
  // each thread's speed in potrf (work units per ms, smoothed; 0 = not measured yet), written by
  // that thread, read by thread 0 when it cuts a step
  const rates = new Float64Array(buffer, init.ctl + CTL.RATES_BYTE, MAX_RATES);
  // how long thread 0's look-ahead factorisation of a diagonal block took (ms, smoothed): it is not
  // proportional to rows, so it is added to thread 0's share as time
  const look = new Float64Array(buffer, init.ctl + CTL.LOOK_BYTE, 1);
  const kernel = (name: string): Kernel => K[name] as Kernel;
  const suffix = (): string => (args[0] === 0 ? '_f32' : args[0] === 1 ? '_f64' : '_f32f64');
  const bytes = (): number => (args[0] === 0 ? 4 : 8);

  // Waits until view[i] ≥ v: polls for up to SPIN_WAIT_MS, then sleeps on that word (1 ms timeouts,
  // to look at ERROR and INFO; only polls where this thread may not block), counted in
  // view[sleepers] meanwhile unless sleepers < 0 (then every writer notifies). False when potrf has
  // failed (INFO set); throws ABORT when a thread has trapped.
  function waitAtLeast(view: Int32Array, i: number, v: number, sleepers: number): boolean {
    let spins = 0;
    let end = 0;
    for (;;) {
      if (Atomics.load(ctl, CTL.ERROR) !== 0) throw ABORT;
      if (Atomics.load(ctl, CTL.INFO) !== 0) return false;
      const now = Atomics.load(view, i);
      if (now >= v) return true;
      if ((++spins & 255) !== 0 || !canBlock) continue;
      const ms = performance.now();
      if (end === 0) end = ms + SPIN_WAIT_MS;
      else if (ms > end) {
        if (sleepers >= 0) Atomics.add(view, sleepers, 1);
        Atomics.wait(view, i, now, 1);
        if (sleepers >= 0) Atomics.sub(view, sleepers, 1);
      }
    }
  }

  // pieces 0 … C − 1 claimed one at a time from the counter ctl[counter] (zeroed by the calling
  // thread before the operation): a thread that starts late, or runs slower, takes fewer
  function claimAll(counter: number, C: number, f: (i: number) => void): void {
    for (let i = Atomics.add(ctl, counter, 1); i < C; i = Atomics.add(ctl, counter, 1)) f(i);
  }

  function syrk(): void {
    const p = suffix();
    const A = SYRK_ARGS;
    const n = args[A.n], d = args[A.d], alpha = args[A.alpha], g = args[A.g], ldg = args[A.ldg];
    const beta = args[A.beta], c = args[A.c], ldc = args[A.ldc], packed = args[A.packed], full = args[A.full] !== 0;
    const pack = kernel('syrk_pack' + p), cols = kernel('syrk_cols_packed' + p), sym = kernel('symmetrize_rows' + p);
    // Gᵀ is packed once, in row pieces, into a buffer every piece of C then reads
    const R = Math.max(T, Math.min(T * CHUNKS_PER_THREAD, Math.floor(d / 64)));
    const rows = weightedCuts(d, R, null);
    claimAll(CTL.CLAIM, R, (i) => {
      if (rows[i] < rows[i + 1]) pack(n, d, rows[i], rows[i + 1], g, ldg, packed);
      Atomics.add(ctl, CTL.PACKED, 1);
      Atomics.notify(ctl, CTL.PACKED);
    });
    // every piece of C reads all of the packed Gᵀ (a thread that starts late finds it done)
    waitAtLeast(ctl, CTL.PACKED, R, -1);
    const cuts = guidedCuts(d, T);
    claimAll(CTL.CLAIM_COLS, cuts.length - 1, (i) => {
      const j0 = cuts[i], j1 = cuts[i + 1];
      if (j0 >= j1) return;
      cols(n, d, j0, j1, alpha, packed, g, ldg, beta, c, ldc, work);
      if (full) sym(d, j0, j1, c, ldc); // mirrors the columns this thread has just written
    });
  }

  function gemm(): void {
    const p = suffix();
    const S = bytes();
    const A = GEMM_ARGS;
    const m = args[A.m], n = args[A.n], k = args[A.k], a = args[A.a], lda = args[A.lda], transA = args[A.transA];
    const c = args[A.c], ldc = args[A.ldc];
    const f = kernel('gemm' + p);
    const P = Math.max(1, Math.min(T * CHUNKS_PER_THREAD, Math.floor(m / PIECE.gemmRows)));
    const cuts = weightedCuts(m, P, null);
    claimAll(CTL.CLAIM, P, (i) => {
      const i0 = cuts[i], i1 = cuts[i + 1];
      if (i0 >= i1) return;
      const ap = a + (transA !== 0 ? i0 : i0 * lda) * S;
      f(i1 - i0, n, k, args[A.alpha], ap, lda, transA, args[A.b], args[A.ldb], args[A.transB], args[A.beta], c + i0 * ldc * S, ldc, work);
    });
  }

  function gram(): void {
    const p = suffix();
    const S = bytes();
    const A = GRAM_ARGS;
    const n = args[A.n], d = args[A.d], alpha = args[A.alpha], g = args[A.g], ldg = args[A.ldg];
    const beta = args[A.beta], c = args[A.c], ldc = args[A.ldc];
    const rect = kernel('gemm' + p), tri = kernel('gram' + p);
    const P = Math.max(1, Math.min(2 * T, Math.floor(n / ROW_ALIGN)));
    const cuts = rowAreaCuts(n, P);
    // the last (widest) pieces first
    claimAll(CTL.CLAIM, P, (q) => {
      const i = P - 1 - q;
      const i0 = cuts[i], i1 = cuts[i + 1];
      if (i0 >= i1) return;
      const gi = g + i0 * ldg * S;
      const ci = c + i0 * ldc * S;
      if (i0 > 0) rect(i1 - i0, i0, d, alpha, gi, ldg, 0, g, ldg, 1, beta, ci, ldc, work);
      tri(i1 - i0, d, alpha, gi, ldg, beta, ci + i0 * S, ldc, work);
    });
  }

  // y ← β·y + α·A·x by pieces of rows (multiples of 8: gemv_n's four-row groups stay whole)
  function gemvN(): void {
    const A = GEMV_N_ARGS;
    const mixed = args[A.precision] === 2;
    const Sa = args[A.precision] === 1 ? 8 : 4;
    const Sy = args[A.precision] === 0 ? 4 : 8;
    const m = args[A.m], n = args[A.n], alpha = args[A.alpha], a = args[A.a], lda = args[A.lda];
    const x = args[A.x], beta = args[A.beta], y = args[A.y];
    const f = kernel('gemv_n' + suffix());
    const P = Math.max(1, Math.min(T * CHUNKS_PER_THREAD, Math.floor(m / ROW_ALIGN)));
    const cuts = weightedCuts(m, P, null);
    claimAll(CTL.CLAIM, P, (i) => {
      const i0 = cuts[i], i1 = cuts[i + 1];
      if (i0 >= i1) return;
      if (mixed) f(i1 - i0, n, alpha, a + i0 * lda * Sa, lda, x, y + i0 * Sy);
      else f(i1 - i0, n, alpha, a + i0 * lda * Sa, lda, x, beta, y + i0 * Sy);
    });
  }

  // y ← β·y + α·Aᵀx by pieces of columns (multiples of 16: the same columns take gemv_t's vector
  // and scalar paths as in one call)
  function gemvT(): void {
    const A = GEMV_T_ARGS;
    const Sa = args[A.precision] === 1 ? 8 : 4;
    const Sy = args[A.precision] === 0 ? 4 : 8;
    const m = args[A.m], n = args[A.n], alpha = args[A.alpha], a = args[A.a], lda = args[A.lda];
    const x = args[A.x], beta = args[A.beta], y = args[A.y];
    const f = kernel('gemv_t' + suffix());
    const P = Math.max(1, Math.min(T * CHUNKS_PER_THREAD, Math.floor(n / PIECE.gemvColumns)));
    const cuts = areaCutsEqual(n, P);
    claimAll(CTL.CLAIM, P, (i) => {
      const j0 = cuts[i], j1 = cuts[i + 1];
      if (j0 < j1) f(m, j1 - j0, alpha, a + j0 * Sa, lda, x, beta, y + j0 * Sy);
    });
  }

  // each row of B ← (L·Lᵀ)⁻¹ row, by pieces of rows (multiples of 8: every piece takes potrs's
  // blocked path, as the whole does from 4 rows on; the caller splits only from 16)
  function potrs(): void {
    const A = POTRS_ARGS;
    const S = bytes();
    const d = args[A.d], nrhs = args[A.nrhs], l = args[A.l], ldl = args[A.ldl], b = args[A.b], ldb = args[A.ldb];
    const f = kernel('potrs' + suffix());
    const P = Math.max(1, Math.min(T * CHUNKS_PER_THREAD, Math.floor(nrhs / ROW_ALIGN)));
    const cuts = weightedCuts(nrhs, P, null);
    claimAll(CTL.CLAIM, P, (i) => {
      const k0 = cuts[i], k1 = cuts[i + 1];
      if (k0 < k1) f(d, k1 - k0, l, ldl, b + k0 * ldb * S, ldb, work);
    });
  }

  // each piece's max_abs or first_nonfinite (absolute index) into the results
  function scan(): void {
    const A = SCAN_ARGS;
    const S = bytes();
    const n = args[A.n], x = args[A.x], P = args[A.pieces], maxAbs = args[A.kind] === 0;
    const f = kernel((maxAbs ? 'max_abs' : 'first_nonfinite') + suffix());
    const results = new Float64Array(init.memory.buffer, init.ctl + CTL.RESULTS_BYTE, P);
    const cuts = areaCutsEqual(n, P);
    claimAll(CTL.CLAIM, P, (i) => {
      const i0 = cuts[i], i1 = cuts[i + 1];
      const r = i0 < i1 ? f(i1 - i0, x + i0 * S) : maxAbs ? 0 : -1;
      results[i] = maxAbs || r < 0 ? r : i0 + r;
    });
  }

  // the row shares of potrf: the threads' measured speeds, each kept within 4× of the mean (equal
  // shares until every thread has been measured)
  function weights(): number[] | null {
    if (T > MAX_RATES) return null;
    let sum = 0;
    for (let t = 0; t < T; t++) {
      if (!(rates[t] > 0)) return null;
      sum += rates[t];
    }
    const w: number[] = [];
    for (let t = 0; t < T; t++) w.push(Math.min(4, Math.max(0.25, (rates[t] * T) / sum)));
    return w;
  }

  // potrf runs without barriers: each thread publishes its progress in the operation's state block
  // and waits only for what its next piece reads. Thread 0 factors the diagonal blocks and decides
  // every step's cuts (it alone reads the speeds), so all threads cut alike without meeting.
  let st: Int32Array | null = null;
  const stNow = (): Int32Array => st as Int32Array;
  // Atomics.notify only when a thread sleeps: it takes a lock shared by all threads, and a cache
  // line that changes cores costs more than a poll (bench/RESULTS.md)
  function publish(i: number, v: number): void {
    Atomics.store(stNow(), i, v);
    if (Atomics.load(stNow(), POTRF_STATE.SLEEPERS) !== 0) Atomics.notify(stNow(), i);
  }
  function wakeAll(): void {
    if (st === null) return;
    Atomics.notify(st, POTRF_STATE.DIAG);
    for (let t = 0; t < T; t++) {
      Atomics.notify(st, POTRF_STATE.THREAD + 16 * t);
      Atomics.notify(st, POTRF_STATE.THREAD + 16 * t + 1);
    }
  }
  let waited = 0; // ms spent in waitFor (left out of the speeds)
  let sumUnits = 0;
  let sumMs = 0; // this thread's work in potrf and its time (rates[id])
  // waits until st[i] ≥ v, timed: false when the factorisation has failed
  function waitFor(i: number, v: number): boolean {
    if (Atomics.load(stNow(), i) >= v && Atomics.load(ctl, CTL.INFO) === 0) return true;
    const t = performance.now();
    try {
      return waitAtLeast(stNow(), i, v, POTRF_STATE.SLEEPERS);
    } finally {
      waited += performance.now() - t;
    }
  }
  function failed(info: number): void {
    Atomics.store(ctl, CTL.INFO, info);
    Atomics.store(stNow(), POTRF_STATE.DIAG, 1 << 30);
    wakeAll();
  }
  // the cuts of step k: pr (panel rows) then rc (update rows), T + 1 each
  const cutsAt = (k: number): number => POTRF_STATE.THREAD + 16 * T + k * 2 * (T + 1);
  function writeCuts(k: number, pr: number[], rc: number[]): void {
    const o = cutsAt(k);
    for (let t = 0; t <= T; t++) {
      stNow()[o + t] = pr[t];
      stNow()[o + T + 1 + t] = rc[t];
    }
  }
  function readCuts(k: number): [number[], number[]] {
    const o = cutsAt(k);
    const pr: number[] = [];
    const rc: number[] = [];
    for (let t = 0; t <= T; t++) {
      pr.push(stNow()[o + t]);
      rc.push(stNow()[o + T + 1 + t]);
    }
    return [pr, rc];
  }

  function potrf(): void {
    const p = suffix();
    const A = POTRF_ARGS;
    const d = args[A.d], a = args[A.a], lda = args[A.lda], packed = args[A.panels];
    const NB = kernel('potrf_nb')(d);
    const diag = kernel('potrf_diag' + p), panel = kernel('potrf_panel' + p), pack = kernel('potrf_pack' + p);
    const update = kernel('potrf_update_packed' + p);
    // two packed panels, used by turns: a thread may pack step k + 1 while others still read k
    const packedStep = kernel('potrf_packed_bytes')(d);
    if (!(args[A.state] > 0)) throw new Error('potrf: no state block');
    st = new Int32Array(init.memory.buffer, args[A.state], potrfStateInts(T, Math.ceil(d / NB)));
    const panelDone = (t: number) => POTRF_STATE.THREAD + 16 * t;
    const updateDone = (t: number) => POTRF_STATE.THREAD + 16 * t + 1;
    const arrived = (t: number) => POTRF_STATE.THREAD + 16 * t + 2;
    if (id !== 0) publish(arrived(id), 1);

    // Thread 0 decides the cuts of a step: a thread solves the panel rows it updated in the step
    // before (they are in its cache); the update's rows (thread 0 on top, at least the next
    // diagonal block's nb rows) are cut so that the threads, at their measured speeds, with their
    // panel rows and (thread 0) the next diagonal block's factorisation, finish together.
    function decide(k: number, prevRc: number[] | null, jbPrev: number): number[] | null {
      const j0 = k * NB, jb = Math.min(NB, d - j0), m = d - j0 - jb;
      if (m <= 0) return null;
      // a thread that has not started yet gets nothing in a short step (thread 0 would wait for it
      // at the end); in a long step it gets its share
      let w = weights();
      const stepMs = rates[0] > 0 ? ((m * (m + 1)) / 2 + ROW_UNITS * m + (m * jb) / 2) / rates[0] : Infinity;
      for (let t = 1; t < T && stepMs < LATE_STEP_MS; t++) {
        // before the first step, a worker that was polling starts within microseconds of thread 0
        if (k === 0) {
          const until = performance.now() + ARRIVE_MS;
          while (Atomics.load(stNow(), arrived(t)) === 0 && performance.now() < until);
        }
        if (Atomics.load(stNow(), arrived(t)) !== 0) continue;
        if (w === null) w = new Array<number>(T).fill(1);
        w[t] = 0;
      }
      let pr: number[];
      if (prevRc === null) pr = weightedCuts(m, T, w);
      else {
        pr = prevRc.map((r) => Math.min(m, Math.max(0, r - jbPrev)));
        pr[0] = 0;
        pr[T] = m;
      }
      // the other work of each thread in this step: its panel rows; for thread 0 the next diagonal
      // block's factorisation and (look-ahead) its rows of the next panel, [nb, rc[1]), whose cost
      // follows the cut, found again with it (twice is enough)
      const nb = Math.min(NB, m);
      const pre: number[] = [];
      for (let t = 0; t < T; t++) pre.push(t === 0 && k > 0 ? 0 : ((pr[t + 1] - pr[t]) * jb) / 2);
      if (w !== null && look[0] > 0 && rates[0] > 0) pre[0] += look[0] * rates[0];
      const pre0 = pre[0];
      let rc = rowCuts(m, T, nb, w, pre, ROW_UNITS);
      for (let i = 0; i < 2 && m > nb; i++) {
        pre[0] = pre0 + (Math.max(0, rc[1] - nb) * nb) / 2;
        rc = rowCuts(m, T, nb, w, pre, ROW_UNITS);
      }
      writeCuts(k, pr, rc);
      return pr;
    }

    // waits for the threads that updated the rows [r0, r1) (absolute) in step k − 1 (cuts prev)
    function waitOwners(prev: number[] | null, r0: number, r1: number, k: number): boolean {
      if (prev === null) return true;
      for (let u = 0; u < T; u++) {
        if (u === id || prev[u] >= prev[u + 1] || prev[u] >= r1 || prev[u + 1] <= r0) continue;
        if (!waitFor(updateDone(u), k)) return false;
      }
      return true;
    }
    // waits for the packed panel rows [0, r1) of step k (cuts pr)
    function waitPanels(pr: number[], r1: number, k: number): boolean {
      for (let u = 0; u < T; u++) {
        if (u !== id && pr[u] < r1 && pr[u] < pr[u + 1] && !waitFor(panelDone(u), k + 1)) return false;
      }
      return true;
    }
    // updates the rows [r0, r1) of step k, those this thread updated in step k − 1 first (the
    // columns [c0, c1) of them: a piece of tiles on NR and MR boundaries has the same bits)
    function updateRows(j0: number, r0: number, r1: number, c0: number, c1: number, s0: number, prev: number[] | null, pr: number[], k: number, buf: number): boolean {
      if (r0 >= r1) return true;
      if (!waitPanels(pr, r1, k)) return false;
      if (prev === null) {
        update(d, j0, r0, r1, c0, c1, a, lda, buf, work);
        return true;
      }
      for (let pass = 0; pass < 2; pass++) {
        for (let u = 0; u < T; u++) {
          if ((u === id) !== (pass === 0)) continue;
          const lo = Math.max(r0, prev[u] - s0), hi = Math.min(r1, prev[u + 1] - s0);
          if (lo >= hi) continue;
          if (u !== id && !waitFor(updateDone(u), k)) return false;
          update(d, j0, lo, hi, c0, c1, a, lda, buf, work);
        }
      }
      return true;
    }

    if (id === 0) {
      const info = diag(d, 0, a, lda, work);
      if (info !== 0) return failed(info);
      decide(0, null, 0);
      publish(POTRF_STATE.DIAG, 1);
    }
    let prev: number[] | null = null; // the update cuts of the step before, absolute rows
    let prevPrev: number[] | null = null; // and of the step before that
    let ahead = -1; // the step whose panel rows thread 0 has solved and packed already
    let units = 0; // this step's work in units (see rowCuts), for the speed
    // the panel rows of this thread: solved and packed (the packed panel of step k − 2, in the same
    // buffer, must be read by all before)
    function solvePanel(k: number, j0: number, s0: number, r0: number, r1: number, owners: number[] | null, readers: number[] | null, buf: number): boolean {
      for (let u = 0; readers !== null && u < T; u++) {
        if (u !== id && readers[u] < readers[u + 1] && !waitFor(updateDone(u), k - 1)) return false;
      }
      if (!waitOwners(owners, s0 + r0, s0 + r1, k)) return false;
      panel(d, j0, r0, r1, a, lda, work);
      pack(d, j0, r0, r1, a, lda, buf);
      publish(panelDone(id), k + 1);
      units += ((r1 - r0) * Math.min(NB, d - j0)) / 2;
      return true;
    }
    for (let k = 0, j0 = 0; j0 < d; k++, j0 += NB) {
      const jb = Math.min(NB, d - j0);
      const m = d - j0 - jb;
      if (m === 0) break;
      const s0 = j0 + jb; // first row of A21 and A22
      if (!waitFor(POTRF_STATE.DIAG, k + 1)) return; // L11 of this step and its cuts
      const [pr, rc] = readCuts(k);
      const buf = packed + (k & 1) * packedStep;
      const t0 = performance.now();
      waited = 0;
      units = 0;
      if (ahead !== k) {
        if (pr[id] < pr[id + 1]) {
          if (!solvePanel(k, j0, s0, pr[id], pr[id + 1], prev, prevPrev, buf)) return;
        } else publish(panelDone(id), k + 1);
      }
      const nb = Math.min(NB, m);
      let tl = 0;
      let r0 = rc[id];
      if (id === 0) {
        // look-ahead: the next diagonal block first, factored at once, then the next cuts; then the
        // next panel's columns of thread 0's rows, and those rows of the next panel solved and
        // packed, and only then the rest of thread 0's rows
        if (!updateRows(j0, 0, nb, 0, m, s0, prev, pr, k, buf)) return;
        const t3 = performance.now();
        const info = diag(d, s0, a, lda, work);
        if (info !== 0) return failed(info);
        tl = performance.now() - t3;
        look[0] = look[0] > 0 ? 0.5 * look[0] + 0.5 * tl : tl;
        const next = decide(k + 1, rc, nb);
        publish(POTRF_STATE.DIAG, k + 2);
        r0 = nb;
        if (next !== null && next[0] < next[1]) {
          if (!updateRows(j0, nb, rc[1], 0, nb, s0, prev, pr, k, buf)) return;
          const bufNext = packed + ((k + 1) & 1) * packedStep;
          if (!solvePanel(k + 1, s0, s0 + nb, next[0], next[1], rc.map((r) => r + s0), prev, bufNext)) return;
          ahead = k + 1;
          if (!updateRows(j0, nb, rc[1], nb, m, s0, prev, pr, k, buf)) return;
          r0 = rc[1];
        }
      }
      if (!updateRows(j0, r0, rc[id + 1], 0, m, s0, prev, pr, k, buf)) return;
      publish(updateDone(id), k + 1);
      // this step's speed: panel rows and updated units per ms, the waits and the look-ahead
      // factorisation left out; not in the first step, whose rows the calling thread has just
      // copied in (they come to the other threads from its cache, slower)
      units += rowUnits(rc[id], rc[id + 1], ROW_UNITS);
      let ms = performance.now() - t0 - waited - tl;
      if (k > 0 && id < MAX_RATES && units > 0 && ms > 0) {
        // sums with forgetting; a step is taken as at most twice as slow or fast as the speed so far
        // (a thread descheduled for a while must not lose its rows for the next several calls)
        if (sumMs > 0) ms = Math.min(2, Math.max(0.5, (ms * sumUnits) / (units * sumMs))) * ((units * sumMs) / sumUnits);
        sumUnits = 0.9 * sumUnits + units;
        sumMs = 0.9 * sumMs + ms;
        rates[id] = sumUnits / sumMs;
      }
      prevPrev = prev;
      prev = rc.map((r) => r + s0);
    }
    // the factor is complete: each thread zeroes its share of the strict upper triangle (thread 0
    // three shares: the lines are in its cache when the calling thread took part)
    if (args[A.zeroUpper] !== 0) {
      const z = areaCuts(d, T + 2);
      kernel('zero_upper_rows' + p)(d, z[id === 0 ? 0 : id + 2], z[id + 3], a, lda);
    }
  }

  return {
    ctl,
    run(op: number): void {
      try {
        if (op === OP.SYRK) syrk();
        else if (op === OP.POTRF) potrf();
        else if (op === OP.GEMM) gemm();
        else if (op === OP.GRAM) gram();
        else if (op === OP.GEMV_N) gemvN();
        else if (op === OP.GEMV_T) gemvT();
        else if (op === OP.POTRS) potrs();
        else if (op === OP.SCAN) scan();
      } catch {
        Atomics.store(ctl, CTL.ERROR, 1);
        wakeAll();
      }
      st = null;
    },
  };
}

/**
 * A worker's loop: wait for its go word to move (the calling thread signals only the workers that
 * take part), run its share, count itself done. An odd go word primes the worker (it polls for
 * PRIMED_SPIN_MS); the next even one starts the operation. Returns on OP.EXIT.
 */
export function workerLoop(K: Kernels, init: ThreadInit): void {
  const thread = makeThread(K, init);
  const ctl = thread.ctl;
  const go = CTL.GO_BYTE / 4 + init.id;
  let seen = Atomics.load(ctl, go);
  let primedUntil = 0;
  for (;;) {
    let v: number;
    let spins = 0;
    while ((v = Atomics.load(ctl, go)) === seen) {
      if ((++spins & 1023) !== 0) continue;
      if (primedUntil === 0 ? spins > SPIN_CMD : performance.now() > primedUntil) {
        Atomics.wait(ctl, go, seen);
        primedUntil = 0;
      }
    }
    seen = v;
    if ((v & 1) !== 0) {
      primedUntil = performance.now() + PRIMED_SPIN_MS;
      continue;
    }
    primedUntil = 0;
    const op = ctl[CTL.OP];
    if (op === OP.EXIT) return;
    thread.run(op);
    const signalled = Atomics.load(ctl, CTL.SIGNALLED);
    if (Atomics.add(ctl, CTL.DONE, 1) === signalled - 1) Atomics.notify(ctl, CTL.DONE);
    // after a call the calling thread took part in, poll for a while before sleeping; not after one
    // on the workers alone, whose calling thread needs a core now
    if (signalled < init.threads) primedUntil = performance.now() + IDLE_SPIN_MS;
  }
}
