/**
 * The layer kit: per-example gradients of dense layers, and every product with G that the
 * empirical Fisher needs, from each layer's inputs A and back-propagated output gradients E alone.
 *
 * A dense layer y = W a + b (W: outputs × inputs) seen on a minibatch of n examples has inputs
 * A (n × inputs, row i = a_i) and output gradients E (n × outputs, row i = e_i = ∂ℓ_i/∂y_i). Its
 * per-example gradient is g_i = vec(e_i a_iᵀ) (W row-major: element o·inputs + j is e_io·a_ij),
 * then e_i for b. **Parameter layout** (everywhere: params, G's columns, every vector here): layer
 * after layer, W row-major, then b if the layer has a bias; d = Σ outputs·inputs (+ outputs).
 */
import { getEngine, type Engine, type FloatArray, type Precision } from '../engine.js';
import * as check from '../validate.js';
import {
  diagonalInWasm,
  gradientTimesInWasm,
  gradientTransposeTimesInWasm,
  gramInWasm,
  layerParameterCount,
  meanGradientInWasm,
  perExampleGradientsInWasm,
  type LayerInWasm,
} from './inwasm.js';

/** The shape of a dense layer y = W a + b. */
export interface DenseLayerShape {
  /** length of a (columns of W), an integer ≥ 1 */
  inputs: number;
  /** length of y (rows of W), an integer ≥ 1 */
  outputs: number;
  /** whether the layer has the bias b (default true) */
  bias?: boolean;
}

/** A dense layer's statistics on a minibatch of n examples (row-major; A and E of one type). */
export interface DenseLayerStats<T extends FloatArray = FloatArray> extends DenseLayerShape {
  /** the layer's inputs, n × inputs (row i = a_i); its type sets the precision */
  A: T;
  /** the gradients of the per-example losses with respect to the layer's outputs, n × outputs (row i = e_i = ∂ℓ_i/∂y_i) */
  E: T;
}

const BYTES: Record<Precision, number> = { f32: 4, f64: 8 };

function allocArray(precision: Precision, len: number): FloatArray {
  return precision === 'f32' ? new Float32Array(len) : new Float64Array(len);
}

const TYPE_NAME: Record<Precision, string> = { f32: 'Float32Array', f64: 'Float64Array' };

interface Shape {
  inputs: number;
  outputs: number;
  bias: boolean;
}

function shapeOf(name: string, s: unknown): Shape {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) {
    throw new TypeError(`${name} must be an object { inputs, outputs, bias? }, got ${check.describe(s)}`);
  }
  const o = s as Record<string, unknown>;
  const inputs = check.size(`${name}.inputs`, o.inputs, 1);
  const outputs = check.size(`${name}.outputs`, o.outputs, 1);
  if (o.bias !== undefined && typeof o.bias !== 'boolean') {
    throw new TypeError(`${name}.bias must be a boolean, got ${check.describe(o.bias)}`);
  }
  return { inputs, outputs, bias: o.bias !== false };
}

function listOf(name: string, list: unknown): readonly unknown[] {
  if (!Array.isArray(list)) throw new TypeError(`${name} must be an array of layers, got ${check.describe(list)}`);
  if (list.length === 0) throw new RangeError(`${name} is empty: it needs at least one layer`);
  return list;
}

interface Stats extends Shape {
  name: string;
  A: FloatArray;
  E: FloatArray;
}

/** Validates the stats of one layer (n examples); `precision` when it must match earlier layers. */
function statsOf(name: string, s: unknown, n: number, precision?: Precision): { stats: Stats; precision: Precision } {
  const shape = shapeOf(name, s);
  const o = s as Record<string, unknown>;
  const p = check.precisionOf(`${name}.A`, o.A);
  const pe = check.precisionOf(`${name}.E`, o.E);
  if (pe !== p) throw new TypeError(`${name}.E must be a ${TYPE_NAME[p]} like ${name}.A, got a ${TYPE_NAME[pe]}`);
  if (precision !== undefined && p !== precision) {
    throw new TypeError(`${name}.A is a ${TYPE_NAME[p]}, but the first layer's is a ${TYPE_NAME[precision]}: every layer needs one precision`);
  }
  const A = o.A as FloatArray;
  const E = o.E as FloatArray;
  check.length(`${name}.A`, A, n * shape.inputs, 'n·inputs');
  check.length(`${name}.E`, E, n * shape.outputs, 'n·outputs');
  return { stats: { ...shape, name, A, E }, precision: p };
}

