// The peak probe: register-blocked SIMD multiply-add with no memory traffic, what the bench divides
// every rate by (bench/peak.ts). PEAK_ACC independent chains acc ← acc·s + t, each a mul then an
// add (as the micro-kernels compute: no relaxed-SIMD FMA), enough to cover the mul + add latency
// on two FP ports; PEAK_ACC + 2 live v128 registers (V8 gives wasm 16). s and t are arguments so
// nothing folds; distinct starting values so no two chains can be merged.

/** Independent accumulators of the probe. */
export const PEAK_ACC: i32 = 12;

/** Flops of one iteration of peak<T>: PEAK_ACC vectors × lanes × (mul + add). */
// @ts-ignore: decorator
@inline export function peakFlopsPerIter<T>(): i32 {
  return PEAK_ACC * (16 / sizeof<T>()) * 2;
}

/** Runs `iters` iterations; returns the sum of every lane of every accumulator (a sink). */
export function peak<T>(iters: i32, s: T, t: T): T {
  const vs = v128.splat<T>(s);
  const vt = v128.splat<T>(t);
  let a0 = v128.splat<T>(t * <T>1), a1 = v128.splat<T>(t * <T>2), a2 = v128.splat<T>(t * <T>3);
  let a3 = v128.splat<T>(t * <T>4), a4 = v128.splat<T>(t * <T>5), a5 = v128.splat<T>(t * <T>6);
  let a6 = v128.splat<T>(t * <T>7), a7 = v128.splat<T>(t * <T>8), a8 = v128.splat<T>(t * <T>9);
  let a9 = v128.splat<T>(t * <T>10), a10 = v128.splat<T>(t * <T>11), a11 = v128.splat<T>(t * <T>12);
  for (let i = 0; i < iters; i++) {
    a0 = v128.add<T>(v128.mul<T>(a0, vs), vt);
    a1 = v128.add<T>(v128.mul<T>(a1, vs), vt);
    a2 = v128.add<T>(v128.mul<T>(a2, vs), vt);
    a3 = v128.add<T>(v128.mul<T>(a3, vs), vt);
    a4 = v128.add<T>(v128.mul<T>(a4, vs), vt);
    a5 = v128.add<T>(v128.mul<T>(a5, vs), vt);
    a6 = v128.add<T>(v128.mul<T>(a6, vs), vt);
    a7 = v128.add<T>(v128.mul<T>(a7, vs), vt);
    a8 = v128.add<T>(v128.mul<T>(a8, vs), vt);
    a9 = v128.add<T>(v128.mul<T>(a9, vs), vt);
    a10 = v128.add<T>(v128.mul<T>(a10, vs), vt);
    a11 = v128.add<T>(v128.mul<T>(a11, vs), vt);
  }
  let r = v128.add<T>(v128.add<T>(v128.add<T>(a0, a1), v128.add<T>(a2, a3)), v128.add<T>(v128.add<T>(a4, a5), v128.add<T>(a6, a7)));
  r = v128.add<T>(r, v128.add<T>(v128.add<T>(a8, a9), v128.add<T>(a10, a11)));
  let sum = <T>0;
  if (sizeof<T>() == 4) {
    sum = <T>(f32x4.extract_lane(r, 0) + f32x4.extract_lane(r, 1) + f32x4.extract_lane(r, 2) + f32x4.extract_lane(r, 3));
  } else {
    sum = <T>(f64x2.extract_lane(r, 0) + f64x2.extract_lane(r, 1));
  }
  return sum;
}
