// Small kernels of the layer kit (src/layers/): the pieces around the GEMMs that give the
// per-example gradients of a dense layer y = W a + b from A (n × in) and E (n × out).
// Row-major, leading dimensions in elements, byte addresses (any element alignment).
import { lanes } from './config';
import { dot } from './level1';

/** out_i ← β out_i + Σ_j x_ij y_ij for i < n (x, y: n × k). β == 0: out not read. */
export function rowdot<T>(n: i32, k: i32, x: usize, ldx: i32, y: usize, ldy: i32, beta: T, out: usize): void {
  const S = <usize>sizeof<T>();
  const xs = <usize>ldx * S;
  const ys = <usize>ldy * S;
  for (let i = 0; i < n; i++) {
    const s = dot<T>(k, x + <usize>i * xs, y + <usize>i * ys);
    const op = out + <usize>i * S;
    store<T>(op, beta == <T>0 ? s : beta * load<T>(op) + s);
  }
}

/**
 * The lower triangle of C (n × n): c_ij ← β c_ij + (a_ij + shift)·b_ij for j ≤ i (β == 0: C not
 * read). The strict upper triangles of A, B and C are neither read nor written.
 */
export function hadamard_lower<T>(n: i32, a: usize, lda: i32, b: usize, ldb: i32, shift: T, beta: T, c: usize, ldc: i32): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const vs = v128.splat<T>(shift);
  const vb = v128.splat<T>(beta);
  for (let i = 0; i < n; i++) {
    const ar = a + <usize>i * <usize>lda * S;
    const br = b + <usize>i * <usize>ldb * S;
    const cr = c + <usize>i * <usize>ldc * S;
    const jn = i + 1;
    let j = 0;
    let o: usize = 0;
    if (beta == <T>0) {
      for (; j <= jn - L; j += L) {
        v128.store(cr + o, v128.mul<T>(v128.add<T>(v128.load(ar + o), vs), v128.load(br + o)));
        o += 16;
      }
      for (; j < jn; j++) {
        store<T>(cr + o, (load<T>(ar + o) + shift) * load<T>(br + o));
        o += S;
      }
    } else {
      for (; j <= jn - L; j += L) {
        const t = v128.mul<T>(v128.add<T>(v128.load(ar + o), vs), v128.load(br + o));
        v128.store(cr + o, v128.add<T>(v128.mul<T>(vb, v128.load(cr + o)), t));
        o += 16;
      }
      for (; j < jn; j++) {
        store<T>(cr + o, beta * load<T>(cr + o) + (load<T>(ar + o) + shift) * load<T>(br + o));
        o += S;
      }
    }
  }
}

/** y_i ← x_i² for i < len (y may be x). */
export function square<T>(len: i32, x: usize, y: usize): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  let i = 0;
  for (; i <= len - 2 * L; i += 2 * L) {
    const v0 = v128.load(x), v1 = v128.load(x, 16);
    v128.store(y, v128.mul<T>(v0, v0));
    v128.store(y, v128.mul<T>(v1, v1), 16);
    x += 32; y += 32;
  }
  for (; i < len; i++) {
    const v = load<T>(x);
    store<T>(y, v * v);
    x += S; y += S;
  }
}

/** y_ij ← u_i·x_ij, x and y n × k (y may be x when ldy == ldx). */
export function scale_rows<T>(n: i32, k: i32, u: usize, x: usize, ldx: i32, y: usize, ldy: i32): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  for (let i = 0; i < n; i++) {
    const ui = load<T>(u + <usize>i * S);
    const vu = v128.splat<T>(ui);
    let xp = x + <usize>i * <usize>ldx * S;
    let yp = y + <usize>i * <usize>ldy * S;
    let j = 0;
    for (; j <= k - 2 * L; j += 2 * L) {
      v128.store(yp, v128.mul<T>(vu, v128.load(xp)));
      v128.store(yp, v128.mul<T>(vu, v128.load(xp, 16)), 16);
      xp += 32; yp += 32;
    }
    for (; j < k; j++) {
      store<T>(yp, ui * load<T>(xp));
      xp += S; yp += S;
    }
  }
}

/**
 * The per-example gradients of a dense layer, one row of G per example: row i (at g + i·ldg) ←
 * vec(e_i a_iᵀ) (out × in, row-major: element o·in + j = e_io·a_ij), then e_i when bias ≠ 0.
 * A n × in (lda), E n × out (lde). Nothing else of G is written.
 */
export function outer_rows<T>(n: i32, nin: i32, nout: i32, a: usize, lda: i32, e: usize, lde: i32, bias: i32, g: usize, ldg: i32): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  for (let i = 0; i < n; i++) {
    const ar = a + <usize>i * <usize>lda * S;
    const er = e + <usize>i * <usize>lde * S;
    let gp = g + <usize>i * <usize>ldg * S;
    for (let o = 0; o < nout; o++) {
      const eo = load<T>(er + <usize>o * S);
      const ve = v128.splat<T>(eo);
      let ap = ar;
      let j = 0;
      for (; j <= nin - 2 * L; j += 2 * L) {
        v128.store(gp, v128.mul<T>(ve, v128.load(ap)));
        v128.store(gp, v128.mul<T>(ve, v128.load(ap, 16)), 16);
        ap += 32; gp += 32;
      }
      for (; j <= nin - L; j += L) {
        v128.store(gp, v128.mul<T>(ve, v128.load(ap)));
        ap += 16; gp += 16;
      }
      for (; j < nin; j++) {
        store<T>(gp, eo * load<T>(ap));
        ap += S; gp += S;
      }
    }
    if (bias != 0) memory.copy(gp, er, <usize>nout * S);
  }
}
