/**
 * Threads: a pool of workers (worker_threads in Node, Web Workers in cross-origin-isolated pages)
 * that run pieces of syrk and potrf side by side on one shared WebAssembly.Memory.
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
 * Splits (assembly/parallel.ts does the arithmetic; threads-worker.ts decides who does what):
 *   syrk    Gᵀ packed once in row pieces, then the columns of the lower triangle in pieces, big
 *           ones first, both claimed one at a time from atomic counters (a thread that starts
 *           late or runs slower takes fewer); each thread mirrors the columns it wrote into the
 *           upper triangle.
 *   potrf   per block column, without barriers: thread 0 factors the diagonal block and cuts the
 *           step; each thread owns rows of the trailing matrix (cut by predicted time at each
 *           thread's measured speed, thread 0 on top, the same rows from step to step as far as
 *           the shrinking matrix allows: a cache line moving between cores costs 0.1–0.2 µs
 *           here), solves the panel rows it owns and packs them into a shared packed panel (two,
 *           used by turns), then updates its rows from it, waiting only for the packed rows it
 *           reads. Thread 0 looks ahead: the next diagonal block, then its rows of the next
 *           panel, then the rest of its update. Each thread zeroes a share of the strict upper
 *           triangle at the end.
 * Results are bit-identical to the one-thread kernels: every element sees the same operations in
 * the same order (see assembly/parallel.ts).
 */
import { IDLE_SPIN_MS, PRIMED_SPIN_MS, THREAD_SOURCE, WORKER_SOURCE } from './threads-worker.js';

/** Control block layout (Int32 indices; the f64 arguments start at byte 64). */
export const CTL = {
  DONE: 1,
  /** syrk: pieces of Gᵀ packed */
  PACKED: 2,
  OP: 4,
  INFO: 5,
  ERROR: 6,
  /** syrk: the next piece of Gᵀ to pack; CLAIM_COLS: the next piece of columns */
  CLAIM: 8,
  /** how many workers were signalled (the last one to finish notifies DONE) */
  SIGNALLED: 9,
  CLAIM_COLS: 10,
  ARGS_BYTE: 64,
  /** 64 f64: each thread's measured speed in potrf (threads-worker.ts) */
  RATES_BYTE: 192,
  /** 64 i32: worker t's go word (odd: primed; moved to the next even value: run OP) */
  GO_BYTE: 704,
  /** f64: thread 0's time for a diagonal block in potrf (threads-worker.ts) */
  LOOK_BYTE: 960,
  BYTES: 976,
} as const;

export const OP = { SYRK: 1, POTRF: 2, EXIT: 3 } as const;

/**
 * Bytes of potrf's state block for `threads` threads and `steps` block columns (progress words and
 * cuts; must start zeroed): potrfStateInts in threads-worker.ts, which test/threads.node.test.ts
 * compares.
 */
export function potrfStateBytes(threads: number, steps: number): number {
  return 4 * (16 + 16 * threads + steps * 2 * (threads + 1));
}

export interface ThreadHost {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  workBytes: number;
  /** the calling thread's instance of the threaded build and its workspace: with them it can take
   *  part in short calls as thread 0 (ThreadPool.run) */
  exports?: WebAssembly.Exports;
  work?: number;
}

/** Thread 0's part of an operation, run by the calling thread (threads-worker.ts makeThread). */
interface ThreadPart {
  run(op: number): void;
}

/**
 * The calling thread's ThreadPart: the workers' own code (THREAD_SOURCE), compiled here too so
 * that every thread splits the work by the same text. Undefined where a Content Security Policy
 * forbids compiling source text; the calling thread then never takes part.
 */
