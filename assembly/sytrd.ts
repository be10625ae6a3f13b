// Householder tridiagonalisation of a symmetric matrix (lower triangle, row-major) and the
// back-transformation, after LAPACK's dsytrd / dlatrd / dsytd2 and dormtr / dlarft / dlarfb.
//
// Row-major lower = column-major upper, so this is LAPACK's uplo = 'U' path: rows are reduced from
// the last one up, and every reflector lies along a row (contiguous).
//
//   reflector k (k = d−1 … 1) annihilates A[k, 0 … k−2]:  H_k = I − τ_k v_k v_kᵀ,
//   v_k = [A[k, 0 … k−2], 1, 0 …] (length k, then zeros),  A ← H_k A H_k on the leading k × k block.
//
//   A = Q T Qᵀ,  Q = H_{d−1} ⋯ H_1,  T tridiagonal: diagonal dd[i] = A[i, i],
//   off-diagonal e[i] = T[i+1, i] (stored at A[i+1, i]); τ_k at tau[k] (tau[0] = 0).
//
// Blocked (dlatrd): panels of nb rows from the bottom; each reflector needs w = τ·A·v on the
// not-yet-updated leading block (symvLower, level 2) corrected by the panel's earlier v and w
// (gemv), and after the panel the leading block gets A ← A − V Wᵀ − W Vᵀ as one gemm_nt of depth
// 2nb in lower mode (level 3). The last leading block ≤ EIGH_NX is reduced unblocked.
//
// Back-transformation (ormtr): rows x of X ← Q x, i.e. X ← X H_1 H_2 ⋯ H_{d−1}, in blocks of QB
// reflectors with the compact WY form H_a ⋯ H_b = I − V T Vᵀ (dlarft, forward):
//   Y = X V,  Wt = T Vᵀ,  X ← X − Y Wt   (three gemm_nt calls on the packed micro-kernel).
import { EIGH_NB, EIGH_NX, EIGH_QB, lanes } from './config';
import { gemm_nt } from './gemm';
import { dot, axpy, scal } from './level1';
import { gemv_n, gemv_t } from './level2';
import { hsum, imin } from './simd';

/** Row length (elements) of the panel and back-transformation buffers: d rounded up to 4. */
// @ts-ignore: decorator
@inline export function panelLd(d: i32): i32 { return (d + 3) & ~3; }

/** Bytes rounded up to 16. */
// @ts-ignore: decorator
@inline export function align16(b: usize): usize { return (b + 15) & ~(<usize>15); }

/** Workspace bytes of sytrd (the panel buffers). */
export function sytrdWorkBytes<T>(d: i32): usize {
  const S = <usize>sizeof<T>();
  return align16(<usize>4 * <usize>EIGH_NB * <usize>panelLd(d) * S) + align16(<usize>(4 * EIGH_NB + d) * S);
}

/** Workspace bytes of ormtr for m rows of X. */
export function ormtrWorkBytes<T>(d: i32, m: i32): usize {
  const S = <usize>sizeof<T>();
  const ld = <usize>panelLd(d);
  return align16(<usize>2 * <usize>EIGH_QB * ld * S) + align16(<usize>EIGH_QB * <usize>EIGH_QB * S) + align16(<usize>m * <usize>EIGH_QB * S);
}

/**
 * Householder reflector (dlarfg) for the n elements at x, the last one being α: afterwards
 * H x = β e_{n−1} with v = [x[0 … n−2] (overwritten, scaled by 1/(α − β)), 1]. Returns τ and leaves
 * β at x[n−1]. τ = 0 (H = I) when x[0 … n−2] is zero (or its squares underflow).
 */
function larfg<T>(n: i32, x: usize): T {
  const S = <usize>sizeof<T>();
  const ap = x + <usize>(n - 1) * S;
  const alpha = load<T>(ap);
  const xn2 = dot<T>(n - 1, x, x);
  if (xn2 == <T>0) return <T>0;
  const norm = sqrt<T>(alpha * alpha + xn2);
  const beta = alpha >= <T>0 ? -norm : norm;
  scal<T>(n - 1, <T>1 / (alpha - beta), x);
  store<T>(ap, beta);
  return (beta - alpha) / beta;
}

/**
 * y (n) ← A x with A the leading n × n block (lower triangle read, row-major). Four rows at a
 * time: each vector of those rows is loaded once for both halves of the product (the dot product
 * along the row and the axpy into y with the row as a column).
 */
