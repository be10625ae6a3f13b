/**
 * Float64 references of the layer kit built from the definition: the per-example gradient of a
 * dense layer y = W a + b is g_i = vec(e_i a_iᵀ) (W row-major, outputs × inputs) then e_i, layer
 * after layer. Everything else is computed from that materialised G.
 */
export interface RefLayer {
  A: ArrayLike<number>;
  E: ArrayLike<number>;
  inputs: number;
  outputs: number;
  bias?: boolean;
}

export function refLayerCount(list: readonly RefLayer[]): number {
  let d = 0;
  for (const l of list) d += l.inputs * l.outputs + (l.bias === false ? 0 : l.outputs);
  return d;
}

/** G (n × d) from the definition; with abs, |G|. */
export function refLayerG(list: readonly RefLayer[], n: number, abs = false): Float64Array {
  const d = refLayerCount(list);
  const G = new Float64Array(n * d);
  const f = abs ? Math.abs : (x: number) => x;
  for (let i = 0; i < n; i++) {
    let c = i * d;
    for (const l of list) {
      for (let o = 0; o < l.outputs; o++) {
        for (let j = 0; j < l.inputs; j++) G[c++] = f(l.E[i * l.outputs + o]) * f(l.A[i * l.inputs + j]);
      }
      if (l.bias !== false) for (let o = 0; o < l.outputs; o++) G[c++] = f(l.E[i * l.outputs + o]);
    }
  }
  return G;
}

/** G v (n). */
export function refTimes(G: Float64Array, n: number, d: number, v: ArrayLike<number>, abs = false): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += G[i * d + j] * (abs ? Math.abs(v[j]) : v[j]);
    y[i] = s;
  }
  return y;
}

/** Gᵀ u (d). */
export function refTransposeTimes(G: Float64Array, n: number, d: number, u: ArrayLike<number>, abs = false): Float64Array {
  const x = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const ui = abs ? Math.abs(u[i]) : u[i];
    for (let j = 0; j < d; j++) x[j] += G[i * d + j] * ui;
  }
  return x;
}

/** K = G Gᵀ (n × n, full). */
export function refRowGram(G: Float64Array, n: number, d: number): Float64Array {
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += G[i * d + t] * G[j * d + t];
      K[i * n + j] = s;
      K[j * n + i] = s;
    }
  }
  return K;
}

/** (1/n) Σ g_i∘g_i (d). */
export function refSquaresMean(G: Float64Array, n: number, d: number): Float64Array {
  const x = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[j] += G[i * d + j] * G[i * d + j];
  for (let j = 0; j < d; j++) x[j] /= n;
  return x;
}
