// Level-2 kernels: gemv (both ways), symv (lower triangle), column sums of squares, and the two
// triangular substitutions with one right-hand side. Row-major, leading dimensions in elements.
import { lanes } from './config';
import { hsum } from './simd';
import { dot, axpy, scal } from './level1';

/** y ← βy (β == 0: y ← 0, y not read). */
// @ts-ignore: decorator
@inline function scaleOrZero<T>(n: i32, beta: T, y: usize): void {
  if (n <= 0) return;
  if (beta == <T>0) memory.fill(y, 0, <usize>n * sizeof<T>());
  else if (beta != <T>1) scal<T>(n, beta, y);
}

/** y (m) ← βy + α A x, A m × n. Four rows at a time share the loads of x. */
export function gemv_n<T>(m: i32, n: i32, alpha: T, a: usize, lda: i32, x: usize, beta: T, y: usize): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const rs = <usize>lda * S;
  let i = 0;
  for (; i <= m - 4; i += 4) {
    const r0 = a + <usize>i * rs;
    const r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
    let a0 = v128.splat<T>(<T>0), a1 = a0, a2 = a0, a3 = a0;
    let j = 0;
    let o: usize = 0;
    for (; j <= n - L; j += L) {
      const xv = v128.load(x + o);
      a0 = v128.add<T>(a0, v128.mul<T>(v128.load(r0 + o), xv));
      a1 = v128.add<T>(a1, v128.mul<T>(v128.load(r1 + o), xv));
      a2 = v128.add<T>(a2, v128.mul<T>(v128.load(r2 + o), xv));
      a3 = v128.add<T>(a3, v128.mul<T>(v128.load(r3 + o), xv));
      o += 16;
    }
    let s0 = hsum<T>(a0), s1 = hsum<T>(a1), s2 = hsum<T>(a2), s3 = hsum<T>(a3);
    for (; j < n; j++) {
      const xj = load<T>(x + o);
      s0 += load<T>(r0 + o) * xj;
      s1 += load<T>(r1 + o) * xj;
      s2 += load<T>(r2 + o) * xj;
      s3 += load<T>(r3 + o) * xj;
      o += S;
    }
    const yp = y + <usize>i * S;
    if (beta == <T>0) {
      store<T>(yp, alpha * s0); store<T>(yp, alpha * s1, S);
      store<T>(yp, alpha * s2, 2 * S); store<T>(yp, alpha * s3, 3 * S);
    } else {
      store<T>(yp, beta * load<T>(yp) + alpha * s0);
      store<T>(yp, beta * load<T>(yp, S) + alpha * s1, S);
      store<T>(yp, beta * load<T>(yp, 2 * S) + alpha * s2, 2 * S);
      store<T>(yp, beta * load<T>(yp, 3 * S) + alpha * s3, 3 * S);
    }
  }
  for (; i < m; i++) {
    const s = dot<T>(n, a + <usize>i * rs, x);
    const yp = y + <usize>i * S;
    store<T>(yp, beta == <T>0 ? alpha * s : beta * load<T>(yp) + alpha * s);
  }
}

/** y (n) ← βy + α Aᵀ x, A m × n. y is scaled first, then four rows at a time are added into it. */
export function gemv_t<T>(m: i32, n: i32, alpha: T, a: usize, lda: i32, x: usize, beta: T, y: usize): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const rs = <usize>lda * S;
  scaleOrZero<T>(n, beta, y);
  if (alpha == <T>0) return;
  let i = 0;
  for (; i <= m - 4; i += 4) {
    const r0 = a + <usize>i * rs;
    const r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
    const xp = x + <usize>i * S;
    const c0 = alpha * load<T>(xp), c1 = alpha * load<T>(xp, S);
    const c2 = alpha * load<T>(xp, 2 * S), c3 = alpha * load<T>(xp, 3 * S);
    const v0 = v128.splat<T>(c0), v1 = v128.splat<T>(c1), v2 = v128.splat<T>(c2), v3 = v128.splat<T>(c3);
    let j = 0;
    let o: usize = 0;
    for (; j <= n - L; j += L) {
      let t = v128.add<T>(v128.mul<T>(v0, v128.load(r0 + o)), v128.mul<T>(v1, v128.load(r1 + o)));
      t = v128.add<T>(t, v128.add<T>(v128.mul<T>(v2, v128.load(r2 + o)), v128.mul<T>(v3, v128.load(r3 + o))));
      v128.store(y + o, v128.add<T>(v128.load(y + o), t));
      o += 16;
    }
    for (; j < n; j++) {
      const t = (c0 * load<T>(r0 + o) + c1 * load<T>(r1 + o)) + (c2 * load<T>(r2 + o) + c3 * load<T>(r3 + o));
      store<T>(y + o, load<T>(y + o) + t);
      o += S;
    }
  }
  for (; i < m; i++) {
    axpy<T>(n, alpha * load<T>(x + <usize>i * S), a + <usize>i * rs, y);
  }
}

/** y ← βy + α A x, A d × d symmetric; only its lower triangle (diagonal included) is read. */
export function symv<T>(d: i32, alpha: T, a: usize, lda: i32, x: usize, beta: T, y: usize): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const rs = <usize>lda * S;
  scaleOrZero<T>(d, beta, y);
  if (alpha == <T>0) return;
  for (let i = 0; i < d; i++) {
    const r = a + <usize>i * rs;
    const xi = alpha * load<T>(x + <usize>i * S);
    const vx = v128.splat<T>(xi);
    // row i left of the diagonal: s += A_ij x_j (the lower part), y_j += αx_i A_ij (its transpose)
    let acc = v128.splat<T>(<T>0);
    let j = 0;
    let o: usize = 0;
    for (; j <= i - L; j += L) {
      const av = v128.load(r + o);
      acc = v128.add<T>(acc, v128.mul<T>(av, v128.load(x + o)));
      v128.store(y + o, v128.add<T>(v128.load(y + o), v128.mul<T>(vx, av)));
      o += 16;
    }
    let s = hsum<T>(acc);
    for (; j < i; j++) {
      const aij = load<T>(r + o);
      s += aij * load<T>(x + o);
      store<T>(y + o, load<T>(y + o) + xi * aij);
      o += S;
    }
    // o now addresses column i
    store<T>(y + o, load<T>(y + o) + alpha * s + xi * load<T>(r + o));
  }
}

