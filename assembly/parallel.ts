// Pieces of syrk and potrf that threads run side by side (src/threads.ts orchestrates them).
//
// Each piece does, element for element, the same arithmetic in the same order as the one-thread
// kernel: gemm_nt and gemm_lower_packed give every element of C the same k-order whatever tile it
// lands in (interior tiles and the temporary tile both end in β·C + α·acc), and read the same
// values whether packed per piece or once for all, so splitting C by rows or columns, and a TRSM
// by rows (each row in a lane of its own), changes no bit. The caller cuts syrk's columns at
// multiples of 16 (a multiple of NR and of symmetrize's block rows) and potrf's rows at multiples
// of 8 (a multiple of NR and MR), for both precisions.
import { KC, NB2, NR, potrfNB } from './config';
import { gemm_nt, gemm_lower_packed } from './gemm';
import { pack } from './pack';
import { potf2, potrfBlocked } from './potrf';
import { trsm_rlt_blocked } from './trsm';

/**
 * The columns [j0, j1) of lower(C) ← β lower(C) + α lower(GᵀG) (rows j0 .. d of them): syrk
 * restricted to a lower trapezoid. Disjoint column ranges may run in parallel.
 */
function syrk_cols<T>(n: i32, d: i32, j0: i32, j1: i32, alpha: T, g: usize, ldg: i32, beta: T, c: usize, ldc: i32, work: usize): void {
  if (j1 > d) j1 = d;
  if (j0 >= j1) return;
  const S = <usize>sizeof<T>();
  const gj = g + <usize>j0 * S;
  gemm_nt<T>(d - j0, j1 - j0, n, alpha, gj, ldg, true, gj, ldg, true, beta, c + <usize>j0 * <usize>ldc * S + <usize>j0 * S, ldc, work, true);
}

/** Block width of potrf's block columns for a d × d matrix (the steps src/threads.ts takes). */
export function potrf_nb(d: i32): i32 { return potrfNB(d); }

/**
 * Step 1 of potrf's block column at j0 (jb = min(potrf_nb(d), d − j0) wide): factors the diagonal block
 * A[j0:j0+jb, j0:j0+jb] in place. Returns 0 or the 1-based failing pivot of the whole matrix.
 */
export function potrf_diag<T>(d: i32, j0: i32, a: usize, lda: i32, work: usize): i32 {
  const S = <usize>sizeof<T>();
  const jb = min(potrfNB(d), d - j0);
  if (jb <= 0) return 0;
  const a11 = a + <usize>j0 * <usize>lda * S + <usize>j0 * S;
  const info = jb > NB2 ? potrfBlocked<T>(jb, a11, lda, work, NB2) : potf2<T>(jb, a11, lda);
  return info != 0 ? info + j0 : 0;
}

/**
 * Step 2: the rows [r0, r1) (counted from the first row below the diagonal block) of the panel
 * A21 ← A21·L11⁻ᵀ. Disjoint row ranges may run in parallel.
 */
export function potrf_panel<T>(d: i32, j0: i32, r0: i32, r1: i32, a: usize, lda: i32, work: usize): void {
  const S = <usize>sizeof<T>();
  const jb = min(potrfNB(d), d - j0);
  const m = d - j0 - jb;
  if (r1 > m) r1 = m;
  if (jb <= 0 || r0 >= r1) return;
  const rs = <usize>lda * S;
  const a11 = a + <usize>j0 * rs + <usize>j0 * S;
  trsm_rlt_blocked<T>(r1 - r0, jb, a11, lda, a11 + <usize>(jb + r0) * rs, lda, work);
}

/** Bytes of the packed panel that potrf_pack and potrf_update_packed share, for a d × d matrix. */
export function potrf_packed_bytes(d: i32): i32 {
  return (d + 16) * potrfNB(d) * 8;
}

/**
 * Step 2b: packs the rows [r0, r1) of the solved panel A21 (m × jb) into NR-row panels at p (the
 * layout gemm_lower_packed reads), r0 a multiple of NR; the rows past m of the last panel are zero.
 * Run by each thread right after its rows of potrf_panel, while they are in cache.
 */
