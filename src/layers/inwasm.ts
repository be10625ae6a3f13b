/**
 * @internal The layer kit on operands already in wasm memory (used by src/fisher.ts,
 * src/lowrank.ts, src/optimizer.ts and src/models): no validation, no copies in or out.
 *
 * A dense layer y = W a + b with inputs A (n × inputs) and back-propagated output gradients
 * E (n × outputs) has per-example gradients g_i = vec(e_i a_iᵀ) (then e_i for b), so every
 * product with G is a GEMM on A and E (see DESIGN.md, "Layers"). Parameter layout: layer after
 * layer, W row-major (outputs × inputs), then b (outputs) if the layer has a bias.
 *
 * Every operand is in precision p; pointers are byte addresses. Scratch is allocated with e.alloc
 * and freed before returning (pointers only: no typed view is held across an allocation).
 */
import type { Engine, Precision } from '../engine.js';

/** @internal A dense layer's statistics in wasm memory. */
export interface LayerInWasm {
  /** A at ap: n × inputs, row stride inputs */
  ap: number;
  /** E at ep: n × outputs, row stride outputs */
  ep: number;
  inputs: number;
  outputs: number;
  bias: boolean;
}

/** @internal The shape part of a layer (bias defaults to true, as in DenseLayerShape). */
export interface LayerShapeLike {
  inputs: number;
  outputs: number;
  bias?: boolean;
}

const BYTES: Record<Precision, number> = { f32: 4, f64: 8 };

/** @internal d of a list of layers: Σ outputs·inputs + (bias ? outputs : 0). */
export function layerParameterCount(list: readonly LayerShapeLike[]): number {
  let d = 0;
  for (const l of list) d += l.outputs * l.inputs + (l.bias === false ? 0 : l.outputs);
  return d;
}

function withScratch<R>(e: Engine, bytes: readonly number[], f: (ptrs: number[]) => R): R {
  const ptrs: number[] = [];
  try {
    for (const b of bytes) ptrs.push(e.alloc(Math.max(b, 16)));
    return f(ptrs);
  } finally {
    for (let i = ptrs.length - 1; i >= 0; i--) e.free(ptrs[i]);
  }
}

/**
 * @internal K (n × n, full symmetric, leading dimension ldk) = Σ_l (A_l A_lᵀ + bias_l)∘(E_l E_lᵀ),
 * K_ij = g_i·g_j. Two n × n scratch matrices.
 */
export function gramInWasm(e: Engine, p: Precision, list: readonly LayerInWasm[], n: number, kp: number, ldk: number): void {
  if (n === 0) return;
  const S = BYTES[p];
  if (list.length === 0) {
    for (let i = 0; i < n; i++) e.zero(kp + i * ldk * S, n * S);
    return;
  }
  withScratch(e, [n * n * S, n * n * S], ([ka, ke]) => {
    const gram = e.k('gram', p);
    const had = e.k('hadamard_lower', p);
    list.forEach((l, idx) => {
      gram(n, l.inputs, 1, l.ap, l.inputs, 0, ka, n, e.work);
      gram(n, l.outputs, 1, l.ep, l.outputs, 0, ke, n, e.work);
      had(n, ka, n, ke, n, l.bias ? 1 : 0, idx === 0 ? 0 : 1, kp, ldk);
    });
    e.k('symmetrize', p)(n, kp, ldk);
  });
}

/**
 * @internal y (n) = G v, v in the parameter layout (length d). Per layer one GEMM (E·W, n × inputs,
 * or A·Wᵀ, n × outputs, whichever is smaller) and a row-wise dot with the other factor, plus E·b.
 */
export function gradientTimesInWasm(e: Engine, p: Precision, list: readonly LayerInWasm[], n: number, vp: number, yp: number): void {
  if (n === 0) return;
  const S = BYTES[p];
  if (list.length === 0) {
    e.zero(yp, n * S);
    return;
  }
  let scratch = 0;
  for (const l of list) scratch = Math.max(scratch, n * Math.min(l.inputs, l.outputs) * S);
  withScratch(e, [scratch], ([t]) => {
    const gemm = e.k('gemm', p);
    const rowdot = e.k('rowdot', p);
    let off = vp;
    list.forEach((l, idx) => {
      const { inputs: ni, outputs: no } = l;
      const beta = idx === 0 ? 0 : 1;
      if (ni <= no) {
        // T = E·W (n × inputs); y_i += T_i·a_i
        gemm(n, ni, no, 1, l.ep, no, 0, off, ni, 0, 0, t, ni, e.work);
        rowdot(n, ni, t, ni, l.ap, ni, beta, yp);
      } else {
        // T = A·Wᵀ (n × outputs); y_i += T_i·e_i
        gemm(n, no, ni, 1, l.ap, ni, 0, off, ni, 1, 0, t, no, e.work);
        rowdot(n, no, t, no, l.ep, no, beta, yp);
      }
      off += ni * no * S;
      if (l.bias) {
        e.k('gemv_n', p)(n, no, 1, l.ep, no, off, 1, yp);
        off += no * S;
      }
    });
  });
}

