/**
 * Input validation. Every public entry point checks its arguments here, before any work and before
 * any state changes; the kernels trust what they are given.
 */
import type { Engine, FloatArray, Precision } from './engine.js';
import { formatBytes, MAX_MEMORY_BYTES } from './memory.js';

/** The precision of a float typed array, or a TypeError naming the argument. */
export function precisionOf(name: string, x: unknown): Precision {
  if (x instanceof Float32Array) return 'f32';
  if (x instanceof Float64Array) return 'f64';
  throw new TypeError(`${name} must be a Float32Array or Float64Array, got ${describe(x)}`);
}

/** A float typed array of either precision (converted by the caller), or a TypeError. */
export function floatArray(name: string, x: unknown): FloatArray {
  precisionOf(name, x);
  return x as FloatArray;
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (Array.isArray(x)) return `an Array of length ${x.length}`;
  if (typeof x === 'object') {
    const name = (x as object).constructor?.name;
    return name ? `a ${name}` : 'an object';
  }
  return `${typeof x} ${String(x)}`;
}

/** A non-negative (or ≥ min) safe integer, or a RangeError naming the argument. */
export function size(name: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new RangeError(
      `${name} must be an integer ≥ ${min}, got ${typeof v === 'number' ? String(v) : describe(v)}`,
    );
  }
  return v;
}

/** Checks every value of a JavaScript-side array is finite (RangeError naming the argument and index). */
export function finiteArray(name: string, x: ArrayLike<number>): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v - v !== 0) throw new RangeError(`${name}[${i}] is ${v}: values must be finite`);
  }
}

/** A finite number, or a RangeError naming the argument. */
export function finite(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new RangeError(`${name} must be a finite number, got ${typeof v === 'number' ? String(v) : describe(v)}`);
  }
  return v;
}

/**
 * A finite number that stays finite in `precision` (a float64 value beyond ±3.4e38 becomes ±∞ in
 * f32), or a RangeError naming the argument.
 */
export function finiteIn(precision: Precision, name: string, v: unknown, rejectUnderflow = false): number {
  const x = finite(name, v);
  if (precision === 'f32' && !Number.isFinite(Math.fround(x))) {
    throw new RangeError(`${name} = ${x} is out of the range of f32 (it would become ±Infinity)`);
  }
  if (rejectUnderflow && precision === 'f32' && x !== 0 && Math.fround(x) === 0) {
    throw new RangeError(`${name} = ${x} is below the range of f32 (it would become 0)`);
  }
  return x;
}

/**
 * Checks that the result of a kernel (len elements at ptr) is finite: finite inputs can still give
 * an overflowing result (a square beyond 3.4e38 in f32, a division by a tiny pivot).
 */
export function resultFinite(e: Engine, precision: Precision, what: string, ptr: number, len: number, hint: string): void {
  if (len === 0) return;
  const bad = e.k('first_nonfinite', precision)(len, ptr);
  if (bad >= 0) {
    const v = e.view(precision, ptr + bad * (precision === 'f32' ? 4 : 8), 1)[0];
    throw new RangeError(`${what} overflows ${precision} (element ${bad} would be ${v}): ${hint}`);
  }
}

/**
 * Checks, before anything is allocated, that blocks of these sizes (bytes) can exist in a 32-bit
 * WebAssembly memory next to what is already allocated; `what` says what they are for.
 */
export function fits(e: Engine, what: string, ...sizes: number[]): void {
  let total = 0;
  for (const s of sizes) total += Math.ceil(s / 64) * 64;
  const live = e.allocator.stats().allocatedBytes;
  if (!(total + live <= MAX_MEMORY_BYTES)) {
    throw new RangeError(
      `${what} needs ${formatBytes(total)}, more than a WebAssembly memory can hold (4 GiB, ${formatBytes(live)} in use)`,
    );
  }
}

/** Checks `x.length === expected`; `formula` says how the expectation was computed ("n·d"). */
export function length(name: string, x: ArrayLike<number>, expected: number, formula: string): void {
  if (x.length !== expected) {
    throw new RangeError(`${name} has length ${x.length}, expected ${formula} = ${expected}`);
  }
}

/** `out` must have the result's type and length; `name` names it in errors. */
export function output<T extends FloatArray>(out: unknown, precision: Precision, len: number, formula: string, name = 'out'): T {
  const p = precisionOf(name, out);
  if (p !== precision) {
    throw new TypeError(
      `${name} must be a ${precision === 'f32' ? 'Float32Array' : 'Float64Array'} (the result's precision), got a ${
        p === 'f32' ? 'Float32Array' : 'Float64Array'
      }`,
    );
  }
  length(name, out as FloatArray, len, formula);
  return out as T;
}

/** Rejects option names that are not in `known` (a typo would otherwise be silently ignored). */
export function options(name: string, opts: unknown, known: readonly string[]): Record<string, unknown> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${name} must be an object, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      throw new RangeError(`unknown option ${name}.${key}; the options are ${known.join(', ')}`);
    }
  }
  return opts as Record<string, unknown>;
}

/**
 * Checks that `len` elements at `ptr` (already copied into wasm memory from `src`) are finite.
 * The copy, not the source, is checked: a float64 value too large for f32 becomes ±∞ there.
 * `offset` is the index in `src` of the first element checked, for the message.
 */
export function finiteInWasm(
  e: Engine,
  precision: Precision,
  name: string,
  src: ArrayLike<number>,
  ptr: number,
  len: number,
  offset = 0,
): void {
  if (len === 0) return;
  const bad = e.k('first_nonfinite', precision)(len, ptr);
  if (bad >= 0) throw nonFinite(name, src, offset + bad, precision);
}

/** Like finiteInWasm, for the lower triangle (with the diagonal) of a d × d row-major matrix. */
export function finiteLowerInWasm(
  e: Engine,
  precision: Precision,
  name: string,
  src: ArrayLike<number>,
  ptr: number,
  d: number,
): void {
  const f = e.k('first_nonfinite', precision);
  const bytes = precision === 'f32' ? 4 : 8;
  for (let i = 0; i < d; i++) {
    const bad = f(i + 1, ptr + i * d * bytes);
    if (bad >= 0) throw nonFinite(name, src, i * d + bad, precision);
  }
}

/** Throws a RangeError naming the first non-finite element of the lower triangle of src (d × d). */
export function finiteLower(precision: Precision, name: string, src: ArrayLike<number>, d: number): void {
  for (let i = 0; i < d; i++) {
    for (let j = 0, k = i * d; j <= i; j++, k++) {
      if (!Number.isFinite(src[k])) throw nonFinite(name, src, k, precision);
    }
  }
}

function nonFinite(name: string, src: ArrayLike<number>, index: number, precision: Precision): RangeError {
  const v = src[index];
  if (Number.isFinite(v)) {
    return new RangeError(`${name}[${index}] = ${v} is out of the range of ${precision} (it would become ±Infinity)`);
  }
  return new RangeError(`${name}[${index}] is ${v}: values must be finite`);
}

/** A named error for use after dispose(). */
export function disposedError(what: string): Error {
  return new Error(`this ${what} has been disposed; create a new one`);
}
