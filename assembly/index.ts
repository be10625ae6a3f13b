// The module's exports: each generic kernel as name_f32 and name_f64 (see README.md, the ABI).
import { WORK_BYTES } from './config';
import { dot, axpy, axpby, scal, first_nonfinite } from './level1';
import { gemv_n, gemv_t, symv, sumsq_cols, colsum, trsv, trsv_t } from './level2';
import { syrk, syrk_full, gram, symmetrize, symmetrize_rows, zero_upper, zero_upper_rows, add_diag } from './syrk';
import { syrk_pack, syrk_cols_packed, potrf_diag, potrf_panel, potrf_pack, potrf_update_packed } from './parallel';
import { potrf, potrs } from './potrf';
import { gemm_nt } from './gemm';
import { rowdot, hadamard_lower, square, scale_rows, outer_rows } from './layers';
import { peak, peakFlopsPerIter } from './peak';

/** First byte the TypeScript allocator may use. */
export function heap_base(): usize { return __heap_base; }
/** Workspace bytes needed by any kernel that takes `work`. */
export function work_bytes(): i32 { return WORK_BYTES; }

export function dot_f32(n: i32, x: usize, y: usize): f32 { return dot<f32>(n, x, y); }
export function dot_f64(n: i32, x: usize, y: usize): f64 { return dot<f64>(n, x, y); }
export function axpy_f32(n: i32, alpha: f32, x: usize, y: usize): void { axpy<f32>(n, alpha, x, y); }
export function axpy_f64(n: i32, alpha: f64, x: usize, y: usize): void { axpy<f64>(n, alpha, x, y); }
export function axpby_f32(n: i32, alpha: f32, x: usize, beta: f32, y: usize): void { axpby<f32>(n, alpha, x, beta, y); }
export function axpby_f64(n: i32, alpha: f64, x: usize, beta: f64, y: usize): void { axpby<f64>(n, alpha, x, beta, y); }
export function scal_f32(n: i32, alpha: f32, x: usize): void { scal<f32>(n, alpha, x); }
export function scal_f64(n: i32, alpha: f64, x: usize): void { scal<f64>(n, alpha, x); }
export function first_nonfinite_f32(n: i32, x: usize): i32 { return first_nonfinite<f32>(n, x); }
export function first_nonfinite_f64(n: i32, x: usize): i32 { return first_nonfinite<f64>(n, x); }

export function sumsq_cols_f32(n: i32, d: i32, alpha: f32, g: usize, ldg: i32, beta: f32, y: usize): void { sumsq_cols<f32>(n, d, alpha, g, ldg, beta, y); }
export function sumsq_cols_f64(n: i32, d: i32, alpha: f64, g: usize, ldg: i32, beta: f64, y: usize): void { sumsq_cols<f64>(n, d, alpha, g, ldg, beta, y); }
export function gemv_n_f32(m: i32, n: i32, alpha: f32, a: usize, lda: i32, x: usize, beta: f32, y: usize): void { gemv_n<f32>(m, n, alpha, a, lda, x, beta, y); }
export function gemv_n_f64(m: i32, n: i32, alpha: f64, a: usize, lda: i32, x: usize, beta: f64, y: usize): void { gemv_n<f64>(m, n, alpha, a, lda, x, beta, y); }
export function gemv_t_f32(m: i32, n: i32, alpha: f32, a: usize, lda: i32, x: usize, beta: f32, y: usize): void { gemv_t<f32>(m, n, alpha, a, lda, x, beta, y); }
export function gemv_t_f64(m: i32, n: i32, alpha: f64, a: usize, lda: i32, x: usize, beta: f64, y: usize): void { gemv_t<f64>(m, n, alpha, a, lda, x, beta, y); }
export function symv_f32(d: i32, alpha: f32, a: usize, lda: i32, x: usize, beta: f32, y: usize): void { symv<f32>(d, alpha, a, lda, x, beta, y); }
export function symv_f64(d: i32, alpha: f64, a: usize, lda: i32, x: usize, beta: f64, y: usize): void { symv<f64>(d, alpha, a, lda, x, beta, y); }

