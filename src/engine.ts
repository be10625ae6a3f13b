/**
 * The WebAssembly engine: compiles the embedded kernels once, owns the linear memory and its
 * allocator, and hands out fresh typed views.
 *
 * Nothing here caches a typed view of the memory across a call that can allocate: growing a
 * WebAssembly memory detaches every view of its old buffer.
 */
import { KERNELS_THREADS_WASM_BASE64, KERNELS_WASM_BASE64 } from './wasm.generated.js';
import { Allocator, MAX_MEMORY_BYTES } from './memory.js';
import { ThreadPool, hardwareThreads, threadsUnavailableReason } from './threads.js';
import { BLOCK_MS } from './tuning.js';

export type Precision = 'f32' | 'f64';
export type FloatArray = Float32Array | Float64Array;

/** A kernel export: every argument is a number (pointer, size or scalar). */
type Kernel = (...args: number[]) => number;

/** @internal The kernel exports of the ABI (assembly/README.md). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  work_bytes(): number;
  [name: string]: Kernel | WebAssembly.Memory | (() => number);
}

const PAGE = 65536;

/** @internal The compiled kernels, their memory and its allocator. */
export class Engine {
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  readonly allocator: Allocator;
  /** packing workspace shared by every kernel call (calls never overlap: JavaScript is single-threaded here) */
  readonly work: number;
  readonly wasmBytes: number;
  /** the worker threads of `init({ threads })`, or undefined (one thread) */
  pool: ThreadPool | undefined;
  /** set by onThreads while an async method runs: k() hands out the pool's split kernels */
  private onPool = 0;

  constructor(instance: WebAssembly.Instance, wasmBytes: number) {
    this.exports = instance.exports as unknown as KernelExports;
    this.memory = this.exports.memory;
    this.wasmBytes = wasmBytes;
    const memory = this.memory;
    this.allocator = new Allocator(
      this.exports.heap_base(),
      () => memory.buffer.byteLength,
      (bytes) => {
        const have = memory.buffer.byteLength;
        if (bytes <= have) return;
        // grow geometrically (fewer detachments, amortised), but never past the 4 GiB limit
        const need = Math.ceil((bytes - have) / PAGE);
        const want = Math.max(need, Math.ceil(have / PAGE / 2));
        const maxPages = MAX_MEMORY_BYTES / PAGE - have / PAGE;
        try {
          memory.grow(Math.min(want, maxPages));
        } catch {
          try {
            memory.grow(need);
          } catch (e) {
            throw new RangeError(
              `out of WebAssembly memory: could not grow from ${have} to ${bytes} bytes (${(e as Error).message})`,
            );
          }
        }
      },
    );
    this.work = this.allocator.alloc(Math.max(this.exports.work_bytes(), 64));
  }

