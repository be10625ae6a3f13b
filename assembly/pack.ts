// Packing: copies a block of a logical operand X (rows × k) into panels of R rows, each panel
// stored k-major (panel[k·R + r] = X(r, k)), the layout the micro-kernel streams through.
// Rows past the end of the block are zero-filled so the micro-kernel always runs on full panels.
//
// X is read from a row-major matrix x with leading dimension ldx, either directly
// (trans = false: X(i, k) = x[i·ldx + k], e.g. G for GGᵀ, L21 for L21·L21ᵀ) or transposed
// (trans = true: X(i, k) = x[k·ldx + i], e.g. Gᵀ for GᵀG).
// Full panels with R a multiple of the lanes are transposed in lanes × lanes register blocks.
import { transposeBlock } from './simd';

/**
 * Packs rows [i0, i0 + m) and depth [k0, k0 + kc) of X into ⌈m/R⌉ panels of R × kc at dst.
 */
// @ts-ignore: decorator
@inline export function pack<T>(R: i32, trans: bool, x: usize, ldx: i32, i0: i32, m: i32, k0: i32, kc: i32, dst: usize): void {
  const S = <usize>sizeof<T>();
  const ld = <usize>ldx * S;
  for (let p = 0; p < m; p += R) {
    const rows = m - p < R ? m - p : R;
    if (trans) {
      // rows of X are columns of x: each k is a contiguous run of `rows` elements
      let src = x + (<usize>(k0) * ld) + <usize>(i0 + p) * S;
      let d = dst;
      if (rows == R) {
        for (let k = 0; k < kc; k++) {
          copyRun<T>(R, src, d);
          src += ld;
          d += <usize>R * S;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          let r = 0;
          for (; r < rows; r++) store<T>(d + <usize>r * S, load<T>(src + <usize>r * S));
          for (; r < R; r++) store<T>(d + <usize>r * S, <T>0);
          src += ld;
          d += <usize>R * S;
        }
      }
    } else if (rows == R && R % (16 / <i32>S) == 0) {
      // each row of X is a contiguous row of x: lanes × lanes blocks transposed in registers,
      // lanes rows × lanes consecutive k → lanes k-rows of the panel
      const L = 16 / <i32>S;
      const src = x + <usize>(i0 + p) * ld + <usize>k0 * S;
      let k = 0;
      for (; k <= kc - L; k += L) {
        for (let g = 0; g < R; g += L) {
          transposeBlock<T>(src + <usize>g * ld + <usize>k * S, ld, dst + (<usize>k * <usize>R + <usize>g) * S, <usize>R * S);
        }
      }
      for (; k < kc; k++) {
        for (let r = 0; r < R; r++) store<T>(dst + (<usize>k * <usize>R + <usize>r) * S, load<T>(src + <usize>r * ld + <usize>k * S));
      }
    } else {
      // partial panel: read along each row, write with stride R, zero-fill the missing rows
      for (let r = 0; r < R; r++) {
        let d = dst + <usize>r * S;
        if (r < rows) {
          let src = x + <usize>(i0 + p + r) * ld + <usize>k0 * S;
          for (let k = 0; k < kc; k++) {
            store<T>(d, load<T>(src));
            src += S;
            d += <usize>R * S;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<T>(d, <T>0);
            d += <usize>R * S;
          }
        }
      }
    }
    dst += <usize>R * <usize>kc * S;
  }
}

/** Copies n elements from src to dst, vectors first. */
// @ts-ignore: decorator
@inline function copyRun<T>(n: i32, src: usize, dst: usize): void {
  const S = <usize>sizeof<T>();
  let i = 0;
  let o: usize = 0;
  for (; i <= n - 16 / <i32>S; i += 16 / <i32>S) {
    v128.store(dst + o, v128.load(src + o));
    o += 16;
  }
  for (; i < n; i++) {
    store<T>(dst + o, load<T>(src + o));
    o += S;
  }
}
