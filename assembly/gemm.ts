// The BLIS loops around the micro-kernel: C ← β·C + α·A·Bᵀ on packed panels, full or lower.
//
//   for jc in steps of NC        (columns of C; B block KC × NC packed, lives in L3)
//     for pc in steps of KC      (depth)
//       pack B
//       for ic in steps of MC    (rows of C; A block MC × KC packed, lives in L2)
//         pack A
//         for jr in steps of NR  (one B micro-panel, lives in L1)
//           for ir in steps of MR
//             micro-kernel on an MR × NR tile
//
// Lower mode (C square, only i ≥ j updated, the strict upper triangle neither read nor written):
// tiles entirely above the diagonal are skipped; tiles crossing the diagonal, and partial tiles at
// the edges, go through a temporary tile from which only the wanted elements are added back.
import { MR, NR, KC, MC, NC, PACK_A_BYTES, PACK_B_BYTES } from './config';
import { microkernel } from './microkernel';
import { pack } from './pack';
import { imin } from './simd';

/**
 * C (m × n) ← β·C + α·A·Bᵀ, A logical m × k, B logical n × k (see pack.ts for trans).
 * lower: C is square (m == n) and only its lower triangle is referenced.
 * fullDiag (with lower): full MR × NR tiles that cross the diagonal are stored whole, so a few
 * elements of the strict upper triangle next to the diagonal are read (β ≠ 0) and written; for
 * callers that overwrite the upper triangle afterwards (syrk_full), it saves the temporary tile.
 * β == 0: C is not read. work: WORK_BYTES, 16-byte aligned.
 */
export function gemm_nt<T>(
  m: i32, n: i32, k: i32, alpha: T,
  a: usize, lda: i32, transA: bool,
  b: usize, ldb: i32, transB: bool,
  beta: T, c: usize, ldc: i32, work: usize, lower: bool, fullDiag: bool = false,
): void {
  if (m <= 0 || n <= 0) return;
  const S = <usize>sizeof<T>();
  const cs = <usize>ldc * S;
  if (k <= 0 || alpha == <T>0) {
    scaleBlock<T>(m, n, beta, c, ldc, lower);
    return;
  }
  const nr = NR<T>();
  const pa = work;
  const pb = work + <usize>PACK_A_BYTES;
  const tile = pb + <usize>PACK_B_BYTES;
  // A and B the same operand (syrk, gram, potrf's trailing update): the rows of an A block that
  // lie inside the packed B block are read from it (as = NR·S) instead of being packed again
  const share = a == b && transA == transB && lda == ldb;
  for (let jc = 0; jc < n; jc += NC) {
    const ncb = imin(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = imin(KC, k - pc);
      const betaEff: T = pc == 0 ? beta : <T>1;
      pack<T>(nr, transB, b, ldb, jc, ncb, pc, kc, pb);
      // lower: rows above jc hold no element of these columns
      for (let ic = lower ? jc : 0; ic < m; ic += MC) {
        const mcb = imin(MC, m - ic);
        const fromB = share && ic >= jc && ic + mcb <= jc + ncb;
        if (!fromB) pack<T>(MR, transA, a, lda, ic, mcb, pc, kc, pa);
        const as = fromB ? <usize>nr * S : <usize>MR * S;
        for (let jr = 0; jr < ncb; jr += nr) {
          const j0 = jc + jr;
          const nrr = imin(nr, ncb - jr);
          const pbp = pb + <usize>jr * <usize>kc * S;
          for (let ir = 0; ir < mcb; ir += MR) {
            const i0 = ic + ir;
            const mrr = imin(MR, mcb - ir);
            if (lower && j0 > i0 + mrr - 1) continue; // entirely above the diagonal
            const ia = ic - jc + ir; // row in the B block (fromB: a multiple of MR, MR divides NR)
            const pap = fromB
              ? pb + <usize>(ia / nr) * <usize>kc * <usize>nr * S + <usize>(ia % nr) * S
              : pa + <usize>ir * <usize>kc * S;
            const cp = c + <usize>i0 * cs + <usize>j0 * S;
            const whole = mrr == MR && nrr == nr && (!lower || fullDiag || j0 + nr - 1 <= i0);
            tileUpdate<T>(whole, kc, pap, as, pbp, cp, cs, mrr, nrr, tile, alpha, betaEff, lower ? i0 - j0 : 0x3fffffff);
          }
        }
      }
    }
  }
}

/**
 * One tile of C ← β·C + α·A·Bᵀ from packed panels: whole (MR × NR, every element wanted) straight
 * into C, else through the temporary tile, of which mergeTile adds back the mr × nr elements with
 * j ≤ r + diag. Both end in β·C + α·acc with the same k-order (the same bits).
 */
