/**
 * The source of the threads of the pool (src/threads.ts), as a string: the package embeds it, so
 * starting a worker needs no file, no URL of the package and no bundler configuration (Node:
 * `new Worker(source, { eval: true })`; browsers: a Blob URL). The calling thread compiles the
 * same text (THREAD_SOURCE, with `new Function`) for the calls it takes part in as thread 0.
 *
 * A worker instantiates the threaded kernels on the shared memory, answers `{ ready: true }`, and
 * then loops: wait for its go word in the control block to move, run its share of the operation,
 * count itself done. The split rules below are the same in every thread (they depend only on the
 * sizes, the number of threads and the speeds measured in shared memory), so no thread is told
 * its range.
 */
// (No require(), import() or 'node:' in the text: the ESM bundle must not look like it imports.)
export const THREAD_SOURCE = String.raw`
'use strict';
const DONE = 1, BAR_COUNT = 2, BAR_GEN = 3, OP = 4, INFO = 5, ERROR = 6, CLAIM = 8, SIGNALLED = 9;
const ARGS_BYTE = 64, RATES_BYTE = 192, MAX_RATES = 64, GO_BYTE = 704, OP_SYRK = 1, OP_POTRF = 2, OP_EXIT = 3;
const ALIGN = 16;
const SPIN_CMD = 20000;
// A worker primed (its go word made odd: an operation follows once the calling thread has copied
// the operands in) polls for up to PRIMED_SPIN_MS instead of sleeping: its wake-up (0.05–0.5 ms
// here) then overlaps the copy instead of following it.
const PRIMED_SPIN_MS = 5;
// Inside an operation a thread that reaches a barrier first polls for up to SPIN_BAR_MS before it
// sleeps: the other threads are working, so its core would idle anyway, and waking a sleeping
// thread (a futex, and a halted vCPU on a cloud host) took 0.1–0.3 ms per barrier here, while
// 20 000 polls last about 20 µs: at d = 512 a two-thread Cholesky spent 2.3 of its 3.3 ms in
// barriers.
const SPIN_BAR_MS = 2;
// syrk's columns are cut into about CHUNKS_PER_THREAD pieces per thread, claimed one at a time
// from an atomic counter: a thread that runs slower (a busy sibling hyperthread, a shared host)
// takes fewer. (potrf keeps rows on their threads instead and cuts them by measured speed.)
const CHUNKS_PER_THREAD = 4;

function start(msg, post) {
  let K;
  try {
    K = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } }).exports;
  } catch (e) {
    post({ error: String(e && e.message || e) });
    return;
  }
  post({ ready: true });
  loop(K, msg);
}

function up(x) { return Math.ceil(x / ALIGN) * ALIGN; }

// cuts[0..C] of the columns [0, m) of a lower triangle, each part of about the same area, at
// multiples of ALIGN; the first part at least firstMin wide
function areaCuts(m, C, firstMin) {
  const cuts = [0];
  for (let i = 1; i < C; i++) {
    let c = up(m * (1 - Math.sqrt(1 - i / C)));
    if (c < firstMin) c = up(firstMin);
    cuts.push(Math.max(cuts[i - 1], Math.min(m, c)));
  }
  cuts.push(m);
  return cuts;
}

function evenCuts(m, C) {
  const cuts = [0];
  for (let i = 1; i < C; i++) cuts.push(Math.max(cuts[i - 1], Math.min(m, up((m * i) / C))));
  cuts.push(m);
  return cuts;
}

// cuts[0..T] of the rows [0, m) of a lower triangle (row r holds r + 1 elements, an area unit
// each) such that thread t, at speed w[t] (units per ms; all equal without w) and with pre[t]
// units of other work in the step, finishes with the others; at multiples of ALIGN, the first part
// at least firstMin rows
function rowCuts(m, T, firstMin, w, pre) {
  let speed = 0, work = (m * (m + 1)) / 2;
  for (let t = 0; t < T; t++) {
    speed += w ? w[t] : 1;
    work += pre[t];
  }
  const cuts = [0];
  let area = 0;
  for (let t = 1; t < T; t++) {
    area += Math.max(0, (work * (w ? w[t - 1] : 1)) / speed - pre[t - 1]);
    // rows [0, r) hold r(r + 1)/2
    let r = up((Math.sqrt(8 * area + 1) - 1) / 2);
    if (r < firstMin) r = up(firstMin);
    cuts.push(Math.max(cuts[t - 1], Math.min(m, r)));
  }
  cuts.push(m);
  return cuts;
}

// Thread id's part of the operations (msg: { memory, ctl, work, id, threads }). The workers run
// it, and so does the calling thread as thread 0 when it takes part (src/threads.ts): run(op)
// does this thread's share of the operation in the control block and returns; a failure (a wasm
// trap) raises ERROR and releases the barrier instead of throwing.
function makeThread(K, msg) {
  const T = msg.threads, id = msg.id, work = msg.work;
  const ctl = new Int32Array(msg.memory.buffer, msg.ctl, GO_BYTE / 4 + MAX_RATES);
  const args = new Float64Array(msg.memory.buffer, msg.ctl + ARGS_BYTE, 16);
  // each thread's speed in potrf (work units per ms, smoothed; 0 = not measured yet), written by
  // that thread before a barrier and read by all after it, so all cut the rows alike
  const rates = new Float64Array(msg.memory.buffer, msg.ctl + RATES_BYTE, MAX_RATES);

  // A thread whose kernel failed (a wasm trap) raises ERROR and releases the barrier; the others
  // leave the operation at their next barrier instead of waiting there for it forever.
  const ABORT = {};
  function barrier() {
    if (Atomics.load(ctl, ERROR) !== 0) throw ABORT;
    const g = Atomics.load(ctl, BAR_GEN);
    if (Atomics.add(ctl, BAR_COUNT, 1) === T - 1) {
      Atomics.store(ctl, BAR_COUNT, 0);
      Atomics.add(ctl, BAR_GEN, 1);
      Atomics.notify(ctl, BAR_GEN);
    } else {
      let spins = 0;
      let end = 0;
      while (Atomics.load(ctl, BAR_GEN) === g) {
        if ((++spins & 1023) !== 0) continue;
        const now = performance.now();
        if (end === 0) end = now + SPIN_BAR_MS;
        else if (now > end) Atomics.wait(ctl, BAR_GEN, g);
      }
    }
    if (Atomics.load(ctl, ERROR) !== 0) throw ABORT;
  }

  // chunks are claimed from one counter that only grows during an operation: every thread stops
  // at its first failed claim, so after a round of C claimable chunks the counter has moved by
  // exactly C + T, and every thread knows where the next round starts
  let base = 0;
  function claimAll(first, C, run) {
    for (;;) {
      const i = first + Atomics.add(ctl, CLAIM, 1) - base;
      if (i >= C) break;
      run(i);
    }
    base += C - first + T;
  }

  function syrk() {
    const p = args[0] === 0 ? '_f32' : '_f64';
    const n = args[1], d = args[2], alpha = args[3], g = args[4], ldg = args[5], beta = args[6], c = args[7], ldc = args[8];
    const packed = args[9];
    const pack = K['syrk_pack' + p], cols = K['syrk_cols_packed' + p], sym = K['symmetrize_rows' + p];
    const C = T * (args[15] > 0 ? args[15] : CHUNKS_PER_THREAD);
    // Gᵀ is packed once, in row pieces, into a buffer every piece of C then reads (a piece packing
    // its own operands packed the rows below it again: 20% more work at d = 512 with 8 pieces)
    const rows = evenCuts(d, Math.max(T, Math.min(C, Math.floor(d / 64))));
    claimAll(0, rows.length - 1, (i) => {
      if (rows[i] < rows[i + 1]) pack(n, d, rows[i], rows[i + 1], g, ldg, packed);
    });
    barrier();
    const cuts = areaCuts(d, C, 0);
    claimAll(0, C, (i) => {
      const j0 = cuts[i], j1 = cuts[i + 1];
      if (j0 >= j1) return;
      cols(n, d, j0, j1, alpha, packed, g, ldg, beta, c, ldc, work);
      sym(d, j0, j1, c, ldc); // mirrors the columns this thread has just written
    });
  }

  // the row shares of potrf: the threads' measured speeds, each kept within 4× of the mean (equal
  // shares until every thread has been measured)
  function weights() {
    if (T > MAX_RATES) return null;
    let sum = 0;
    for (let t = 0; t < T; t++) {
      if (!(rates[t] > 0)) return null;
      sum += rates[t];
    }
    const w = [];
    for (let t = 0; t < T; t++) w.push(Math.min(4, Math.max(0.25, (rates[t] * T) / sum)));
    return w;
  }

  function potrf() {
    const p = args[0] === 0 ? '_f32' : '_f64';
    const d = args[1], a = args[2], lda = args[3], packed = args[4];
    const NB = K.potrf_nb(d);
    const diag = K['potrf_diag' + p], panel = K['potrf_panel' + p], pack = K['potrf_pack' + p];
    const update = K['potrf_update_packed' + p];
    let own = null; // the row cuts (global) of the previous step's update
    for (let j0 = 0; j0 < d; j0 += NB) {
      const jb = Math.min(NB, d - j0);
      const m = d - j0 - jb;
      // the diagonal block: thread 0 (from the second block column on, it factored it already,
      // right after its part of the previous update: see below)
      if (id === 0 && j0 === 0) {
        const info = diag(d, j0, a, lda, work);
        if (info !== 0) Atomics.store(ctl, INFO, info);
      }
      barrier();
      if (Atomics.load(ctl, INFO) !== 0) return;
      if (m === 0) break;
      // Rows, not pieces claimed in any order: on this host a cache line written by one core and
      // then read by the other cost 0.1–0.2 µs, and with pieces changing hands every step the
      // panel solve on two threads took as long as on one. Thread t owns the rows [own[t],
      // own[t + 1]) of the trailing matrix (row-major: its rows are its own memory); it solves
      // the panel rows it updated in the previous step and packs them into the shared packed
      // panel, which every update then reads (nothing is packed twice).
      const s0 = j0 + jb; // first row of A21 and A22
      const pr = own === null ? evenCuts(m, T) : own.map((g) => Math.min(m, Math.max(0, g - s0)));
      pr[0] = 0;
      pr[T] = m;
      // The update's rows (thread 0 at least the next block column's nb rows), cut so that the
      // threads, at their measured speeds and with the panel rows they have, finish together: the
      // two vCPUs of a cloud host are often not equally fast (a sibling hyperthread busy
      // elsewhere), and an equal split then waits for the slower one at every barrier. Cut now:
      // the speeds are read only between the barrier above and the one below, and written only
      // after the one below (all threads must cut alike).
      const nb = Math.min(NB, m);
      const pre = [];
      for (let t = 0; t < T; t++) pre.push(((pr[t + 1] - pr[t]) * jb) / 2);
      const rc = rowCuts(m, T, nb, weights(), pre);
      const t0 = performance.now();
      if (pr[id] < pr[id + 1]) {
        panel(d, j0, pr[id], pr[id + 1], a, lda, work);
        pack(d, j0, pr[id], pr[id + 1], a, lda, packed);
      }
      const t1 = performance.now();
      barrier();
      // Thread 0 first updates the next diagonal block alone and factors it (look-ahead: the next
      // step needs it first), then the rest of its rows; rows move from one thread to another
      // only where the cut moves.
      const t2 = performance.now();
      if (id === 0) {
        update(d, j0, 0, nb, 0, nb, a, lda, packed, work);
        const info = diag(d, j0 + jb, a, lda, work);
        if (info !== 0) Atomics.store(ctl, INFO, info);
        update(d, j0, nb, rc[1], 0, m, a, lda, packed, work);
      } else if (rc[id] < rc[id + 1]) {
        update(d, j0, rc[id], rc[id + 1], 0, m, a, lda, packed, work);
      }
      // this step's speed: panel rows (rows·jb² flops, counted as rows·jb/2 of area) and the
      // updated area (2·jb flops each; thread 0's diagonal factorisation rides along)
      const r0 = rc[id], r1 = rc[id + 1];
      const units = pre[id] + (r1 * (r1 + 1) - r0 * (r0 + 1)) / 2;
      const ms = performance.now() - t2 + (t1 - t0);
      if (id < MAX_RATES && units > 0 && ms > 0) {
        const now = units / ms;
        rates[id] = rates[id] > 0 ? 0.5 * rates[id] + 0.5 * now : now;
      }
      own = rc.map((r) => r + s0);
    }
    // the factor is complete: each thread zeroes its share of the strict upper triangle (row i
    // holds d − 1 − i elements, the shape areaCuts splits)
    const z = areaCuts(d, T, 0);
    K['zero_upper_rows' + p](d, z[id], z[id + 1], a, lda);
  }

  return {
    ctl,
    run(op) {
      base = 0;
      try {
        if (op === OP_SYRK) syrk();
        else if (op === OP_POTRF) potrf();
      } catch (e) {
        Atomics.store(ctl, ERROR, 1);
        Atomics.add(ctl, BAR_GEN, 1);
        Atomics.notify(ctl, BAR_GEN);
      }
    },
  };
}

// A worker's loop: wait for its go word to move (the calling thread signals only the workers that
// take part), run its share, count itself done. An odd go word primes the worker (see
// PRIMED_SPIN_MS); the next even one starts the operation.
function loop(K, msg) {
  const thread = makeThread(K, msg);
  const ctl = thread.ctl, go = GO_BYTE / 4 + msg.id;
  let seen = Atomics.load(ctl, go);
  let primedUntil = 0;
  for (;;) {
    let v;
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
    const op = ctl[OP];
    if (op === OP_EXIT) return;
    thread.run(op);
    if (Atomics.add(ctl, DONE, 1) === Atomics.load(ctl, SIGNALLED) - 1) Atomics.notify(ctl, DONE);
  }
}
`;

/** The worker's whole source: THREAD_SOURCE and the start-up for worker_threads or a Web Worker. */
export const WORKER_SOURCE = THREAD_SOURCE + String.raw`
if (typeof self === 'undefined' && typeof process === 'object' && process.getBuiltinModule) {
  const port = process.getBuiltinModule('worker_threads').parentPort;
  port.once('message', (msg) => start(msg, (m) => port.postMessage(m)));
} else {
  self.onmessage = (e) => { self.onmessage = null; start(e.data, (m) => self.postMessage(m)); };
}
`;
