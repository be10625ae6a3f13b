/**
 * Threads: a pool of workers (worker_threads in Node, Web Workers in cross-origin-isolated pages)
 * that run pieces of syrk, potrf, potrs, gemm, the Gram matrix, gemv and scans side by side on one
 * shared WebAssembly.Memory.
 *
 * Every worker instantiates the threaded build (the same assembly/ sources compiled with
 * `--enable threads --importMemory --sharedMemory`) on the shared memory and gets its own packing
 * workspace. Calls are not posted as messages: the calling thread writes the operation and its
 * arguments into a small control block in the shared memory, moves the go word of each worker
 * that takes part and `Atomics.notify`s it; the workers `Atomics.wait` on their go words, split
 * the work by rules they all compute the same way (or that thread 0 publishes), wait for each
 * other only where a piece reads what another wrote (poll a little, then `Atomics.wait`), and
 * count themselves done. Short calls (init's blockMs) have the calling thread take part as thread
 * 0, where it may block; otherwise it awaits the done count with `Atomics.waitAsync` (or polls),
 * so it is never blocked. Before copying the operands in, the async calls prime the workers
 * (ThreadPool.prime) so that they wake up meanwhile. One operation runs at a time (calls queue).
 *
 * The split of each operation is in src/threads-worker.ts (the code every thread runs: the workers
 * from src/worker.generated.ts, the calling thread directly), the control block's layout in
 * src/threads-layout.ts, the tuning constants in src/tuning.ts.
 *
 * Two ways in: `run` (linalg.*Async: short calls with the calling thread taking part, long ones on
 * the workers alone while it awaits them) and `runSync` / `kernel` (the async methods of
 * EmpiricalFisher and the optimizer, through `onThreads` in src/engine.ts: their kernels syrk,
 * potrf, potrs, gemm, gram, gemv, max_abs and first_nonfinite are split with the calling thread
 * taking part, the rest of the step runs on
 * it as in the synchronous call). Results are bit-identical to the one-thread kernels: every
 * element sees the same operations in the same order (see assembly/parallel.ts).
 */
import { WORKER_SOURCE } from './worker.generated.js';
import { makeThread, type Kernels, type ThreadPart } from './threads-worker.js';
import {
  ARGS, CTL, GEMM_ARGS, GEMV_N_ARGS, GEMV_T_ARGS, GRAM_ARGS, OP, POTRF_ARGS, POTRS_ARGS, SCAN_ARGS, SYRK_ARGS, MAX_PIECES, potrfStateBytes, writeArgs, type ArgsOf, type WorkerReply, type WorkerStart,
} from './threads-layout.js';
import {
  AWAKE_MARGIN_MS, BLOCK_MS, CHUNKS_PER_THREAD, IDLE_SPIN_MS, MIN_SPLIT, PIECE, PRIMED_SPIN_MS, SPIN_DONE_MS, WAKE_LEAD_MS, WORKER_FLOPS, threadTuning,
} from './tuning.js';

export { CTL, OP, potrfStateBytes };
export { BLOCK_MS };

export interface ThreadHost {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  workBytes: number;
  /** the calling thread's instance of the threaded build and its workspace: with them it takes
   *  part as thread 0 (ThreadPool.run, ThreadPool.runSync) */
  exports: Kernels;
  work: number;
}

interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
  /** Node: keeps the process alive while an operation runs (workers are unref'd in between) */
  ref?(): void;
  unref?(): void;
}

/** Why threads are not available here, or undefined when they are. */
export function threadsUnavailableReason(): string | undefined {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; Atomics?: unknown };
  if (typeof g.SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is not available (a page must be cross-origin isolated)';
  if (g.crossOriginIsolated === false) return 'the page is not cross-origin isolated';
  if (typeof g.Atomics !== 'object') return 'Atomics is not available';
  if (isNode()) {
    const p = (globalThis as { process?: { getBuiltinModule?: unknown } }).process;
    if (typeof p?.getBuiltinModule !== 'function') return 'threads need process.getBuiltinModule (Node ≥ 20.16)';
  } else if (typeof (globalThis as { Worker?: unknown }).Worker !== 'function') {
    return 'Web Workers are not available';
  }
  return undefined;
}

