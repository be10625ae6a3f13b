// SYRK (GᵀG) and Gram (GGᵀ) into the lower triangle, plus the small whole-matrix helpers
// (symmetrize, zero_upper, add_diag). Both products are gemm_nt in lower mode; they differ only in
// how the panels are packed: GᵀG packs runs of rows of G (trans), GGᵀ transposes row blocks.
import { gemm_nt } from './gemm';
import { imin } from './simd';

/** lower(C) ← β lower(C) + α lower(GᵀG); G n × d, C d × d. */
export function syrk<T>(n: i32, d: i32, alpha: T, g: usize, ldg: i32, beta: T, c: usize, ldc: i32, work: usize): void {
  gemm_nt<T>(d, d, n, alpha, g, ldg, true, g, ldg, true, beta, c, ldc, work, true);
}

/** lower(C) ← β lower(C) + α lower(GGᵀ); G n × d, C n × n. */
export function gram<T>(n: i32, d: i32, alpha: T, g: usize, ldg: i32, beta: T, c: usize, ldc: i32, work: usize): void {
  gemm_nt<T>(n, n, d, alpha, g, ldg, false, g, ldg, false, beta, c, ldc, work, true);
}

/** Strict upper triangle ← transpose of the strict lower triangle, in 32 × 32 blocks. */
export function symmetrize<T>(d: i32, c: usize, ldc: i32): void {
  const S = <usize>sizeof<T>();
  const cs = <usize>ldc * S;
  const B = 32;
  for (let i0 = 0; i0 < d; i0 += B) {
    const i1 = imin(d, i0 + B);
    for (let j0 = 0; j0 <= i0; j0 += B) {
      // block (i0.., j0..) of the lower triangle → block (j0.., i0..) of the upper
      for (let i = i0; i < i1; i++) {
        const jn = imin(i, j0 + B);
        const src = c + <usize>i * cs;
        for (let j = j0; j < jn; j++) {
          store<T>(c + <usize>j * cs + <usize>i * S, load<T>(src + <usize>j * S));
        }
      }
    }
  }
}

/** Strict upper triangle ← 0. */
export function zero_upper<T>(d: i32, c: usize, ldc: i32): void {
  const S = <usize>sizeof<T>();
  const cs = <usize>ldc * S;
  for (let i = 0; i < d - 1; i++) {
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