  /**
   * Short calls of every heavy kernel, both precisions, at a size that goes through every blocked
   * path (d = 136: three potrf block columns, diagonal blocks that recurse, the blocked TRSM), so
   * that V8 compiles them with its optimising tier now rather than during a user's first long
   * call: wasm has no on-stack replacement, and a call that starts in baseline (Liftoff) code runs
   * to its end there. Returns the milliseconds of each round (for probes). Frees what it takes.
   */
  warmUp(rounds = 3): number[] {
    const times: number[] = [];
    const n = 24;
    const d = 136;
    const nrhs = 8;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (const p of ['f32', 'f64'] as const) {
        const b = p === 'f32' ? 4 : 8;
        const g = this.alloc(n * d * b);
        const c = this.alloc(d * d * b);
        const x = this.alloc(nrhs * d * b);
        const y = this.alloc(d * b);
        try {
          const gv = this.view(p, g, n * d);
          for (let i = 0; i < gv.length; i++) gv[i] = ((i * 7919) % 113) / 113 - 0.49;
          const xv = this.view(p, x, nrhs * d);
          for (let i = 0; i < xv.length; i++) xv[i] = ((i * 31) % 17) / 17 - 0.45;
          this.k('first_nonfinite', p)(n * d, g);
          this.k('syrk', p)(n, d, 1 / n, g, d, 0, c, d, this.work);
          this.k('symmetrize', p)(d, c, d);
          this.k('syrk_full', p)(n, d, 1 / n, g, d, 0, c, d, this.work);
          this.k('sumsq_cols', p)(n, d, 1, g, d, 0, y);
          this.k('gemv_n', p)(n, d, 1, g, d, x, 0, y);
          this.k('gemv_t', p)(n, d, 1, g, d, x, 0, y);
          this.k('symv', p)(d, 1, c, d, x, 0, y);
          this.k('dot', p)(d, x, y);
          this.k('axpy', p)(d, 0.5, x, y);
          this.k('add_diag', p)(d, 1, c, d);
          this.k('potrf', p)(d, c, d, this.work);
          this.k('zero_upper', p)(d, c, d);
          this.k('potrs', p)(d, 1, c, d, x, d, this.work);
          this.k('potrs', p)(d, nrhs, c, d, x, d, this.work);
          this.k('gram', p)(n, d, 1, g, d, 0, c, d, this.work);
          // linalg.gemm: GᵀG as op(A)·op(B) (A transposed, B not), then G·Gᵀ (B transposed)
          this.k('gemm', p)(d, d, n, 1, g, d, 1, g, d, 0, 0, c, d, this.work);
          this.k('gemm', p)(n, n, d, 1, g, d, 0, g, d, 1, 0.5, c, n, this.work);
          // the layer kit's small kernels (src/layers/): rows of G, row dots, the Gram Hadamard, …
          this.k('outer_rows', p)(n, 8, 15, g, d, g, d, 1, c, d);
          this.k('rowdot', p)(n, d, g, d, g, d, 0, y);
          this.k('colsum', p)(n, d, 1, g, d, 0, y);
          this.k('square', p)(d, x, y);
          this.k('hadamard_lower', p)(n, c, d, c, d, 1, 0, c, d);
          this.k('scale_rows', p)(n, d, y, g, d, g, d);
        } finally {
          this.free(y);
          this.free(x);
          this.free(c);
          this.free(g);
        }
      }
      times.push(performance.now() - t0);
    }
    return times;
  }

  /** The kernel `name_f32` or `name_f64`. */
  k(name: string, precision: Precision): Kernel {
    return this.kernel(`${name}_${precision}`);
  }

  /** The kernel export `name` (as k; for the mixed-precision kernels such as gemv_n_f32f64). */
  kernel(name: string): Kernel {
    if (this.onPool !== 0) {
      const split = this.pool?.kernel(name);
      if (split) return split;
    }
    return this.exports[name] as Kernel;
  }

  /**
   * Runs `f` (synchronous code of this engine: an update, a solve, a step) with its heavy kernels
   * (ThreadPool.kernel) split between the threads of the pool, the calling thread taking part (the same
   * bits: see ThreadPool.kernel); without a pool, `f` as it is. Waits first for an operation that
   * runs on the workers alone (a linalg.*Async call); f's errors reject.
   */
  async onThreads<R>(f: () => R): Promise<R> {
    const pool = this.pool;
    if (!pool) return f();
    // (checked again after each wait: a linalg call queued before may have started meanwhile)
    while (pool.busy) await pool.whenIdle();
    // the workers wake up while the step copies its operands in
    pool.prime(Infinity, true);
    this.onPool++;
    try {
      return f();
    } finally {
      this.onPool--;
    }
  }

  alloc(bytes: number): number {
    return this.allocator.alloc(bytes);
  }

  free(ptr: number): void {
    this.allocator.free(ptr);
  }

  /** A fresh view of `len` elements at byte address `ptr`. */
  view(precision: Precision, ptr: number, len: number): FloatArray {
    return precision === 'f32'
      ? new Float32Array(this.memory.buffer, ptr, len)
      : new Float64Array(this.memory.buffer, ptr, len);
  }

  view32(ptr: number, len: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, len);
  }

  view64(ptr: number, len: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, len);
  }

  /** Copies `src` (either float type; converted) into wasm memory at `ptr`. */
  put(precision: Precision, ptr: number, src: ArrayLike<number>, len = src.length): void {
    const v = this.view(precision, ptr, len);
    if (len === src.length) v.set(src as FloatArray);
    else v.set((src as FloatArray).subarray(0, len));
  }

  /** Copies `bytes` bytes inside wasm memory (memmove semantics). */
  copy(dst: number, src: number, bytes: number): void {
    new Uint8Array(this.memory.buffer).copyWithin(dst, src, src + bytes);
  }

  /** Sets `bytes` bytes at `ptr` to zero. */
  zero(ptr: number, bytes: number): void {
    new Uint8Array(this.memory.buffer, ptr, bytes).fill(0);
  }
}

let engine: Engine | undefined;
let pending: Promise<void> | undefined;
/** why `init({ threads })` fell back to one thread, for features() */
let threadsFallback: string | undefined;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  // atob is in every browser, every worker and Node ≥ 16: no Buffer, no file system, no fetch
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

function wasmBytes(): Uint8Array<ArrayBuffer> {
  return decode(KERNELS_WASM_BASE64);
}

function simdSupported(): boolean {
  // (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) — the tfjs feature probe idea
  return WebAssembly.validate(
    new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]),
  );
}