export function syrk_f32(n: i32, d: i32, alpha: f32, g: usize, ldg: i32, beta: f32, c: usize, ldc: i32, work: usize): void { syrk<f32>(n, d, alpha, g, ldg, beta, c, ldc, work); }
export function syrk_f64(n: i32, d: i32, alpha: f64, g: usize, ldg: i32, beta: f64, c: usize, ldc: i32, work: usize): void { syrk<f64>(n, d, alpha, g, ldg, beta, c, ldc, work); }
export function syrk_full_f32(n: i32, d: i32, alpha: f32, g: usize, ldg: i32, beta: f32, c: usize, ldc: i32, work: usize): void { syrk_full<f32>(n, d, alpha, g, ldg, beta, c, ldc, work); }
export function syrk_full_f64(n: i32, d: i32, alpha: f64, g: usize, ldg: i32, beta: f64, c: usize, ldc: i32, work: usize): void { syrk_full<f64>(n, d, alpha, g, ldg, beta, c, ldc, work); }
export function gram_f32(n: i32, d: i32, alpha: f32, g: usize, ldg: i32, beta: f32, c: usize, ldc: i32, work: usize): void { gram<f32>(n, d, alpha, g, ldg, beta, c, ldc, work); }
export function gram_f64(n: i32, d: i32, alpha: f64, g: usize, ldg: i32, beta: f64, c: usize, ldc: i32, work: usize): void { gram<f64>(n, d, alpha, g, ldg, beta, c, ldc, work); }
export function symmetrize_f32(d: i32, c: usize, ldc: i32): void { symmetrize<f32>(d, c, ldc); }
export function symmetrize_f64(d: i32, c: usize, ldc: i32): void { symmetrize<f64>(d, c, ldc); }
export function zero_upper_f32(d: i32, c: usize, ldc: i32): void { zero_upper<f32>(d, c, ldc); }
export function zero_upper_f64(d: i32, c: usize, ldc: i32): void { zero_upper<f64>(d, c, ldc); }
export function add_diag_f32(d: i32, shift: f32, c: usize, ldc: i32): void { add_diag<f32>(d, shift, c, ldc); }
export function add_diag_f64(d: i32, shift: f64, c: usize, ldc: i32): void { add_diag<f64>(d, shift, c, ldc); }

export function potrf_f32(d: i32, a: usize, lda: i32, work: usize): i32 { return potrf<f32>(d, a, lda, work); }
export function potrf_f64(d: i32, a: usize, lda: i32, work: usize): i32 { return potrf<f64>(d, a, lda, work); }
export function trsv_f32(d: i32, l: usize, ldl: i32, x: usize): void { trsv<f32>(d, l, ldl, x); }
export function trsv_f64(d: i32, l: usize, ldl: i32, x: usize): void { trsv<f64>(d, l, ldl, x); }
export function trsv_t_f32(d: i32, l: usize, ldl: i32, x: usize): void { trsv_t<f32>(d, l, ldl, x); }
export function trsv_t_f64(d: i32, l: usize, ldl: i32, x: usize): void { trsv_t<f64>(d, l, ldl, x); }
export function potrs_f32(d: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32, work: usize): void { potrs<f32>(d, nrhs, l, ldl, b, ldb, work); }
export function potrs_f64(d: i32, nrhs: i32, l: usize, ldl: i32, b: usize, ldb: i32, work: usize): void { potrs<f64>(d, nrhs, l, ldl, b, ldb, work); }

// C (m × n) ← β·C + α·op(A)·op(B), op(X) = X or Xᵀ (flags ≠ 0: transposed); A m × k, B k × n as op
export function gemm_f32(m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, transA: i32, b: usize, ldb: i32, transB: i32, beta: f32, c: usize, ldc: i32, work: usize): void { gemm_nt<f32>(m, n, k, alpha, a, lda, transA != 0, b, ldb, transB == 0, beta, c, ldc, work, false); }
export function gemm_f64(m: i32, n: i32, k: i32, alpha: f64, a: usize, lda: i32, transA: i32, b: usize, ldb: i32, transB: i32, beta: f64, c: usize, ldc: i32, work: usize): void { gemm_nt<f64>(m, n, k, alpha, a, lda, transA != 0, b, ldb, transB == 0, beta, c, ldc, work, false); }