function listStats(name: string, list: unknown, n: number): { stats: Stats[]; precision: Precision } {
  const items = listOf(name, list);
  const stats: Stats[] = [];
  let precision: Precision | undefined;
  items.forEach((s, l) => {
    const r = statsOf(`${name}[${l}]`, s, n, precision);
    precision = r.precision;
    stats.push(r.stats);
  });
  return { stats, precision: precision as Precision };
}

/**
 * Copies every layer's A and E into wasm memory (checking them finite), runs `f` on the layers
 * there, frees everything (also on failure). `extra` bytes are allocated first, for the caller.
 */
function inWasm<R>(
  what: string,
  precision: Precision,
  stats: readonly Stats[],
  n: number,
  extra: readonly number[],
  f: (e: Engine, layers: LayerInWasm[], ptrs: number[]) => R,
): R {
  const e = getEngine();
  const S = BYTES[precision];
  const sizes = [...extra];
  for (const l of stats) sizes.push(n * l.inputs * S, n * l.outputs * S);
  check.fits(e, what, ...sizes);
  const ptrs: number[] = [];
  try {
    for (const b of extra) ptrs.push(e.alloc(Math.max(b, 16)));
    const layers = stats.map((l) => {
      const ap = e.alloc(Math.max(n * l.inputs * S, 16));
      ptrs.push(ap);
      const ep = e.alloc(Math.max(n * l.outputs * S, 16));
      ptrs.push(ep);
      e.put(precision, ap, l.A);
      check.finiteInWasm(e, precision, `${l.name}.A`, l.A, ap, n * l.inputs);
      e.put(precision, ep, l.E);
      check.finiteInWasm(e, precision, `${l.name}.E`, l.E, ep, n * l.outputs);
      return { ap, ep, inputs: l.inputs, outputs: l.outputs, bias: l.bias };
    });
    return f(e, layers, ptrs);
  } finally {
    for (let i = ptrs.length - 1; i >= 0; i--) e.free(ptrs[i]);
  }
}

/** Copies a vector argument (either float type, converted) into wasm memory at ptr, checking it finite. */
function putVector(e: Engine, precision: Precision, name: string, x: FloatArray, ptr: number): void {
  e.put(precision, ptr, x);
  check.finiteInWasm(e, precision, name, x, ptr, x.length);
}

/** The result (len elements at ptr) checked finite, then copied into out or a new array. */
function result<T extends FloatArray>(e: Engine, precision: Precision, what: string, ptr: number, len: number, out: T | undefined): T {
  check.resultFinite(e, precision, what, ptr, len, `scale A or E down${precision === 'f32' ? ' or use Float64Array' : ''}`);
  const r = out ?? (allocArray(precision, len) as T);
  r.set(e.view(precision, ptr, len));
  return r;
}

/**
 * d, the number of parameters of a list of dense layers: Σ outputs·inputs (+ outputs with a bias).
 * @param shapes [in] the layers in parameter order ({ inputs, outputs, bias? }; DenseLayerStats too)
 * @throws TypeError / RangeError naming the bad entry (not an array, empty, inputs or outputs not
 *   an integer ≥ 1, bias not a boolean)
 * @example
 * layers.size([{ inputs: 784, outputs: 1024 }, { inputs: 1024, outputs: 10, bias: false }]) // 814080
 */
function size(shapes: readonly DenseLayerShape[]): number {
  const items = listOf('shapes', shapes);
  const list = items.map((s, l) => shapeOf(`shapes[${l}]`, s));
  const d = layerParameterCount(list);
  if (!Number.isSafeInteger(d)) throw new RangeError(`shapes describe ${d} parameters, more than can be counted`);
  return d;
}

export interface PerExampleGradientsOptions<T extends FloatArray = FloatArray> {
  /** G, n × ld, A's type: the rows are written at columns [offset, offset + size) of each row, nothing else is touched */
  out?: T;
  /** the column of G where this layer's parameters start (default 0) */
  offset?: number;
  /** G's row length (default: out.length / n with out and n > 0, else offset + size) */
  ld?: number;
}

