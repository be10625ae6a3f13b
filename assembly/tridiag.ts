// Symmetric tridiagonal eigensolvers (f64): d the diagonal (n), e the off-diagonal (n − 1).
//
//   sterf  eigenvalues only: implicit QL/QR with Wilkinson shifts (LAPACK dsteqr's iteration)
//   stedc  eigenvalues and eigenvectors: divide and conquer (below) over QL/QR leaves; eigenvector
//          k is row k of z (z[k·ldz + i] = component i), so that a plane rotation of two vectors
//          runs along two contiguous rows (f64x2)
//
// No static data (the threaded build): constants are immediates, results of small helpers that
// produce two numbers travel in one v128.
import { WORK_BYTES } from './config';
import { gemm_nt } from './gemm';

/** Relative machine precision 2⁻⁵³ (LAPACK dlamch('E')), its square, the smallest normal. */
const EPS: f64 = 1.1102230246251565e-16;
const EPS2: f64 = EPS * EPS;
const SAFMIN: f64 = 2.2250738585072014e-308;
/** Blocks with max |entry| above SSFMAX or below SSFMIN are scaled (by a power of two) first:
 *  sqrt(1/SAFMIN)/3 and sqrt(SAFMIN)/EPS², as LAPACK. */
const SSFMAX: f64 = 4.4942328371557893e+153;
const SSFMIN: f64 = 1.2174674961925e-130;
/** QL/QR sweeps allowed per eigenvalue. */
const MAXIT: i32 = 30;

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }

/** 2^k for −1022 ≤ k ≤ 1023. */
// @ts-ignore: decorator
@inline function pow2(k: i32): f64 { return reinterpret<f64>(<i64>(k + 1023) << 52); }

/** The exponent k of x (normal, > 0): 2^k ≤ x < 2^(k+1). */
// @ts-ignore: decorator
@inline function exponent(x: f64): i32 { return <i32>((reinterpret<i64>(x) >>> 52) & 0x7ff) - 1023; }

/** sqrt(x² + y²) without destructive overflow or underflow (LAPACK dlapy2). */
function hypot(x: f64, y: f64): f64 {
  const ax = abs(x), ay = abs(y);
  const w = max(ax, ay), z = min(ax, ay);
  if (z == 0 || w > 1.7976931348623157e308) return w;
  const q = z / w;
  return w * sqrt(1 + q * q);
}

/**
 * r of the plane rotation with c·f + s·g = r, −s·f + c·g = 0, r of the sign of f (LAPACK 3.10
 * dlartg); the caller takes c = f/r, s = g/r (c = 1, s = 0 when r = 0).
 */
// @ts-ignore: decorator
@inline function lartgR(f: f64, g: f64): f64 {
  if (g == 0) return f;
  if (f == 0) return abs(g);
  const f1 = abs(f), g1 = abs(g);
  // sqrt(SAFMIN) and sqrt(SAFMAX/2)
  if (f1 > 1.4916681462400413e-154 && f1 < 9.480751908109176e153 && g1 > 1.4916681462400413e-154 && g1 < 9.480751908109176e153) {
    return copysign<f64>(sqrt(f * f + g * g), f);
  }
  const u = min(4.49423283715579e307, max(SAFMIN, max(f1, g1)));
  const fs = f / u, gs = g / u;
  return copysign<f64>(sqrt(fs * fs + gs * gs), f) * u;
}

/**
 * Eigenvalues of [[a, b], [b, c]] (LAPACK dlae2/dlaev2): rt1 (larger magnitude) to p1, rt2 to p2;
 * returns (cs, sn), the unit eigenvector of rt1, as f64x2 lanes.
 */
function laev2(a: f64, b: f64, c: f64, p1: usize, p2: usize): v128 {
  const sm = a + c, df = a - c, adf = abs(df), tb = b + b, ab = abs(tb);
  let acmx = a, acmn = c;
  if (abs(a) <= abs(c)) { acmx = c; acmn = a; }
  let rt: f64;
  if (adf > ab) { const q = ab / adf; rt = adf * sqrt(1 + q * q); }
  else if (adf < ab) { const q = adf / ab; rt = ab * sqrt(1 + q * q); }
  else rt = ab * 1.4142135623730951;
  let rt1: f64, rt2: f64, sgn1: i32;
  if (sm < 0) { rt1 = 0.5 * (sm - rt); sgn1 = -1; rt2 = (acmx / rt1) * acmn - (b / rt1) * b; }
  else if (sm > 0) { rt1 = 0.5 * (sm + rt); sgn1 = 1; rt2 = (acmx / rt1) * acmn - (b / rt1) * b; }
  else { rt1 = 0.5 * rt; rt2 = -0.5 * rt; sgn1 = 1; }
  store<f64>(p1, rt1);
  store<f64>(p2, rt2);
  let cs: f64, sgn2: i32;
  if (df >= 0) { cs = df + rt; sgn2 = 1; } else { cs = df - rt; sgn2 = -1; }
  let cs1: f64, sn1: f64;
  if (abs(cs) > ab) {
    const ct = -tb / cs;
    sn1 = 1 / sqrt(1 + ct * ct);
    cs1 = ct * sn1;
  } else if (ab == 0) {
    cs1 = 1; sn1 = 0;
  } else {
    const tn = -cs / tb;
    cs1 = 1 / sqrt(1 + tn * tn);
    sn1 = tn * cs1;
  }
  if (sgn1 == sgn2) { const t = cs1; cs1 = -sn1; sn1 = t; }
  return f64x2.replace_lane(f64x2.splat(cs1), 1, sn1);
}