// pieces for threads (parallel.ts)
export { potrf_nb, potrf_packed_bytes, syrk_packed_bytes } from './parallel';
export function syrk_pack_f32(n: i32, d: i32, r0: i32, r1: i32, g: usize, ldg: i32, p: usize): void { syrk_pack<f32>(n, d, r0, r1, g, ldg, p); }
export function syrk_pack_f64(n: i32, d: i32, r0: i32, r1: i32, g: usize, ldg: i32, p: usize): void { syrk_pack<f64>(n, d, r0, r1, g, ldg, p); }
export function syrk_cols_packed_f32(n: i32, d: i32, j0: i32, j1: i32, alpha: f32, p: usize, g: usize, ldg: i32, beta: f32, c: usize, ldc: i32, work: usize): void { syrk_cols_packed<f32>(n, d, j0, j1, alpha, p, g, ldg, beta, c, ldc, work); }
export function syrk_cols_packed_f64(n: i32, d: i32, j0: i32, j1: i32, alpha: f64, p: usize, g: usize, ldg: i32, beta: f64, c: usize, ldc: i32, work: usize): void { syrk_cols_packed<f64>(n, d, j0, j1, alpha, p, g, ldg, beta, c, ldc, work); }
export function zero_upper_rows_f32(d: i32, r0: i32, r1: i32, c: usize, ldc: i32): void { zero_upper_rows<f32>(d, r0, r1, c, ldc); }
export function zero_upper_rows_f64(d: i32, r0: i32, r1: i32, c: usize, ldc: i32): void { zero_upper_rows<f64>(d, r0, r1, c, ldc); }
export function symmetrize_rows_f32(d: i32, r0: i32, r1: i32, c: usize, ldc: i32): void { symmetrize_rows<f32>(d, r0, r1, c, ldc); }
export function symmetrize_rows_f64(d: i32, r0: i32, r1: i32, c: usize, ldc: i32): void { symmetrize_rows<f64>(d, r0, r1, c, ldc); }
export function potrf_diag_f32(d: i32, j0: i32, a: usize, lda: i32, work: usize): i32 { return potrf_diag<f32>(d, j0, a, lda, work); }
export function potrf_diag_f64(d: i32, j0: i32, a: usize, lda: i32, work: usize): i32 { return potrf_diag<f64>(d, j0, a, lda, work); }
export function potrf_panel_f32(d: i32, j0: i32, r0: i32, r1: i32, a: usize, lda: i32, work: usize): void { potrf_panel<f32>(d, j0, r0, r1, a, lda, work); }
export function potrf_panel_f64(d: i32, j0: i32, r0: i32, r1: i32, a: usize, lda: i32, work: usize): void { potrf_panel<f64>(d, j0, r0, r1, a, lda, work); }

export function potrf_pack_f32(d: i32, j0: i32, r0: i32, r1: i32, a: usize, lda: i32, p: usize): void { potrf_pack<f32>(d, j0, r0, r1, a, lda, p); }
export function potrf_pack_f64(d: i32, j0: i32, r0: i32, r1: i32, a: usize, lda: i32, p: usize): void { potrf_pack<f64>(d, j0, r0, r1, a, lda, p); }
export function potrf_update_packed_f32(d: i32, j0: i32, r0: i32, r1: i32, c0: i32, c1: i32, a: usize, lda: i32, p: usize, work: usize): void { potrf_update_packed<f32>(d, j0, r0, r1, c0, c1, a, lda, p, work); }
export function potrf_update_packed_f64(d: i32, j0: i32, r0: i32, r1: i32, c0: i32, c1: i32, a: usize, lda: i32, p: usize, work: usize): void { potrf_update_packed<f64>(d, j0, r0, r1, c0, c1, a, lda, p, work); }

// f32 ↔ f64 conversions: see mixed.ts
export { promote_f32_f64, demote_f64_f32, gemv_n_f32f64, gemv_t_f32f64 } from './mixed';

// largest magnitude: see scan.ts
export { max_abs_f32, max_abs_f64 } from './scan';

// symmetric eigendecomposition pieces: see sytrd.ts
import { sytrd, ormtr, sytrdWorkBytes, ormtrWorkBytes } from './sytrd';
export function sytrd_f32(d: i32, a: usize, lda: i32, dd: usize, e: usize, tau: usize, work: usize, ework: usize): void { sytrd<f32>(d, a, lda, dd, e, tau, work, ework); }
export function sytrd_f64(d: i32, a: usize, lda: i32, dd: usize, e: usize, tau: usize, work: usize, ework: usize): void { sytrd<f64>(d, a, lda, dd, e, tau, work, ework); }
export function ormtr_f32(d: i32, m: i32, a: usize, lda: i32, tau: usize, x: usize, ldx: i32, work: usize, ework: usize): void { ormtr<f32>(d, m, a, lda, tau, x, ldx, work, ework); }
export function ormtr_f64(d: i32, m: i32, a: usize, lda: i32, tau: usize, x: usize, ldx: i32, work: usize, ework: usize): void { ormtr<f64>(d, m, a, lda, tau, x, ldx, work, ework); }
export function sytrd_work_bytes_f32(d: i32): f64 { return <f64>sytrdWorkBytes<f32>(d); }
export function sytrd_work_bytes_f64(d: i32): f64 { return <f64>sytrdWorkBytes<f64>(d); }
export function ormtr_work_bytes_f32(d: i32, m: i32): f64 { return <f64>ormtrWorkBytes<f32>(d, m); }
export function ormtr_work_bytes_f64(d: i32, m: i32): f64 { return <f64>ormtrWorkBytes<f64>(d, m); }