/**
 * The per-example gradient rows of one dense layer, written in place into a caller's G: row i,
 * columns [offset, offset + s) with s = outputs·inputs (+ outputs), becomes vec(e_i a_iᵀ) then
 * e_i. A model with many layers fills one G with one call per layer (offset = the layer's first
 * parameter), no copy of G made. Nothing outside those columns is written.
 * @param stats [in] { A (n × inputs), E (n × outputs), inputs, outputs, bias? }; A sets the precision
 * @param n the number of examples (rows), an integer ≥ 0
 * @param opts.out [in,out] n × ld, A's type (default: a new zero-filled array, ld = offset + s)
 * @returns out
 * @throws TypeError if A, E or out is not a float typed array, E or out is not A's type;
 *   RangeError on a bad n, inputs, outputs, offset or ld (offset + s > ld), a length mismatch
 *   (A: n·inputs, E: n·outputs, out: n·ld), a non-finite element of A or E (naming its index), or
 *   an unknown option. Nothing is written on failure.
 * @example
 * // one example, a = [1, 2], e = [3]: W's gradient [3, 6], then b's [3]
 * layers.perExampleGradients({ A: new Float64Array([1, 2]), E: new Float64Array([3]), inputs: 2, outputs: 1 }, 1)
 * // Float64Array [3, 6, 3]
 */
function perExampleGradients<T extends FloatArray>(stats: DenseLayerStats<T>, n: number, opts?: PerExampleGradientsOptions<T>): T {
  check.size('n', n);
  const { stats: s, precision } = statsOf('stats', stats, n);
  const o = check.options('options', opts, ['out', 'offset', 'ld']);
  const offset = o.offset === undefined ? 0 : check.size('options.offset', o.offset);
  const cols = s.outputs * s.inputs + (s.bias ? s.outputs : 0);
  let out: T | undefined;
  let ld: number;
  if (o.out !== undefined) {
    const p = check.precisionOf('options.out', o.out);
    if (p !== precision) throw new TypeError(`options.out must be a ${TYPE_NAME[precision]} like stats.A, got a ${TYPE_NAME[p]}`);
    out = o.out as T;
    if (o.ld !== undefined) ld = check.size('options.ld', o.ld, 1);
    else if (n === 0) ld = offset + cols;
    else if (out.length % n === 0) ld = out.length / n;
    else throw new RangeError(`options.out has length ${out.length}, not a multiple of n = ${n}: give options.ld`);
  } else {
    ld = o.ld === undefined ? offset + cols : check.size('options.ld', o.ld, 1);
  }
  if (offset + cols > ld) {
    throw new RangeError(`options.offset + the layer's ${cols} parameters = ${offset + cols} exceeds options.ld = ${ld}`);
  }
  if (out !== undefined) check.length('options.out', out, n * ld, 'n·ld');
  const S = BYTES[precision];
  return inWasm(`perExampleGradients with n = ${n} (A, E and the n × ${cols} rows)`, precision, [s], n, [n * cols * S], (e, [layer], [gp]) => {
    perExampleGradientsInWasm(e, precision, layer, n, gp, 0, cols);
    check.resultFinite(e, precision, 'the per-example gradients e_i a_iᵀ', gp, n * cols, `scale A or E down${precision === 'f32' ? ' or use Float64Array' : ''}`);
    const r = out ?? (allocArray(precision, n * ld) as T);
    const rows = e.view(precision, gp, n * cols);
    for (let i = 0; i < n; i++) r.set(rows.subarray(i * cols, (i + 1) * cols), i * ld + offset);
    return r;
  });
}

function outputOf<T extends FloatArray>(out: unknown, precision: Precision, len: number, formula: string): T | undefined {
  return out === undefined ? undefined : check.output<T>(out, precision, len, formula);
}

/**
 * The minibatch gradient ḡ = (1/n) Σ_i g_i: per layer Eᵀ A / n (W) and the column means of E (b).
 * @param list [in] the layers' stats in parameter order (non-empty, one precision)
 * @param n the number of examples, an integer ≥ 1
 * @param out [out] length d, A's type (may alias an input: everything is copied first)
 * @returns out, or a new array of length d
 * @throws TypeError / RangeError as gram (and out of the wrong type or length d)
 * @example
 * const A = new Float64Array([1, 2, 3, 4]), E = new Float64Array([1, -1]); // n = 2, 2 → 1
 * layers.meanGradient([{ A, E, inputs: 2, outputs: 1 }], 2) // Float64Array [-1, -1, 0]
 */
