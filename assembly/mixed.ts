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
