/**
 * Dense-layer statistics (A, E per layer) for EmpiricalFisher.updateLayers and
 * EmpiricalFisherOptimizer.stepLayers: validation, the copy into wasm memory, and the per-example
 * gradient rows on demand.
 */
import type { Engine, FloatArray, Precision } from './engine.js';
import { BYTES } from './linalg.js';
import { layerParameterCount, perExampleGradientsInWasm, type LayerInWasm } from './layers/inwasm.js';
import type { DenseLayerStats } from './layers/index.js';
import * as check from './validate.js';

/** Layer statistics copied into one wasm block (freed by the caller with `e.free(ptr)`). */
export interface LayersInWasm {
  ptr: number;
  list: LayerInWasm[];
}

/**
 * Checks a list of layer statistics against n and d (before anything is allocated): an array of
 * objects with integer inputs, outputs ≥ 1, bias a boolean or undefined, A and E float arrays of
 * the same type with lengths n·inputs and n·outputs, and Σ outputs·inputs (+ outputs with bias) = d.
 */
export function checkLayers(list: unknown, n: number, d: number): readonly DenseLayerStats[] {
  if (!Array.isArray(list)) {
    throw new TypeError(`list must be an array of layer statistics { A, E, inputs, outputs, bias }, got ${check.describe(list)}`);
  }
  if (list.length === 0) throw new RangeError('list must hold at least one layer');
  list.forEach((s: unknown, l) => {
    const name = `list[${l}]`;
    if (s === null || typeof s !== 'object') throw new TypeError(`${name} must be an object { A, E, inputs, outputs, bias }, got ${check.describe(s)}`);
    const o = s as Record<string, unknown>;
    const inputs = check.size(`${name}.inputs`, o.inputs, 1);
    const outputs = check.size(`${name}.outputs`, o.outputs, 1);
    if (o.bias !== undefined && typeof o.bias !== 'boolean') {
      throw new TypeError(`${name}.bias must be a boolean or undefined, got ${check.describe(o.bias)}`);
    }
    const pa = check.precisionOf(`${name}.A`, o.A);
    const pe = check.precisionOf(`${name}.E`, o.E);
    if (pa !== pe) {
      throw new TypeError(`${name}.E must be a ${pa === 'f32' ? 'Float32Array' : 'Float64Array'} like ${name}.A`);
    }
    check.length(`${name}.A`, o.A as FloatArray, n * inputs, 'n·inputs');
    check.length(`${name}.E`, o.E as FloatArray, n * outputs, 'n·outputs');
  });
  const stats = list as DenseLayerStats[];
  const dl = layerParameterCount(stats);
  if (dl !== d) {
    throw new RangeError(`list describes ${dl} parameters (Σ outputs·inputs, + outputs with bias), expected d = ${d}`);
  }
  return stats;
}

/** Copies validated statistics into wasm memory in `precision` (A then E per layer) and checks them finite. */
export function copyLayersIn(e: Engine, precision: Precision, stats: readonly DenseLayerStats[], n: number): LayersInWasm {
  const b = BYTES[precision];
  let total = 0;
  for (const s of stats) total += n * (s.inputs + s.outputs);
  check.fits(e, 'the layer statistics', total * b);
  const ptr = e.alloc(Math.max(total, 1) * b);
  const list: LayerInWasm[] = [];
  try {
    let p = ptr;
    stats.forEach((s, l) => {
      const ap = p;
      e.put(precision, ap, s.A);
      check.finiteInWasm(e, precision, `list[${l}].A`, s.A, ap, n * s.inputs);
      p += n * s.inputs * b;
      const ep = p;
      e.put(precision, ep, s.E);
      check.finiteInWasm(e, precision, `list[${l}].E`, s.E, ep, n * s.outputs);
      p += n * s.outputs * b;
      list.push({ ap, ep, inputs: s.inputs, outputs: s.outputs, bias: s.bias !== false });
    });
  } catch (err) {
    e.free(ptr);
    throw err;
  }
  return { ptr, list };
}

/**
 * max |g_ij| over the per-example gradients the layers describe, as the rows would hold it in
 * `precision` (max_i fl(max|e_i|·max|a_i|), and max|e| for a bias: rounding is monotone), or a
 * RangeError if a product overflows the precision (the rows would not be finite).
 */
export function maxAbsGradient(e: Engine, precision: Precision, list: readonly LayerInWasm[], n: number): number {
  const b = BYTES[precision];
  const maxAbs = e.k('max_abs', precision);
  let m = 0;
  list.forEach((l, idx) => {
    for (let i = 0; i < n; i++) {
      const ma = maxAbs(l.inputs, l.ap + i * l.inputs * b);
      const me = maxAbs(l.outputs, l.ep + i * l.outputs * b);
      // ma·me is exact in float64 for f32 operands: fround rounds it once, as the kernel would
      const g = precision === 'f32' ? Math.fround(ma * me) : ma * me;
      if (!Number.isFinite(g)) {
        throw new RangeError(
          `list[${idx}]: the per-example gradient of example ${i} (E[i]·A[i]ᵀ) overflows ${precision} (about ${ma * me}); ` +
            `rescale the loss or use precision 'f64'`,
        );
      }
      if (g > m) m = g;
      if (l.bias && me > m) m = me;
    }
  });
  return m;
}

/** The layers restricted to rows [from, from + count) (pointer offsets: no copy). */
export function layerRows(precision: Precision, list: readonly LayerInWasm[], from: number): LayerInWasm[] {
  const b = BYTES[precision];
  return list.map((l) => ({ ...l, ap: l.ap + from * l.inputs * b, ep: l.ep + from * l.outputs * b }));
}

/** Writes rows [from, from + count) of G (per-example gradients, row stride ld) at gp. */
export function writeLayerRows(
  e: Engine,
  precision: Precision,
  list: readonly LayerInWasm[],
  from: number,
  count: number,
  gp: number,
  ld: number,
): void {
  let offset = 0;
  for (const l of layerRows(precision, list, from)) {
    perExampleGradientsInWasm(e, precision, l, count, gp, offset, ld);
    offset += l.outputs * l.inputs + (l.bias ? l.outputs : 0);
  }
}