/**
 * How many threads this machine runs at once (Node: os.availableParallelism; browsers:
 * navigator.hardwareConcurrency), or undefined where it does not say.
 */
export function hardwareThreads(): number | undefined {
  let n: unknown;
  if (isNode()) {
    const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const os = p?.getBuiltinModule?.('os') as { availableParallelism?: () => number; cpus?: () => unknown[] } | undefined;
    n = os?.availableParallelism?.() ?? os?.cpus?.().length;
  } else {
    n = (globalThis as { navigator?: { hardwareConcurrency?: unknown } }).navigator?.hardwareConcurrency;
  }
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

/**
 * Node's worker_threads through process.getBuiltinModule (Node ≥ 20.16): no import() and no
 * require() in the bundle, so that bundlers for browsers see nothing to resolve.
 */
function nodeWorkerThreads(): { Worker: new (src: string, o: { eval: boolean }) => WorkerLike & NodeEvents } {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const builtin = p?.getBuiltinModule?.('worker_threads');
  if (!builtin) throw new Error('threads need process.getBuiltinModule (Node ≥ 20.16)');
  return builtin as never;
}

interface NodeEvents {
  on(event: string, f: (x: unknown) => void): void;
  unref(): void;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let blockable: boolean | undefined;
/** Whether this thread may Atomics.wait (not on a browser's main thread). */
export function canBlock(): boolean {
  if (blockable === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockable = true;
    } catch {
      blockable = false;
    }
  }
  return blockable;
}

type Kernel = (...args: number[]) => number;

/** A pool of `size` workers sharing the memory of the main engine. */
export class ThreadPool {
  readonly size: number;
  private readonly ctlPtr: number;
  private readonly host: ThreadHost;
  private readonly workers: WorkerLike[];
  /** the calling thread's part as thread 0 (the same module code as the workers') */
  private readonly main: ThreadPart;
  private queue: Promise<unknown> = Promise.resolve();
  /** an operation runs on the workers alone and the calling thread awaits it (runNow) */
  private inFlight: Promise<unknown> | undefined;
  /** @internal calls estimated shorter than this (seconds) let the calling thread take part
   *  (init's blockMs) */
  blockBelow = BLOCK_MS / 1000;
  /** @internal operations run on the threads so far */
  runs = 0;
  /** performance.now() until which the workers poll (primed, or after a call the calling thread
   *  took part in), with a margin; 0: asleep */
  private awakeUntil = 0;
  /** performance.now() at the end of the last async call, on the threads or not */
  private lastCallEnd = -Infinity;
  /** shared scratch of runSync's syrk and potrf (packed operands, potrf's state), grown on demand */
  private scratch = 0;
  private scratchBytes = 0;

  private constructor(size: number, host: ThreadHost, ctlPtr: number, workers: WorkerLike[]) {
    this.size = size;
    this.host = host;
    this.ctlPtr = ctlPtr;
    this.workers = workers;
    this.main = makeThread(host.exports, { memory: host.memory, ctl: ctlPtr, work: host.work, id: 0, threads: size, canBlock: canBlock() });
  }

  static async create(host: ThreadHost, module: WebAssembly.Module, size: number): Promise<ThreadPool> {
    const ctlPtr = host.alloc(CTL.BYTES);
    new Int32Array(host.memory.buffer, ctlPtr, CTL.BYTES / 4).fill(0);
    const works: number[] = [];
    for (let t = 0; t < size; t++) works.push(host.alloc(host.workBytes));
    const workers: WorkerLike[] = [];
    const ready: Promise<void>[] = [];
    const node = isNode();
    const NodeWorker = node ? nodeWorkerThreads().Worker : undefined;
    let url: string | undefined;
    const settle = (m: WorkerReply, resolve: () => void, reject: (e: Error) => void) =>
      m.ready ? resolve() : reject(new Error(String(m.error)));
    try {
      if (!node) url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
      for (let t = 0; t < size; t++) {
        const init: WorkerStart = { module, memory: host.memory, ctl: ctlPtr, work: works[t], id: t, threads: size, canBlock: true };
        if (NodeWorker) {
          const w = new NodeWorker(WORKER_SOURCE, { eval: true });
          workers.push(w);
          ready.push(
            new Promise((resolve, reject) => {
              w.on('message', (m) => settle(m as WorkerReply, resolve, reject));
              w.on('error', (e) => reject(e as Error));
            }),
          );
          w.postMessage(init);
        } else {
          const w = new (globalThis as unknown as { Worker: new (u: string) => Worker }).Worker(url!);
          workers.push(w);
          ready.push(
            new Promise((resolve, reject) => {
              w.onmessage = (e) => settle(e.data as WorkerReply, resolve, reject);
              w.onerror = (e) => reject(new Error(`worker: ${e.message}`));
            }),
          );
          w.postMessage(init);
        }
      }
      await Promise.all(ready);
      // idle workers must not keep a Node process alive (they are ref'd while an operation runs)
      for (const w of workers) w.unref?.();
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    } finally {
      if (url) URL.revokeObjectURL(url);
    }
    return new ThreadPool(size, host, ctlPtr, workers);
  }

  /** Whether a call of about `seconds` runs with the calling thread taking part (see run). */
  private joins(seconds: number): boolean {
    return seconds < this.blockBelow && this.callerTakesPart;
  }

  /** @internal whether short linalg calls from this thread run with it taking part (see run) */
  get callerTakesPart(): boolean {
    return canBlock();
  }

  private ctl(): Int32Array {
    return new Int32Array(this.host.memory.buffer, this.ctlPtr, CTL.BYTES / 4);
  }

  /**
   * Tells the workers that an operation of about `seconds` follows soon (call it before copying
   * the operands in, with the estimate run will get): they poll instead of sleeping for a few ms,
   * so that their wake-up overlaps the copy. Harmless when nothing follows. When the calling
   * thread will take part, workers 1 … size − 1; otherwise workers 0 … size − 2 (the last worker
   * is woken by run, which leaves a core to the copy meanwhile).
   */
  prime(seconds = Infinity, joins = this.joins(seconds)): void {
    const ctl = this.ctl();
    const last = joins ? this.size : this.size - 1;
    for (let t = joins ? 1 : 0; t < last; t++) {
      const i = CTL.GO_BYTE / 4 + t;
      const v = Atomics.load(ctl, i);
      // odd already: primed before, but perhaps asleep again since (any change wakes it)
      Atomics.store(ctl, i, v + ((v & 1) !== 0 ? 2 : 1));
      Atomics.notify(ctl, i);
    }
    this.awakeUntil = performance.now() + PRIMED_SPIN_MS - AWAKE_MARGIN_MS;
  }

  /**
   * For an async call of about `oneThreadSeconds` of work on one thread, below the size at which
   * waking a sleeping worker pays (threadTuning.asleepSeconds): true when the workers are asleep,
   * and the call should run on the calling thread. If calls come in quick succession (the last
   * ended under PRIMED_SPIN_MS ago), the workers are primed for the calls that follow. The caller
   * calls callEnded() after running it.
   */
  asleepFor(oneThreadSeconds: number): boolean {
    const now = performance.now();
    if (now < this.awakeUntil) return false;
    if (now - this.lastCallEnd < PRIMED_SPIN_MS) this.prime(oneThreadSeconds / this.size);
    return true;
  }

  /** Notes the end of an async call that ran without the threads (see asleepFor). */
  callEnded(): void {
    this.lastCallEnd = performance.now();
  }

  /**
   * Runs `op` with `args` (in the op's layout) on the threads; resolves with the INFO word (potrf's
   * info). `seconds`: about how long the threads will take. Below `blockBelow` (init's blockMs),
   * where the calling thread may block (Node, and workers in browsers), it takes part as thread 0
   * with workers 1 … size − 1 and has finished when the promise is returned. Longer calls run on
   * the workers alone, and the calling thread awaits them through its event loop until about
   * WAKE_LEAD_MS before their estimated end, then blocks for the rest (at most blockBelow).
   */
  run<L extends Record<string, number>>(op: number, layout: L, args: ArgsOf<L>, seconds = Infinity): Promise<number> {
    const next = this.queue.then(() => this.runNow(op, layout, args, seconds));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Sets up the control block for `op` and signals workers first … size − 1. */
  private start<L extends Record<string, number>>(op: number, layout: L, args: ArgsOf<L>, first: number): Int32Array {
    const ctl = this.ctl();
    writeArgs(new Float64Array(this.host.memory.buffer, this.ctlPtr + CTL.ARGS_BYTE, ARGS), layout, args);
    this.runs++;
    ctl[CTL.OP] = op;
    ctl[CTL.INFO] = 0;
    ctl[CTL.ERROR] = 0;
    ctl[CTL.CLAIM] = 0;
    ctl[CTL.CLAIM_COLS] = 0;
    ctl[CTL.PACKED] = 0;
    ctl[CTL.SIGNALLED] = this.size - first;
    Atomics.store(ctl, CTL.DONE, 0);
    for (let t = first; t < this.size; t++) {
      const i = CTL.GO_BYTE / 4 + t;
      const v = Atomics.load(ctl, i);
      Atomics.store(ctl, i, v + ((v & 1) !== 0 ? 1 : 2));
      Atomics.notify(ctl, i);
    }
    return ctl;
  }

  private async runNow<L extends Record<string, number>>(op: number, layout: L, args: ArgsOf<L>, seconds: number): Promise<number> {
    const joins = this.joins(seconds);
    const first = joins ? 1 : 0;
    // a pending Atomics.waitAsync does not keep Node's event loop alive: the workers do, meanwhile
    for (let t = first; t < this.size; t++) this.workers[t].ref?.();
    let finished: () => void = () => undefined;
    if (!joins) this.inFlight = new Promise<void>((resolve) => (finished = resolve));
    try {
      const ctl = this.start(op, layout, args, first);
      if (joins) {
        this.main.run(op);
        // it has done its share, so it holds a core of its own: it polls before it sleeps
        this.waitDoneBlocking(ctl, this.size - 1, SPIN_DONE_MS, Infinity);
      } else if (canBlock() && this.blockBelow > 0 && Number.isFinite(seconds)) {
        // The calling thread is free while the workers compute, but comes back shortly before they
        // should be done and waits for the rest blocking, for at most blockBelow: waking it through
        // the event loop after they are done costs more (bench/RESULTS.md, the tuning constants).
        const ms = Math.floor(seconds * 1000 - WAKE_LEAD_MS);
        if (ms > 0) await Promise.race([delay(ms), this.untilDone(ctl, this.size)]);
        this.waitDoneBlocking(ctl, this.size, 0, this.blockBelow * 1000);
      }
      return await this.waitDone(ctl, this.size - first);
    } finally {
      for (let t = first; t < this.size; t++) this.workers[t].unref?.();
      // after a call the calling thread took part in, its workers poll for IDLE_SPIN_MS; after one
      // on the workers alone they sleep at once
      const now = performance.now();
      this.awakeUntil = joins ? now + IDLE_SPIN_MS - AWAKE_MARGIN_MS : 0;
      this.lastCallEnd = now;
      this.inFlight = undefined;
      finished();
    }
  }

  /**
   * Runs `op` now with the calling thread taking part as thread 0 and returns the INFO word when
   * every thread is done: blocking, or polling where this thread may not block (a page's main
   * thread). Only while no operation runs on the workers alone (see whenIdle). Throws if a thread
   * failed.
   */
  runSync<L extends Record<string, number>>(op: number, layout: L, args: ArgsOf<L>): number {
    if (this.inFlight) throw new Error('empirical-fisher: the threads are busy with another call');
    try {
      const ctl = this.start(op, layout, args, 1);
      this.main.run(op);
      this.waitDoneBlocking(ctl, this.size - 1, canBlock() ? SPIN_DONE_MS : Infinity, Infinity);
      if (Atomics.load(ctl, CTL.ERROR) !== 0) throw new Error('empirical-fisher: a worker thread failed');
      return Atomics.load(ctl, CTL.INFO);
    } finally {
      const now = performance.now();
      this.awakeUntil = now + IDLE_SPIN_MS - AWAKE_MARGIN_MS;
      this.lastCallEnd = now;
    }
  }

  /** Whether an operation runs on the workers alone (runSync must wait: whenIdle). */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** Resolves when no operation runs on the workers alone. */
  async whenIdle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /**
   * Blocks until `count` workers are done or `maxMs` have passed: polls for up to `spinMs`, then
   * Atomics.wait.
   */
  private waitDoneBlocking(ctl: Int32Array, count: number, spinMs: number, maxMs: number): void {
    const start = performance.now();
    for (let spins = 0; ; ) {
      const done = Atomics.load(ctl, CTL.DONE);
      if (done >= count) return;
      if ((++spins & 1023) !== 0 && spinMs > 0) continue;
      const waited = performance.now() - start;
      if (waited >= maxMs) return;
      if (waited > spinMs) Atomics.wait(ctl, CTL.DONE, done, Math.min(1, maxMs - waited));
    }
  }

  private async waitDone(ctl: Int32Array, count: number): Promise<number> {
    await this.untilDone(ctl, count);
    if (Atomics.load(ctl, CTL.ERROR) !== 0) throw new Error('empirical-fisher: a worker thread failed');
    return Atomics.load(ctl, CTL.INFO);
  }

  /** Resolves when `count` workers are done (Atomics.waitAsync, or polling with setTimeout). */
  private async untilDone(ctl: Int32Array, count: number): Promise<void> {
    const waitAsync = (Atomics as unknown as {
      waitAsync?: (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string };
    }).waitAsync;
    for (;;) {
      const done = Atomics.load(ctl, CTL.DONE);
      if (done >= count) break;
      if (waitAsync) {
        const r = waitAsync(ctl, CTL.DONE, done);
        if (r.async) await r.value;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  }

  /** runSync's shared scratch of at least `bytes` (it only grows; may grow the memory). */
  private scratchOf(bytes: number): number {
    if (bytes > this.scratchBytes) {
      const p = this.host.alloc(bytes);
      if (this.scratch) this.host.free(this.scratch);
      this.scratch = p;
      this.scratchBytes = bytes;
    }
    return this.scratch;
  }

  /**
   * @internal The kernel export `name` (syrk_f32, gemv_t_f32f64, …) split between the threads with
   * the calling thread taking part (runSync), for the kernels the pool splits (syrk, potrf, potrs,
   * gemm, gram, gemv) at sizes above threadTuning; undefined for the others (they run on the calling
   * thread). The same arguments and the same bits as the one-thread kernel.
   */
  kernel(name: string): Kernel | undefined {
    const K = this.host.exports;
    const one = K[name] as Kernel;
    const under = name.lastIndexOf('_');
    const base = name.slice(0, under);
    const p = name.slice(under + 1);
    const code = p === 'f32' ? 0 : p === 'f64' ? 1 : p === 'f32f64' ? 2 : -1;
    if (code < 0) return undefined;
    const rate = code === 0 ? WORKER_FLOPS.f32 : WORKER_FLOPS.f64;
    const { minFlops } = threadTuning;
    switch (code === 2 ? name : base) {
      case 'syrk':
        return (n, d, alpha, g, ldg, beta, c, ldc, work) => {
          if (n * d * d < minFlops || d < MIN_SPLIT.syrkColumns) return one(n, d, alpha, g, ldg, beta, c, ldc, work);
          const packed = this.scratchOf((K.syrk_packed_bytes as Kernel)(n, d));
          return this.runSync(OP.SYRK, SYRK_ARGS, { precision: code, n, d, alpha, g, ldg, beta, c, ldc, packed, full: 0 });
        };
      case 'potrf':
        return (d, a, lda, work) => {
          if ((d * d * d) / 3 / rate < threadTuning.minCholeskySeconds) return one(d, a, lda, work);
          const panel = (K.potrf_packed_bytes as Kernel)(d);
          const state = potrfStateBytes(this.size, Math.ceil(d / (K.potrf_nb as Kernel)(d)));
          const s = this.scratchOf(2 * panel + state);
          new Uint8Array(this.host.memory.buffer, s + 2 * panel, state).fill(0);
          return this.runSync(OP.POTRF, POTRF_ARGS, { precision: code, d, a, lda, panels: s, state: s + 2 * panel, zeroUpper: 0 });
        };
      case 'max_abs':
      case 'first_nonfinite':
        return (n, x) => {
          const pieces = Math.min(MAX_PIECES, this.size * CHUNKS_PER_THREAD, Math.floor(n / PIECE.scanElements));
          if (n < minFlops || pieces < 2) return one(n, x);
          const maxAbs = base === 'max_abs';
          this.runSync(OP.SCAN, SCAN_ARGS, { precision: code, kind: maxAbs ? 0 : 1, n, x, pieces });
          const r = new Float64Array(this.host.memory.buffer, this.ctlPtr + CTL.RESULTS_BYTE, pieces);
          let v = maxAbs ? 0 : -1;
          for (let i = 0; i < pieces; i++) {
            if (maxAbs) v = r[i] > v ? r[i] : v;
            else if (r[i] >= 0) return r[i];
          }
          return v;
        };
      case 'potrs':
        return (d, nrhs, l, ldl, b, ldb, work) => {
          if (2 * d * d * nrhs < minFlops || nrhs < MIN_SPLIT.potrsRhs) return one(d, nrhs, l, ldl, b, ldb, work);
          return this.runSync(OP.POTRS, POTRS_ARGS, { precision: code, d, nrhs, l, ldl, b, ldb });
        };
      case 'gemm':
        return (m, n, k, alpha, a, lda, transA, b, ldb, transB, beta, c, ldc, work) => {
          if (2 * m * n * k < minFlops || m < 2) return one(m, n, k, alpha, a, lda, transA, b, ldb, transB, beta, c, ldc, work);
          return this.runSync(OP.GEMM, GEMM_ARGS, { precision: code, m, n, k, alpha, a, lda, transA, b, ldb, transB, beta, c, ldc });
        };
      case 'gram':
        return (n, d, alpha, g, ldg, beta, c, ldc, work) => {
          if (n * n * d < minFlops || n < 2) return one(n, d, alpha, g, ldg, beta, c, ldc, work);
          return this.runSync(OP.GRAM, GRAM_ARGS, { precision: code, n, d, alpha, g, ldg, beta, c, ldc });
        };
      case 'gemv_n':
        return (m, n, alpha, a, lda, x, beta, y) => {
          if (2 * m * n < minFlops || m < MIN_SPLIT.gemvRows) return one(m, n, alpha, a, lda, x, beta, y);
          return this.runSync(OP.GEMV_N, GEMV_N_ARGS, { precision: code, m, n, alpha, a, lda, x, beta, y });
        };
      case 'gemv_n_f32f64':
        return (m, n, alpha, a, lda, x, y) => {
          if (2 * m * n < minFlops || m < MIN_SPLIT.gemvRows) return one(m, n, alpha, a, lda, x, y);
          return this.runSync(OP.GEMV_N, GEMV_N_ARGS, { precision: code, m, n, alpha, a, lda, x, beta: 0, y });
        };
      case 'gemv_t':
      case 'gemv_t_f32f64':
        return (m, n, alpha, a, lda, x, beta, y) => {
          if (2 * m * n < minFlops || n < 2 * PIECE.gemvColumns) return one(m, n, alpha, a, lda, x, beta, y);
          return this.runSync(OP.GEMV_T, GEMV_T_ARGS, { precision: code, m, n, alpha, a, lda, x, beta, y });
        };
      default:
        return undefined;
    }
  }

  /** Stops the workers (their memory stays with the engine). */
  terminate(): void {
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
