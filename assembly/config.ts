// Block and tile sizes: the one place they live (BLIS keeps them as data in one config file).
//
// Register tile of the micro-kernel: MR rows of C by NV vectors (NR = NV · lanes elements).
// MR · NV accumulators live in registers together with NV loaded B vectors and one broadcast.
// V8 gives wasm 16 xmm registers, but measured on Zen 5 / Node 20 only the 8-accumulator tiles run
// at full speed (4 × 2 and 2 × 4: ~47 GFLOP/s f32 in syrk); 5 × 2, 3 × 3, 6 × 2, 4 × 3 spill
// (20–30), and unrolling the k-loop (KU 2, 4) lets binaryen hoist the loads of later steps, which
// lengthens live ranges and spills too (25–30).
//
//   f32: lanes = 4 → NR = 4·NV        f64: lanes = 2 → NR = 2·NV
//
// Cache blocks (BLIS names): KC = depth of a packed panel (elements of k), MC = rows of the packed
// A block (kept in L2), NC = columns of the packed B block (kept in L3). MC is a multiple of MR and
// NC a multiple of NR for both precisions.

/** Rows of the register tile (broadcast operand). */
export const MR: i32 = 4;
/** Vectors per row of the register tile. */
export const NV: i32 = 2;
/** Unroll of the micro-kernel k-loop (regenerate microkernel.ts after changing MR, NV, KU). */
export const KU: i32 = 1;
/** Depth of packed panels. */
export const KC: i32 = 256;
/** Rows of the packed A block; multiple of MR. */
export const MC: i32 = 96;
/** Columns of the packed B block; multiple of NR for both precisions. */
export const NC: i32 = 1024;
/** Block column width of the blocked Cholesky (potrf) below NB_LARGE_MIN. */
export const NB: i32 = 64;
/** Block column width of potrf from d = NB_LARGE_MIN: the trailing update's depth is NB, and at
 *  depth 128 the read-modify-write of C weighs half as much per flop as at 64; the panel solve grows
 *  with NB (NB·d²/2 flops at ~18 GFLOP/s f64 against the update's ~23). Measured on one thread:
 *  at d = 1024 128 beats 64 by 2–3% (f64 22.8–23.2 vs 22.3–22.5, f32 45.8–46.7 vs 44.7–45.0), at
 *  768 by 3–4%, at 512 they tie and at 256 64 is 2% ahead. On two threads at d = 512, 128 leaves the
 *  serial diagonal blocks (four of 128³/3) on the critical path: 64 ran 1.2–1.35× faster there. */
export const NB_LARGE: i32 = 128;
export const NB_LARGE_MIN: i32 = 768;

/** potrf's block column width for a d × d matrix (the threaded potrf steps by the same). */
// @ts-ignore: decorator
@inline export function potrfNB(d: i32): i32 { return d >= NB_LARGE_MIN ? NB_LARGE : NB; }
/** Block width of the diagonal blocks inside potrf's diagonal block (recursion level 2). */
export const NB2: i32 = 16;
/** Block width of the blocked triangular solves (trsm inside potrf and potrs). */
export const TB: i32 = 64;
/** Vectors of right-hand-side rows solved together by the small triangular solves (RB = TV · lanes
 *  rows); trsm.ts is written for TV = 4 (TV = 8 spills: 8 vs 12 GFLOP/s f64). */
export const TV: i32 = 4;
/** Rows of the upper triangle that symmetrize fills per pass (a multiple of the lanes). Each pass
 *  writes SYM_ROWS rows and reads lanes rows at a time; with a row stride of 4 KiB (d = 1024 f32,
 *  512 f64) all of them map to one set of the 12-way L1: 16 rows f32 ran at half the speed of 8
 *  (d = 1024: 0.34 vs 0.17 ms); f64 at 4 rows was slower than at 8. */
export const SYM_ROWS: i32 = 8;
/** potrs switches from per-row substitution to the blocked solve at this many rhs. */
export const POTRS_BLOCKED_MIN_RHS: i32 = 4;

/** Rows per panel of the blocked tridiagonalisation (sytrd.ts): the rank-2k update of the leading
 *  block has depth 2·EIGH_NB; the panel's gemv corrections grow with it. 16 and 32 within a few
 *  percent, 48 and 64 slower (bench/RESULTS.md, eigh). */
export const EIGH_NB: i32 = 16;
/** sytrd reduces a leading block of at most this order unblocked. */
export const EIGH_NX: i32 = 32;
/** Reflectors per block of the back-transformation (ormtr): the depth of its gemm updates; the
 *  T factor and T·Vᵀ grow with its square. 32 best at d = 512, 128 25% slower (bench/RESULTS.md). */
export const EIGH_QB: i32 = 32;

/** Elements per v128 for T. */
// @ts-ignore: decorator
@inline export function lanes<T>(): i32 { return 16 / <i32>sizeof<T>(); }
/** Columns of the register tile for T. */
// @ts-ignore: decorator
@inline export function NR<T>(): i32 { return NV * lanes<T>(); }

// Workspace layout (byte offsets from `work`, sized for f64, the larger element):
//   [0, PACK_A_BYTES)                        packed A block, MC × KC
//   [PACK_A_BYTES, +PACK_B_BYTES)            packed B block, KC × NC
//   [PACK_A_BYTES + PACK_B_BYTES, +TILE)     temporary MR × NR tile for edge and diagonal tiles
export const PACK_A_BYTES: i32 = MC * KC * 8;
export const PACK_B_BYTES: i32 = KC * NC * 8;
export const TILE_BYTES: i32 = MR * NV * 16;
//   [.. + TILE, +TRSM_BYTES)                 TB × RB transposed block of rhs rows for the small solves
export const TRSM_BYTES: i32 = TB * TV * 16;
export const TRSM_OFFSET: i32 = PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES;
export const WORK_BYTES: i32 = TRSM_OFFSET + TRSM_BYTES;

// compile-time checks of the invariants the loops rely on
// @ts-ignore
if (MC % MR != 0) ERROR('config.ts: MC must be a multiple of MR');
// @ts-ignore
if (NC % (NV * 4) != 0) ERROR('config.ts: NC must be a multiple of NR for f32 and f64');
// @ts-ignore
if (NB % NB2 != 0 || NB_LARGE % NB2 != 0) ERROR('config.ts: NB and NB_LARGE must be multiples of NB2');
// @ts-ignore
if (SYM_ROWS % 4 != 0) ERROR('config.ts: SYM_ROWS must be a multiple of the f32 lanes');
