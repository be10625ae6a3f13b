// The symmetric eigendecomposition A = V Λ Vᵀ (LAPACK dsyevd's structure):
//
//   scale A by a power of two when max |a_ij| is far from 1   (no overflow or underflow in the
//                                                              sums of squares of the reflectors)
//   sytrd:  A = Q T Qᵀ, T tridiagonal                         (T precision, SIMD, blocked)
//   sterf / stedc: T = Z Λ Zᵀ                                 (f64, tridiag.ts)
//   ormtr:  Vᵀ = Zᵀ Qᵀ, the rows of Zᵀ (eigenvectors of T) mapped by Q (T precision, gemm)
//   Λ scaled back
//
// f32 runs sytrd and ormtr in f32 (4 lanes: twice the f64 rate, half the memory traffic) and
// the tridiagonal problem in f64 (d and e promoted, Z demoted once into the output).
import { sytrd, ormtr, sytrdWorkBytes, ormtrWorkBytes, align16 } from './sytrd';
import { sterf, stedc, stedcWorkBytes } from './tridiag';
import { max_abs } from './scan';
import { promote_f32_f64, demote_f64_f32 } from './mixed';
import { scal } from './level1';

/** 2^k for −1022 ≤ k ≤ 1023. */
// @ts-ignore: decorator
@inline function pow2(k: i32): f64 { return reinterpret<f64>(<i64>(k + 1023) << 52); }

/** Largest power-of-two exponent applied in one multiplication (2^±LIM is normal in T). */
// @ts-ignore: decorator
@inline function scaleLimit<T>(): i32 { return sizeof<T>() == 4 ? 120 : 1000; }

/** Bytes of the three T vectors and, for f32, the two f64 vectors of the tridiagonal. */
function headBytes<T>(d: i32): usize {
  const S = <usize>sizeof<T>();
  return align16(<usize>d * S) * 3 + (sizeof<T>() == 4 ? align16(<usize>d << 3) * 2 : 0);
}

/** Workspace bytes of eigh for order d (vectors: with eigenvectors). */
export function eighWorkBytes<T>(d: i32, vectors: bool): f64 {
  let region: usize = sytrdWorkBytes<T>(d);
  if (vectors) {
    const z: usize = sizeof<T>() == 4 ? align16(<usize>d * <usize>d << 3) : 0;
    const s: usize = z + <usize>stedcWorkBytes(d);
    const o: usize = ormtrWorkBytes<T>(d, d);
    if (s > region) region = s;
    if (o > region) region = o;
  }
  return <f64>(headBytes<T>(d) + region);
}

/** The exponent k with 2^k ≤ x < 2^(k+1), for any finite x > 0 (subnormals too). */
function exponentOf(x: f64): i32 {
  let k = 0;
  if (x < 2.2250738585072014e-308) { x *= 18446744073709551616.0; k = -64; } // 2^64
  return k + <i32>((reinterpret<i64>(x) >>> 52) & 0x7ff) - 1023;
}

/** Lower triangle of A (d × d) ← 2^k · A, in steps that stay normal. */
function scaleLower<T>(d: i32, a: usize, lda: i32, k: i32): void {
  const S = <usize>sizeof<T>();
  const lim = scaleLimit<T>();
  while (k != 0) {
    const step = k > lim ? lim : k < -lim ? -lim : k;
    const f = <T>pow2(step);
    for (let i = 0; i < d; i++) scal<T>(i + 1, f, a + <usize>i * <usize>lda * S);
    k -= step;
  }
}

/**
 * Eigenvalues (ascending) into w (d, T) and, with vectors, eigenvectors into z (d × d, ldz; vector
 * k in row k). A (d × d, lower triangle read, strict upper not referenced) is destroyed. work:
 * WORK_BYTES (gemm packing); ework: eighWorkBytes<T>(d, vectors). Returns 0, or > 0 when the
 * tridiagonal solver failed (w and z then hold nothing useful).
 */
export function eigh<T>(d: i32, a: usize, lda: i32, w: usize, z: usize, ldz: i32, vectors: bool, work: usize, ework: usize): i32 {
  if (d <= 0) return 0;
  const S = <usize>sizeof<T>();
  const f32 = sizeof<T>() == 4;
  const rs = <usize>lda * S;
  // power-of-two scaling: max |a_ij| into [1, 2) when it lies outside [2^−LO, 2^HI]
  let amax: f64 = 0;
  for (let i = 0; i < d; i++) {
    const m = <f64>max_abs<T>(i + 1, a + <usize>i * rs);
    if (m > amax) amax = m;
  }
  const bound: f64 = f32 ? 1099511627776.0 : 2.037035976334486e90; // 2^40, 2^300
  let k = 0;
  if (amax > bound || (amax > 0 && amax < 1 / bound)) {
    k = exponentOf(amax);
    scaleLower<T>(d, a, lda, -k);
  }
  const dvS = align16(<usize>d * S);
  const tau = ework;
  const dt = tau + dvS;
  const et = dt + dvS;
  const dp = f32 ? et + dvS : dt; // the f64 diagonal and off-diagonal
  const ep = f32 ? dp + align16(<usize>d << 3) : et;
  const region = ework + headBytes<T>(d);
  sytrd<T>(d, a, lda, dt, et, tau, work, region);
  if (f32) {
    promote_f32_f64(d, dt, dp);
    promote_f32_f64(d - 1, et, ep);
  }
  let info: i32;
  if (!vectors) {
    info = sterf(d, dp, ep);
  } else if (f32) {
    const zp = region;
    info = stedc(d, dp, ep, zp, d, zp + align16(<usize>d * <usize>d << 3));
    if (info == 0) {
      for (let i = 0; i < d; i++) demote_f64_f32(d, zp + (<usize>i * <usize>d << 3), z + <usize>i * <usize>ldz * S);
    }
  } else {
    info = stedc(d, dp, ep, z, ldz, region);
  }
  if (info != 0) return info;
  if (k != 0) {
    // Λ ← 2^k Λ in f64 (two steps when 2^k is not normal)
    const k1 = k > 1000 ? 1000 : k < -1000 ? -1000 : k;
    const f1 = pow2(k1), f2 = pow2(k - k1);
    for (let i = 0; i < d; i++) {
      const p = dp + (<usize>i << 3);
      store<f64>(p, load<f64>(p) * f1 * f2);
    }
  }
  if (f32) demote_f64_f32(d, dp, w);
  else memory.copy(w, dp, <usize>d << 3);
  if (vectors) ormtr<T>(d, d, a, lda, tau, z, ldz, work, region);
  return 0;
}