function relaxedSimdSupported(): boolean {
  // (module (func (result v128) v128.const 0 v128.const 0 v128.const 0 f32x4.relaxed_madd))
  const v = [253, 12, ...new Array(16).fill(0)];
  const body = [0, ...v, ...v, ...v, 253, 133, 2, 11];
  return WebAssembly.validate(
    new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, body.length + 2, 1, body.length, ...body]),
  );
}

function checkSimd(): void {
  if (!simdSupported()) {
    throw new Error(
      'empirical-fisher needs WebAssembly SIMD (128-bit), which this JavaScript engine does not support ' +
        '(Node ≥ 16.4, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4 have it)',
    );
  }
}

export interface InitOptions {
  /**
   * Worker threads for the async calls (`linalg.syrkAsync`, `linalg.choleskyAsync`, …, and
   * `EmpiricalFisher.updateAsync`, `preconditionAsync`, `updateLayersAsync`, the optimizer's
   * `stepAsync`, `stepLayersAsync`), default 1 (no workers). Needs SharedArrayBuffer (Node; in
   * browsers a cross-origin-isolated page); elsewhere init() falls back to one thread and `features().threads` says 1. At most as many as
   * the machine runs at once (os.availableParallelism, navigator.hardwareConcurrency): more would
   * take turns on the cores, 3–10× slower. Only the first init() decides.
   */
  threads?: number;
  /**
   * Short calls of every kernel at the end of init(), so that V8 has compiled them with its
   * optimising tier before the first real call (default true; about 10–60 ms).
   */
  warmUp?: boolean;
  /**
   * With `threads`: about how long (ms) an async `linalg` call may block the calling thread, default 3
   * (the async methods of EmpiricalFisher and the optimizer always take part: see their docs). A
   * call whose work is estimated below it runs with the calling thread as one of the `threads`
   * and returns when it is done, as the synchronous call would, only sooner (waking a sleeping
   * thread or the event loop costs 0.05–0.5 ms, a third of a two-thread Cholesky at d = 512);
   * longer calls run on the workers alone and leave the calling thread free until about 1 ms
   * before their estimated end, when it waits for the rest blocking (at most blockMs). 0: never block;
   * Infinity: always take part (the fastest, when nothing else waits for the calling thread).
   * A browser's main thread never blocks, whatever this says.
   */
  blockMs?: number;
}