/** Rows x, y (n f64) ← c·x + s·y, c·y − s·x (LAPACK dlasr's rotation of columns j, j + 1). */
function rotRows(n: i32, x: usize, y: usize, c: f64, s: f64): void {
  const vc = f64x2.splat(c), vs = f64x2.splat(s);
  let i = 0;
  for (; i <= n - 4; i += 4) {
    const o = <usize>i << 3;
    const x0 = v128.load(x + o), y0 = v128.load(y + o);
    const x1 = v128.load(x + o, 16), y1 = v128.load(y + o, 16);
    v128.store(x + o, f64x2.add(f64x2.mul(vc, x0), f64x2.mul(vs, y0)));
    v128.store(y + o, f64x2.sub(f64x2.mul(vc, y0), f64x2.mul(vs, x0)));
    v128.store(x + o, f64x2.add(f64x2.mul(vc, x1), f64x2.mul(vs, y1)), 16);
    v128.store(y + o, f64x2.sub(f64x2.mul(vc, y1), f64x2.mul(vs, x1)), 16);
  }
  for (; i < n; i++) {
    const xi = ld(x, i), yi = ld(y, i);
    st(x, i, c * xi + s * yi);
    st(y, i, c * yi - s * xi);
  }
}

/** x[0..n) ← s·x. */
function scaleVec(n: i32, x: usize, s: f64): void {
  for (let i = 0; i < n; i++) st(x, i, s * ld(x, i));
}

/**
 * Implicit QL/QR (LAPACK dsteqr) on d (n), e (n − 1). wantz: z (n × n, row stride zs bytes) holds
 * the identity on entry and the eigenvectors as rows on exit (the rotations of each unreduced
 * block touch only that block's columns). Not sorted. Returns 0, or the number of off-diagonals
 * left nonzero after 30·n sweeps.
 */
function steqr(n: i32, d: usize, e: usize, z: usize, zs: usize, wantz: bool): i32 {
  if (n <= 1) return 0;
  const nmaxit = n * MAXIT;
  let jtot = 0;
  let l1 = 0;
  while (l1 < n) {
    if (l1 > 0) st(e, l1 - 1, 0);
    // split off the next unreduced block [l1, m]
    let m = l1;
    for (; m < n - 1; m++) {
      const t = abs(ld(e, m));
      if (t == 0) break;
      if (t <= sqrt(abs(ld(d, m))) * sqrt(abs(ld(d, m + 1))) * EPS) { st(e, m, 0); break; }
    }
    let l = l1;
    const lsv = l, lendsv = m;
    let lend = m;
    l1 = m + 1;
    if (lend == l) continue;
    // scale the block by a power of two if its largest entry is near overflow or underflow
    let anorm: f64 = 0;
    for (let i = lsv; i <= lendsv; i++) anorm = max(anorm, abs(ld(d, i)));
    for (let i = lsv; i < lendsv; i++) anorm = max(anorm, abs(ld(e, i)));
    if (anorm == 0) continue;
    let scale: f64 = 1;
    if (anorm > SSFMAX) scale = pow2(exponent(SSFMAX) - exponent(anorm));
    else if (anorm < SSFMIN) {
      // anorm ≥ the smallest normal here unless the block is all subnormal
      scale = anorm < SAFMIN ? pow2(exponent(SSFMIN) + 1022) : pow2(exponent(SSFMIN) - exponent(anorm));
    }
    if (scale != 1) {
      scaleVec(lendsv - lsv + 1, d + (<usize>lsv << 3), scale);
      scaleVec(lendsv - lsv, e + (<usize>lsv << 3), scale);
    }
    // columns the rotations of this block touch
    const zc = z + (<usize>lsv << 3);
    const zn = lendsv - lsv + 1;
    // QL when the bottom end is the larger, else QR
    if (abs(ld(d, lend)) < abs(ld(d, l))) { lend = lsv; l = lendsv; }
    if (lend > l) {
      // QL: chase from the bottom, deflate at the top
      while (true) {
        m = l;
        for (; m < lend; m++) {
          const t = ld(e, m);
          if (t * t <= (EPS2 * abs(ld(d, m))) * abs(ld(d, m + 1)) + SAFMIN) break;
        }
        if (m < lend) st(e, m, 0);
        if (m == l) {
          l++;
          if (l <= lend) continue;
          break;
        }
        if (m == l + 1) {
          const dl = d + (<usize>l << 3);
          const cs = laev2(ld(d, l), ld(e, l), ld(d, l + 1), dl, dl + 8);
          if (wantz) rotRows(zn, zc + <usize>l * zs, zc + <usize>(l + 1) * zs, f64x2.extract_lane(cs, 0), f64x2.extract_lane(cs, 1));
          st(e, l, 0);
          l += 2;
          if (l <= lend) continue;
          break;
        }
        if (jtot == nmaxit) break;
        jtot++;
        // Wilkinson shift from the top 2 × 2
        let p = ld(d, l);
        let g = (ld(d, l + 1) - p) / (2 * ld(e, l));
        let r = hypot(g, 1);
        g = ld(d, m) - p + ld(e, l) / (g + copysign<f64>(r, g));
        let s: f64 = 1, c: f64 = 1;
        p = 0;
        for (let i = m - 1; i >= l; i--) {
          const ei = ld(e, i);
          const f = s * ei, b = c * ei;
          r = lartgR(g, f);
          if (r != 0) { c = g / r; s = f / r; } else { c = 1; s = 0; }
          if (i != m - 1) st(e, i + 1, r);
          g = ld(d, i + 1) - p;
          r = (ld(d, i) - g) * s + 2 * c * b;
          p = s * r;
          st(d, i + 1, g + p);
          g = c * r - b;
          if (wantz) rotRows(zn, zc + <usize>i * zs, zc + <usize>(i + 1) * zs, c, -s);
        }
        st(d, l, ld(d, l) - p);
        st(e, l, g);
      }
    } else {
      // QR: chase from the top, deflate at the bottom
      while (true) {
        m = l;
        for (; m > lend; m--) {
          const t = ld(e, m - 1);
          if (t * t <= (EPS2 * abs(ld(d, m))) * abs(ld(d, m - 1)) + SAFMIN) break;
        }
        if (m > lend) st(e, m - 1, 0);
        if (m == l) {
          l--;
          if (l >= lend) continue;
          break;
        }
        if (m == l - 1) {
          const dm = d + (<usize>m << 3);
          const cs = laev2(ld(d, m), ld(e, m), ld(d, l), dm, dm + 8);
          if (wantz) rotRows(zn, zc + <usize>m * zs, zc + <usize>l * zs, f64x2.extract_lane(cs, 0), f64x2.extract_lane(cs, 1));
          st(e, m, 0);
          l -= 2;
          if (l >= lend) continue;
          break;
        }
        if (jtot == nmaxit) break;
        jtot++;
        let p = ld(d, l);
        let g = (ld(d, l - 1) - p) / (2 * ld(e, l - 1));
        let r = hypot(g, 1);
        g = ld(d, m) - p + ld(e, l - 1) / (g + copysign<f64>(r, g));
        let s: f64 = 1, c: f64 = 1;
        p = 0;
        for (let i = m; i < l; i++) {
          const ei = ld(e, i);
          const f = s * ei, b = c * ei;
          r = lartgR(g, f);
          if (r != 0) { c = g / r; s = f / r; } else { c = 1; s = 0; }
          if (i != m) st(e, i - 1, r);
          g = ld(d, i) - p;
          r = (ld(d, i + 1) - g) * s + 2 * c * b;
          p = s * r;
          st(d, i, g + p);
          g = c * r - b;
          if (wantz) rotRows(zn, zc + <usize>i * zs, zc + <usize>(i + 1) * zs, c, s);
        }
        st(d, l, ld(d, l) - p);
        st(e, l - 1, g);
      }
    }
    if (scale != 1) {
      const inv = 1 / scale; // a power of two: exact
      scaleVec(lendsv - lsv + 1, d + (<usize>lsv << 3), inv);
      scaleVec(lendsv - lsv, e + (<usize>lsv << 3), inv);
    }
    if (jtot >= nmaxit) {
      let bad = 0;
      for (let i = 0; i < n - 1; i++) if (ld(e, i) != 0) bad++;
      return bad > 0 ? bad : 1;
    }
  }
  return 0;
}

