// Cholesky factorisation (potrf) and solve (potrs), lower triangle, row-major.
//
// potrf is blocked by NB-wide block columns (NB_LARGE from d = NB_LARGE_MIN), right-looking:
//   factor the diagonal block (POTF2) → solve the panel below (TRSM, A21 ← A21·L11⁻ᵀ)
//   → update the trailing lower triangle (A22 −= A21·A21ᵀ on the packed micro-kernel).
// The strict upper triangle is never referenced.
import { NB2, POTRS_BLOCKED_MIN_RHS, potrfNB } from './config';
import { gemm_nt } from './gemm';
import { dot } from './level1';
import { trsv, trsv_t } from './level2';
import { trsm_rlt_blocked, trsm_rln_blocked } from './trsm';
import { imin } from './simd';

/** Unblocked lower Cholesky of an n × n block (left-looking, dot products along rows). */
export function potf2<T>(n: i32, a: usize, lda: i32): i32 {
  const S = <usize>sizeof<T>();
  const rs = <usize>lda * S;
  for (let j = 0; j < n; j++) {
    const rj = a + <usize>j * rs;
    const pj = rj + <usize>j * S;
    const ajj = load<T>(pj) - dot<T>(j, rj, rj);
    // fails on ajj ≤ 0, NaN and +∞ (x − x is 0 only for finite x)
    if (!(ajj > <T>0 && ajj - ajj == <T>0)) {
      store<T>(pj, ajj);
      return j + 1;
    }
    const ljj = sqrt<T>(ajj);
    store<T>(pj, ljj);
    for (let i = j + 1; i < n; i++) {
      const ri = a + <usize>i * rs;
      const pij = ri + <usize>j * S;
      store<T>(pij, (load<T>(pij) - dot<T>(j, ri, rj)) / ljj);
    }
  }
  return 0;
}

/** In-place lower Cholesky of A (d × d); returns 0 or the 1-based failing pivot. */
export function potrf<T>(d: i32, a: usize, lda: i32, work: usize): i32 {
  return potrfBlocked<T>(d, a, lda, work, potrfNB(d));
}

/** Right-looking blocked Cholesky with nb-wide block columns; diagonal blocks wider than NB2 recurse. */
export function potrfBlocked<T>(d: i32, a: usize, lda: i32, work: usize, nb: i32): i32 {
  const S = <usize>sizeof<T>();
  const rs = <usize>lda * S;
  for (let j0 = 0; j0 < d; j0 += nb) {
    const jb = imin(nb, d - j0);
    const a11 = a + <usize>j0 * rs + <usize>j0 * S;
    const info = jb > NB2 ? potrfBlocked<T>(jb, a11, lda, work, NB2) : potf2<T>(jb, a11, lda);
    if (info != 0) return info + j0;
    const m = d - j0 - jb;
    if (m > 0) {
      const a21 = a11 + <usize>jb * rs;
      trsm_rlt_blocked<T>(m, jb, a11, lda, a21, lda, work);
      const a22 = a21 + <usize>jb * S;
      gemm_nt<T>(m, m, jb, <T>-1, a21, lda, false, a21, lda, false, <T>1, a22, lda, work, true);
    }
  }
  return 0;
}

/** Each row b_k of B (nrhs × d) ← (L·Lᵀ)⁻¹ b_k. */
export function potrs<T>(d: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32, work: usize): void {
  if (d <= 0 || nrhs <= 0) return;
  const S = <usize>sizeof<T>();
  if (nrhs < POTRS_BLOCKED_MIN_RHS) {
    for (let k = 0; k < nrhs; k++) {
      const x = b + <usize>k * <usize>ldb * S;
      trsv<T>(d, l, ldl, x);
      trsv_t<T>(d, l, ldl, x);
    }
  } else {
    trsm_rlt_blocked<T>(nrhs, d, l, ldl, b, ldb, work);
    trsm_rln_blocked<T>(nrhs, d, l, ldl, b, ldb, work);
  }
}