export function symvLower<T>(n: i32, a: usize, lda: i32, x: usize, y: usize): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const rs = <usize>lda * S;
  if (n <= 0) return;
  memory.fill(y, 0, <usize>n * S);
  let i = 0;
  for (; i <= n - 4; i += 4) {
    const r0 = a + <usize>i * rs;
    const r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
    const xp = x + <usize>i * S;
    const x0 = load<T>(xp), x1 = load<T>(xp, S), x2 = load<T>(xp, 2 * S), x3 = load<T>(xp, 3 * S);
    const v0 = v128.splat<T>(x0), v1 = v128.splat<T>(x1), v2 = v128.splat<T>(x2), v3 = v128.splat<T>(x3);
    let c0 = v128.splat<T>(<T>0), c1 = c0, c2 = c0, c3 = c0;
    let j = 0;
    let o: usize = 0;
    // i is a multiple of 4, so of the lanes: no scalar remainder left of the diagonal block
    for (; j < i; j += L) {
      const xj = v128.load(x + o);
      const a0 = v128.load(r0 + o);
      c0 = v128.add<T>(c0, v128.mul<T>(a0, xj));
      let t = v128.mul<T>(a0, v0);
      const a1 = v128.load(r1 + o);
      c1 = v128.add<T>(c1, v128.mul<T>(a1, xj));
      t = v128.add<T>(t, v128.mul<T>(a1, v1));
      const a2 = v128.load(r2 + o);
      c2 = v128.add<T>(c2, v128.mul<T>(a2, xj));
      let t2 = v128.mul<T>(a2, v2);
      const a3 = v128.load(r3 + o);
      c3 = v128.add<T>(c3, v128.mul<T>(a3, xj));
      t2 = v128.add<T>(t2, v128.mul<T>(a3, v3));
      v128.store(y + o, v128.add<T>(v128.load(y + o), v128.add<T>(t, t2)));
      o += 16;
    }
    // the 4 × 4 diagonal block: lower part by rows, its transpose into y
    const d = <usize>i * S;
    const a10 = load<T>(r1 + d), a20 = load<T>(r2 + d), a21 = load<T>(r2 + d, S);
    const a30 = load<T>(r3 + d), a31 = load<T>(r3 + d, S), a32 = load<T>(r3 + d, 2 * S);
    const s0 = hsum<T>(c0) + load<T>(r0 + d) * x0;
    const s1 = hsum<T>(c1) + a10 * x0 + load<T>(r1 + d, S) * x1;
    const s2 = hsum<T>(c2) + a20 * x0 + a21 * x1 + load<T>(r2 + d, 2 * S) * x2;
    const s3 = hsum<T>(c3) + a30 * x0 + a31 * x1 + a32 * x2 + load<T>(r3 + d, 3 * S) * x3;
    const yp = y + d;
    store<T>(yp, load<T>(yp) + (s0 + (a10 * x1 + a20 * x2 + a30 * x3)));
    store<T>(yp, load<T>(yp, S) + (s1 + (a21 * x2 + a31 * x3)), S);
    store<T>(yp, load<T>(yp, 2 * S) + (s2 + a32 * x3), 2 * S);
    store<T>(yp, load<T>(yp, 3 * S) + s3, 3 * S);
  }
  for (; i < n; i++) {
    const r = a + <usize>i * rs;
    const xi = load<T>(x + <usize>i * S);
    const s = dot<T>(i, r, x);
    axpy<T>(i, xi, r, y);
    const yp = y + <usize>i * S;
    store<T>(yp, load<T>(yp) + s + load<T>(r + <usize>i * S) * xi);
  }
}

/** Lower triangle of the leading n × n block ← A − v wᵀ − w vᵀ (row by row). */
function syr2Lower<T>(n: i32, v: usize, w: usize, a: usize, lda: i32): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const rs = <usize>lda * S;
  for (let i = 0; i < n; i++) {
    const r = a + <usize>i * rs;
    const vi = load<T>(v + <usize>i * S), wi = load<T>(w + <usize>i * S);
    const vv = v128.splat<T>(vi), vw = v128.splat<T>(wi);
    let j = 0;
    let o: usize = 0;
    for (; j <= i + 1 - L; j += L) {
      const t = v128.add<T>(v128.mul<T>(vv, v128.load(w + o)), v128.mul<T>(vw, v128.load(v + o)));
      v128.store(r + o, v128.sub<T>(v128.load(r + o), t));
      o += 16;
    }
    for (; j <= i; j++) {
      store<T>(r + o, load<T>(r + o) - (vi * load<T>(w + o) + wi * load<T>(v + o)));
      o += S;
    }
  }
}