/** Sorts d (n) ascending (heapsort). */
function sortValues(n: i32, d: usize): void {
  // build a max-heap, then move the maximum to the end
  for (let start = (n >> 1) - 1; start >= 0; start--) siftDown(d, start, n);
  for (let end = n - 1; end > 0; end--) {
    const t = ld(d, 0);
    st(d, 0, ld(d, end));
    st(d, end, t);
    siftDown(d, 0, end);
  }
}

function siftDown(d: usize, root: i32, n: i32): void {
  const v = ld(d, root);
  let i = root;
  while (true) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && ld(d, c + 1) > ld(d, c)) c++;
    if (!(ld(d, c) > v)) break;
    st(d, i, ld(d, c));
    i = c;
  }
  st(d, i, v);
}

/** Sorts d (n) ascending and the rows of z (n columns each) with it (selection sort: ≤ n − 1 row swaps). */
function sortVectors(n: i32, d: usize, z: usize, zs: usize): void {
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = ld(d, i);
    for (let j = i + 1; j < n; j++) {
      const dj = ld(d, j);
      if (dj < p) { k = j; p = dj; }
    }
    if (k != i) {
      st(d, k, ld(d, i));
      st(d, i, p);
      swapRows(n, z + <usize>i * zs, z + <usize>k * zs);
    }
  }
}

function swapRows(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i <= n - 2; i += 2) {
    const o = <usize>i << 3;
    const t = v128.load(x + o);
    v128.store(x + o, v128.load(y + o));
    v128.store(y + o, t);
  }
  if (i < n) {
    const t = ld(x, i);
    st(x, i, ld(y, i));
    st(y, i, t);
  }
}

/** z (n × n, row stride zs bytes) ← I; columns ≥ n untouched. */
function identity(n: i32, z: usize, zs: usize): void {
  for (let i = 0; i < n; i++) {
    const r = z + <usize>i * zs;
    memory.fill(r, 0, <usize>n << 3);
    st(r, i, 1);
  }
}

/** Whether every entry of d (n) and e (n − 1) is finite. */
function finite(n: i32, d: usize, e: usize): bool {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += ld(d, i) * 0;
  for (let i = 0; i < n - 1; i++) s += ld(e, i) * 0;
  return s == 0;
}

/**
 * Eigenvalues of the symmetric tridiagonal (d, e): d (n) ← ascending eigenvalues, e (n − 1)
 * destroyed. Returns 0, or > 0 when some eigenvalue did not converge in 30·n sweeps (n + 1, d and e
 * untouched, when an entry is not finite).
 */
export function sterf(n: i32, d: usize, e: usize): i32 {
  if (n <= 0) return 0;
  if (!finite(n, d, e)) return n + 1;
  const info = steqr(n, d, e, 0, 0, false);
  if (info == 0) sortValues(n, d);
  return info;
}


// ---------------------------------------------------------------------------------------------
// Divide and conquer (Cuppen; LAPACK dstedc/dlaed0–dlaed4, with Gu–Eisenstat's recomputed z)
//
// T = diag(T1, T2) + ρ·v·vᵀ after tearing off β = e[n1 − 1] (T1's last and T2's first diagonal
// entries lose |β|). With T1 = Q1 Λ1 Q1ᵀ, T2 = Q2 Λ2 Q2ᵀ, T = Q (D + ρ z zᵀ) Qᵀ, Q = diag(Q1, Q2),
// z = (last components of Q1's vectors, ±first components of Q2's) / √2, ρ = 2|β|. Deflation drops
// components with ρ|z_i| ≤ tol and rotates pairs with close d (their vectors then mix both halves);
// the k roots left solve 1/ρ + Σ z_i²/(d_i − λ) = 0 one by one; z is recomputed from the roots
// (Löwner) so that the vectors z_i/(d_i − λ_j) are orthogonal to working precision; the new
// vectors are U·Q in two GEMMs, one per half of the columns, over the old vectors that have
// components there (vectors of T1 only, mixed ones, vectors of T2 only, in that order).

/** Largest block solved by QL/QR directly (leaves of the recursion). */
const LEAF: i32 = 32;
/** Rational-interpolation steps per root before falling back to bisection. */
const SECULAR_MAXIT: i32 = 30;