function mainThreadPart(host: ThreadHost, ctl: number, threads: number): ThreadPart | undefined {
  if (!host.exports || host.work === undefined) return undefined;
  try {
    const make = new Function(`${THREAD_SOURCE}\nreturn makeThread;`)() as (K: unknown, msg: unknown) => ThreadPart;
    return make(host.exports, { memory: host.memory, ctl, work: host.work, id: 0, threads });
  } catch {
    return undefined;
  }
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

/** The default of init's blockMs: calls estimated under it let the calling thread take part
 *  (ThreadPool.run). */
export const BLOCK_MS = 3;
/** How long the calling thread polls for the workers to finish before it sleeps. */
const SPIN_DONE_MS = 2;
/** Long calls: how long before the estimated end the calling thread comes back to wait blocking. */
const WAKE_LEAD_MS = 1;
/** The workers' polling windows start a little before the calling thread sees a call end. */
const AWAKE_MARGIN_MS = 0.25;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let blockable: boolean | undefined;
/** Whether this thread may Atomics.wait (not on a browser's main thread). */
function canBlock(): boolean {
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

/** A pool of `size` workers sharing the memory of the main engine. */
export class ThreadPool {
  readonly size: number;
  private readonly ctlPtr: number;
  private readonly memory: WebAssembly.Memory;
  private readonly workers: WorkerLike[];
  private readonly main: ThreadPart | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** @internal switches for tests (0: the defaults; 2: the workers start potrf 3 ms late) */
  probeFlags = 0;
  /** @internal whether the calling thread may take part in short calls (tests switch it off) */
  mainTakesPart = true;
  /** @internal calls estimated shorter than this (seconds) let the calling thread take part
   *  (init's blockMs) */
  blockBelow = BLOCK_MS / 1000;
  /** @internal calls run on the threads so far (tests) */
  runs = 0;
  /** performance.now() until which the workers poll (primed, or after a call the calling thread
   *  took part in), with a margin; 0: asleep */
  private awakeUntil = 0;
  /** performance.now() at the end of the last async call, on the threads or not */
  private lastCallEnd = -Infinity;

  private constructor(size: number, memory: WebAssembly.Memory, ctlPtr: number, workers: WorkerLike[], main: ThreadPart | undefined) {
    this.size = size;
    this.memory = memory;
    this.ctlPtr = ctlPtr;
    this.workers = workers;
    this.main = main;
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
    try {
      if (!node) url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
      for (let t = 0; t < size; t++) {
        const init = { module, memory: host.memory, ctl: ctlPtr, work: works[t], id: t, threads: size };
        if (NodeWorker) {
          const w = new NodeWorker(WORKER_SOURCE, { eval: true });
          workers.push(w);
          ready.push(
            new Promise((resolve, reject) => {
              w.on('message', (m) => ((m as { ready?: boolean }).ready ? resolve() : reject(new Error(String((m as { error?: string }).error)))));
              w.on('error', (e) => reject(e as Error));
            }),
          );
          w.postMessage(init);
        } else {
          const w = new (globalThis as unknown as { Worker: new (u: string) => Worker }).Worker(url!);
          workers.push(w);
          ready.push(
            new Promise((resolve, reject) => {
              w.onmessage = (e) => (e.data?.ready ? resolve() : reject(new Error(String(e.data?.error))));
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
    return new ThreadPool(size, host.memory, ctlPtr, workers, mainThreadPart(host, ctlPtr, size));
  }

  /** Whether a call of about `seconds` runs with the calling thread taking part (see run). */
  private joins(seconds: number): boolean {
    return seconds < this.blockBelow && this.callerTakesPart;
  }

  /** @internal whether short calls from this thread run with it taking part (see run) */
  get callerTakesPart(): boolean {
    return this.main !== undefined && this.mainTakesPart && canBlock();
  }

  private ctl(): Int32Array {
    return new Int32Array(this.memory.buffer, this.ctlPtr, CTL.BYTES / 4);
  }

  /**
   * Tells the workers that an operation of about `seconds` follows soon (call it before copying
   * the operands in, with the estimate run will get): they poll instead of sleeping for a few ms,
   * so that their wake-up overlaps the copy. Harmless when nothing follows. When the calling
   * thread will take part, workers 1 … size − 1 (worker 0 polling would take its core); otherwise
   * workers 0 … size − 2 (thread 0 factors the first diagonal block, which every thread waits for;
   * the last worker is woken by run, which leaves a core to the copy meanwhile).
   */
  prime(seconds = Infinity): void {
    const ctl = this.ctl();
    const joins = this.joins(seconds);
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
   * waking a sleeping worker pays (see threadTuning in linalg.ts): true when the workers are asleep,
   * and the call should run on the calling thread. Waking one took 0.05–1.3 ms here, and the notify
   * itself held the calling thread ~50 µs (up to 1.8 ms). If calls come in quick succession (the
   * last ended under PRIMED_SPIN_MS ago), the workers are primed for the calls that follow. The
   * caller calls callEnded() after running it.
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
   * Runs `op` with `args` on the threads; resolves with the INFO word (potrf's info).
   * `seconds`: about how long the threads will take. Below `blockBelow` (init's blockMs), where
   * the calling thread may block (Node, and workers in browsers), it takes part as thread 0 with
   * workers 1 … size − 1 and has finished when the promise is returned: waking a sleeping thread
   * took 0.05–0.5 ms here and waking the event loop 0.15–0.35 ms, a third of a two-thread
   * Cholesky at d = 512. Longer calls run on the workers alone, and the calling thread awaits
   * them through its event loop until about WAKE_LEAD_MS before their estimated end, then blocks
   * for the rest (at most blockBelow).
   */
  run(op: number, args: readonly number[], seconds = Infinity): Promise<number> {
    const next = this.queue.then(() => this.runNow(op, args, seconds));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(op: number, args: readonly number[], seconds: number): Promise<number> {
    const ctl = this.ctl();
    const a = new Float64Array(this.memory.buffer, this.ctlPtr + CTL.ARGS_BYTE, 16);
    a.fill(0);
    a.set(args);
    a[13] = this.probeFlags;
    const main = this.joins(seconds) ? this.main : undefined;
    const first = main ? 1 : 0;
    this.runs++;
    ctl[CTL.OP] = op;
    ctl[CTL.INFO] = 0;
    ctl[CTL.ERROR] = 0;
    ctl[CTL.CLAIM] = 0;
    ctl[CTL.CLAIM_COLS] = 0;
    ctl[CTL.PACKED] = 0;
    ctl[CTL.SIGNALLED] = this.size - first;
    Atomics.store(ctl, CTL.DONE, 0);
    // a pending Atomics.waitAsync does not keep Node's event loop alive: the workers do, meanwhile
    for (let t = first; t < this.size; t++) this.workers[t].ref?.();
    try {
      for (let t = first; t < this.size; t++) {
        const i = CTL.GO_BYTE / 4 + t;
        const v = Atomics.load(ctl, i);
        Atomics.store(ctl, i, v + ((v & 1) !== 0 ? 1 : 2));
        Atomics.notify(ctl, i);
      }
      if (main) {
        main.run(op);
        // it has done its share, so it holds a core of its own: it polls before it sleeps
        this.waitDoneBlocking(ctl, this.size - 1, SPIN_DONE_MS, Infinity);
      } else if (canBlock() && this.blockBelow > 0 && Number.isFinite(seconds)) {
        // The calling thread is free while the workers compute, but comes back shortly before
        // they should be done (a timer, which fires while they still work) and waits for the
        // rest blocking, for at most blockBelow: waking it through the event loop after they are
        // done cost 0.15–0.35 ms here. It sleeps meanwhile (no polling: the workers hold the cores).
        const ms = Math.floor(seconds * 1000 - WAKE_LEAD_MS);
        if (ms > 0) await Promise.race([delay(ms), this.untilDone(ctl, this.size)]);
        this.waitDoneBlocking(ctl, this.size, 0, this.blockBelow * 1000);
      }
      return await this.waitDone(ctl, this.size - first);
    } finally {
      for (let t = first; t < this.size; t++) this.workers[t].unref?.();
      // after a call the calling thread took part in, its workers poll for IDLE_SPIN_MS; after
      // one on the workers alone they sleep at once
      const now = performance.now();
      this.awakeUntil = main ? now + IDLE_SPIN_MS - AWAKE_MARGIN_MS : 0;
      this.lastCallEnd = now;
    }
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

  /** Stops the workers (their memory stays with the engine). */
  terminate(): void {
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
