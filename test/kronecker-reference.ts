/**
 * Float64 references of the Kronecker-factored Fisher's definitions (test/kronecker*.test.ts):
 * the factors Ā = (1/n)Σ āāᵀ (ā = [a; 1]) and S = (1/n)Σ eeᵀ, the per-example gradients
 * g_i = vec(e_i a_iᵀ) (then e_i) in the layer kit's layout, Kronecker blocks in that layout.
 */
import type { LayerShape } from '../src/kronecker.js';
import { Rng, randomMatrix, type FloatArrayCtor } from './util.js';

export interface Batch {
  n: number;
  /** per layer: A (n × inputs), E (n × outputs), float64 */
  A: Float64Array[];
  E: Float64Array[];
}

export function pOf(s: LayerShape): number {
  return s.inputs + (s.bias ? 1 : 0);
}
export function sizeOf(shapes: readonly LayerShape[]): number {
  return shapes.reduce((t, s) => t + s.outputs * pOf(s), 0);
}
export function offsets(shapes: readonly LayerShape[]): number[] {
  const o: number[] = [];
  let t = 0;
  for (const s of shapes) {
    o.push(t);
    t += s.outputs * pOf(s);
  }
  return o;
}
/** index in the layer kit's layout of (output o, input i), i = inputs meaning the bias */
export function idx(s: LayerShape, o: number, i: number): number {
  return i < s.inputs ? o * s.inputs + i : s.outputs * s.inputs + o;
}

export function randomBatch(rng: Rng, shapes: readonly LayerShape[], n: number): Batch {
  return {
    n,
    A: shapes.map((s) => randomMatrix(rng, n, s.inputs, Float64Array)),
    E: shapes.map((s) => randomMatrix(rng, n, s.outputs, Float64Array)),
  };
}

/** the batch rounded to the store's precision (what the store sees), as float64 */
export function rounded(b: Batch, Type: FloatArrayCtor): Batch {
  const r = (x: Float64Array) => Float64Array.from(new Type(x));
  return { n: b.n, A: b.A.map(r), E: b.E.map(r) };
}

/** ā_i of layer k, row i */
export function abar(s: LayerShape, A: Float64Array, i: number): Float64Array {
  const p = pOf(s);
  const v = new Float64Array(p);
  for (let j = 0; j < s.inputs; j++) v[j] = A[i * s.inputs + j];
  if (s.bias) v[s.inputs] = 1;
  return v;
}

/** (1/n)Σ ā āᵀ and (1/n)Σ e eᵀ of layer k */
export function refFactors(s: LayerShape, b: Batch, k: number): { Ab: Float64Array; S: Float64Array } {
  const p = pOf(s);
  const q = s.outputs;
  const Ab = new Float64Array(p * p);
  const S = new Float64Array(q * q);
  for (let i = 0; i < b.n; i++) {
    const a = abar(s, b.A[k], i);
    for (let r = 0; r < p; r++) for (let c = 0; c < p; c++) Ab[r * p + c] += (a[r] * a[c]) / b.n;
    for (let r = 0; r < q; r++) for (let c = 0; c < q; c++) S[r * q + c] += (b.E[k][i * q + r] * b.E[k][i * q + c]) / b.n;
  }
  return { Ab, S };
}

/** per-example gradient rows (n × d) in the layer kit's layout */
export function refGradients(shapes: readonly LayerShape[], b: Batch): Float64Array {
  const d = sizeOf(shapes);
  const off = offsets(shapes);
  const G = new Float64Array(b.n * d);
  shapes.forEach((s, k) => {
    for (let i = 0; i < b.n; i++) {
      const a = abar(s, b.A[k], i);
      for (let o = 0; o < s.outputs; o++) {
        for (let j = 0; j < pOf(s); j++) G[i * d + off[k] + idx(s, o, j)] = b.E[k][i * s.outputs + o] * a[j];
      }
    }
  });
  return G;
}

