// Conversions between f32 and f64 buffers. The low-rank Fisher keeps its rows in float64 whatever
// the user's precision: its Woodbury solve subtracts nearly equal vectors when λ is small, and its
// Gram matrix must be as accurate as the products it is combined with.
//
//   promote: | a0 a1 | (two f32, 8 bytes) → | (f64)a0 | (f64)a1 |
//   demote:  | b0 | b1 | (two f64)          → | (f32)b0 (f32)b1 0 0 |, low 8 bytes stored

/** dst (n f64) ← src (n f32), exactly. */
export function promote_f32_f64(n: i32, src: usize, dst: usize): void {
  let i = 0;
  for (; i <= n - 4; i += 4) {
    const s = src + (<usize>i << 2);
    const d = dst + (<usize>i << 3);
    v128.store(d, f64x2.promote_low_f32x4(v128.load64_zero(s)));
    v128.store(d, f64x2.promote_low_f32x4(v128.load64_zero(s + 8)), 16);
  }
  for (; i < n; i++) store<f64>(dst + (<usize>i << 3), <f64>load<f32>(src + (<usize>i << 2)));
}

/** dst (n f32) ← src (n f64), rounded to nearest (dst may not overlap src). */
export function demote_f64_f32(n: i32, src: usize, dst: usize): void {
  let i = 0;
  for (; i <= n - 2; i += 2) {
    const v = f32x4.demote_f64x2_zero(v128.load(src + (<usize>i << 3)));
    v128.store64_lane(dst + (<usize>i << 2), v, 0);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), <f32>load<f64>(src + (<usize>i << 3)));
}

// Mixed-precision matrix–vector products: an f32 matrix, float64 vectors, float64 products and
// sums. The low-rank Fisher of an f32 model keeps its rows in f32 (half the memory and traffic)
// and refines its Woodbury solve with these, so that the rounding of its f32 Gram matrix does not
// reach the result.

/** Two consecutive f32 at p, widened to f64x2. */
// @ts-ignore: decorator
@inline function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** y (m, f64) ← α·A x; A m × n f32 (row stride lda elements), x (n, f64). */
export function gemv_n_f32f64(m: i32, n: i32, alpha: f64, a: usize, lda: i32, x: usize, y: usize): void {
  const rs = <usize>lda << 2;
  for (let i = 0; i < m; i++) {
    const r = a + <usize>i * rs;
    let acc0 = f64x2.splat(0);
    let acc1 = f64x2.splat(0);
    let j = 0;
    for (; j <= n - 4; j += 4) {
      const ra = r + (<usize>j << 2);
      const xa = x + (<usize>j << 3);
      acc0 = f64x2.add(acc0, f64x2.mul(load2(ra), v128.load(xa)));
      acc1 = f64x2.add(acc1, f64x2.mul(load2(ra + 8), v128.load(xa, 16)));
    }
    const acc = f64x2.add(acc0, acc1);
    let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    for (; j < n; j++) s += <f64>load<f32>(r + (<usize>j << 2)) * load<f64>(x + (<usize>j << 3));
    store<f64>(y + (<usize>i << 3), alpha * s);
  }
}

/** y (n, f64) ← β·y + α·Aᵀx; A m × n f32, x (m, f64). beta == 0: y not read. */
export function gemv_t_f32f64(m: i32, n: i32, alpha: f64, a: usize, lda: i32, x: usize, beta: f64, y: usize): void {
  if (beta == 0) {
    memory.fill(y, 0, <usize>n << 3);
  } else if (beta != 1) {
    for (let j = 0; j < n; j++) store<f64>(y + (<usize>j << 3), beta * load<f64>(y + (<usize>j << 3)));
  }
  if (alpha == 0) return;
  const rs = <usize>lda << 2;
  let i = 0;
  // two rows at a time: one pass over y per two rows of A
  for (; i <= m - 2; i += 2) {
    const r0 = a + <usize>i * rs;
    const r1 = r0 + rs;
    const c0 = alpha * load<f64>(x + (<usize>i << 3));
    const c1 = alpha * load<f64>(x + (<usize>(i + 1) << 3));
    const v0 = f64x2.splat(c0);
    const v1 = f64x2.splat(c1);
    let j = 0;
    for (; j <= n - 2; j += 2) {
      const ya = y + (<usize>j << 3);
      const aj = <usize>j << 2;
      const t = f64x2.add(f64x2.mul(v0, load2(r0 + aj)), f64x2.mul(v1, load2(r1 + aj)));
      v128.store(ya, f64x2.add(v128.load(ya), t));
    }
    for (; j < n; j++) {
      const ya = y + (<usize>j << 3);
      const aj = <usize>j << 2;
      store<f64>(ya, load<f64>(ya) + (c0 * <f64>load<f32>(r0 + aj) + c1 * <f64>load<f32>(r1 + aj)));
    }
  }
  for (; i < m; i++) {
    const r0 = a + <usize>i * rs;
    const c0 = alpha * load<f64>(x + (<usize>i << 3));
    const v0 = f64x2.splat(c0);
    let j = 0;
    for (; j <= n - 2; j += 2) {
      const ya = y + (<usize>j << 3);
      v128.store(ya, f64x2.add(v128.load(ya), f64x2.mul(v0, load2(r0 + (<usize>j << 2)))));
    }
    for (; j < n; j++) {
      const ya = y + (<usize>j << 3);
      store<f64>(ya, load<f64>(ya) + c0 * <f64>load<f32>(r0 + (<usize>j << 2)));
    }
  }
}
