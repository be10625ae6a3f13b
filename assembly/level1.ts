// Level-1 kernels on contiguous vectors: dot, axpy, axpby, scal, first_nonfinite.
// Pointers are byte addresses, any element alignment; n ≤ 0 is a no-op.
import { lanes } from './config';
import { hsum } from './simd';

/** Σ x_i y_i over i < n. Four vector accumulators, then a scalar tail. */
export function dot<T>(n: i32, x: usize, y: usize): T {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  let a0 = v128.splat<T>(<T>0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i <= n - 4 * L; i += 4 * L) {
    a0 = v128.add<T>(a0, v128.mul<T>(v128.load(x), v128.load(y)));
    a1 = v128.add<T>(a1, v128.mul<T>(v128.load(x, 16), v128.load(y, 16)));
    a2 = v128.add<T>(a2, v128.mul<T>(v128.load(x, 32), v128.load(y, 32)));
    a3 = v128.add<T>(a3, v128.mul<T>(v128.load(x, 48), v128.load(y, 48)));
    x += 64; y += 64;
  }
  for (; i <= n - L; i += L) {
    a0 = v128.add<T>(a0, v128.mul<T>(v128.load(x), v128.load(y)));
    x += 16; y += 16;
  }
  let s = hsum<T>(v128.add<T>(v128.add<T>(a0, a1), v128.add<T>(a2, a3)));
  for (; i < n; i++) {
    s += load<T>(x) * load<T>(y);
    x += S; y += S;
  }
  return s;
}

/** y ← y + αx. */
export function axpy<T>(n: i32, alpha: T, x: usize, y: usize): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const va = v128.splat<T>(alpha);
  let i = 0;
  for (; i <= n - 2 * L; i += 2 * L) {
    v128.store(y, v128.add<T>(v128.load(y), v128.mul<T>(va, v128.load(x))));
    v128.store(y, v128.add<T>(v128.load(y, 16), v128.mul<T>(va, v128.load(x, 16))), 16);
    x += 32; y += 32;
  }
  for (; i < n; i++) {
    store<T>(y, load<T>(y) + alpha * load<T>(x));
    x += S; y += S;
  }
}

/** y ← αx + βy; when β == 0, y is not read. */
export function axpby<T>(n: i32, alpha: T, x: usize, beta: T, y: usize): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const va = v128.splat<T>(alpha);
  let i = 0;
  if (beta == <T>0) {
    for (; i <= n - L; i += L) {
      v128.store(y, v128.mul<T>(va, v128.load(x)));
      x += 16; y += 16;
    }
    for (; i < n; i++) {
      store<T>(y, alpha * load<T>(x));
      x += S; y += S;
    }
  } else {
    const vb = v128.splat<T>(beta);
    for (; i <= n - L; i += L) {
      v128.store(y, v128.add<T>(v128.mul<T>(va, v128.load(x)), v128.mul<T>(vb, v128.load(y))));
      x += 16; y += 16;
    }
    for (; i < n; i++) {
      store<T>(y, alpha * load<T>(x) + beta * load<T>(y));
      x += S; y += S;
    }
  }
}

/** x ← αx. */
export function scal<T>(n: i32, alpha: T, x: usize): void {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const va = v128.splat<T>(alpha);
  let i = 0;
  for (; i <= n - 2 * L; i += 2 * L) {
    v128.store(x, v128.mul<T>(va, v128.load(x)));
    v128.store(x, v128.mul<T>(va, v128.load(x, 16)), 16);
    x += 32;
  }
  for (; i < n; i++) {
    store<T>(x, alpha * load<T>(x));
    x += S;
  }
}

/** Index of the first NaN or ±∞ in x[0..n), or −1. x − x is 0 exactly for finite x, NaN otherwise. */
export function first_nonfinite<T>(n: i32, x: usize): i32 {
  const L = lanes<T>();
  const S = <usize>sizeof<T>();
  const zero = v128.splat<T>(<T>0);
  let i = 0;
  let p = x;
  for (; i <= n - 2 * L; i += 2 * L) {
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const ok = v128.and(v128.eq<T>(v128.sub<T>(v0, v0), zero), v128.eq<T>(v128.sub<T>(v1, v1), zero));
    let all: bool;
    if (sizeof<T>() == 4) all = i32x4.all_true(ok); else all = i64x2.all_true(ok);
    if (!all) break;
    p += 32;
  }
  for (; i < n; i++) {
    const v = load<T>(p);
    if (!(v - v == <T>0)) return i;
    p += S;
  }
  return -1;
}
