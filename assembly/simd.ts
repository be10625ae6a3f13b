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

/**
 * Transposes one lanes × lanes block: row i of src (stride ss bytes) becomes column i of dst
 * (row stride ds bytes).
 *   f32: | a00 a01 a02 a03 |      | a00 a10 a20 a30 |
 *        | a10 a11 a12 a13 |  →   | a01 a11 a21 a31 |   two rounds of shuffles
 *        | a20 …           |      | …               |
 */
// @ts-ignore: decorator
@inline export function transposeBlock<T>(src: usize, ss: usize, dst: usize, ds: usize): void {
  if (sizeof<T>() == 4) {
    const v0 = v128.load(src), v1 = v128.load(src + ss), v2 = v128.load(src + 2 * ss), v3 = v128.load(src + 3 * ss);
    const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5); // a00 a10 a01 a11
    const t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5); // a20 a30 a21 a31
    const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7); // a02 a12 a03 a13
    const t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7); // a22 a32 a23 a33
    v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
    v128.store(dst + ds, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
    v128.store(dst + 2 * ds, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
    v128.store(dst + 3 * ds, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
  } else {
    const v0 = v128.load(src), v1 = v128.load(src + ss);
    v128.store(dst, i64x2.shuffle(v0, v1, 0, 2));
    v128.store(dst + ds, i64x2.shuffle(v0, v1, 1, 3));
  }
}

