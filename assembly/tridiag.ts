// Symmetric tridiagonal eigensolvers (f64): d the diagonal (n), e the off-diagonal (n − 1).
//
//   sterf  eigenvalues only: implicit QL/QR with Wilkinson shifts (LAPACK dsteqr's iteration)
//   stedc  eigenvalues and eigenvectors; eigenvector k is row k of z (z[k·ldz + i] = component i),
//          so that a plane rotation of two vectors runs along two contiguous rows (f64x2)
//
// No static data (the threaded build): constants are immediates, results of small helpers that
// produce two numbers travel in one v128.
import { WORK_BYTES } from './config';

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

/**
 * Eigenvalues of the symmetric tridiagonal (d, e): d (n) ← ascending eigenvalues, e (n − 1)
 * destroyed. Returns 0, or > 0 when some eigenvalue did not converge in 30·n sweeps.
 */
export function sterf(n: i32, d: usize, e: usize): i32 {
  if (n <= 0) return 0;
  const info = steqr(n, d, e, 0, 0, false);
  if (info == 0) sortValues(n, d);
  return info;
}

/**
 * Eigenvalues and eigenvectors of the symmetric tridiagonal (d, e): d (n) ← ascending
 * eigenvalues, z (n × n, ldz ≥ n, not read) ← the eigenvectors as rows (z[k·ldz + i] is
 * component i of eigenvector k), e destroyed. work: stedcWorkBytes(n) bytes, 16-byte aligned.
 * Returns 0, or > 0 on failure to converge.
 */
export function stedc(n: i32, d: usize, e: usize, z: usize, ldz: i32, work: usize): i32 {
  if (n <= 0) return 0;
  const zs = <usize>ldz << 3;
  identity(n, z, zs);
  const info = steqr(n, d, e, z, zs, true);
  if (info == 0) sortVectors(n, d, z, zs);
  return info;
}

/** Workspace bytes stedc needs for order n (a multiple of 16). */
export function stedcWorkBytes(n: i32): i32 {
  return WORK_BYTES + 16;
}
