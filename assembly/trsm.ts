// Triangular solves with many right-hand sides stored as rows (B is m × n, row-major), L n × n
// lower. Row form of the two Cholesky substitutions:
//   trsm_rlt: B ← B·L⁻ᵀ  (each row b: solves L y = b; forward substitution)
//   trsm_rln: B ← B·L⁻¹  (each row y: solves Lᵀ x = y; back substitution)
// The blocked versions split L into TB-wide column blocks: the coupling to the blocks already
// solved is one gemm_nt on the micro-kernel, the diagonal block is solved row by row.
import { TB } from './config';
import { gemm_nt } from './gemm';
import { dot, axpy } from './level1';
import { imin } from './simd';

/** B (m × n) ← B·L⁻ᵀ, unblocked: x_j = (b_j − x[0:j]·L[j, 0:j]) / L_jj. */
export function trsm_rlt<T>(m: i32, n: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  const S = <usize>sizeof<T>();
  const ls = <usize>ldl * S;
  const bs = <usize>ldb * S;
  for (let i = 0; i < m; i++) {
    const br = b + <usize>i * bs;
    for (let j = 0; j < n; j++) {
      const lr = l + <usize>j * ls;
      const bp = br + <usize>j * S;
      store<T>(bp, (load<T>(bp) - dot<T>(j, br, lr)) / load<T>(lr + <usize>j * S));
    }
  }
}

/** B (m × n) ← B·L⁻¹, unblocked: from the last column, x_j = y_j / L_jj, y[0:j] −= x_j L[j, 0:j]. */
export function trsm_rln<T>(m: i32, n: i32, l: usize, ldl: i32, b: usize, ldb: i32): void {
  const S = <usize>sizeof<T>();
  const ls = <usize>ldl * S;
  const bs = <usize>ldb * S;
  for (let i = 0; i < m; i++) {
    const br = b + <usize>i * bs;
    for (let j = n - 1; j >= 0; j--) {
      const lr = l + <usize>j * ls;
      const bp = br + <usize>j * S;
      const x = load<T>(bp) / load<T>(lr + <usize>j * S);
      store<T>(bp, x);
      axpy<T>(j, -x, lr, br);
    }
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
    trsm_rlt<T>(m, jb, l + <usize>j0 * ls + <usize>j0 * S, ldl, b + <usize>j0 * S, ldb);
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
    trsm_rln<T>(m, jb, l + <usize>j0 * ls + <usize>j0 * S, ldl, b + <usize>j0 * S, ldb);
  }
}
