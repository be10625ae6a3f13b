// SYRK (GᵀG) and Gram (GGᵀ) into the lower triangle, plus the small whole-matrix helpers
// (symmetrize, zero_upper, add_diag). Both products are gemm_nt in lower mode; they differ only in
// how the panels are packed: GᵀG packs runs of rows of G (trans), GGᵀ transposes row blocks.
import { gemm_nt } from './gemm';
import { lanes, SYM_ROWS } from './config';
import { imin, transposeBlock } from './simd';

/** lower(C) ← β lower(C) + α lower(GᵀG); G n × d, C d × d. */
export function syrk<T>(n: i32, d: i32, alpha: T, g: usize, ldg: i32, beta: T, c: usize, ldc: i32, work: usize): void {
  gemm_nt<T>(d, d, n, alpha, g, ldg, true, g, ldg, true, beta, c, ldc, work, true);
}

/**
 * C ← β C + α GᵀG, the full symmetric matrix: syrk with the full tiles that cross the diagonal
 * stored whole (gemm_nt's fullDiag: no temporary tile), then symmetrize. (Mirroring each finished
 * block row while it is in cache, instead of symmetrize, measured the same: the cost is the
 * writes.) The same bits as syrk followed by symmetrize. β ≠ 0 reads elements of
 * C's strict upper triangle near the diagonal (they must be finite for the result to be: the
 * caller checks all of C).
 */
export function syrk_full<T>(n: i32, d: i32, alpha: T, g: usize, ldg: i32, beta: T, c: usize, ldc: i32, work: usize): void {
  gemm_nt<T>(d, d, n, alpha, g, ldg, true, g, ldg, true, beta, c, ldc, work, true, true);
  symmetrize<T>(d, c, ldc);
}

/** lower(C) ← β lower(C) + α lower(GGᵀ); G n × d, C n × n. */
export function gram<T>(n: i32, d: i32, alpha: T, g: usize, ldg: i32, beta: T, c: usize, ldc: i32, work: usize): void {
  gemm_nt<T>(n, n, d, alpha, g, ldg, false, g, ldg, false, beta, c, ldc, work, true);
}

/**
 * Strict upper triangle ← transpose of the strict lower triangle, by block rows of the upper
 * triangle SYM_ROWS (8) rows high, each filled left to right from the lower triangle with
 * lanes × lanes register transposes; diagonal tiles are copied element by element.
 */
export function symmetrize<T>(d: i32, c: usize, ldc: i32): void {
  symmetrize_rows<T>(d, 0, d, c, ldc);
}

/**
 * symmetrize restricted to the rows [r0, r1) of the upper triangle (the columns [r0, r1) of the
 * lower one are read); r0 a multiple of SYM_ROWS. Disjoint row ranges
 * may run in parallel: together they write exactly what symmetrize writes.
 */
export function symmetrize_rows<T>(d: i32, r0: i32, r1: i32, c: usize, ldc: i32): void {
  const S = <usize>sizeof<T>();
  const L = lanes<T>();
  const TS = SYM_ROWS;
  const cs = <usize>ldc * S;
  const rEnd = imin(d, r1);
  // one block row of the upper triangle at a time (rows j0 .. j0 + TS, written left to right)
  for (let j0 = r0; j0 < rEnd; j0 += TS) {
    const j1 = imin(d, j0 + TS);
    // the diagonal tile
    for (let i = j0 + 1; i < j1; i++) {
      for (let j = j0; j < i; j++) store<T>(c + <usize>j * cs + <usize>i * S, load<T>(c + <usize>i * cs + <usize>j * S));
    }
    if (j1 - j0 < TS) break; // the last, partial block row has only its diagonal tile
    // tiles below the diagonal tile, in steps of L rows
    let i = j1;
    for (; i <= d - L; i += L) {
      for (let j = j0; j < j1; j += L) {
        transposeBlock<T>(c + <usize>i * cs + <usize>j * S, cs, c + <usize>j * cs + <usize>i * S, cs);
      }
    }
    for (; i < d; i++) {
      for (let j = j0; j < j1; j++) store<T>(c + <usize>j * cs + <usize>i * S, load<T>(c + <usize>i * cs + <usize>j * S));
    }
  }
}

/** Strict upper triangle ← 0. */
export function zero_upper<T>(d: i32, c: usize, ldc: i32): void {
  zero_upper_rows<T>(d, 0, d, c, ldc);
}

/** The rows [r0, r1) of the strict upper triangle ← 0 (disjoint row ranges may run in parallel). */
export function zero_upper_rows<T>(d: i32, r0: i32, r1: i32, c: usize, ldc: i32): void {
  const S = <usize>sizeof<T>();
  const cs = <usize>ldc * S;
  if (r1 > d - 1) r1 = d - 1;
  for (let i = r0 < 0 ? 0 : r0; i < r1; i++) {
    memory.fill(c + <usize>i * cs + <usize>(i + 1) * S, 0, <usize>(d - 1 - i) * S);
  }
}

/** C_ii ← C_ii + shift. */
export function add_diag<T>(d: i32, shift: T, c: usize, ldc: i32): void {
  const step = (<usize>ldc + 1) * sizeof<T>();
  let p = c;
  for (let i = 0; i < d; i++) {
    store<T>(p, load<T>(p) + shift);
    p += step;
  }
}