// @ts-ignore: decorator
@inline function ldi(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function sti(p: usize, i: i32, v: i32): void { store<i32>(p + (<usize>i << 2), v); }

/** Bytes of one f64 / i32 scratch vector of order n (16-byte multiples). */
// @ts-ignore: decorator
@inline function vecBytes(n: i32): usize { return (<usize>(n + 1) & ~(<usize>1)) << 3; }
// @ts-ignore: decorator
@inline function ivecBytes(n: i32): usize { return (<usize>(n + 3) & ~(<usize>3)) << 2; }

// Workspace layout for order n: [gemm WORK_BYTES][q2: n² f64][u: n² f64][5 f64 vectors][5 i32 vectors]
// @ts-ignore: decorator
@inline function wsQ2(work: usize): usize { return work + <usize>WORK_BYTES; }
// @ts-ignore: decorator
@inline function wsU(work: usize, n: i32): usize { return wsQ2(work) + ((<usize>n * <usize>n) << 3); }
/** f64 scratch vector i (0: z, 1: sorted d of the undeflated, 2: their z, 3: a temporary, 4: deflated d). */
// @ts-ignore: decorator
@inline function wsF(work: usize, n: i32, i: i32): usize { return wsU(work, n) + ((<usize>n * <usize>n) << 3) + <usize>i * vecBytes(n); }
/** i32 scratch vector i (0: the sorting permutations of the subproblems, 1: merge order, 2: undeflated then deflated positions, 3: column types, 4: grouped positions). */
// @ts-ignore: decorator
@inline function wsI(work: usize, n: i32, i: i32): usize { return wsF(work, n, 5) + <usize>i * ivecBytes(n); }

/** Workspace bytes stedc needs for order n (a multiple of 16), or −1 past 2 GiB. */
export function stedcWorkBytes(n: i32): i32 {
  if (n < 0) n = 0;
  const b = <u64>WORK_BYTES + ((<u64>n * <u64>n) << 4) + 5 * <u64>vecBytes(n) + 5 * <u64>ivecBytes(n);
  return b > 0x7fffffff ? -1 : <i32>b;
}

/**
 * Eigenvalues and eigenvectors of the symmetric tridiagonal (d, e): d (n) ← ascending
 * eigenvalues, z (n × n, ldz ≥ n, not read) ← the eigenvectors as rows (z[k·ldz + i] is
 * component i of eigenvector k), e destroyed. work: stedcWorkBytes(n) bytes, 16-byte aligned.
 * Returns 0, or > 0 when a leaf's QL/QR did not converge (n + 1, z = I, when an entry is not finite).
 */
export function stedc(n: i32, d: usize, e: usize, z: usize, ldz: i32, work: usize): i32 {
  if (n <= 0) return 0;
  const zs = <usize>ldz << 3;
  if (n <= LEAF) {
    identity(n, z, zs);
    if (!finite(n, d, e)) return n + 1;
    const info = steqr(n, d, e, z, zs, true);
    if (info == 0) sortVectors(n, d, z, zs);
    return info;
  }
  // scale by a power of two to max |entry| in [1, 2)
  let anorm: f64 = 0;
  for (let i = 0; i < n; i++) anorm = max(anorm, abs(ld(d, i)));
  for (let i = 0; i < n - 1; i++) anorm = max(anorm, abs(ld(e, i)));
  if (!(anorm <= 1.7976931348623157e308)) { identity(n, z, zs); return n + 1; }
  if (anorm == 0) { identity(n, z, zs); return 0; }
  let pre: f64 = 1;
  if (anorm < SAFMIN) { pre = pow2(600); anorm *= pre; }
  const scale = pre * pow2(-exponent(anorm)); // pre ≤ 2^600 and the second factor ≤ 2^474 here
  scaleVec(n, d, scale);
  scaleVec(n - 1, e, scale);
  // z ← 0 (the leaves write their diagonal blocks, merges their whole blocks)
  for (let i = 0; i < n; i++) memory.fill(z + <usize>i * zs, 0, <usize>n << 3);
  const info = divide(n, d, e, z, zs, work, 0, n);
  // the vectors in ascending order of their values (wsI 0 holds the order)
  const iq = wsI(work, n, 0);
  const q2 = wsQ2(work);
  const tv = wsF(work, n, 3);
  const rowBytes = <usize>n << 3;
  for (let t = 0; t < n; t++) {
    const src = ldi(iq, t);
    st(tv, t, ld(d, src));
    memory.copy(q2 + <usize>t * rowBytes, z + <usize>src * zs, rowBytes);
  }
  for (let t = 0; t < n; t++) {
    st(d, t, ld(tv, t));
    memory.copy(z + <usize>t * zs, q2 + <usize>t * rowBytes, rowBytes);
  }
  // ties broken by rounding: an insertion pass (a no-op when sorted)
  for (let t = 1; t < n; t++) {
    for (let u = t; u > 0 && ld(d, u) < ld(d, u - 1); u--) {
      const x = ld(d, u);
      st(d, u, ld(d, u - 1));
      st(d, u - 1, x);
      swapRows(n, z + <usize>u * zs, z + <usize>(u - 1) * zs);
    }
  }
  const inv = 1 / scale; // a power of two (≤ 2^1074 in two steps when pre ≠ 1)
  if (pre != 1) { scaleVec(n, d, inv * pre); scaleVec(n, d, 1 / pre); } else scaleVec(n, d, inv);
  return info;
}

/** Solves the block [lo, lo + m) of (d, e) into the same rows and columns of z; wsI 0 gets its sorting permutation. */
function divide(n: i32, d: usize, e: usize, z: usize, zs: usize, work: usize, lo: i32, m: i32): i32 {
  const iq = wsI(work, n, 0) + (<usize>lo << 2);
  if (m <= LEAF) {
    const zb = z + <usize>lo * zs + (<usize>lo << 3);
    const db = d + (<usize>lo << 3);
    for (let i = 0; i < m; i++) st(zb + <usize>i * zs, i, 1);
    const info = steqr(m, db, e + (<usize>lo << 3), zb, zs, true);
    if (info != 0) return info;
    sortVectors(m, db, zb, zs);
    for (let i = 0; i < m; i++) sti(iq, i, i);
    return 0;
  }
  const n1 = m >> 1;
  const beta = ld(e, lo + n1 - 1);
  const ab = abs(beta);
  st(d, lo + n1 - 1, ld(d, lo + n1 - 1) - ab);
  st(d, lo + n1, ld(d, lo + n1) - ab);
  let info = divide(n, d, e, z, zs, work, lo, n1);
  if (info != 0) return info;
  info = divide(n, d, e, z, zs, work, lo + n1, m - n1);
  if (info != 0) return info;
  merge(n, d, z, zs, work, lo, m, n1, beta);
  return 0;
}

/**
 * Merges the solved halves [lo, lo + n1) and [lo + n1, lo + m) torn apart at β: on exit d and
 * the rows of z (block lo) hold the eigenpairs of the block, the first k (undeflated) ascending,
 * then the deflated ones ascending, and wsI 0 (at lo) the permutation that sorts them.
 */
function merge(n: i32, d: usize, z: usize, zs: usize, work: usize, lo: i32, m: i32, n1: i32, beta: f64): void {
  const n2 = m - n1;
  const db = d + (<usize>lo << 3);
  const zb = z + <usize>lo * zs + (<usize>lo << 3);
  const iq = wsI(work, n, 0) + (<usize>lo << 2);
  const order = wsI(work, n, 1);
  const indxp = wsI(work, n, 2);
  const typ = wsI(work, n, 3);
  const pos = wsI(work, n, 4);
  const zv = wsF(work, n, 0);
  const dl = wsF(work, n, 1);
  const wv = wsF(work, n, 2);
  const tv = wsF(work, n, 3);
  const xv = wsF(work, n, 4);
  const q2 = wsQ2(work);
  const u = wsU(work, n);

  // the merged ascending order of the two halves (each sorted by its permutation)
  {
    let a = 0, b = 0, t = 0;
    while (a < n1 && b < n2) {
      const ia = ldi(iq, a), ib = n1 + ldi(iq, n1 + b);
      if (ld(db, ib) < ld(db, ia)) { sti(order, t++, ib); b++; } else { sti(order, t++, ia); a++; }
    }
    while (a < n1) sti(order, t++, ldi(iq, a++));
    while (b < n2) { sti(order, t++, n1 + ldi(iq, n1 + b)); b++; }
  }
  // z: T1's vectors' last components, T2's first ones (sign of β), over √2; ρ = 2|β|
  const r2 = 0.7071067811865476;
  const sgn = beta < 0 ? -r2 : r2;
  for (let i = 0; i < n1; i++) st(zv, i, r2 * ld(zb + <usize>i * zs, n1 - 1));
  for (let i = n1; i < m; i++) st(zv, i, sgn * ld(zb + <usize>i * zs, n1));
  const rho = 2 * abs(beta);
  let zmax: f64 = 0, dmax: f64 = 0;
  for (let i = 0; i < m; i++) { zmax = max(zmax, abs(ld(zv, i))); dmax = max(dmax, abs(ld(db, i))); }
  const tol = 8 * EPS * max(dmax, zmax);
  if (rho * zmax <= tol) {
    // nothing couples the halves: every pair deflates
    for (let t = 0; t < m; t++) sti(iq, t, ldi(order, t));
    return;
  }

  // deflation, in ascending order of d
  for (let i = 0; i < m; i++) sti(typ, i, i < n1 ? 1 : 3);
  let k = 0, k2 = m; // undeflated at indxp[0, k), deflated at indxp[k2, m) (in deflation order)
  let pj = -1;
  for (let t = 0; t < m; t++) {
    const nj = ldi(order, t);
    if (rho * abs(ld(zv, nj)) <= tol) {
      sti(typ, nj, 4);
      sti(indxp, --k2, nj);
      continue;
    }
    if (pj < 0) { pj = nj; continue; }
    // close values: a rotation of the two vectors zeroes z_pj
    let s = ld(zv, pj), c = ld(zv, nj);
    const tau = hypot(c, s);
    const dd = ld(db, nj) - ld(db, pj);
    c /= tau;
    s = -s / tau;
    if (abs(dd * c * s) <= tol) {
      st(zv, nj, tau);
      st(zv, pj, 0);
      if (ldi(typ, nj) != ldi(typ, pj)) sti(typ, nj, 2);
      sti(typ, pj, 4);
      rotRows(m, zb + <usize>pj * zs, zb + <usize>nj * zs, c, s);
      const dp = ld(db, pj), dn = ld(db, nj);
      st(db, pj, dp * c * c + dn * s * s);
      st(db, nj, dp * s * s + dn * c * c);
      sti(indxp, --k2, pj);
      pj = nj;
    } else {
      st(dl, k, ld(db, pj));
      st(wv, k, ld(zv, pj));
      sti(indxp, k++, pj);
      pj = nj;
    }
  }
  if (pj >= 0) {
    st(dl, k, ld(db, pj));
    st(wv, k, ld(zv, pj));
    sti(indxp, k++, pj);
  }
  // deflated: into ascending order of their (possibly rotated) values, kept in xv
  const nd = m - k;
  {
    // reverse (deflation order was ascending up to the rotations), then insertion sort
    for (let a = k, b = m - 1; a < b; a++, b--) { const x = ldi(indxp, a); sti(indxp, a, ldi(indxp, b)); sti(indxp, b, x); }
    for (let t = k; t < m; t++) {
      const p = ldi(indxp, t);
      const v = ld(db, p);
      let q = t;
      for (; q > k && ld(db, ldi(indxp, q - 1)) > v; q--) sti(indxp, q, ldi(indxp, q - 1));
      sti(indxp, q, p);
    }
    for (let t = 0; t < nd; t++) st(xv, t, ld(db, ldi(indxp, k + t)));
  }

  // the undeflated vectors into q2 (row stride m), grouped: T1 only, mixed, T2 only
  let c1 = 0, c2 = 0;
  for (let t = 0; t < k; t++) {
    const ty = ldi(typ, ldi(indxp, t));
    if (ty == 1) c1++; else if (ty == 2) c2++;
  }
  const qs = <usize>m << 3;
  {
    let p1 = 0, p2 = c1, p3 = c1 + c2;
    for (let t = 0; t < k; t++) {
      const src = ldi(indxp, t);
      const ty = ldi(typ, src);
      const row = zb + <usize>src * zs;
      let p: i32;
      if (ty == 1) { p = p1++; memory.copy(q2 + <usize>p * qs, row, <usize>n1 << 3); }
      else if (ty == 2) { p = p2++; memory.copy(q2 + <usize>p * qs, row, qs); }
      else { p = p3++; const o = <usize>n1 << 3; memory.copy(q2 + <usize>p * qs + o, row + o, <usize>n2 << 3); }
      sti(pos, t, p);
    }
    // the deflated vectors after them, whole
    for (let t = k; t < m; t++) memory.copy(q2 + <usize>t * qs, zb + <usize>ldi(indxp, t) * zs, qs);
  }

  // the secular equation: λ_j into d, row j of u (stride k) ← the vector of D + ρ w wᵀ for λ_j,
  // its components in the grouped order
  const us = <usize>k << 3;
  if (k == 1) {
    st(db, 0, ld(dl, 0) + rho * ld(wv, 0) * ld(wv, 0));
    st(u, 0, 1);
  } else if (k == 2) {
    for (let j = 0; j < 2; j++) {
      const v = secular2(j, ld(dl, 0), ld(dl, 1), ld(wv, 0), ld(wv, 1), rho, db + (<usize>j << 3));
      const row = u + <usize>j * us;
      st(row, ldi(pos, 0), f64x2.extract_lane(v, 0));
      st(row, ldi(pos, 1), f64x2.extract_lane(v, 1));
    }
  } else {
    for (let j = 0; j < k; j++) st(db, j, secular(k, j, dl, wv, rho, u + <usize>j * us));
    // Löwner: the z for which the computed λ are exact, w_i² = −Π_j (dl_i − λ_j) / Π_{j≠i} (dl_i − dl_j)
    for (let i = 0; i < k; i++) st(tv, i, ld(u + <usize>i * us, i));
    for (let j = 0; j < k; j++) {
      const row = u + <usize>j * us;
      const dj = ld(dl, j);
      lowner(0, j, tv, row, dl, dj);
      lowner(j + 1, k, tv, row, dl, dj);
    }
    for (let i = 0; i < k; i++) st(tv, i, copysign<f64>(sqrt(abs(ld(tv, i))), ld(wv, i)));
    // vectors: w_i / (dl_i − λ_j), normalised (xv past nd is free: the row in sorted order)
    const sv = xv + (<usize>nd << 3);
    for (let j = 0; j < k; j++) {
      const row = u + <usize>j * us;
      const inv = 1 / sqrt(quotients(k, tv, row, sv));
      for (let i = 0; i < k; i++) st(row, ldi(pos, i), ld(sv, i) * inv);
    }
  }

  // the new vectors: rows [0, k) of the block ← u · (grouped old vectors), per half of the columns
  gemm_nt<f64>(k, n1, c1 + c2, 1.0, u, k, false, q2, m, true, 0.0, zb, <i32>(zs >> 3), work, false);
  gemm_nt<f64>(k, n2, k - c1, 1.0, u + (<usize>c1 << 3), k, false, q2 + <usize>c1 * qs + (<usize>n1 << 3), m, true, 0.0, zb + (<usize>n1 << 3), <i32>(zs >> 3), work, false);
  // the deflated pairs after them
  for (let t = k; t < m; t++) {
    st(db, t, ld(xv, t - k));
    memory.copy(zb + <usize>t * zs, q2 + <usize>t * qs, qs);
  }
  // the sorting permutation: merge [0, k) and [k, m), both ascending
  {
    let a = 0, b = k, t = 0;
    while (a < k && b < m) {
      if (ld(db, b) < ld(db, a)) sti(iq, t++, b++); else sti(iq, t++, a++);
    }
    while (a < k) sti(iq, t++, a++);
    while (b < m) sti(iq, t++, b++);
  }
}

/** Σ z_i² / ((dl_i − a) − b) over i in [i0, i1). */
function poleSum(i0: i32, i1: i32, z: usize, dl: usize, a: f64, b: f64): f64 {
  const va = f64x2.splat(a), vb = f64x2.splat(b);
  let acc = f64x2.splat(0);
  let i = i0;
  for (; i + 2 <= i1; i += 2) {
    const o = <usize>i << 3;
    const zz = v128.load(z + o);
    acc = f64x2.add(acc, f64x2.div(f64x2.mul(zz, zz), f64x2.sub(f64x2.sub(v128.load(dl + o), va), vb)));
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (i < i1) s += ld(z, i) * ld(z, i) / ((ld(dl, i) - a) - b);
  return s;
}

/** delta_i ← (dl_i − a) − t for i < k. */
function shifted(k: i32, dl: usize, a: f64, t: f64, delta: usize): void {
  const va = f64x2.splat(a), vt = f64x2.splat(t);
  let i = 0;
  for (; i + 2 <= k; i += 2) {
    const o = <usize>i << 3;
    v128.store(delta + o, f64x2.sub(f64x2.sub(v128.load(dl + o), va), vt));
  }
  if (i < k) st(delta, i, (ld(dl, i) - a) - t);
}

/** t_i ← t_i · row_i / (dl_i − dj) for i in [i0, i1). */
function lowner(i0: i32, i1: i32, t: usize, row: usize, dl: usize, dj: f64): void {
  const vj = f64x2.splat(dj);
  let i = i0;
  for (; i + 2 <= i1; i += 2) {
    const o = <usize>i << 3;
    v128.store(t + o, f64x2.mul(v128.load(t + o), f64x2.div(v128.load(row + o), f64x2.sub(v128.load(dl + o), vj))));
  }
  if (i < i1) st(t, i, ld(t, i) * (ld(row, i) / (ld(dl, i) - dj)));
}

/** s_i ← w_i / row_i for i < k; returns Σ s_i². */
function quotients(k: i32, w: usize, row: usize, s: usize): f64 {
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= k; i += 2) {
    const o = <usize>i << 3;
    const x = f64x2.div(v128.load(w + o), v128.load(row + o));
    v128.store(s + o, x);
    acc = f64x2.add(acc, f64x2.mul(x, x));
  }
  let ss = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < k; i++) {
    const x = ld(w, i) / ld(row, i);
    st(s, i, x);
    ss += x * x;
  }
  return ss;
}