function meanGradient<T extends FloatArray>(list: readonly DenseLayerStats<T>[], n: number, out?: T): T {
  check.size('n', n, 1);
  const { stats, precision } = listStats('list', list, n);
  const d = layerParameterCount(stats);
  const o = outputOf<T>(out, precision, d, 'the layers\' parameter count d');
  return inWasm(`meanGradient with n = ${n}, d = ${d}`, precision, stats, n, [d * BYTES[precision]], (e, layers, [xp]) => {
    meanGradientInWasm(e, precision, layers, n, xp);
    return result(e, precision, 'the mean gradient', xp, d, o);
  });
}

/**
 * The diagonal of the empirical Fisher, (1/n) Σ_i g_i∘g_i: per layer (E∘E)ᵀ(A∘A) / n (W) and the
 * column means of E∘E (b).
 * @param list [in] the layers' stats in parameter order; @param n examples, ≥ 1
 * @param out [out] length d, A's type
 * @returns out, or a new array of length d
 * @throws as meanGradient
 * @example
 * const A = new Float64Array([1, 2, 3, 4]), E = new Float64Array([1, -1]);
 * layers.diagonal([{ A, E, inputs: 2, outputs: 1 }], 2) // Float64Array [5, 10, 1]
 */
function diagonal<T extends FloatArray>(list: readonly DenseLayerStats<T>[], n: number, out?: T): T {
  check.size('n', n, 1);
  const { stats, precision } = listStats('list', list, n);
  const d = layerParameterCount(stats);
  const o = outputOf<T>(out, precision, d, 'the layers\' parameter count d');
  return inWasm(`diagonal with n = ${n}, d = ${d}`, precision, stats, n, [d * BYTES[precision]], (e, layers, [xp]) => {
    diagonalInWasm(e, precision, layers, n, 1 / n, 0, xp);
    return result(e, precision, 'the diagonal (1/n) Σ g_i∘g_i', xp, d, o);
  });
}

/**
 * The Gram matrix of the per-example gradients, K = G Gᵀ (n × n, full symmetric), without G:
 * K_ij = g_i·g_j = Σ_layers (a_i·a_j + [bias])·(e_i·e_j), i.e. Σ (A Aᵀ + 1)∘(E Eᵀ).
 * @param list [in] the layers' stats in parameter order (non-empty; every A and E one type)
 * @param n the number of examples, an integer ≥ 0
 * @param out [out] n × n, A's type (may alias an input)
 * @returns out, or a new n × n array
 * @throws TypeError if list is not an array, an entry not an object, A/E/out not float typed
 *   arrays or not all one type; RangeError on an empty list, a bad n, inputs or outputs, a length
 *   mismatch (A: n·inputs, E: n·outputs, out: n·n), a non-finite element (naming the layer, the
 *   array and the index), or a result beyond the precision's range. Nothing is written on failure.
 * @example
 * const A = new Float64Array([1, 2, 3, 4]), E = new Float64Array([1, -1]);
 * layers.gram([{ A, E, inputs: 2, outputs: 1 }], 2) // Float64Array [6, -12, -12, 26]
 */
function gram<T extends FloatArray>(list: readonly DenseLayerStats<T>[], n: number, out?: T): T {
  check.size('n', n);
  const { stats, precision } = listStats('list', list, n);
  const o = outputOf<T>(out, precision, n * n, 'n·n');
  const S = BYTES[precision];
  return inWasm(`gram with n = ${n} (A, E, the n × n result and two n × n scratch)`, precision, stats, n, [n * n * S, 2 * n * n * S], (e, layers, [kp]) => {
    gramInWasm(e, precision, layers, n, kp, n);
    return result(e, precision, 'the Gram matrix G Gᵀ', kp, n * n, o);
  });
}

