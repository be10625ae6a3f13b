/**
 * Threads: a pool of workers (worker_threads in Node, Web Workers in cross-origin-isolated pages)
 * that run pieces of syrk and potrf side by side on one shared WebAssembly.Memory.
 *
 * Every worker instantiates the threaded build (the same assembly/ sources compiled with
 * `--enable threads --importMemory --sharedMemory`) on the shared memory and gets its own packing
 * workspace. Calls are not posted as messages: the main thread writes the operation and its
 * arguments into a small control block in the shared memory, bumps a generation counter and
 * `Atomics.notify`s; the workers `Atomics.wait` on it, split the work by a rule they all compute
 * the same way, meet at barriers (spin a little, then `Atomics.wait`) inside potrf, and count
 * themselves done; the main thread awaits that count with `Atomics.waitAsync` (or polls), so it
 * is never blocked. One operation runs at a time (calls queue).
 *
 * Splits (assembly/parallel.ts does the arithmetic):
 *   syrk    the columns of the lower triangle, cut so that each worker gets the same area, at
 *           multiples of 16; each worker then mirrors its own columns into the upper triangle.
 *   potrf   per block column: worker 0 factors the diagonal block; each worker owns rows of the
 *           trailing matrix (cut by area, worker 0 on top, the same rows from step to step as far
 *           as the shrinking matrix allows: a cache line moving between cores costs 0.1–0.2 µs
 *           here), solves the panel rows it owns and packs them into one shared packed panel,
 *           then updates its rows from that panel (nothing is packed twice). Worker 0 first
 *           updates the next diagonal block alone and factors it (look-ahead), so one barrier
 *           after the diagonal block and one after the panel suffice. At the end each worker
 *           zeroes a share of the strict upper triangle.
 * Results are bit-identical to the one-thread kernels: every element sees the same operations in
 * the same order (see assembly/parallel.ts).
 */
import { WORKER_SOURCE } from './threads-worker.js';

/** Control block layout (Int32 indices; the f64 arguments start at byte 64). */
export const CTL = {
  GEN: 0,
  DONE: 1,
  BAR_COUNT: 2,
  BAR_GEN: 3,
  OP: 4,
  INFO: 5,
  ERROR: 6,
  THREADS: 7,
  CLAIM: 8,
  ARGS_BYTE: 64,
  /** 64 f64: each thread's measured speed in potrf (threads-worker.ts) */
  RATES_BYTE: 192,
  BYTES: 704,
} as const;

export const OP = { SYRK: 1, POTRF: 2, EXIT: 3 } as const;

export interface ThreadHost {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  workBytes: number;
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

/** Calls expected to take less than this on the workers wait for them blocking (ThreadPool.run). */
export const BLOCK_BELOW_S = 0.003;

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
  private queue: Promise<unknown> = Promise.resolve();
  /** @internal pieces of work per thread (0: the default, 4); 1 is a static split (for probes) */
  chunksPerThread = 0;

  private constructor(size: number, memory: WebAssembly.Memory, ctlPtr: number, workers: WorkerLike[]) {
    this.size = size;
    this.memory = memory;
    this.ctlPtr = ctlPtr;
    this.workers = workers;
  }

  static async create(host: ThreadHost, module: WebAssembly.Module, size: number): Promise<ThreadPool> {
    const ctlPtr = host.alloc(CTL.BYTES);
    new Int32Array(host.memory.buffer, ctlPtr, CTL.BYTES / 4).fill(0);
    new Int32Array(host.memory.buffer, ctlPtr, CTL.BYTES / 4)[CTL.THREADS] = size;
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
    return new ThreadPool(size, host.memory, ctlPtr, workers);
  }

  private ctl(): Int32Array {
    return new Int32Array(this.memory.buffer, this.ctlPtr, CTL.BYTES / 4);
  }

  /**
   * Runs `op` with `args` on every worker; resolves with the INFO word (potrf's info).
   * `seconds`: about how long the workers will take. Below BLOCK_BELOW_S, where the main thread
   * may block (Node, and workers in browsers), it waits with Atomics.wait instead of through the
   * event loop: waking the event loop took 0.15–0.35 ms here, a third of a Cholesky at d = 512 on
   * two threads, while the one-thread call would have blocked for longer anyway.
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
    a[15] = this.chunksPerThread;
    ctl[CTL.OP] = op;
    ctl[CTL.INFO] = 0;
    ctl[CTL.ERROR] = 0;
    ctl[CTL.CLAIM] = 0;
    ctl[CTL.BAR_COUNT] = 0; // an operation that failed may have left threads counted at a barrier
    Atomics.store(ctl, CTL.DONE, 0);
    // a pending Atomics.waitAsync does not keep Node's event loop alive: the workers do, meanwhile
    for (const w of this.workers) w.ref?.();
    try {
      Atomics.add(ctl, CTL.GEN, 1);
      Atomics.notify(ctl, CTL.GEN);
      if (seconds < BLOCK_BELOW_S && canBlock()) this.waitDoneBlocking(ctl, 4 * seconds * 1000 + 2);
      return await this.waitDone(ctl);
    } finally {
      for (const w of this.workers) w.unref?.();
    }
  }

  /** Blocks (Atomics.wait) until every worker is done or `ms` have passed. */
  private waitDoneBlocking(ctl: Int32Array, ms: number): void {
    const end = performance.now() + ms;
    for (;;) {
      const done = Atomics.load(ctl, CTL.DONE);
      const left = end - performance.now();
      if (done >= this.size || left <= 0) return;
      Atomics.wait(ctl, CTL.DONE, done, left);
    }
  }

  private async waitDone(ctl: Int32Array): Promise<number> {
    const waitAsync = (Atomics as unknown as {
      waitAsync?: (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string };
    }).waitAsync;
    for (;;) {
      const done = Atomics.load(ctl, CTL.DONE);
      if (done >= this.size) break;
      if (waitAsync) {
        const r = waitAsync(ctl, CTL.DONE, done);
        if (r.async) await r.value;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    if (Atomics.load(ctl, CTL.ERROR) !== 0) throw new Error('empirical-fisher: a worker thread failed');
    return Atomics.load(ctl, CTL.INFO);
  }

  /** Stops the workers (their memory stays with the engine). */
  terminate(): void {
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