/**
 * @internal x (d) = β x + α Gᵀ u (u length n; β == 0: x not read). Per layer
 * W ← β W + α Eᵀ diag(u) A (one row scaling of the smaller factor, one GEMM) and b ← β b + α Eᵀ u.
 */
export function gradientTransposeTimesInWasm(
  e: Engine,
  p: Precision,
  list: readonly LayerInWasm[],
  n: number,
  alpha: number,
  up: number,
  beta: number,
  xp: number,
): void {
  const S = BYTES[p];
  let scratch = 0;
  for (const l of list) scratch = Math.max(scratch, n * Math.min(l.inputs, l.outputs) * S);
  withScratch(e, [scratch], ([t]) => {
    const gemm = e.k('gemm', p);
    const scaleRows = e.k('scale_rows', p);
    let off = xp;
    for (const l of list) {
      const { inputs: ni, outputs: no } = l;
      if (ni <= no) {
        scaleRows(n, ni, up, l.ap, ni, t, ni);
        gemm(no, ni, n, alpha, l.ep, no, 1, t, ni, 0, beta, off, ni, e.work);
      } else {
        scaleRows(n, no, up, l.ep, no, t, no);
        gemm(no, ni, n, alpha, t, no, 1, l.ap, ni, 0, beta, off, ni, e.work);
      }
      off += ni * no * S;
      if (l.bias) {
        e.k('gemv_t', p)(n, no, alpha, l.ep, no, up, beta, off);
        off += no * S;
      }
    }
  });
}

/** @internal out (d) = (1/n) Gᵀ 1: per layer W = Eᵀ A / n and b = column sums of E / n (n = 0: zeros). */
export function meanGradientInWasm(e: Engine, p: Precision, list: readonly LayerInWasm[], n: number, outp: number): void {
  const S = BYTES[p];
  if (n === 0) {
    e.zero(outp, layerParameterCount(list) * S);
    return;
  }
  const gemm = e.k('gemm', p);
  const inv = 1 / n;
  let off = outp;
  for (const l of list) {
    const { inputs: ni, outputs: no } = l;
    gemm(no, ni, n, inv, l.ep, no, 1, l.ap, ni, 0, 0, off, ni, e.work);
    off += ni * no * S;
    if (l.bias) {
      e.k('colsum', p)(n, no, inv, l.ep, no, 0, off);
      off += no * S;
    }
  }
}

/**
 * @internal out (d) = β out + α Σ_i g_i∘g_i (β == 0: out not read): per layer
 * W ← β W + α (E∘E)ᵀ(A∘A), b ← β b + α Σ_i e_i∘e_i. Scratch n·(inputs + outputs).
 */
export function diagonalInWasm(e: Engine, p: Precision, list: readonly LayerInWasm[], n: number, alpha: number, beta: number, outp: number): void {
  const S = BYTES[p];
  let sa = 0;
  let se = 0;
  for (const l of list) {
    sa = Math.max(sa, n * l.inputs * S);
    se = Math.max(se, n * l.outputs * S);
  }
  withScratch(e, [sa, se], ([a2, e2]) => {
    const gemm = e.k('gemm', p);
    const square = e.k('square', p);
    let off = outp;
    for (const l of list) {
      const { inputs: ni, outputs: no } = l;
      square(n * ni, l.ap, a2);
      square(n * no, l.ep, e2);
      gemm(no, ni, n, alpha, e2, no, 1, a2, ni, 0, beta, off, ni, e.work);
      off += ni * no * S;
      if (l.bias) {
        e.k('sumsq_cols', p)(n, no, alpha, l.ep, no, beta, off);
        off += no * S;
      }
    }
  });
}

/**
 * @internal The per-example gradient rows of one layer into G at gp: row i, columns
 * [offset, offset + outputs·inputs (+ outputs)), is vec(e_i a_iᵀ) then e_i (if bias); row stride
 * ld elements. Nothing else of G is written.
 */
export function perExampleGradientsInWasm(e: Engine, p: Precision, layer: LayerInWasm, n: number, gp: number, offset: number, ld: number): void {
  const S = BYTES[p];
  const { inputs: ni, outputs: no } = layer;
  e.k('outer_rows', p)(n, ni, no, layer.ap, ni, layer.ep, no, layer.bias ? 1 : 0, gp + offset * S, ld);
}