/** blockdiag_l(X_l ⊗ Y_l) (d × d) in the layer kit's layout; X q × q, Y p × p */
export function refKroneckerBlocks(shapes: readonly LayerShape[], X: Float64Array[], Y: Float64Array[]): Float64Array {
  const d = sizeOf(shapes);
  const off = offsets(shapes);
  const M = new Float64Array(d * d);
  shapes.forEach((s, k) => {
    const p = pOf(s);
    const q = s.outputs;
    for (let o = 0; o < q; o++)
      for (let i = 0; i < p; i++)
        for (let o2 = 0; o2 < q; o2++)
          for (let i2 = 0; i2 < p; i2++) {
            M[(off[k] + idx(s, o, i)) * d + off[k] + idx(s, o2, i2)] = X[k][o * q + o2] * Y[k][i * p + i2];
          }
  });
  return M;
}

export function scaled(x: Float64Array, c: number): Float64Array {
  return x.map((v) => v * c);
}
export function addScaled(x: Float64Array, a: number, y: Float64Array, b: number): Float64Array {
  return x.map((v, i) => a * v + b * y[i]);
}
export function withShift(M: Float64Array, d: number, shift: number): Float64Array {
  const R = Float64Array.from(M);
  for (let i = 0; i < d; i++) R[i * d + i] += shift;
  return R;
}
export function matvec(M: Float64Array, d: number, v: ArrayLike<number>): Float64Array {
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += M[i * d + j] * v[j];
    y[i] = s;
  }
  return y;
}
export function relErr(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (x[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num / (den || 1));
}
export function maxAbsDiff(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(x[i] - ref[i]));
  return m;
}
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}
export function traceOf(M: Float64Array, m: number): number {
  let t = 0;
  for (let i = 0; i < m; i++) t += M[i * m + i];
  return t;
}

/** blockdiag_l( Σ_{s,a} c·D[s][a] w_sa w_saᵀ ), w_sa = vec(u_s u_aᵀ) in the layer kit's layout */
export function refEkfacMatrix(shapes: readonly LayerShape[], ZA: Float64Array[], ZS: Float64Array[], D: Float64Array[], c: number): Float64Array {
  const d = sizeOf(shapes);
  const off = offsets(shapes);
  const M = new Float64Array(d * d);
  shapes.forEach((sh, k) => {
    const p = pOf(sh);
    const q = sh.outputs;
    for (let s = 0; s < q; s++)
      for (let a = 0; a < p; a++) {
        const w = basisVector(sh, ZA[k], ZS[k], s, a);
        const cd = c * D[k][s * p + a];
        for (let r = 0; r < w.length; r++)
          for (let t = 0; t < w.length; t++) M[(off[k] + r) * d + off[k] + t] += cd * w[r] * w[t];
      }
  });
  return M;
}

/** vec(u_s u_aᵀ) of one layer in the layer kit's layout (length q·p) */
export function basisVector(sh: LayerShape, ZA: Float64Array, ZS: Float64Array, s: number, a: number): Float64Array {
  const p = pOf(sh);
  const q = sh.outputs;
  const w = new Float64Array(q * p);
  for (let o = 0; o < q; o++) for (let i = 0; i < p; i++) w[idx(sh, o, i)] = ZS[s * q + o] * ZA[a * p + i];
  return w;
}

/** max over rows z of ‖M z − (zᵀMz) z‖ / ‖M‖_max: the rows of Z are eigenvectors of M */
export function eigenResidual(M: Float64Array, Z: Float64Array, m: number): number {
  let worst = 0;
  const scale = maxAbs(M) || 1;
  for (let k = 0; k < m; k++) {
    const z = Z.subarray(k * m, k * m + m);
    const y = matvec(M, m, z);
    let lam = 0;
    for (let i = 0; i < m; i++) lam += z[i] * y[i];
    let r = 0;
    for (let i = 0; i < m; i++) r = Math.max(r, Math.abs(y[i] - lam * z[i]));
    worst = Math.max(worst, r / scale);
  }
  return worst;
}

