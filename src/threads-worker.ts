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
/** How long a primed worker polls (ms; see PRIMED_SPIN_MS in the source below). */
export const PRIMED_SPIN_MS = 5;
/** How long the workers that took part in a call with the calling thread poll after it (ms). */
export const IDLE_SPIN_MS = 2;

// (No require(), import() or 'node:' in the text: the ESM bundle must not look like it imports.)
export const THREAD_SOURCE = String.raw`
'use strict';
const DONE = 1, PACKED = 2, OP = 4, INFO = 5, ERROR = 6, CLAIM = 8, SIGNALLED = 9, CLAIM_COLS = 10;
const ARGS_BYTE = 64, RATES_BYTE = 192, MAX_RATES = 64, GO_BYTE = 704, LOOK_BYTE = 960, OP_SYRK = 1, OP_POTRF = 2, OP_EXIT = 3;
// potrf's state block (Int32 words; src/threads.ts allocates potrfStateInts(T, steps) of them,
// zeroed): the number of diagonal blocks factored; on a cache line of its own, the number of
// threads asleep in a wait; a cache line per thread (panel rows of step k packed: k + 1; update of
// step k done: k + 1; started: 1); the cuts of every step (thread 0 may run any number of steps
// ahead of a thread that has nothing to do, so no slot is reused)
const POTRF_DIAG = 0, POTRF_SLEEPERS = 8, POTRF_THREAD = 16;
function potrfStateInts(T, steps) { return POTRF_THREAD + 16 * T + steps * 2 * (T + 1); }

// syrk's pieces start at multiples of ALIGN columns; potrf's row cuts at multiples of ROW_ALIGN
// (the packed panel's NR-row panels and the MR-row tiles: 8 and 4 rows)
const ALIGN = 16, ROW_ALIGN = 8, ROW_UNITS = 38;
// potrf: a step shorter than this (ms, on thread 0 alone) leaves out a thread that has not started
// (after waiting up to ARRIVE_MS for it before the first step)
const LATE_STEP_MS = 0.5, ARRIVE_MS = 0.05;
const SPIN_CMD = 20000;
// A worker primed (its go word made odd: an operation follows once the calling thread has copied
// the operands in) polls for up to PRIMED_SPIN_MS instead of sleeping: its wake-up (0.05–0.5 ms
// here) then overlaps the copy instead of following it.
const PRIMED_SPIN_MS = ${PRIMED_SPIN_MS};
// After a call that the calling thread took part in (a short one), the workers that took part
// poll for IDLE_SPIN_MS before they sleep: calls often come in a loop with a little other work in
// between, and a sleeping worker woke up 0.05–0.5 ms late here, a third of a two-thread Cholesky
// at d = 512. Only those size − 1 workers poll, on the cores the call used, while the calling
// thread goes on (as OpenMP runtimes do, they spin a little before they sleep).
const IDLE_SPIN_MS = ${IDLE_SPIN_MS};
// Inside an operation a thread that waits for another polls for up to SPIN_WAIT_MS before it
// sleeps: the other threads are working, so its core would idle anyway, and waking a sleeping
// thread (a futex, and a halted vCPU on a cloud host) took 0.1–0.3 ms here, while 20 000 polls
// last about 20 µs: at d = 512 a two-thread Cholesky once spent 2.3 of its 3.3 ms in barriers.
const SPIN_WAIT_MS = 2;
// syrk packs Gᵀ in up to CHUNKS_PER_THREAD pieces per thread (at least 64 rows each), claimed one
// at a time from an atomic counter, like its column pieces (guidedCuts): a thread that runs slower
// (a busy sibling hyperthread, a shared host) or starts later takes fewer. (potrf keeps rows on
// their threads instead and cuts them by measured speed.)
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
// multiples of ALIGN
function areaCuts(m, C) {
  const cuts = [0];
  for (let i = 1; i < C; i++) cuts.push(Math.max(cuts[i - 1], Math.min(m, up(m * (1 - Math.sqrt(1 - i / C))))));
  cuts.push(m);
  return cuts;
}

// cuts of the columns [0, d) of a lower triangle (column j holds d − j elements) into pieces
// claimed in order, each a share of what is left (1/(2T)), down to 1/(10T) of the whole: the
// threads take big pieces first and finish on small ones (equal pieces, 4 per thread, left a
// thread idle for half a piece on average at the end)
function guidedCuts(d, T) {
  const total = (d * (d + 1)) / 2, b = 2 * d + 1;
  const cuts = [0];
  let done = 0;
  while (cuts[cuts.length - 1] < d) {
    done += Math.max((total - done) / (2 * T), total / (10 * T));
    // columns [0, c) hold c·d − c(c − 1)/2
    const c = done >= total ? d : up((b - Math.sqrt(Math.max(0, b * b - 8 * done))) / 2);
    cuts.push(Math.max(cuts[cuts.length - 1] + ALIGN, Math.min(d, c)));
    done = Math.max(done, cuts[cuts.length - 1] * d - (cuts[cuts.length - 1] * (cuts[cuts.length - 1] - 1)) / 2);
  }
  cuts[cuts.length - 1] = d;
  return cuts;
}

// cuts[0..T] of [0, m), part t about in proportion to w[t] (equal without w), at the nearest
// multiples of ROW_ALIGN
function weightedCuts(m, T, w) {
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

// a thread of weight 0 gets nothing, whatever the rounding (its rows go to the thread before it)
function idleNothing(cuts, T, w) {
  for (let t = T - 1; w && t >= 1; t--) if (w[t] === 0) cuts[t] = cuts[t + 1];
  return cuts;
}

// cuts[0..T] of the rows [0, m) of a lower triangle, where row r costs r + 1 + c units (its
// elements, and c for the tiles on the diagonal, which are computed whole and merged: c = 38 fit
// the measured times of potrf's update on both threads, f32, nb = 64), such that thread t, at
// speed w[t] (units per ms; all equal without w) and with pre[t] units of other work in the step,
// finishes with the others; at the nearest multiples of ROW_ALIGN, the first part at least
// firstMin rows (a multiple of ROW_ALIGN)
function rowCuts(m, T, firstMin, w, pre, c) {
  let speed = 0, work = (m * (m + 1)) / 2 + c * m;
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

// potrf's update: units of row r of the trailing matrix, r + 1 + c (see rowCuts)
function rowUnits(r0, r1, c) {
  return (r1 * (r1 + 1) - r0 * (r0 + 1)) / 2 + c * (r1 - r0);
}

// Thread id's part of the operations (msg: { memory, ctl, work, id, threads }). The workers run
// it, and so does the calling thread as thread 0 when it takes part (src/threads.ts): run(op)
// does this thread's share of the operation in the control block and returns; a failure (a wasm
// trap) raises ERROR and wakes the others instead of throwing.
function makeThread(K, msg) {
  const T = msg.threads, id = msg.id, work = msg.work;
  const ctl = new Int32Array(msg.memory.buffer, msg.ctl, GO_BYTE / 4 + MAX_RATES);
  const args = new Float64Array(msg.memory.buffer, msg.ctl + ARGS_BYTE, 16);
  // each thread's speed in potrf (work units per ms, smoothed; 0 = not measured yet), written by
  // that thread, read by thread 0 when it cuts a step
  const rates = new Float64Array(msg.memory.buffer, msg.ctl + RATES_BYTE, MAX_RATES);
  // how long thread 0's look-ahead factorisation of a diagonal block took (ms, smoothed), shared
  // the same way: it is not proportional to rows, so it is not in the rates but added to thread
  // 0's share as time
  const look = new Float64Array(msg.memory.buffer, msg.ctl + LOOK_BYTE, 1);

  // A thread whose kernel failed (a wasm trap) raises ERROR and wakes the others; they leave the
  // operation at their next wait instead of waiting there for it forever.
  const ABORT = {};

  // Waits until view[i] ≥ v: polls for up to SPIN_WAIT_MS, then sleeps on that word (1 ms
  // timeouts, to look at ERROR and INFO), counted in view[sleepers] meanwhile unless sleepers < 0
  // (then every writer notifies). False when potrf has failed (INFO set); throws ABORT when a
  // thread has trapped.
  function waitAtLeast(view, i, v, sleepers) {
    let spins = 0, end = 0;
    for (;;) {
      if (Atomics.load(ctl, ERROR) !== 0) throw ABORT;
      if (Atomics.load(ctl, INFO) !== 0) return false;
      const now = Atomics.load(view, i);
      if (now >= v) return true;
      if ((++spins & 255) !== 0) continue;
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
  function claimAll(counter, C, run) {
    for (let i = Atomics.add(ctl, counter, 1); i < C; i = Atomics.add(ctl, counter, 1)) run(i);
  }

  function syrk() {
    const p = args[0] === 0 ? '_f32' : '_f64';
    const n = args[1], d = args[2], alpha = args[3], g = args[4], ldg = args[5], beta = args[6], c = args[7], ldc = args[8];
    const packed = args[9];
    const pack = K['syrk_pack' + p], cols = K['syrk_cols_packed' + p], sym = K['symmetrize_rows' + p];
    // Gᵀ is packed once, in row pieces, into a buffer every piece of C then reads (a piece packing
    // its own operands packed the rows below it again: 20% more work at d = 512 with 8 pieces)
    const R = Math.max(T, Math.min(T * CHUNKS_PER_THREAD, Math.floor(d / 64)));
    const rows = weightedCuts(d, R, null);
    claimAll(CLAIM, R, (i) => {
      if (rows[i] < rows[i + 1]) pack(n, d, rows[i], rows[i + 1], g, ldg, packed);
      Atomics.add(ctl, PACKED, 1);
      Atomics.notify(ctl, PACKED);
    });
    // every piece of C reads all of the packed Gᵀ (a thread that starts late finds it done)
    waitAtLeast(ctl, PACKED, R, -1);
    const cuts = guidedCuts(d, T);
    claimAll(CLAIM_COLS, cuts.length - 1, (i) => {
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

  // potrf runs without barriers: each thread publishes its progress in the operation's state
  // block (POTRF_* below) and waits only for what its next piece reads. Thread 0 factors the
  // diagonal blocks and decides every step's cuts (it alone reads the speeds), so all threads cut
  // alike without meeting.
  let st = null; // Int32Array over the state block of the current potrf
  // Atomics.notify only when a thread sleeps: it takes a lock shared by all threads, and a cache
  // line that changes cores costs about 0.5 µs each way here (a round trip between two threads
  // polling took 1 µs); a progress word bumped and notified at every publication cost several µs
  // per step and thread
  function publish(i, v) {
    Atomics.store(st, i, v);
    if (Atomics.load(st, POTRF_SLEEPERS) !== 0) Atomics.notify(st, i);
  }
  function wakeAll() {
    if (st === null) return;
    Atomics.notify(st, POTRF_DIAG);
    for (let t = 0; t < T; t++) {
      Atomics.notify(st, POTRF_THREAD + 16 * t);
      Atomics.notify(st, POTRF_THREAD + 16 * t + 1);
    }
  }
  // waits until st[i] ≥ v (waitAtLeast), timed: false when the factorisation has failed
  let waited = 0; // ms spent in waitFor (left out of the speeds)
  let sumUnits = 0, sumMs = 0; // this thread's work in potrf and its time (rates[id])
  function waitFor(i, v) {
    if (Atomics.load(st, i) >= v && Atomics.load(ctl, INFO) === 0) return true;
    const t = performance.now();
    try {
      return waitAtLeast(st, i, v, POTRF_SLEEPERS);
    } finally {
      waited += performance.now() - t;
    }
  }
  function failed(info) {
    Atomics.store(ctl, INFO, info);
    Atomics.store(st, POTRF_DIAG, 1 << 30);
    wakeAll();
  }
  // the cuts of step k: pr (panel rows) then rc (update rows), T + 1 each, rows of that step's
  // trailing matrix
  function cutsAt(k) {
    return POTRF_THREAD + 16 * T + k * 2 * (T + 1);
  }
  function writeCuts(k, pr, rc) {
    const o = cutsAt(k);
    for (let t = 0; t <= T; t++) {
      st[o + t] = pr[t];
      st[o + T + 1 + t] = rc[t];
    }
  }
  function readCuts(k) {
    const o = cutsAt(k), pr = [], rc = [];
    for (let t = 0; t <= T; t++) {
      pr.push(st[o + t]);
      rc.push(st[o + T + 1 + t]);
    }
    return [pr, rc];
  }

  function potrf() {
    const p = args[0] === 0 ? '_f32' : '_f64';
    const d = args[1], a = args[2], lda = args[3], packed = args[4];
    const NB = K.potrf_nb(d);
    const diag = K['potrf_diag' + p], panel = K['potrf_panel' + p], pack = K['potrf_pack' + p];
    const update = K['potrf_update_packed' + p];
    // two packed panels, used by turns: a thread may pack step k + 1 while others still read k
    const packedStep = K.potrf_packed_bytes(d);
    if (!(args[5] > 0)) throw new Error('potrf: no state block');
    st = new Int32Array(msg.memory.buffer, args[5], potrfStateInts(T, Math.ceil(d / NB)));
    const panelDone = (t) => POTRF_THREAD + 16 * t, updateDone = (t) => POTRF_THREAD + 16 * t + 1;
    const arrived = (t) => POTRF_THREAD + 16 * t + 2;
    // (probeFlags bit 1, for tests: the other threads start 3 ms late, as a worker that was asleep)
    if (id !== 0 && (args[13] & 2) !== 0) for (const t = performance.now(); performance.now() - t < 3; );
    if (id !== 0) publish(arrived(id), 1);

    // Thread 0 decides the cuts of a step: who solves and packs which panel rows, who updates
    // which rows of the trailing matrix. A thread solves the panel rows it updated in the step
    // before (they are in its cache: a cache line written by one core and read by the other cost
    // 0.1–0.2 µs here, and with pieces changing hands every step the two threads together spent
    // 1.5× the one-thread time). The update's rows (thread 0 on top, at least the next diagonal
    // block's nb rows) are cut so that the threads, at their measured speeds, with their panel
    // rows and (thread 0) the next diagonal block's factorisation, finish together: the two vCPUs
    // of a cloud host are often not equally fast (a sibling hyperthread busy elsewhere).
    function decide(k, prevRc, jbPrev) {
      const j0 = k * NB, jb = Math.min(NB, d - j0), m = d - j0 - jb;
      if (m <= 0) return null;
      // A thread that has not started yet (a sleeping worker woke 0.05–0.5 ms late here, now and
      // then 1 ms) gets nothing in a short step: thread 0 would wait for it at the end. In a long
      // step it gets its share (it will start well before the step ends; without it, thread 0
      // would do a first step of d = 1024, a quarter of the work, alone).
      let w = weights();
      const stepMs = rates[0] > 0 ? ((m * (m + 1)) / 2 + ROW_UNITS * m + (m * jb) / 2) / rates[0] : Infinity;
      for (let t = 1; t < T && stepMs < LATE_STEP_MS; t++) {
        // before the first step, a worker that was polling (primed, or still polling after the
        // call before) starts within microseconds of thread 0: it is given ARRIVE_MS to do so
        if (k === 0) {
          const until = performance.now() + ARRIVE_MS;
          while (Atomics.load(st, arrived(t)) === 0 && performance.now() < until);
        }
        if (Atomics.load(st, arrived(t)) !== 0) continue;
        if (w === null) w = new Array(T).fill(1);
        w[t] = 0;
      }
      let pr;
      if (prevRc === null) pr = weightedCuts(m, T, w);
      else {
        pr = prevRc.map((r) => Math.min(m, Math.max(0, r - jbPrev)));
        pr[0] = 0;
        pr[T] = m;
      }
      // the other work of each thread in this step: its panel rows; for thread 0 the next
      // diagonal block's factorisation, and (look-ahead) its rows of the next panel instead of
      // those of this one, solved in the step before (from step 1 on). Those rows are its update
      // rows below the next diagonal block, [nb, rc[1]): their cost follows the cut, which is
      // found again with it (twice is enough: it moves the cut by a fraction of nb/2 per row).
      // Charging the panel of this step instead left thread 0 a whole panel over its share in
      // step 0, the longest (~30 µs of ~250 at d = 512 f32) and the same amount short in the last.
      const nb = Math.min(NB, m);
      const pre = [];
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
    function waitOwners(prev, r0, r1, k) {
      if (prev === null) return true;
      for (let u = 0; u < T; u++) {
        if (u === id || prev[u] >= prev[u + 1] || prev[u] >= r1 || prev[u + 1] <= r0) continue;
        if (!waitFor(updateDone(u), k)) return false;
      }
      return true;
    }
    // waits for the packed panel rows [0, r1) of step k (cuts pr)
    function waitPanels(pr, r1, k) {
      for (let u = 0; u < T; u++) {
        if (u !== id && pr[u] < r1 && pr[u] < pr[u + 1] && !waitFor(panelDone(u), k + 1)) return false;
      }
      return true;
    }
    // updates the rows [r0, r1) of step k, those this thread updated in step k − 1 first
    // (the columns [c0, c1) of them: a piece of tiles on NR and MR boundaries has the same bits)
    function updateRows(j0, r0, r1, c0, c1, s0, prev, pr, k, buf) {
      if (r0 >= r1) return true;
      if (!waitPanels(pr, r1, k)) return false;
      if (prev === null) {
        update(d, j0, r0, r1, c0, c1, a, lda, buf, work);
        return true;
      }
      // the rows of each previous owner, this thread's own first
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
      publish(POTRF_DIAG, 1);
    }
    let prev = null; // the update cuts of the step before, absolute rows
    let prevPrev = null; // and of the step before that
    let ahead = -1; // the step whose panel rows thread 0 has solved and packed already
    for (let k = 0, j0 = 0; j0 < d; k++, j0 += NB) {
      const jb = Math.min(NB, d - j0);
      const m = d - j0 - jb;
      if (m === 0) break;
      const s0 = j0 + jb; // first row of A21 and A22
      if (!waitFor(POTRF_DIAG, k + 1)) return; // L11 of this step and its cuts
      const [pr, rc] = readCuts(k);
      const buf = packed + (k & 1) * packedStep;
      const t0 = performance.now();
      waited = 0;
      let units = 0; // this step's work in units (see rowCuts), for the speed
      // the panel rows of this thread: solved and packed (the packed panel of step k − 2, in the
      // same buffer, must be read by all before)
      function solvePanel(k, j0, s0, r0, r1, prev, readers, buf) {
        // readers: the update cuts of step k − 2, whose packed panel buf held (those with rows)
        for (let u = 0; readers !== null && u < T; u++) {
          if (u !== id && readers[u] < readers[u + 1] && !waitFor(updateDone(u), k - 1)) return false;
        }
        if (!waitOwners(prev, s0 + r0, s0 + r1, k)) return false;
        panel(d, j0, r0, r1, a, lda, work);
        pack(d, j0, r0, r1, a, lda, buf);
        publish(panelDone(id), k + 1);
        units += ((r1 - r0) * Math.min(NB, d - j0)) / 2;
        return true;
      }
      if (ahead !== k) {
        if (pr[id] < pr[id + 1]) {
          if (!solvePanel(k, j0, s0, pr[id], pr[id + 1], prev, prevPrev, buf)) return;
        } else publish(panelDone(id), k + 1);
      }
      const nb = Math.min(NB, m);
      let tl = 0;
      let r0 = rc[id];
      if (id === 0) {
        // look-ahead: the next diagonal block first, factored at once, then the next cuts; then
        // the next panel's columns of thread 0's rows, and those rows of the next panel solved
        // and packed (the other threads' updates of the next step wait for them), and only then
        // the rest of thread 0's rows
        if (!updateRows(j0, 0, nb, 0, m, s0, prev, pr, k, buf)) return;
        const t3 = performance.now();
        const info = diag(d, s0, a, lda, work);
        if (info !== 0) return failed(info);
        tl = performance.now() - t3;
        look[0] = look[0] > 0 ? 0.5 * look[0] + 0.5 * tl : tl;
        const next = decide(k + 1, rc, nb);
        publish(POTRF_DIAG, k + 2);
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
      // this step's speed: panel rows (rows·jb² flops, counted as rows·jb/2 units) and updated
      // units (see rowCuts) per ms, the waits and the look-ahead factorisation left out; not in
      // the first step, whose rows the calling thread has just copied in (they come to the other
      // threads from its cache, slower)
      units += rowUnits(rc[id], rc[id + 1], ROW_UNITS);
      let ms = performance.now() - t0 - waited - tl;
      if (k > 0 && id < MAX_RATES && units > 0 && ms > 0) {
        // sums with forgetting, so that the small last steps (where fixed costs weigh) count little;
        // a step is taken as at most twice as slow or fast as the speed so far: a thread that was
        // descheduled for a while (steps of 1–3 ms instead of 0.1 were seen) must not lose its rows
        // for the next several calls
        if (sumMs > 0) ms = Math.min(2, Math.max(0.5, (ms * sumUnits) / (units * sumMs))) * ((units * sumMs) / sumUnits);
        sumUnits = 0.9 * sumUnits + units;
        sumMs = 0.9 * sumMs + ms;
        rates[id] = sumUnits / sumMs;
      }
      prevPrev = prev;
      prev = rc.map((r) => r + s0);
    }
    // the factor is complete: each thread zeroes its share of the strict upper triangle (row i
    // holds d − 1 − i elements, the shape areaCuts splits; no one reads it, so no thread waits
    // for another here). Thread 0 takes three shares: when the calling thread takes part, the
    // lines are in its cache since it copied A in (the other thread took 3.5× as long for its
    // share at d = 512, the lines coming from the other core)
    const z = areaCuts(d, T + 2);
    K['zero_upper_rows' + p](d, z[id === 0 ? 0 : id + 2], z[id + 3], a, lda);
  }

  return {
    ctl,
    run(op) {
      try {
        if (op === OP_SYRK) syrk();
        else if (op === OP_POTRF) potrf();
      } catch (e) {
        Atomics.store(ctl, ERROR, 1);
        wakeAll();
      }
      st = null;
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
    const signalled = Atomics.load(ctl, SIGNALLED);
    if (Atomics.add(ctl, DONE, 1) === signalled - 1) Atomics.notify(ctl, DONE);
    // after a call the calling thread took part in, poll for a while before sleeping (see
    // IDLE_SPIN_MS); not after one on the workers alone, whose calling thread needs a core now
    if (signalled < msg.threads) primedUntil = performance.now() + IDLE_SPIN_MS;
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