// @ts-ignore: decorator
@inline function tileUpdate<T>(whole: bool, kc: i32, pa: usize, as: usize, pb: usize, cp: usize, cs: usize, mr: i32, nr: i32, tile: usize, alpha: T, beta: T, diag: i32): void {
  if (whole) {
    microkernel<T>(kc, pa, as, pb, cp, cs, alpha, beta);
  } else {
    const tcs = <usize>NR<T>() * sizeof<T>();
    microkernel<T>(kc, pa, as, pb, tile, tcs, <T>1, <T>0);
    mergeTile<T>(mr, nr, tile, tcs, cp, cs, alpha, beta, diag);
  }
}

/** C(r, j) ← β·C(r, j) + α·T(r, j) for r < mr, j < nr, j ≤ r + diag (β == 0: C not read). */
// @ts-ignore: decorator
@inline function mergeTile<T>(mr: i32, nr: i32, t: usize, ts: usize, c: usize, cs: usize, alpha: T, beta: T, diag: i32): void {
  const S = <usize>sizeof<T>();
  for (let r = 0; r < mr; r++) {
    const jn = imin(nr, r + diag + 1);
    const tr = t + <usize>r * ts;
    const cr = c + <usize>r * cs;
    if (beta == <T>0) {
      for (let j = 0; j < jn; j++) store<T>(cr + <usize>j * S, alpha * load<T>(tr + <usize>j * S));
    } else if (beta == <T>1) {
      for (let j = 0; j < jn; j++) store<T>(cr + <usize>j * S, load<T>(cr + <usize>j * S) + alpha * load<T>(tr + <usize>j * S));
    } else {
      for (let j = 0; j < jn; j++) store<T>(cr + <usize>j * S, beta * load<T>(cr + <usize>j * S) + alpha * load<T>(tr + <usize>j * S));
    }
  }
}

/** C ← β·C on an m × n block, or on the lower triangle of a square one (β == 0: C ← 0, not read). */
export function scaleBlock<T>(m: i32, n: i32, beta: T, c: usize, ldc: i32, lower: bool): void {
  if (beta == <T>1 || n <= 0) return;
  const S = <usize>sizeof<T>();
  const cs = <usize>ldc * S;
  for (let i = 0; i < m; i++) {
    const jn = lower ? imin(n, i + 1) : n;
    const cr = c + <usize>i * cs;
    if (beta == <T>0) {
      memory.fill(cr, 0, <usize>jn * S);
    } else {
      for (let j = 0; j < jn; j++) store<T>(cr + <usize>j * S, beta * load<T>(cr + <usize>j * S));
    }
  }
}

/**
 * lower(C)[r0:r1, c0:c1] ← β·C + α·P·Pᵀ on the rows [r0, r1) and columns [c0, c1) of an m × m
 * lower triangle (the elements with i ≥ j), P (m × k) already packed in NR-row panels (pack.ts
 * layout, depth k ≤ KC: panel q at p + q·NR·k elements) and read both as A (as = NR·S) and as B:
 * no packing at all. r0 and c0 multiples of NR and of MR; r1 and c1 too, or m. The tiles, their k-order and their stores are those of gemm_nt(m, m, k, α,
 * X, X, β, C, lower) with the same P, so every element gets the same bits (the threaded potrf
 * splits its trailing update this way after one shared pack of the panel; see parallel.ts).
 */
export function gemm_lower_packed<T>(m: i32, r0: i32, r1: i32, c0: i32, c1: i32, k: i32, alpha: T, p: usize, beta: T, c: usize, ldc: i32, work: usize): void {
  if (c1 > m) c1 = m;
  if (r1 > m) r1 = m;
  if (r0 < c0) r0 = c0;
  if (c0 >= c1 || r0 >= r1 || k <= 0) return;
  const S = <usize>sizeof<T>();
  const cs = <usize>ldc * S;
  const nr = NR<T>();
  const panel = <usize>nr * <usize>k * S;
  const tile = work + <usize>PACK_A_BYTES + <usize>PACK_B_BYTES;
  const as = <usize>nr * S;
  for (let ic = r0; ic < r1; ic += MC) {
    const mcb = imin(MC, r1 - ic);
    for (let j0 = c0; j0 < c1; j0 += nr) {
      if (j0 > ic + mcb - 1) break; // this and the later columns lie above the diagonal
      const nrr = imin(nr, c1 - j0);
      const pbp = p + <usize>(j0 / nr) * panel;
      for (let ir = 0; ir < mcb; ir += MR) {
        const i0 = ic + ir;
        const mrr = imin(MR, mcb - ir);
        if (j0 > i0 + mrr - 1) continue;
        const pap = p + <usize>(i0 / nr) * panel + <usize>(i0 % nr) * S;
        const cp = c + <usize>i0 * cs + <usize>j0 * S;
        tileUpdate<T>(mrr == MR && nrr == nr && j0 + nr - 1 <= i0, k, pap, as, pbp, cp, cs, mrr, nrr, tile, alpha, beta, i0 - j0);
      }
    }
  }
}