/**
 * k = 2 (LAPACK dlaed5): root j of 1 + ρ(z0²/(d0 − λ) + z1²/(d1 − λ)) = 0 into lam; returns its
 * unit eigenvector (f64x2 lanes).
 */
function secular2(j: i32, d0: f64, d1: f64, z0: f64, z1: f64, rho: f64, lam: usize): v128 {
  const del = d1 - d0;
  const q0 = z0 * z0, q1 = z1 * z1;
  let v0: f64, v1: f64;
  if (j == 0 && 1 + 2 * rho * (q1 - q0) / del > 0) {
    // nearer d0
    const b = del + rho * (q0 + q1), c = rho * q0 * del;
    const tau = 2 * c / (b + sqrt(abs(b * b - 4 * c)));
    store<f64>(lam, d0 + tau);
    v0 = -z0 / tau;
    v1 = z1 / (del - tau);
  } else {
    // nearer d1 (j = 0: from below, j = 1: above it)
    const b = -del + rho * (q0 + q1), c = rho * q1 * del;
    let tau: f64;
    if (j == 0) tau = b > 0 ? -2 * c / (b + sqrt(b * b + 4 * c)) : (b - sqrt(b * b + 4 * c)) / 2;
    else tau = b > 0 ? (b + sqrt(b * b + 4 * c)) / 2 : 2 * c / (-b + sqrt(b * b + 4 * c));
    store<f64>(lam, d1 + tau);
    v0 = -z0 / (del + tau);
    v1 = -z1 / tau;
  }
  const nrm = hypot(v0, v1);
  return f64x2.replace_lane(f64x2.splat(v0 / nrm), 1, v1 / nrm);
}