// symmetric tridiagonal eigensolvers (f64 only): see tridiag.ts
import { sterf, stedc, stedcWorkBytes } from './tridiag';
export function sterf_f64(n: i32, d: usize, e: usize): i32 { return sterf(n, d, e); }
export function stedc_f64(n: i32, d: usize, e: usize, z: usize, ldz: i32, work: usize): i32 { return stedc(n, d, e, z, ldz, work); }
export function stedc_work_bytes(n: i32): i32 { return stedcWorkBytes(n); }

// the symmetric eigendecomposition: see eigh.ts
import { eigh, eighWorkBytes } from './eigh';
export function eigh_f32(d: i32, a: usize, lda: i32, w: usize, z: usize, ldz: i32, vectors: i32, work: usize, ework: usize): i32 { return eigh<f32>(d, a, lda, w, z, ldz, vectors != 0, work, ework); }
export function eigh_f64(d: i32, a: usize, lda: i32, w: usize, z: usize, ldz: i32, vectors: i32, work: usize, ework: usize): i32 { return eigh<f64>(d, a, lda, w, z, ldz, vectors != 0, work, ework); }
export function eigh_work_bytes_f32(d: i32, vectors: i32): f64 { return eighWorkBytes<f32>(d, vectors != 0); }
export function eigh_work_bytes_f64(d: i32, vectors: i32): f64 { return eighWorkBytes<f64>(d, vectors != 0); }

// the example models' elementwise pieces (models.ts): activations, losses, bias rows
import { bias_rows, activate, activate_backward, softmax_xent, squared_error, loss_sum, count_correct, sigmoid_xent, squared_error_values, loss_sum_values, count_agree } from './models';
export function bias_rows_f32(m: i32, n: i32, b: usize, c: usize, ldc: i32): void { bias_rows<f32>(m, n, b, c, ldc); }
export function bias_rows_f64(m: i32, n: i32, b: usize, c: usize, ldc: i32): void { bias_rows<f64>(m, n, b, c, ldc); }
export function activate_f32(kind: i32, m: i32, n: i32, h: usize, ldh: i32): void { activate<f32>(kind, m, n, h, ldh); }
export function activate_f64(kind: i32, m: i32, n: i32, h: usize, ldh: i32): void { activate<f64>(kind, m, n, h, ldh); }
export function activate_backward_f32(kind: i32, m: i32, n: i32, h: usize, ldh: i32, e: usize, lde: i32): void { activate_backward<f32>(kind, m, n, h, ldh, e, lde); }
export function activate_backward_f64(kind: i32, m: i32, n: i32, h: usize, ldh: i32, e: usize, lde: i32): void { activate_backward<f64>(kind, m, n, h, ldh, e, lde); }
export function softmax_xent_f32(m: i32, c: i32, z: usize, ldz: i32, y: usize, e: usize, lde: i32): f64 { return softmax_xent<f32>(m, c, z, ldz, y, e, lde); }
export function softmax_xent_f64(m: i32, c: i32, z: usize, ldz: i32, y: usize, e: usize, lde: i32): f64 { return softmax_xent<f64>(m, c, z, ldz, y, e, lde); }
export function squared_error_f32(m: i32, c: i32, z: usize, ldz: i32, y: usize, e: usize, lde: i32): f64 { return squared_error<f32>(m, c, z, ldz, y, e, lde); }
export function squared_error_f64(m: i32, c: i32, z: usize, ldz: i32, y: usize, e: usize, lde: i32): f64 { return squared_error<f64>(m, c, z, ldz, y, e, lde); }
export function loss_sum_f32(kind: i32, m: i32, c: i32, z: usize, ldz: i32, y: usize): f64 { return loss_sum<f32>(kind, m, c, z, ldz, y); }
export function loss_sum_f64(kind: i32, m: i32, c: i32, z: usize, ldz: i32, y: usize): f64 { return loss_sum<f64>(kind, m, c, z, ldz, y); }
export function count_correct_f32(m: i32, c: i32, z: usize, ldz: i32, y: usize): i32 { return count_correct<f32>(m, c, z, ldz, y); }
export function count_correct_f64(m: i32, c: i32, z: usize, ldz: i32, y: usize): i32 { return count_correct<f64>(m, c, z, ldz, y); }
export function sigmoid_xent_f32(m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32, e: usize, lde: i32): f64 { return sigmoid_xent<f32>(m, c, z, ldz, t, ldt, e, lde); }
export function sigmoid_xent_f64(m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32, e: usize, lde: i32): f64 { return sigmoid_xent<f64>(m, c, z, ldz, t, ldt, e, lde); }
export function squared_error_values_f32(m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32, e: usize, lde: i32): f64 { return squared_error_values<f32>(m, c, z, ldz, t, ldt, e, lde); }
export function squared_error_values_f64(m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32, e: usize, lde: i32): f64 { return squared_error_values<f64>(m, c, z, ldz, t, ldt, e, lde); }
export function loss_sum_values_f32(kind: i32, m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32): f64 { return loss_sum_values<f32>(kind, m, c, z, ldz, t, ldt); }
export function loss_sum_values_f64(kind: i32, m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32): f64 { return loss_sum_values<f64>(kind, m, c, z, ldz, t, ldt); }
export function count_agree_f32(m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32, threshold: f64): i32 { return count_agree<f32>(m, c, z, ldz, t, ldt, threshold); }
export function count_agree_f64(m: i32, c: i32, z: usize, ldz: i32, t: usize, ldt: i32, threshold: f64): i32 { return count_agree<f64>(m, c, z, ldz, t, ldt, threshold); }

