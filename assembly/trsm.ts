// Triangular solves with many right-hand sides stored as rows (B is m × n, row-major), L n × n
// lower. Row form of the two Cholesky substitutions:
//   rlt: B ← B·L⁻ᵀ  (each row b: solves L y = b; forward substitution)
//   rln: B ← B·L⁻¹  (each row y: solves Lᵀ x = y; back substitution)
// The blocked versions split L into TB-wide column blocks: the coupling to the blocks already
// solved is one gemm_nt on the micro-kernel; the diagonal blocks go to the small solves below.
import { TB, TV, TRSM_OFFSET, lanes } from './config';
import { gemm_nt } from './gemm';
import { imin, transposeBlock } from './simd';

// The small solves (n ≤ TB) work on RB = TV · lanes rows of B at a time, transposed into the
// workspace so that one vector holds one column of lanes rows: the substitution then runs down the
// columns with the rows in the lanes, TV vector accumulators, no horizontal sums.
//   tmp[j·RB + r] = B(r0 + r, j);   rows past m are zero (their solution, 0, is never stored back)
// @ts-ignore
if (TV != 4) ERROR('trsm.ts: the small solves are written for TV = 4');

/** tmp[j·RB + r] ← B(r, j) for r < rows, j < n; rows rows..RB−1 of tmp ← 0. */
// @ts-ignore: decorator
@inline function transposeIn<T>(rows: i32, n: i32, b: usize, bs: usize, tmp: usize): void {
  const S = <usize>sizeof<T>();
  const L = lanes<T>();
  const RB = TV * L;
  const cs = <usize>RB * S;
  let r = 0;
  for (; r <= rows - L; r += L) {
    const src = b + <usize>r * bs;
    const dst = tmp + <usize>r * S;
    let j = 0;
    for (; j <= n - L; j += L) transposeBlock<T>(src + <usize>j * S, bs, dst + <usize>j * cs, cs);
    for (; j < n; j++) for (let i = 0; i < L; i++) store<T>(dst + <usize>j * cs + <usize>i * S, load<T>(src + <usize>i * bs + <usize>j * S));
  }
  for (; r < RB; r++) {
    let t = tmp + <usize>r * S;
    if (r < rows) {
      let src = b + <usize>r * bs;
      for (let j = 0; j < n; j++) {
        store<T>(t, load<T>(src));
        src += S;
        t += cs;
      }
    } else {
      for (let j = 0; j < n; j++) {
        store<T>(t, <T>0);
        t += cs;
      }
    }
  }
}

/** B(r, j) ← tmp[j·RB + r] for r < rows, j < n. */
// @ts-ignore: decorator
@inline function transposeOut<T>(rows: i32, n: i32, tmp: usize, b: usize, bs: usize): void {
  const S = <usize>sizeof<T>();
  const L = lanes<T>();
  const RB = TV * L;
  const cs = <usize>RB * S;
  let r = 0;
  for (; r <= rows - L; r += L) {
    const src = tmp + <usize>r * S;
    const dst = b + <usize>r * bs;
    let j = 0;
    for (; j <= n - L; j += L) transposeBlock<T>(src + <usize>j * cs, cs, dst + <usize>j * S, bs);
    for (; j < n; j++) for (let i = 0; i < L; i++) store<T>(dst + <usize>i * bs + <usize>j * S, load<T>(src + <usize>j * cs + <usize>i * S));
  }
  for (; r < rows; r++) {
    let t = tmp + <usize>r * S;
    let dst = b + <usize>r * bs;
    for (let j = 0; j < n; j++) {
      store<T>(dst, load<T>(t));
      dst += S;
      t += cs;
    }
  }
}

/** B (m × n) ← B·L⁻ᵀ for n ≤ TB, RB rows at a time (left-looking down the columns). */
export function trsm_rlt_small<T>(m: i32, n: i32, l: usize, ldl: i32, b: usize, ldb: i32, work: usize): void {
  const S = <usize>sizeof<T>();
  const ls = <usize>ldl * S;
  const bs = <usize>ldb * S;
  const RB = TV * lanes<T>();
  const cs = <usize>RB * S; // bytes per transposed column
  const tmp = work + <usize>TRSM_OFFSET;
  for (let r0 = 0; r0 < m; r0 += RB) {
    const rows = imin(RB, m - r0);
    const br = b + <usize>r0 * bs;
    transposeIn<T>(rows, n, br, bs, tmp);
    let t = tmp;
    let lr = l;
    for (let j = 0; j < n; j++) {
      // x_j = (b_j − Σ_{p<j} x_p L_jp) / L_jj, for RB rows at once
      // two p per step, their products added first: one subtraction per accumulator and step (the
      // chain of subtractions, not the units, bounds this loop); the same number of operations
      let a0 = v128.load(t), a1 = v128.load(t, 16), a2 = v128.load(t, 32), a3 = v128.load(t, 48);
      let tp = tmp;
      let p = 0;
      for (; p < j - 1; p += 2) {
        const s = v128.load_splat<T>(lr + <usize>p * S);
        const u = v128.load_splat<T>(lr + <usize>(p + 1) * S);
        const tq = tp + cs;
        a0 = v128.sub<T>(a0, v128.add<T>(v128.mul<T>(v128.load(tp), s), v128.mul<T>(v128.load(tq), u)));
        a1 = v128.sub<T>(a1, v128.add<T>(v128.mul<T>(v128.load(tp, 16), s), v128.mul<T>(v128.load(tq, 16), u)));
        a2 = v128.sub<T>(a2, v128.add<T>(v128.mul<T>(v128.load(tp, 32), s), v128.mul<T>(v128.load(tq, 32), u)));
        a3 = v128.sub<T>(a3, v128.add<T>(v128.mul<T>(v128.load(tp, 48), s), v128.mul<T>(v128.load(tq, 48), u)));
        tp += cs + cs;
      }
      if (p < j) {
        const s = v128.load_splat<T>(lr + <usize>p * S);
        a0 = v128.sub<T>(a0, v128.mul<T>(v128.load(tp), s));
        a1 = v128.sub<T>(a1, v128.mul<T>(v128.load(tp, 16), s));
        a2 = v128.sub<T>(a2, v128.mul<T>(v128.load(tp, 32), s));
        a3 = v128.sub<T>(a3, v128.mul<T>(v128.load(tp, 48), s));
      }
      const dv = v128.load_splat<T>(lr + <usize>j * S);
      v128.store(t, v128.div<T>(a0, dv));
      v128.store(t, v128.div<T>(a1, dv), 16);
      v128.store(t, v128.div<T>(a2, dv), 32);
      v128.store(t, v128.div<T>(a3, dv), 48);
      t += cs;
      lr += ls;
    }
    transposeOut<T>(rows, n, tmp, br, bs);
  }
}

