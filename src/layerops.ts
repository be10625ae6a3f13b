/**
 * TEMPORARY stand-in for the layer kit's internal *InWasm functions (src/layers/, issue 14), with
 * the contract's signatures, so that the layer paths of EmpiricalFisher and the optimizer can be
 * written and tested before the kit lands. Replaced by a re-export of src/layers once merged.
 */
import type { Engine, FloatArray, Precision } from './engine.js';

const BYTES = { f32: 4, f64: 8 } as const;

/** A dense layer's statistics already in wasm memory (A n × inputs at ap, E n × outputs at ep). */
export interface LayerInWasm {
  ap: number;
  ep: number;
  inputs: number;
  outputs: number;
  bias: boolean;
}

export interface DenseLayerShape {
  inputs: number;
  outputs: number;
  bias?: boolean;
}

export interface DenseLayerStats extends DenseLayerShape {
  A: FloatArray;
  E: FloatArray;
}

export function layerParameterCount(list: readonly { inputs: number; outputs: number; bias?: boolean }[]): number {
  let d = 0;
  for (const l of list) d += l.outputs * l.inputs + (l.bias === false ? 0 : l.outputs);
  return d;
}

function gemm(e: Engine, p: Precision, m: number, n: number, k: number, alpha: number, a: number, lda: number, ta: boolean, b: number, ldb: number, tb: boolean, beta: number, c: number, ldc: number): void {
  e.k('gemm', p)(m, n, k, alpha, a, lda, ta ? 1 : 0, b, ldb, tb ? 1 : 0, beta, c, ldc, e.work);
}

export function gramInWasm(e: Engine, p: Precision, list: readonly LayerInWasm[], n: number, kp: number, ldk: number): void {
  const b = BYTES[p];
  const t1 = e.alloc(n * n * b);
  const t2 = e.alloc(n * n * b);
  try {
    const K = e.view(p, kp, (n - 1) * ldk + n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) K[i * ldk + j] = 0;
    for (const l of list) {
      gemm(e, p, n, n, l.inputs, 1, l.ap, l.inputs, false, l.ap, l.inputs, true, 0, t1, n);
      gemm(e, p, n, n, l.outputs, 1, l.ep, l.outputs, false, l.ep, l.outputs, true, 0, t2, n);
      const X = e.view(p, t1, n * n);
      const Y = e.view(p, t2, n * n);
      const K2 = e.view(p, kp, (n - 1) * ldk + n);
      const one = l.bias ? 1 : 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) K2[i * ldk + j] += (X[i * n + j] + one) * Y[i * n + j];
    }
  } finally {
    e.free(t2);
    e.free(t1);
  }
}

export function gradientTimesInWasm(e: Engine, p: Precision, list: readonly LayerInWasm[], n: number, vp: number, yp: number): void {
  const b = BYTES[p];
  let maxOut = 1;
  for (const l of list) maxOut = Math.max(maxOut, l.outputs);
  const t = e.alloc(n * maxOut * b);
  try {
    e.view(p, yp, n).fill(0);
    let off = 0;
    for (const l of list) {
      const { inputs: ni, outputs: no } = l;
      gemm(e, p, n, no, ni, 1, l.ap, ni, false, vp + off * b, ni, true, 0, t, no);
      off += no * ni;
      const T = e.view(p, t, n * no);
      const E = e.view(p, l.ep, n * no);
      const v = e.view(p, vp, off + no);
      const y = e.view(p, yp, n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let o = 0; o < no; o++) s += E[i * no + o] * (T[i * no + o] + (l.bias ? v[off + o] : 0));
        y[i] += s;
      }
      if (l.bias) off += no;
    }
  } finally {
    e.free(t);
  }
}

export function gradientTransposeTimesInWasm(e: Engine, p: Precision, list: readonly LayerInWasm[], n: number, alpha: number, up: number, beta: number, xp: number): void {
  const b = BYTES[p];
  let maxOut = 1;
  for (const l of list) maxOut = Math.max(maxOut, l.outputs);
  const t = e.alloc(n * maxOut * b);
  try {
    let off = 0;
    for (const l of list) {
      const { inputs: ni, outputs: no } = l;
      const T = e.view(p, t, n * no);
      const E = e.view(p, l.ep, n * no);
      const u = e.view(p, up, n);
      for (let i = 0; i < n; i++) for (let o = 0; o < no; o++) T[i * no + o] = E[i * no + o] * u[i];
      gemm(e, p, no, ni, n, alpha, t, no, true, l.ap, ni, false, beta, xp + off * b, ni);
      off += no * ni;
      if (l.bias) {
        e.k('gemv_t', p)(n, no, alpha, l.ep, no, up, beta, xp + off * b);
        off += no;
      }
    }
  } finally {
    e.free(t);
  }
}

export function meanGradientInWasm(e: Engine, p: Precision, list: readonly LayerInWasm[], n: number, outp: number): void {
  const u = e.alloc(n * BYTES[p]);
  try {
    e.view(p, u, n).fill(1);
    gradientTransposeTimesInWasm(e, p, list, n, 1 / n, u, 0, outp);
  } finally {
    e.free(u);
  }
}

export function diagonalInWasm(e: Engine, p: Precision, list: readonly LayerInWasm[], n: number, alpha: number, beta: number, outp: number): void {
  let off = 0;
  for (const l of list) {
    const { inputs: ni, outputs: no } = l;
    const A = e.view(p, l.ap, n * ni);
    const E = e.view(p, l.ep, n * no);
    const out = e.view(p, outp, off + no * ni + no);
    for (let o = 0; o < no; o++) {
      for (let j = 0; j < ni; j++) {
        let s = 0;
        for (let i = 0; i < n; i++) {
          const g = E[i * no + o] * A[i * ni + j];
          s += g * g;
        }
        out[off + o * ni + j] = beta * out[off + o * ni + j] + alpha * s;
      }
    }
    off += no * ni;
    if (l.bias) {
      for (let o = 0; o < no; o++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += E[i * no + o] * E[i * no + o];
        out[off + o] = beta * out[off + o] + alpha * s;
      }
      off += no;
    }
  }
}

export function perExampleGradientsInWasm(e: Engine, p: Precision, l: LayerInWasm, n: number, gp: number, offset: number, ld: number): void {
  const { inputs: ni, outputs: no } = l;
  const A = e.view(p, l.ap, n * ni);
  const E = e.view(p, l.ep, n * no);
  const G = e.view(p, gp, (n - 1) * ld + offset + no * ni + (l.bias ? no : 0));
  for (let i = 0; i < n; i++) {
    const r = i * ld + offset;
    for (let o = 0; o < no; o++) for (let j = 0; j < ni; j++) G[r + o * ni + j] = E[i * no + o] * A[i * ni + j];
    if (l.bias) for (let o = 0; o < no; o++) G[r + no * ni + o] = E[i * no + o];
  }
}

/** Public-style perExampleGradients for tests (float64 or the precision of A). */
export function perExampleGradients(stats: DenseLayerStats, n: number, out: FloatArray, offset: number, ld: number): void {
  const { inputs: ni, outputs: no, A, E } = stats;
  for (let i = 0; i < n; i++) {
    const r = i * ld + offset;
    for (let o = 0; o < no; o++) for (let j = 0; j < ni; j++) out[r + o * ni + j] = E[i * no + o] * A[i * ni + j];
    if (stats.bias !== false) for (let o = 0; o < no; o++) out[r + no * ni + o] = E[i * no + o];
  }
}