/**
 * Unblocked reduction (dsytd2, uplo 'U' in column-major terms) of the leading n × n block;
 * y: n elements of workspace.
 */
function sytd2<T>(n: i32, a: usize, lda: i32, dd: usize, e: usize, tau: usize, y: usize): void {
  const S = <usize>sizeof<T>();
  const rs = <usize>lda * S;
  for (let k = n - 1; k >= 1; k--) {
    const x = a + <usize>k * rs;
    const t = larfg<T>(k, x);
    const beta = load<T>(x + <usize>(k - 1) * S);
    store<T>(e + <usize>(k - 1) * S, beta);
    store<T>(tau + <usize>k * S, t);
    if (t != <T>0) {
      store<T>(x + <usize>(k - 1) * S, <T>1);
      symvLower<T>(k, a, lda, x, y);
      scal<T>(k, t, y);
      axpy<T>(k, <T>-0.5 * t * dot<T>(k, y, x), x, y);
      syr2Lower<T>(k, x, y, a, lda);
      store<T>(x + <usize>(k - 1) * S, beta);
    }
    store<T>(dd + <usize>k * S, load<T>(x + <usize>k * S));
  }
  if (n > 0) store<T>(dd, load<T>(a));
  store<T>(tau, <T>0);
}

/**
 * Tridiagonalises A (d × d, lower triangle; the strict upper triangle is not referenced):
 * dd (d) ← diagonal, e (d − 1) ← off-diagonal, tau (d) ← the reflectors' τ (tau[0] = 0), the
 * reflectors' vectors in A's strict lower triangle (see the top of the file). work: gemm_nt's
 * WORK_BYTES; ework: sytrdWorkBytes<T>(d).
 */
export function sytrd<T>(d: i32, a: usize, lda: i32, dd: usize, e: usize, tau: usize, work: usize, ework: usize): void {
  const S = <usize>sizeof<T>();
  const rs = <usize>lda * S;
  const nb = EIGH_NB;
  const ldp = panelLd(d);
  const ps = <usize>ldp * S;
  // panel buffer P: rows 2p = v_p, 2p + 1 = w_p (the first 2j rows hold every earlier v and w, so
  // each correction is one gemv over 2j rows); Q: the same rows pairwise swapped (w_p, v_p), so
  // that A − Σ_p (v_p w_pᵀ + w_p v_pᵀ) = A − P̃ᵀ Q̃ is one gemm of depth 2nb
  const pp = ework;
  const qp = pp + <usize>(2 * nb) * ps;
  const small = ework + align16(<usize>(4 * nb) * ps);
  const c1 = small, c2 = c1 + <usize>(2 * nb) * S;
  const y = c2 + <usize>(2 * nb) * S; // d elements: sytd2's w
  let n = d;
  while (n > EIGH_NX && n > nb) {
    for (let j = 0; j < nb; j++) {
      const k = n - 1 - j;
      const row = a + <usize>k * rs;
      const vj = pp + <usize>(2 * j) * ps;
      const wj = vj + ps;
      if (j > 0) {
        // row k (columns 0 … k) ← row k − Σ_p (w_p[k] v_p + v_p[k] w_p)
        for (let p = 0; p < 2 * j; p += 2) {
          store<T>(c1 + <usize>p * S, load<T>(pp + <usize>(p + 1) * ps + <usize>k * S));
          store<T>(c1 + <usize>(p + 1) * S, load<T>(pp + <usize>p * ps + <usize>k * S));
        }
        gemv_t<T>(2 * j, k + 1, <T>-1, pp, ldp, c1, <T>1, row);
      }
      store<T>(dd + <usize>k * S, load<T>(row + <usize>k * S));
      const t = larfg<T>(k, row);
      store<T>(e + <usize>(k - 1) * S, load<T>(row + <usize>(k - 1) * S));
      store<T>(tau + <usize>k * S, t);
      memory.copy(vj, row, <usize>(k - 1) * S);
      store<T>(vj + <usize>(k - 1) * S, <T>1);
      // w = τ (A v − Σ_p (v_p (w_pᵀ v) + w_p (v_pᵀ v))) on [0, k)
      symvLower<T>(k, a, lda, vj, wj);
      if (j > 0) {
        gemv_n<T>(2 * j, k, <T>1, pp, ldp, vj, <T>0, c1);
        for (let p = 0; p < 2 * j; p += 2) {
          store<T>(c2 + <usize>p * S, load<T>(c1 + <usize>(p + 1) * S));
          store<T>(c2 + <usize>(p + 1) * S, load<T>(c1 + <usize>p * S));
        }
        gemv_t<T>(2 * j, k, <T>-1, pp, ldp, c2, <T>1, wj);
      }
      scal<T>(k, t, wj);
      axpy<T>(k, <T>-0.5 * t * dot<T>(k, wj, vj), vj, wj);
    }
    const m = n - nb;
    for (let j = 0; j < nb; j++) {
      memory.copy(qp + <usize>(2 * j) * ps, pp + <usize>(2 * j + 1) * ps, <usize>m * S);
      memory.copy(qp + <usize>(2 * j + 1) * ps, pp + <usize>(2 * j) * ps, <usize>m * S);
    }
    // leading m × m block ← A − Σ_p (v_p w_pᵀ + w_p v_pᵀ) (lower triangle), depth 2nb
    gemm_nt<T>(m, m, 2 * nb, <T>-1, pp, ldp, true, qp, ldp, true, <T>1, a, lda, work, true);
    n = m;
  }
  sytd2<T>(n, a, lda, dd, e, tau, y);
}