export function potrf_pack<T>(d: i32, j0: i32, r0: i32, r1: i32, a: usize, lda: i32, p: usize): void {
  const S = <usize>sizeof<T>();
  const jb = min(potrfNB(d), d - j0);
  const m = d - j0 - jb;
  if (r1 > m) r1 = m;
  if (jb <= 0 || r0 >= r1) return;
  const a21 = a + <usize>(j0 + jb) * <usize>lda * S + <usize>j0 * S;
  pack<T>(NR<T>(), false, a21, lda, r0, r1 - r0, 0, jb, p + <usize>r0 * <usize>jb * S);
}

/**
 * Step 3 from the packed panel: the rows [r0, r1) and columns [c0, c1) of lower(A22) −= A21·A21ᵀ,
 * A21 read from p (potrf_pack of all its rows), nothing packed again; the same bits as
 * gemm_nt's update in potrf. Disjoint pieces may run in parallel.
 */
export function potrf_update_packed<T>(d: i32, j0: i32, r0: i32, r1: i32, c0: i32, c1: i32, a: usize, lda: i32, p: usize, work: usize): void {
  const S = <usize>sizeof<T>();
  const jb = min(potrfNB(d), d - j0);
  const m = d - j0 - jb;
  if (jb <= 0) return;
  const a22 = a + <usize>(j0 + jb) * <usize>lda * S + <usize>(j0 + jb) * S;
  gemm_lower_packed<T>(m, r0, r1, c0, c1, jb, <T>-1, p, <T>1, a22, lda, work);
}

/** Rows of the packed Gᵀ that syrk_pack and syrk_cols_packed share: d rounded up to 16. */
// @ts-ignore: decorator
@inline function packedRows(d: i32): i32 { return (d + 15) & ~15; }

/** Bytes of the packed Gᵀ (for G n × d) that syrk_pack writes and syrk_cols_packed reads. */
export function syrk_packed_bytes(n: i32, d: i32): i32 {
  return packedRows(d) * (n > 0 ? n : 1) * 8;
}

/**
 * Packs the rows [r0, r1) of Gᵀ (the columns of G, n × d) into NR-row panels at p, depth block by
 * depth block (KC): block pc holds packedRows(d) rows of depth min(KC, n − pc) and starts at
 * element pc·packedRows(d). r0 a multiple of NR. Disjoint row ranges may run in parallel.
 */
export function syrk_pack<T>(n: i32, d: i32, r0: i32, r1: i32, g: usize, ldg: i32, p: usize): void {
  if (r1 > d) r1 = d;
  if (r0 >= r1) return;
  const S = <usize>sizeof<T>();
  const dp = <usize>packedRows(d);
  for (let pc = 0; pc < n; pc += KC) {
    const kc = min(KC, n - pc);
    pack<T>(NR<T>(), true, g, ldg, r0, r1 - r0, pc, kc, p + (<usize>pc * dp + <usize>r0 * <usize>kc) * S);
  }
}

/**
 * syrk_cols from the packed Gᵀ (syrk_pack of all its rows): the columns [j0, j1) of lower(C) ←
 * β lower(C) + α lower(GᵀG), nothing packed again; the same bits as syrk_cols and syrk.
 */
export function syrk_cols_packed<T>(n: i32, d: i32, j0: i32, j1: i32, alpha: T, p: usize, g: usize, ldg: i32, beta: T, c: usize, ldc: i32, work: usize): void {
  if (n <= 0 || alpha == <T>0) {
    // no product: gemm_nt only scales (as syrk does)
    syrk_cols<T>(n, d, j0, j1, alpha, g, ldg, beta, c, ldc, work);
    return;
  }
  const S = <usize>sizeof<T>();
  const dp = <usize>packedRows(d);
  for (let pc = 0; pc < n; pc += KC) {
    const kc = min(KC, n - pc);
    gemm_lower_packed<T>(d, j0, d, j0, j1, kc, alpha, p + <usize>pc * dp * S, pc == 0 ? beta : <T>1, c, ldc, work);
  }
}
