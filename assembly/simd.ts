// Small generic SIMD helpers shared by the kernels.
//
//   f32x4: | x0 | x1 | x2 | x3 |      f64x2: | x0 | x1 |

/** Horizontal sum of the lanes of v. */
// @ts-ignore: decorator
@inline export function hsum<T>(v: v128): T {
  if (sizeof<T>() == 4) {
    // (x0 + x2) + (x1 + x3), then the two partial sums
    const s = v128.add<T>(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
    return v128.extract_lane<T>(s, 0) + v128.extract_lane<T>(s, 1);
  } else {
    return v128.extract_lane<T>(v, 0) + v128.extract_lane<T>(v, 1);
  }
}

/** Minimum of two i32. */
// @ts-ignore: decorator
@inline export function imin(a: i32, b: i32): i32 { return a < b ? a : b; }