function parseInitOptions(options: unknown): { threads: number; warmUp: boolean; blockMs: number } {
  if (options === undefined) return { threads: 1, warmUp: true, blockMs: BLOCK_MS };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`init options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'threads' && k !== 'warmUp' && k !== 'blockMs') {
      throw new RangeError(`unknown option options.${k}; the options are threads, warmUp, blockMs`);
    }
  }
  const threads = o.threads === undefined ? 1 : o.threads;
  if (typeof threads !== 'number' || !Number.isSafeInteger(threads) || threads < 1 || threads > 64) {
    throw new RangeError(`threads must be an integer from 1 to 64, got ${String(threads)}`);
  }
  if (o.warmUp !== undefined && typeof o.warmUp !== 'boolean') throw new TypeError('warmUp must be a boolean');
  const blockMs = o.blockMs === undefined ? BLOCK_MS : o.blockMs;
  if (typeof blockMs !== 'number' || !(blockMs >= 0)) {
    throw new RangeError(`blockMs must be a number ≥ 0 (Infinity allowed), got ${String(blockMs)}`);
  }
  return { threads, warmUp: o.warmUp !== false, blockMs };
}

/**
 * Warm-up rounds until two rounds in a row run within 1.3× of the fastest and the first was more
 * than twice the fastest (the optimised code has arrived), or `maxMs` milliseconds have passed.
 */
function warmUpEngine(e: Engine, maxMs: number): void {
  const t0 = performance.now();
  const times: number[] = [];
  for (;;) {
    times.push(e.warmUp(1)[0]);
    const k = times.length;
    const best = Math.min(...times);
    if (k >= 3 && times[k - 1] <= 1.3 * best && times[k - 2] <= 1.3 * best && times[0] > 2 * best) break;
    if (performance.now() - t0 > maxMs) break;
  }
}

const WARM_UP_MS = 60;
/** shared memory of the threaded build: 16 pages to start, the 4 GiB of wasm32 at most */
const SHARED_INITIAL_PAGES = 16;
const SHARED_MAXIMUM_PAGES = 65536;

async function createThreaded(threads: number, blockMs: number): Promise<Engine> {
  const bytes = decode(KERNELS_THREADS_WASM_BASE64);
  const module = await WebAssembly.compile(bytes);
  const memory = new WebAssembly.Memory({ initial: SHARED_INITIAL_PAGES, maximum: SHARED_MAXIMUM_PAGES, shared: true });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const e = new Engine(instance, bytes.length);
  e.pool = await ThreadPool.create(
    { memory, alloc: (n) => e.alloc(n), free: (p) => e.free(p), workBytes: Math.max(e.exports.work_bytes(), 64), exports: instance.exports, work: e.work },
    module,
    threads,
  );
  e.pool.blockBelow = blockMs / 1000;
  return e;
}

/**
 * Compiles and instantiates the kernels, then warms them up (see InitOptions). Idempotent: later
 * calls return at once, and the first call's options decide.
 * @example
 * await init();                 // one thread
 * await init({ threads: 2 });   // two workers for linalg.syrkAsync, linalg.choleskyAsync, …
 */
export function init(options?: InitOptions): Promise<void> {
  let o: { threads: number; warmUp: boolean; blockMs: number };
  try {
    o = parseInitOptions(options);
  } catch (e) {
    return Promise.reject(e);
  }
  if (engine) return Promise.resolve();
  if (!pending) {
    pending = (async () => {
      checkSimd();
      let e: Engine | undefined;
      if (o.threads > 1) {
        threadsFallback = threadsUnavailableReason();
        // No more threads than the machine runs at once: on 2 cores, 3 threads ran the async
        // calls 3–10× slower than one (threads that wait for each other poll, taking turns)
        let threads = threadsFallback ? 1 : o.threads;
        const cores = hardwareThreads();
        if (cores !== undefined && threads > cores) {
          threads = cores;
          threadsFallback = `${cores} thread${cores === 1 ? '' : 's'} instead of ${o.threads}: this machine runs ${cores} at once, and more would take turns on its cores`;
        }
        if (threads > 1) {
          try {
            e = await createThreaded(threads, o.blockMs);
          } catch (err) {
            threadsFallback = `starting the workers failed: ${(err as Error)?.message ?? err}`;
          }
        }
      }
      if (!e) {
        const bytes = wasmBytes();
        const { instance } = await WebAssembly.instantiate(bytes.buffer, {});
        e = new Engine(instance, bytes.length);
      }
      if (o.warmUp) warmUpEngine(e, WARM_UP_MS);
      if (!engine) engine = e;
    })();
    pending.catch(() => {
      pending = undefined;
    });
  }
  return pending;
}

/**
 * Synchronous `init()`, for Node, workers and other places where synchronous compilation is
 * allowed (browsers refuse it on the main thread for large modules). Idempotent. One thread only
 * (starting workers is asynchronous): `threads` other than 1 is a RangeError.
 */
export function initSync(options?: { threads?: 1; warmUp?: boolean; blockMs?: number }): void {
  const o = parseInitOptions(options);
  if (o.threads !== 1) throw new RangeError('initSync() runs one thread; use `await init({ threads })` for workers');
  if (engine) return;
  checkSimd();
  const bytes = wasmBytes();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const e = new Engine(instance, bytes.length);
  if (o.warmUp) warmUpEngine(e, WARM_UP_MS);
  engine = e;
}

/** @internal The engine; throws if neither `init()` nor `initSync()` has run. */
export function getEngine(): Engine {
  if (!engine) {
    throw new Error('empirical-fisher is not initialised: call `await init()` (or `initSync()`) first');
  }
  return engine;
}

export interface Features {
  /** WebAssembly SIMD128 (required) */
  simd: boolean;
  /** relaxed SIMD is available in this engine (not used by default: it would change results across engines) */
  relaxedSimd: boolean;
  /** threads of the async calls: the workers of `init({ threads })`, or 1 */
  threads: number;
  /** why `init({ threads })` runs fewer threads than asked (one, or as many as the machine has
   *  cores), when it does */
  threadsUnavailable?: string;
  /** size of the embedded kernel module */
  wasmBytes: number;
}

/** What this JavaScript engine offers and what the library uses. */
export function features(): Features {
  return {
    simd: simdSupported(),
    relaxedSimd: relaxedSimdSupported(),
    threads: engine?.pool?.size ?? 1,
    ...(threadsFallback ? { threadsUnavailable: threadsFallback } : {}),
    wasmBytes: engine ? engine.wasmBytes : wasmBytes().length,
  };
}

export interface MemoryInfo {
  /** current size of the WebAssembly memory */
  wasmBytes: number;
  /** bytes in live allocations (matrices, factors, workspace) */
  allocatedBytes: number;
  /** number of live allocations */
  liveBlocks: number;
  /** the largest `allocatedBytes` seen */
  peakBytes: number;
}

/** Statistics of the engine's memory. */
export function memoryInfo(): MemoryInfo {
  const e = getEngine();
  const s = e.allocator.stats();
  return {
    wasmBytes: e.memory.buffer.byteLength,
    allocatedBytes: s.allocatedBytes,
    liveBlocks: s.liveBlocks,
    peakBytes: s.peakBytes,
  };
}