/**
 * G v (length n, element i = g_i·v), without G: per layer one GEMM and a row-wise dot, plus E b.
 * @param list [in] the layers' stats in parameter order; @param n examples, ≥ 0
 * @param v [in] length d in the parameter layout; either float type (converted to A's)
 * @param out [out] length n, A's type
 * @returns out, or a new array of length n
 * @throws as gram; also v not a float typed array, of length ≠ d or not finite (naming the index)
 * @example
 * const A = new Float64Array([1, 2, 3, 4]), E = new Float64Array([1, -1]);
 * layers.gradientTimes([{ A, E, inputs: 2, outputs: 1 }], 2, new Float64Array([1, 0, 1])) // Float64Array [2, -4]
 */
function gradientTimes<T extends FloatArray>(list: readonly DenseLayerStats<T>[], n: number, v: FloatArray, out?: T): T {
  check.size('n', n);
  const { stats, precision } = listStats('list', list, n);
  const d = layerParameterCount(stats);
  check.floatArray('v', v);
  check.length('v', v, d, 'the layers\' parameter count d');
  const o = outputOf<T>(out, precision, n, 'n');
  const S = BYTES[precision];
  return inWasm(`gradientTimes with n = ${n}, d = ${d}`, precision, stats, n, [d * S, n * S], (e, layers, [vp, yp]) => {
    putVector(e, precision, 'v', v, vp);
    gradientTimesInWasm(e, precision, layers, n, vp, yp);
    return result(e, precision, 'G v', yp, n, o);
  });
}

/**
 * Gᵀ u = Σ_i u_i g_i (length d, the parameter layout), without G: per layer Eᵀ diag(u) A (one
 * GEMM) and Eᵀ u.
 * @param list [in] the layers' stats in parameter order; @param n examples, ≥ 0
 * @param u [in] length n; either float type (converted to A's)
 * @param out [out] length d, A's type
 * @returns out, or a new array of length d
 * @throws as gradientTimes (u of length ≠ n)
 * @example
 * const A = new Float64Array([1, 2, 3, 4]), E = new Float64Array([1, -1]);
 * layers.gradientTransposeTimes([{ A, E, inputs: 2, outputs: 1 }], 2, new Float64Array([1, 1])) // Float64Array [-2, -2, 0]
 */
function gradientTransposeTimes<T extends FloatArray>(list: readonly DenseLayerStats<T>[], n: number, u: FloatArray, out?: T): T {
  check.size('n', n);
  const { stats, precision } = listStats('list', list, n);
  const d = layerParameterCount(stats);
  check.floatArray('u', u);
  check.length('u', u, n, 'n');
  const o = outputOf<T>(out, precision, d, 'the layers\' parameter count d');
  const S = BYTES[precision];
  return inWasm(`gradientTransposeTimes with n = ${n}, d = ${d}`, precision, stats, n, [n * S, d * S], (e, layers, [up, xp]) => {
    putVector(e, precision, 'u', u, up);
    gradientTransposeTimesInWasm(e, precision, layers, n, 1, up, 0, xp);
    return result(e, precision, 'Gᵀ u', xp, d, o);
  });
}

/** A named dense layer for layers.parameters. */
export interface NamedDenseLayerShape extends DenseLayerShape {
  /** the key of this layer in the result's `layers` (default: its index as a string); unique */
  name?: string;
}

/** Views of one layer's parameters inside the flat buffer (subarrays: writes go to params). */
export interface DenseLayerParameters<T extends FloatArray = FloatArray> {
  /** W, outputs × inputs row-major: W[o·inputs + i] */
  W: T;
  /** b (length outputs), or undefined for a layer without bias */
  b: T | undefined;
  /** index in params of W[0] */
  offset: number;
  inputs: number;
  outputs: number;
  bias: boolean;
}

export interface LayerParameters<T extends FloatArray = FloatArray> {
  /** every parameter, in the layer kit's layout (the columns of G; what the optimizer updates) */
  params: T;
  /** params.length */
  d: number;
  /** name → the views of that layer's W and b */
  layers: Record<string, DenseLayerParameters<T>>;
  /** the same views, in parameter order */
  list: DenseLayerParameters<T>[];
  /** [{ inputs, outputs, bias }] in parameter order, for `new EmpiricalFisher(d, { layers: shapes })` */
  shapes: Required<DenseLayerShape>[];
}

