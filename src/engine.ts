/**
 * The WebAssembly engine: compiles the embedded kernels once, owns the linear memory and its
 * allocator, and hands out fresh typed views.
 *
 * Nothing here caches a typed view of the memory across a call that can allocate: growing a
 * WebAssembly memory detaches every view of its old buffer.
 */
import { KERNELS_WASM_BASE64 } from './wasm.generated.js';
import { Allocator, MAX_MEMORY_BYTES } from './memory.js';

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

  /** The kernel `name_f32` or `name_f64`. */
  k(name: string, precision: Precision): Kernel {
    return this.exports[`${name}_${precision}`] as Kernel;
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

function wasmBytes(): Uint8Array<ArrayBuffer> {
  // atob is in every browser, every worker and Node ≥ 16: no Buffer, no file system, no fetch
  const s = atob(KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
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

/**
 * Compiles and instantiates the kernels. Idempotent: later calls return at once.
 * @example
 * await init();
 */
export function init(): Promise<void> {
  if (engine) return Promise.resolve();
  if (!pending) {
    pending = (async () => {
      checkSimd();
      const bytes = wasmBytes();
      const { instance } = await WebAssembly.instantiate(bytes.buffer, {});
      if (!engine) engine = new Engine(instance, bytes.length);
    })();
    pending.catch(() => {
      pending = undefined;
    });
  }
  return pending;
}

/**
 * Synchronous `init()`, for Node, workers and other places where synchronous compilation is
 * allowed (browsers refuse it on the main thread for large modules). Idempotent.
 */
export function initSync(): void {
  if (engine) return;
  checkSimd();
  const bytes = wasmBytes();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  engine = new Engine(instance, bytes.length);
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
  /** worker threads used by the kernels */
  threads: number;
  /** size of the embedded kernel module */
  wasmBytes: number;
}

/** What this JavaScript engine offers and what the library uses. */
export function features(): Features {
  return {
    simd: simdSupported(),
    relaxedSimd: relaxedSimdSupported(),
    threads: 1,
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