/** y_j ← β y_j + α Σ_i g_ij² for j < d (the diagonal of αGᵀG); G n × d. */
export function sumsq_cols<T>(n: i32, d: i32, alpha: T, g: usize, ldg: i32, beta: T, y: usize): void {
  col_reduce<T>(true, n, d, alpha, g, ldg, beta, y);
}

/** y_j ← β y_j + α Σ_i g_ij for j < d; G n × d. */
export function colsum<T>(n: i32, d: i32, alpha: T, g: usize, ldg: i32, beta: T, y: usize): void {
  col_reduce<T>(false, n, d, alpha, g, ldg, beta, y);
}

// @ts-ignore: decorator
@inline function term<T>(v: v128, squares: bool): v128 { return squares ? v128.mul<T>(v, v) : v; }

/** y_j ← β y_j + α Σ_i t(g_ij), t(x) = x² or x (β == 0: y not read); 4 vectors of columns per sweep over the rows. */
// @ts-ignore: decorator
@inline function col_reduce<T>(squares: bool, n: i32, d: i32, alpha: T, g: usize, ldg: i32, beta: T, y: usize): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const rs = <usize>lda_bytes<T>(ldg);
  const va = v128.splat<T>(alpha);
  const vb = v128.splat<T>(beta);
  let j = 0;
  for (; j <= d - 4 * L; j += 4 * L) {
    let a0 = v128.splat<T>(<T>0), a1 = a0, a2 = a0, a3 = a0;
    let p = g + <usize>j * S;
    for (let i = 0; i < n; i++) {
      a0 = v128.add<T>(a0, term<T>(v128.load(p), squares));
      a1 = v128.add<T>(a1, term<T>(v128.load(p, 16), squares));
      a2 = v128.add<T>(a2, term<T>(v128.load(p, 32), squares));
      a3 = v128.add<T>(a3, term<T>(v128.load(p, 48), squares));
      p += rs;
    }
    const yp = y + <usize>j * S;
    if (beta == <T>0) {
      v128.store(yp, v128.mul<T>(va, a0));
      v128.store(yp, v128.mul<T>(va, a1), 16);
      v128.store(yp, v128.mul<T>(va, a2), 32);
      v128.store(yp, v128.mul<T>(va, a3), 48);
    } else {
      v128.store(yp, v128.add<T>(v128.mul<T>(vb, v128.load(yp)), v128.mul<T>(va, a0)));
      v128.store(yp, v128.add<T>(v128.mul<T>(vb, v128.load(yp, 16)), v128.mul<T>(va, a1)), 16);
      v128.store(yp, v128.add<T>(v128.mul<T>(vb, v128.load(yp, 32)), v128.mul<T>(va, a2)), 32);
      v128.store(yp, v128.add<T>(v128.mul<T>(vb, v128.load(yp, 48)), v128.mul<T>(va, a3)), 48);
    }
  }
  for (; j <= d - L; j += L) {
    let a0 = v128.splat<T>(<T>0);
    let p = g + <usize>j * S;
    for (let i = 0; i < n; i++) {
      a0 = v128.add<T>(a0, term<T>(v128.load(p), squares));
      p += rs;
    }
    const yp = y + <usize>j * S;
    if (beta == <T>0) v128.store(yp, v128.mul<T>(va, a0));
    else v128.store(yp, v128.add<T>(v128.mul<T>(vb, v128.load(yp)), v128.mul<T>(va, a0)));
  }
  for (; j < d; j++) {
    let s = <T>0;
    let p = g + <usize>j * S;
    for (let i = 0; i < n; i++) {
      const v = load<T>(p);
      s += squares ? v * v : v;
      p += rs;
    }
    const yp = y + <usize>j * S;
    store<T>(yp, beta == <T>0 ? alpha * s : beta * load<T>(yp) + alpha * s);
  }
}

// @ts-ignore: decorator
@inline function lda_bytes<T>(ld: i32): usize { return <usize>ld * sizeof<T>(); }

/** x ← L⁻¹ x (forward substitution); L d × d lower, rows read as dot products. */
export function trsv<T>(d: i32, l: usize, ldl: i32, x: usize): void {
  const S = <usize>sizeof<T>();
  const rs = <usize>ldl * S;
  for (let i = 0; i < d; i++) {
    const r = l + <usize>i * rs;
    const xp = x + <usize>i * S;
    const s = dot<T>(i, r, x);
    store<T>(xp, (load<T>(xp) - s) / load<T>(r + <usize>i * S));
  }
}

/** x ← L⁻ᵀ x (back substitution); L d × d lower, rows read as axpys. */
export function trsv_t<T>(d: i32, l: usize, ldl: i32, x: usize): void {
  const S = <usize>sizeof<T>();
  const rs = <usize>ldl * S;
  for (let i = d - 1; i >= 0; i--) {
    const r = l + <usize>i * rs;
    const xp = x + <usize>i * S;
    const xi = load<T>(xp) / load<T>(r + <usize>i * S);
    store<T>(xp, xi);
    axpy<T>(i, -xi, r, x);
  }
}