/**
 * B (m × n) ← B·L⁻¹ for n ≤ TB, RB rows at a time. Right-looking from the last column so that L is
 * read along its rows (reading its columns strides ldl, and a 4 KiB stride thrashes L1):
 *   x_j = y_j / L_jj;  y_p −= x_j L_jp for p < j
 */
export function trsm_rln_small<T>(m: i32, n: i32, l: usize, ldl: i32, b: usize, ldb: i32, work: usize): void {
  const S = <usize>sizeof<T>();
  const ls = <usize>ldl * S;
  const bs = <usize>ldb * S;
  const RB = TV * lanes<T>();
  const cs = <usize>RB * S;
  const tmp = work + <usize>TRSM_OFFSET;
  for (let r0 = 0; r0 < m; r0 += RB) {
    const rows = imin(RB, m - r0);
    const br = b + <usize>r0 * bs;
    transposeIn<T>(rows, n, br, bs, tmp);
    for (let j = n - 1; j >= 0; j--) {
      const t = tmp + <usize>j * cs;
      const lr = l + <usize>j * ls;
      const dv = v128.load_splat<T>(lr + <usize>j * S);
      const x0 = v128.div<T>(v128.load(t), dv);
      const x1 = v128.div<T>(v128.load(t, 16), dv);
      const x2 = v128.div<T>(v128.load(t, 32), dv);
      const x3 = v128.div<T>(v128.load(t, 48), dv);
      v128.store(t, x0);
      v128.store(t, x1, 16);
      v128.store(t, x2, 32);
      v128.store(t, x3, 48);
      let tp = tmp;
      for (let p = 0; p < j; p++) {
        const s = v128.load_splat<T>(lr + <usize>p * S);
        v128.store(tp, v128.sub<T>(v128.load(tp), v128.mul<T>(x0, s)));
        v128.store(tp, v128.sub<T>(v128.load(tp, 16), v128.mul<T>(x1, s)), 16);
        v128.store(tp, v128.sub<T>(v128.load(tp, 32), v128.mul<T>(x2, s)), 32);
        v128.store(tp, v128.sub<T>(v128.load(tp, 48), v128.mul<T>(x3, s)), 48);
        tp += cs;
      }
    }
    transposeOut<T>(rows, n, tmp, br, bs);
  }
}

/** B (m × n) ← B·L⁻ᵀ, blocked (left-looking over TB-wide column blocks). */
export function trsm_rlt_blocked<T>(m: i32, n: i32, l: usize, ldl: i32, b: usize, ldb: i32, work: usize): void {
  const S = <usize>sizeof<T>();
  const ls = <usize>ldl * S;
  for (let j0 = 0; j0 < n; j0 += TB) {
    const jb = imin(TB, n - j0);
    if (j0 > 0) {
      // B[:, j0:j0+jb] −= X[:, 0:j0] · L[j0:j0+jb, 0:j0]ᵀ
      gemm_nt<T>(m, jb, j0, <T>-1, b, ldb, false, l + <usize>j0 * ls, ldl, false, <T>1, b + <usize>j0 * S, ldb, work, false);
    }
    trsm_rlt_small<T>(m, jb, l + <usize>j0 * ls + <usize>j0 * S, ldl, b + <usize>j0 * S, ldb, work);
  }
}

/** B (m × n) ← B·L⁻¹, blocked (from the last TB-wide column block to the first). */
export function trsm_rln_blocked<T>(m: i32, n: i32, l: usize, ldl: i32, b: usize, ldb: i32, work: usize): void {
  if (n <= 0) return;
  const S = <usize>sizeof<T>();
  const ls = <usize>ldl * S;
  for (let j0 = ((n - 1) / TB) * TB; j0 >= 0; j0 -= TB) {
    const jb = imin(TB, n - j0);
    const rest = n - j0 - jb;
    if (rest > 0) {
      // B[:, j0:j0+jb] −= X[:, j0+jb:n] · L[j0+jb:n, j0:j0+jb]
      gemm_nt<T>(m, jb, rest, <T>-1, b + <usize>(j0 + jb) * S, ldb, false,
        l + <usize>(j0 + jb) * ls + <usize>j0 * S, ldl, true, <T>1, b + <usize>j0 * S, ldb, work, false);
    }
    trsm_rln_small<T>(m, jb, l + <usize>j0 * ls + <usize>j0 * S, ldl, b + <usize>j0 * S, ldb, work);
  }
}