export interface ParametersOptions<T extends FloatArray = FloatArray> {
  /** 'f32' (default) or 'f64': the type of a new params buffer */
  precision?: Precision;
  /** an existing buffer of length d to lay the views over (its values kept; its type wins) */
  params?: T;
}

/**
 * Lays a model's dense layers out in one flat buffer, in the layer kit's parameter layout, and
 * hands back subarray views of each layer's W and b (no copies): writing `layers.fc1.W` writes
 * `params`, and the optimizer's in-place update of `params` is seen through the views. So params,
 * G's columns (perExampleGradients' offsets) and every vector of this kit agree.
 * @param shapes [in] the layers in parameter order: { name?, inputs, outputs, bias? }
 * @param opts.precision 'f32' (default) or 'f64' for a new zero-filled buffer
 * @param opts.params [in] an existing Float32Array/Float64Array of length d to view instead
 * @returns { params, d, layers: { [name]: { W, b, offset, … } }, list, shapes }
 * @throws TypeError / RangeError naming the bad entry (as layers.size; a name that is not a
 *   non-empty string or is repeated; an unknown precision; params of length ≠ d)
 * @example
 * const { params, layers: p, shapes } = layers.parameters(
 *   [{ name: 'fc1', inputs: 784, outputs: 128 }, { name: 'out', inputs: 128, outputs: 10 }],
 *   { precision: 'f32' });
 * p.fc1.W.length // 100352 (a view into params at offset 0); p.out.b.length // 10
 * const opt = new EmpiricalFisherOptimizer(params, { lr: 0.1 });
 */
function parameters<T extends FloatArray = Float32Array>(shapes: readonly NamedDenseLayerShape[], opts?: ParametersOptions<T>): LayerParameters<T> {
  const items = listOf('shapes', shapes);
  const parsed = items.map((s, l) => shapeOf(`shapes[${l}]`, s));
  const names = items.map((s, l) => {
    const name = (s as NamedDenseLayerShape).name;
    if (name === undefined) return String(l);
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`shapes[${l}].name must be a non-empty string, got ${check.describe(name)}`);
    }
    return name;
  });
  const seen = new Set<string>();
  names.forEach((name, l) => {
    if (seen.has(name)) throw new RangeError(`shapes[${l}].name "${name}" is used by an earlier layer: names must be unique`);
    seen.add(name);
  });
  const d = layerParameterCount(parsed);
  const o = check.options('options', opts, ['precision', 'params']);
  let params: T;
  if (o.params !== undefined) {
    const p = check.precisionOf('options.params', o.params);
    if (o.precision !== undefined && o.precision !== p) {
      throw new TypeError(`options.precision '${String(o.precision)}' does not match options.params, a ${TYPE_NAME[p]}`);
    }
    params = o.params as T;
    check.length('options.params', params, d, 'the layers\' parameter count d');
  } else {
    const precision = o.precision === undefined ? 'f32' : o.precision;
    if (precision !== 'f32' && precision !== 'f64') {
      throw new RangeError(`options.precision must be 'f32' or 'f64', got ${check.describe(precision)}`);
    }
    check.size('the parameter count d', d);
    params = allocArray(precision, d) as T;
  }
  const layersOut: Record<string, DenseLayerParameters<T>> = {};
  const list: DenseLayerParameters<T>[] = [];
  let off = 0;
  parsed.forEach((s, l) => {
    const w = s.outputs * s.inputs;
    const view: DenseLayerParameters<T> = {
      W: params.subarray(off, off + w) as T,
      b: s.bias ? (params.subarray(off + w, off + w + s.outputs) as T) : undefined,
      offset: off,
      inputs: s.inputs,
      outputs: s.outputs,
      bias: s.bias,
    };
    off += w + (s.bias ? s.outputs : 0);
    layersOut[names[l]] = view;
    list.push(view);
  });
  return { params, d, layers: layersOut, list, shapes: parsed.map((s) => ({ ...s })) };
}

/**
 * The layer kit: per-example gradients and the products with G of dense layers, from each layer's
 * inputs A and output gradients E (see the module comment for the layout). `list` is the layers'
 * stats in parameter order; precision follows A.
 */
export const layers = {
  size,
  parameters,
  perExampleGradients,
  meanGradient,
  diagonal,
  gram,
  gradientTimes,
  gradientTransposeTimes,
};
