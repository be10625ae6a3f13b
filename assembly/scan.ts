// Scans of a vector: the largest magnitude (for the power-of-two scaling of the Fisher's
// statistics, src/fisher.ts).
//
//   |x0 x1 x2 x3| → abs → running max per lane → max of the lanes

/** max_i |x_i| over x[0..n) (0 for n = 0); NaN-free input assumed (checked before). */
export function max_abs<T>(n: i32, x: usize): T {
  const L = 16 / <i32>sizeof<T>();
  const S = <usize>sizeof<T>();
  let m0 = v128.splat<T>(<T>0);
  let m1 = v128.splat<T>(<T>0);
  let i = 0;
  for (; i <= n - 2 * L; i += 2 * L) {
    const p = x + <usize>i * S;
    m0 = v128.max<T>(m0, v128.abs<T>(v128.load(p)));
    m1 = v128.max<T>(m1, v128.abs<T>(v128.load(p, 16)));
  }
  const m = v128.max<T>(m0, m1);
  let r: T;
  if (sizeof<T>() == 4) {
    r = <T>max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  } else {
    r = <T>max(f64x2.extract_lane(m, 0), f64x2.extract_lane(m, 1));
  }
  for (; i < n; i++) {
    const a = abs<T>(load<T>(x + <usize>i * S));
    if (a > r) r = a;
  }
  return r;
}

export function max_abs_f32(n: i32, x: usize): f32 { return max_abs<f32>(n, x); }
export function max_abs_f64(n: i32, x: usize): f64 { return max_abs<f64>(n, x); }