// the layer kit's small kernels: see layers.ts
export function rowdot_f32(n: i32, k: i32, x: usize, ldx: i32, y: usize, ldy: i32, beta: f32, out: usize): void { rowdot<f32>(n, k, x, ldx, y, ldy, beta, out); }
export function rowdot_f64(n: i32, k: i32, x: usize, ldx: i32, y: usize, ldy: i32, beta: f64, out: usize): void { rowdot<f64>(n, k, x, ldx, y, ldy, beta, out); }
export function hadamard_lower_f32(n: i32, a: usize, lda: i32, b: usize, ldb: i32, shift: f32, beta: f32, c: usize, ldc: i32): void { hadamard_lower<f32>(n, a, lda, b, ldb, shift, beta, c, ldc); }
export function hadamard_lower_f64(n: i32, a: usize, lda: i32, b: usize, ldb: i32, shift: f64, beta: f64, c: usize, ldc: i32): void { hadamard_lower<f64>(n, a, lda, b, ldb, shift, beta, c, ldc); }
export function square_f32(len: i32, x: usize, y: usize): void { square<f32>(len, x, y); }
export function square_f64(len: i32, x: usize, y: usize): void { square<f64>(len, x, y); }
export function scale_rows_f32(n: i32, k: i32, u: usize, x: usize, ldx: i32, y: usize, ldy: i32): void { scale_rows<f32>(n, k, u, x, ldx, y, ldy); }
export function scale_rows_f64(n: i32, k: i32, u: usize, x: usize, ldx: i32, y: usize, ldy: i32): void { scale_rows<f64>(n, k, u, x, ldx, y, ldy); }
export function colsum_f32(n: i32, k: i32, alpha: f32, x: usize, ldx: i32, beta: f32, y: usize): void { colsum<f32>(n, k, alpha, x, ldx, beta, y); }
export function colsum_f64(n: i32, k: i32, alpha: f64, x: usize, ldx: i32, beta: f64, y: usize): void { colsum<f64>(n, k, alpha, x, ldx, beta, y); }
export function outer_rows_f32(n: i32, nin: i32, nout: i32, a: usize, lda: i32, e: usize, lde: i32, bias: i32, g: usize, ldg: i32): void { outer_rows<f32>(n, nin, nout, a, lda, e, lde, bias, g, ldg); }
export function outer_rows_f64(n: i32, nin: i32, nout: i32, a: usize, lda: i32, e: usize, lde: i32, bias: i32, g: usize, ldg: i32): void { outer_rows<f64>(n, nin, nout, a, lda, e, lde, bias, g, ldg); }

// the bench's peak probe (peak.ts): iters iterations of register-blocked mul + add, no memory traffic
export function peak_f32(iters: i32, s: f32, t: f32): f32 { return peak<f32>(iters, s, t); }
export function peak_f64(iters: i32, s: f64, t: f64): f64 { return peak<f64>(iters, s, t); }
export function peak_flops_f32(): i32 { return peakFlopsPerIter<f32>(); }
export function peak_flops_f64(): i32 { return peakFlopsPerIter<f64>(); }