/**
 * Back-transformation: each row x of X (m × d, leading dimension ldx) ← Q x, with Q from sytrd
 * (reflectors in A's strict lower triangle, τ in tau). X ← X H_1 ⋯ H_{d−1}, QB reflectors at a time.
 * work: gemm_nt's WORK_BYTES; ework: ormtrWorkBytes<T>(d, m).
 */
export function ormtr<T>(d: i32, m: i32, a: usize, lda: i32, tau: usize, x: usize, ldx: i32, work: usize, ework: usize): void {
  const S = <usize>sizeof<T>();
  const rs = <usize>lda * S;
  const qb = EIGH_QB;
  const ldv = panelLd(d);
  const vs = <usize>ldv * S;
  const vt = ework;
  const wt = vt + <usize>qb * vs;
  const tm = ework + align16(<usize>2 * <usize>qb * vs);
  const ym = tm + align16(<usize>qb * <usize>qb * S);
  if (m <= 0) return;
  for (let k0 = 1; k0 < d; k0 += qb) {
    const nk = imin(qb, d - k0);
    const c = k0 + nk - 1; // columns touched: the support of the last reflector
    // Vt: row j = v_{k0+j} over columns [0, c) (essential part, the unit, zeros)
    for (let j = 0; j < nk; j++) {
      const k = k0 + j;
      const r = vt + <usize>j * vs;
      memory.copy(r, a + <usize>k * rs, <usize>(k - 1) * S);
      store<T>(r + <usize>(k - 1) * S, <T>1);
      memory.fill(r + <usize>k * S, 0, <usize>(c - k) * S);
    }
    // T (nk × nk, upper): T[j, j] = τ_j, T[0 … j, j] = −τ_j T[0 … j, 0 … j] (V[:, 0 … j]ᵀ v_j),
    // from the Gram matrix of the block's vectors (lower triangle, into T's strict lower part)
    gemm_nt<T>(nk, nk, c, <T>1, vt, ldv, false, vt, ldv, false, <T>0, tm, qb, work, true);
    for (let j = 0; j < nk; j++) {
      const tj = load<T>(tau + <usize>(k0 + j) * S);
      for (let p = 0; p < j; p++) {
        store<T>(tm + <usize>(p * qb + j) * S, -tj * load<T>(tm + <usize>(j * qb + p) * S));
      }
      for (let p = 0; p < j; p++) {
        let s = <T>0;
        for (let q = p; q < j; q++) s += load<T>(tm + <usize>(p * qb + q) * S) * load<T>(tm + <usize>(q * qb + j) * S);
        store<T>(tm + <usize>(p * qb + j) * S, s);
      }
      store<T>(tm + <usize>(j * qb + j) * S, tj);
    }
    // the Gram matrix's part below the diagonal was needed up to column nk − 1: now T's zeros
    for (let j = 1; j < nk; j++) memory.fill(tm + <usize>(j * qb) * S, 0, <usize>j * S);
    // Y = X[:, 0 … c) Vᵀᵀ (m × nk), Wt = T Vt (nk × c), X[:, 0 … c) −= Y Wt
    gemm_nt<T>(m, nk, c, <T>1, x, ldx, false, vt, ldv, false, <T>0, ym, qb, work, false);
    gemm_nt<T>(nk, c, nk, <T>1, tm, qb, false, vt, ldv, true, <T>0, wt, ldv, work, false);
    gemm_nt<T>(m, c, nk, <T>-1, ym, qb, false, wt, ldv, true, <T>1, x, ldx, work, false);
  }
}