/**
 * Root j of 1/ρ + Σ_i z_i²/(dl_i − λ) = 0 (k ≥ 3, dl ascending, ρ > 0, every z_i ≠ 0): λ_j lies
 * in (dl_j, dl_{j+1}), or (dl_{k−1}, dl_{k−1} + ρ‖z‖²] for the last. Works in τ = λ − dl_o with o
 * the pole nearer the root, so delta_i = dl_i − λ = (dl_i − dl_o) − τ keeps its relative accuracy
 * (LAPACK dlaed4: rational interpolation on the two poles around the root, one of them with its
 * exact weight, a bracket kept from the signs, halving and Newton as safeguards; here bisection
 * after SECULAR_MAXIT steps). Writes delta (k) and returns λ_j.
 */
function secular(k: i32, j: i32, dl: usize, z: usize, rho: f64, delta: usize): f64 {
  const rhoinv = 1 / rho;
  const last = j == k - 1;
  // the poles p < q around the root
  const p = last ? k - 2 : j, q = p + 1;
  const zp2 = ld(z, p) * ld(z, p), zq2 = ld(z, q) * ld(z, q);
  let org: i32, tau: f64, lo: f64, hi: f64;
  if (last) {
    const dn = ld(dl, k - 1);
    const mid = 0.5 * rho;
    let psi: f64 = 0;
    psi += poleSum(0, k - 2, z, dl, dn, mid);
    const c = rhoinv + psi;
    const del = dn - ld(dl, k - 2);
    const w = c + zp2 / (-del - mid) + zq2 / (-mid);
    const a = -c * del + zp2 + zq2, b = zq2 * del;
    const disc = sqrt(abs(a * a + 4 * b * c));
    const guess = a < 0 ? 2 * b / (disc - a) : (a + disc) / (2 * c);
    org = k - 1;
    if (w <= 0) {
      tau = c <= zp2 / (del + rho) + zq2 / rho ? rho : guess;
      lo = mid; hi = rho;
    } else {
      tau = guess;
      lo = 0; hi = mid;
    }
  } else {
    const dj = ld(dl, j);
    const del = ld(dl, q) - dj;
    const mid = 0.5 * del;
    let c = rhoinv;
    c += poleSum(0, j, z, dl, dj, mid) + poleSum(j + 2, k, z, dl, dj, mid);
    const w = c + zp2 / (-mid) + zq2 / (del - mid);
    if (w > 0) {
      // the root is nearer dl_j
      org = j;
      const a = c * del + zp2 + zq2, b = zp2 * del;
      const disc = sqrt(abs(a * a - 4 * b * c));
      tau = a > 0 ? 2 * b / (a + disc) : (a - disc) / (2 * c);
      lo = 0; hi = mid;
    } else {
      org = q;
      const a = c * del - zp2 - zq2, b = zq2 * del;
      const disc = sqrt(abs(a * a + 4 * b * c));
      tau = a < 0 ? 2 * b / (a - disc) : -(a + disc) / (2 * c);
      lo = -mid; hi = 0;
    }
  }
  if (!(tau > lo && tau <= hi)) tau = 0.5 * (lo + hi);
  const dorg = ld(dl, org);
  shifted(k, dl, dorg, tau, delta);

  let swtch = false;
  let prew: f64 = 0;
  let done = false;
  let eta: f64 = 0;
  for (let iter = 0; iter < SECULAR_MAXIT; iter++) {
    // f(τ)/ρ: ψ over the poles left of the origin, φ right of it, the origin's own term apart,
    // with the last step η applied to delta on the way. err: LAPACK's bound, the sum of the
    // partial sums (term i counted once per partial sum that holds it).
    const ve = f64x2.splat(eta);
    const two = f64x2.splat(2);
    let vs = f64x2.splat(0), vd = vs, ve2 = vs;
    let vc = f64x2.replace_lane(f64x2.splat(<f64>org), 1, <f64>(org - 1));
    let i = 0;
    for (; i + 2 <= org; i += 2) {
      const o = <usize>i << 3;
      const dv = f64x2.sub(v128.load(delta + o), ve);
      v128.store(delta + o, dv);
      const zz = v128.load(z + o);
      const t = f64x2.div(zz, dv);
      const term = f64x2.mul(zz, t);
      vs = f64x2.add(vs, term);
      vd = f64x2.add(vd, f64x2.mul(t, t));
      ve2 = f64x2.add(ve2, f64x2.mul(term, vc));
      vc = f64x2.sub(vc, two);
    }
    let psi = f64x2.extract_lane(vs, 0) + f64x2.extract_lane(vs, 1);
    let dpsi = f64x2.extract_lane(vd, 0) + f64x2.extract_lane(vd, 1);
    let err = f64x2.extract_lane(ve2, 0) + f64x2.extract_lane(ve2, 1);
    for (; i < org; i++) {
      const dv = ld(delta, i) - eta;
      st(delta, i, dv);
      const t = ld(z, i) / dv;
      const term = ld(z, i) * t;
      psi += term;
      dpsi += t * t;
      err += term * <f64>(org - i);
    }
    err = abs(err);
    st(delta, org, ld(delta, org) - eta);
    vs = f64x2.splat(0); vd = vs; ve2 = vs;
    vc = f64x2.replace_lane(f64x2.splat(1), 1, 2);
    i = org + 1;
    for (; i + 2 <= k; i += 2) {
      const o = <usize>i << 3;
      const dv = f64x2.sub(v128.load(delta + o), ve);
      v128.store(delta + o, dv);
      const zz = v128.load(z + o);
      const t = f64x2.div(zz, dv);
      const term = f64x2.mul(zz, t);
      vs = f64x2.add(vs, term);
      vd = f64x2.add(vd, f64x2.mul(t, t));
      ve2 = f64x2.add(ve2, f64x2.mul(term, vc));
      vc = f64x2.add(vc, two);
    }
    let phi = f64x2.extract_lane(vs, 0) + f64x2.extract_lane(vs, 1);
    let dphi = f64x2.extract_lane(vd, 0) + f64x2.extract_lane(vd, 1);
    err += f64x2.extract_lane(ve2, 0) + f64x2.extract_lane(ve2, 1);
    for (; i < k; i++) {
      const dv = ld(delta, i) - eta;
      st(delta, i, dv);
      const t = ld(z, i) / dv;
      const term = ld(z, i) * t;
      phi += term;
      dphi += t * t;
      err += term * <f64>(i - org);
    }
    const to = ld(z, org) / ld(delta, org);
    const wo = ld(z, org) * to, dwo = to * to;
    const w = rhoinv + psi + phi + wo;
    const dw = dpsi + dphi + dwo;
    err = 8 * (phi - psi) + err + 2 * rhoinv + 3 * abs(wo) + abs(tau) * dw;
    if (abs(w) <= EPS * err) { done = true; break; }
    if (w <= 0) lo = max(lo, tau); else hi = min(hi, tau);
    if (!last) {
      if (iter == 1) swtch = org == p ? -w > abs(prew) / 10 : w > abs(prew) / 10;
      else if (iter > 1 && w * prew > 0 && abs(w) > abs(prew) / 10) swtch = !swtch;
    }
    prew = w;
    // the step η: the zero of c + s/(Δp − η) + S/(Δq − η) matching f and f′ at τ
    const dp = ld(delta, p), dq = ld(delta, q);
    let a = (dp + dq) * w - dp * dq * dw;
    const b = dp * dq * w;
    let c: f64;
    if (last) {
      c = abs(w - dp * dpsi - dq * dwo);
      if (c == 0) eta = hi - tau;
      else {
        const disc = sqrt(abs(a * a - 4 * b * c));
        eta = a >= 0 ? (a + disc) / (2 * c) : 2 * b / (a - disc);
      }
    } else {
      if (!swtch) {
        // the origin's pole with its exact weight
        c = org == p ? w - dq * dw - (ld(dl, p) - ld(dl, q)) * (ld(z, p) / dp) * (ld(z, p) / dp)
                     : w - dp * dw - (ld(dl, q) - ld(dl, p)) * (ld(z, q) / dq) * (ld(z, q) / dq);
      } else {
        const dl1 = org == p ? dpsi + dwo : dpsi;
        const dr1 = org == p ? dphi : dphi + dwo;
        c = w - dp * dl1 - dq * dr1;
      }
      if (c == 0) {
        if (a == 0) a = dp * dp * (org == p ? dpsi + dwo : dpsi) + dq * dq * (org == p ? dphi : dphi + dwo);
        eta = b / a;
      } else {
        const disc = sqrt(abs(a * a - 4 * b * c));
        eta = a <= 0 ? (a - disc) / (2 * c) : 2 * b / (a + disc);
      }
    }
    // wrong direction (rounding): Newton; out of the bracket (or NaN): halfway to its end
    if (w * eta >= 0) eta = -w / dw;
    const nt = tau + eta;
    if (!(nt >= lo && nt <= hi)) eta = w < 0 ? 0.5 * (hi - tau) : 0.5 * (lo - tau);
    tau += eta; // delta follows at the next evaluation
  }
  if (!done) {
    // bisection on the bracket to the last bit
    for (let it = 0; it < 2200; it++) {
      const mid = 0.5 * (lo + hi);
      if (!(mid > lo && mid < hi)) break;
      let w = rhoinv;
      for (let i = 0; i < k; i++) w += ld(z, i) * ld(z, i) / ((ld(dl, i) - dorg) - mid);
      if (w == 0) { lo = mid; hi = mid; break; }
      if (w < 0) lo = mid; else hi = mid;
    }
    tau = 0.5 * (lo + hi);
    shifted(k, dl, dorg, tau, delta);
  }
  return dorg + tau;
}
