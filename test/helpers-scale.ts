/**
 * Helpers for the tests of the scalable representations (lowrank, blockdiag, diag) and of the
 * optimizer: float64 models of what each representation stores, residuals computed without a
 * d × d matrix, and a small seeded logistic-regression problem.
 *
 * No Node built-ins here (the browser suite can include the files that use it). Numeric paths use
 * only + − × ÷ and Math.sqrt, except the logistic-regression loss (Math.exp / Math.log), which
 * is only ever compared with a tolerance.
 */
import { frobenius, refSyrk } from './reference.js';
import { Rng, type FloatArray } from './util.js';

// ---------------------------------------------------------------------------------------------
// Low-rank: which rows are kept, with which weights

interface RefBatch {
  /** total weight of the batch in S (before bias correction) */
  weight: number;
  /** the rows still kept, oldest first (each a copy in float64, exact for f32 input) */
  rows: Float64Array[];
}

/**
 * A float64 model of LowRankStore (see its class comment): the newest `capacity` rows; a batch of
 * n rows enters with total weight W (1 with decay 0, 1 − β otherwise, scaled by β at each later
 * step) and its kept rows share W equally; eviction removes the oldest rows of the oldest batch
 * first; a batch larger than the capacity keeps its last rows. F = c·Σ_rows w_i u_i u_iᵀ with c the
 * bias correction 1/(1 − β^t).
 */
export class RefLowRank {
  steps = 0;
  examples = 0;
  private batches: RefBatch[] = [];
  private betaPow = 1;
  private cap = 0;

  constructor(
    readonly d: number,
    readonly decay = 0,
    readonly biasCorrection = true,
    /** fixed `rank` option, or undefined for the default growth (max(256, n) with decay > 0) */
    readonly rank?: number,
  ) {
    if (rank !== undefined) this.cap = rank;
  }

  update(G: ArrayLike<number>, n: number): this {
    const d = this.d;
    const first = this.decay === 0 || this.steps === 0;
    if (this.rank === undefined) this.cap = first ? Math.max(this.cap, n) : Math.max(this.cap, 256, n);
    if (first) this.batches = [];
    else for (const b of this.batches) b.weight *= this.decay;
    const W = this.decay === 0 ? 1 : 1 - this.decay;
    const m = Math.min(n, this.cap);
    const rows: Float64Array[] = [];
    for (let i = n - m; i < n; i++) {
      const r = new Float64Array(d);
      for (let j = 0; j < d; j++) r[j] = G[i * d + j];
      rows.push(r);
    }
    let total = this.batches.reduce((s, b) => s + b.rows.length, 0);
    while (total + m > this.cap) {
      const oldest = this.batches[0];
      oldest.rows.shift();
      if (oldest.rows.length === 0) this.batches.shift();
      total--;
    }
    this.batches.push({ weight: W, rows });
    this.steps++;
    this.examples += n;
    this.betaPow *= this.decay;
    return this;
  }

  /** the bias correction c */
  correction(): number {
    if (this.steps === 0 || this.decay === 0 || !this.biasCorrection) return 1;
    return 1 / (1 - this.betaPow);
  }

  /** rows kept now */
  get rowCount(): number {
    return this.batches.reduce((s, b) => s + b.rows.length, 0);
  }

  /** The kept rows scaled so that F = UᵀU: row i is √(c·w_i)·u_i (r × d, row-major, float64). */
  scaledRows(): { U: Float64Array; r: number } {
    const c = this.correction();
    const r = this.rowCount;
    const U = new Float64Array(r * this.d);
    let k = 0;
    for (const b of this.batches) {
      const s = Math.sqrt((c * b.weight) / b.rows.length);
      for (const row of b.rows) {
        for (let j = 0; j < this.d; j++) U[k * this.d + j] = s * row[j];
        k++;
      }
    }
    return { U, r };
  }

  /** F as a full d × d matrix (only for small d). */
  dense(): Float64Array {
    const { U, r } = this.scaledRows();
    return refSyrk(U, r, this.d);
  }
}

// ---------------------------------------------------------------------------------------------
// Residuals without a d × d matrix: F = UᵀU given by its r × d rows U

/** y = UᵀU x in float64. */
export function lowRankApply(U: ArrayLike<number>, r: number, d: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(d);
  for (let i = 0; i < r; i++) {
    const o = i * d;
    let t = 0;
    for (let j = 0; j < d; j++) t += U[o + j] * x[j];
    for (let j = 0; j < d; j++) y[j] += U[o + j] * t;
  }
  return y;
}

/** ‖(UᵀU + λI)x − g‖ / ‖g‖ in float64. */
export function lowRankResidual(
  U: ArrayLike<number>,
  r: number,
  d: number,
  lambda: number,
  x: ArrayLike<number>,
  g: ArrayLike<number>,
): number {
  const y = lowRankApply(U, r, d, x);
  for (let j = 0; j < d; j++) y[j] += lambda * x[j] - g[j];
  return frobenius(y) / frobenius(g);
}

/**
 * Normwise backward error ‖(F + λI)x − g‖ / (‖F + λI‖₂·‖x‖ + ‖g‖) for F = UᵀU, with ‖F + λI‖₂
 * bounded above by trace(F) + λ (F is PSD): a conservative (larger) estimate is the Frobenius
 * norm of the r × r Gram matrix plus λ, which is ≥ ‖F‖₂.
 */
export function lowRankBackwardError(
  U: ArrayLike<number>,
  r: number,
  d: number,
  lambda: number,
  x: ArrayLike<number>,
  g: ArrayLike<number>,
): number {
  const y = lowRankApply(U, r, d, x);
  for (let j = 0; j < d; j++) y[j] += lambda * x[j] - g[j];
  // ‖F‖₂ = ‖UUᵀ‖₂ ≤ ‖UUᵀ‖_F; use ‖UUᵀ‖_F (close to ‖F‖₂ for a few dominant directions)
  const K = gram64(U, r, d);
  const normA = frobenius(K) + lambda;
  return frobenius(y) / (normA * frobenius(x) + frobenius(g));
}

/** UUᵀ (r × r) in float64. */
export function gram64(U: ArrayLike<number>, r: number, d: number): Float64Array {
  const K = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    for (let k = 0; k <= i; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += U[i * d + j] * U[k * d + j];
      K[i * r + k] = s;
      K[k * r + i] = s;
    }
  }
  return K;
}

/** Solves the r × r SPD system A z = b by a float64 Cholesky (A full symmetric). */
function spdSolve(A: Float64Array, r: number, b: Float64Array): Float64Array {
  const L = new Float64Array(r * r);
  for (let j = 0; j < r; j++) {
    let s = A[j * r + j];
    for (let k = 0; k < j; k++) s -= L[j * r + k] * L[j * r + k];
    if (!(s > 0)) throw new Error(`spdSolve: pivot ${j + 1} is ${s}`);
    const l = Math.sqrt(s);
    L[j * r + j] = l;
    for (let i = j + 1; i < r; i++) {
      let t = A[i * r + j];
      for (let k = 0; k < j; k++) t -= L[i * r + k] * L[j * r + k];
      L[i * r + j] = t / l;
    }
  }
  const y = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * r + k] * y[k];
    y[i] = s / L[i * r + i];
  }
  const z = new Float64Array(r);
  for (let i = r - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < r; k++) s -= L[k * r + i] * z[k];
    z[i] = s / L[i * r + i];
  }
  return z;
}

/**
 * (UᵀU + λI)⁻¹ g in float64 by the Woodbury identity in r-space:
 * (1/λ)(g − Uᵀ(λI_r + UUᵀ)⁻¹ U g). λ > 0.
 */
export function woodbury64(U: ArrayLike<number>, r: number, d: number, lambda: number, g: ArrayLike<number>): Float64Array {
  const M = gram64(U, r, d);
  for (let i = 0; i < r; i++) M[i * r + i] += lambda;
  const Ug = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += U[i * d + j] * g[j];
    Ug[i] = s;
  }
  const z = spdSolve(M, r, Ug);
  const x = new Float64Array(d);
  for (let j = 0; j < d; j++) x[j] = g[j];
  for (let i = 0; i < r; i++) {
    const zi = z[i];
    for (let j = 0; j < d; j++) x[j] -= U[i * d + j] * zi;
  }
  for (let j = 0; j < d; j++) x[j] /= lambda;
  return x;
}

/** trace(UᵀU) = Σ ‖u_i‖². */
export function lowRankTrace(U: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < U.length; i++) s += U[i] * U[i];
  return s;
}

/**
 * A vector orthogonal to every row of U (r × d, r < d): a random vector minus its projection on
 * the row span (modified Gram–Schmidt twice, float64), scaled to the norm of a random vector.
 */
export function orthogonalToRows(rng: Rng, U: ArrayLike<number>, r: number, d: number): Float64Array {
  const Q: Float64Array[] = [];
  for (let i = 0; i < r; i++) {
    const q = new Float64Array(d);
    for (let j = 0; j < d; j++) q[j] = U[i * d + j];
    for (let pass = 0; pass < 2; pass++) {
      for (const p of Q) {
        let t = 0;
        for (let j = 0; j < d; j++) t += p[j] * q[j];
        for (let j = 0; j < d; j++) q[j] -= t * p[j];
      }
    }
    const nq = frobenius(q);
    if (nq > 1e-8) {
      for (let j = 0; j < d; j++) q[j] /= nq;
      Q.push(q);
    }
  }
  const v = new Float64Array(d);
  for (let j = 0; j < d; j++) v[j] = rng.normal();
  const nv0 = frobenius(v);
  for (let pass = 0; pass < 2; pass++) {
    for (const p of Q) {
      let t = 0;
      for (let j = 0; j < d; j++) t += p[j] * v[j];
      for (let j = 0; j < d; j++) v[j] -= t * p[j];
    }
  }
  const nv = frobenius(v);
  for (let j = 0; j < d; j++) v[j] *= nv0 / nv;
  return v;
}

/** A random combination Σ c_i u_i of the rows of U (inside their span). */
export function insideRows(rng: Rng, U: ArrayLike<number>, r: number, d: number): Float64Array {
  const v = new Float64Array(d);
  for (let i = 0; i < r; i++) {
    const c = rng.normal();
    for (let j = 0; j < d; j++) v[j] += c * U[i * d + j];
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Block-diagonal

/** F with every entry outside the diagonal blocks set to 0. */
export function blockMask(F: ArrayLike<number>, d: number, blocks: readonly number[]): Float64Array {
  const out = new Float64Array(d * d);
  let o = 0;
  for (const b of blocks) {
    for (let i = o; i < o + b; i++) for (let j = o; j < o + b; j++) out[i * d + j] = F[i * d + j];
    o += b;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Misc

/** Rows [from, from + count) of an n × d matrix, as a new array of the same type. */
export function rowsOf<T extends FloatArray>(G: T, d: number, from: number, count: number): T {
  return G.slice(from * d, (from + count) * d) as T;
}

/** Concatenation of two row-major matrices with d columns. */
export function concatRows<T extends FloatArray>(A: T, B: T): T {
  const out = new (A.constructor as { new (n: number): T })(A.length + B.length);
  out.set(A, 0);
  out.set(B, A.length);
  return out;
}

/** The raw bytes of a typed array (for bit-for-bit comparisons with a readable failure). */
export function sameBits(a: FloatArray, b: FloatArray): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  const ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

/** |a − b| / |b| (|a − b| if b = 0). */
export function relErr(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

// ---------------------------------------------------------------------------------------------
// Logistic regression (softmax, K classes, p features; parameters W (K × p) then biases (K))

export interface Logistic {
  K: number;
  p: number;
  /** number of parameters: K·p + K */
  d: number;
  N: number;
  X: Float64Array;
  y: Int32Array;
}

/**
 * A seeded softmax-regression problem whose features have very different scales (so the loss is
 * badly conditioned in the raw parameters, which a Fisher preconditioner undoes and SGD cannot),
 * labels drawn from a planted model with noise.
 */
export function makeLogistic(seed: number, K: number, p: number, N: number): Logistic {
  const rng = new Rng(seed);
  const scales = new Float64Array(p);
  for (let j = 0; j < p; j++) scales[j] = j % 3 === 0 ? 10 : j % 3 === 1 ? 1 : 0.1;
  const Wtrue = new Float64Array(K * p);
  for (let i = 0; i < K * p; i++) Wtrue[i] = rng.normal();
  const X = new Float64Array(N * p);
  const y = new Int32Array(N);
  const z = new Float64Array(K);
  for (let e = 0; e < N; e++) {
    for (let j = 0; j < p; j++) X[e * p + j] = scales[j] * rng.normal();
    let best = 0;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < p; j++) s += (Wtrue[k * p + j] * X[e * p + j]) / scales[j];
      z[k] = s + 2 * rng.normal();
      if (z[k] > z[best]) best = k;
    }
    y[e] = best;
  }
  return { K, p, d: K * p + K, N, X, y };
}

function softmaxProbs(P: Logistic, theta: ArrayLike<number>, e: number, prob: Float64Array): void {
  const { K, p, X } = P;
  let mx = -Infinity;
  for (let k = 0; k < K; k++) {
    let s = theta[K * p + k];
    for (let j = 0; j < p; j++) s += theta[k * p + j] * X[e * p + j];
    prob[k] = s;
    if (s > mx) mx = s;
  }
  let z = 0;
  for (let k = 0; k < K; k++) {
    prob[k] = Math.exp(prob[k] - mx);
    z += prob[k];
  }
  for (let k = 0; k < K; k++) prob[k] /= z;
}

/** Mean cross-entropy over the examples `idx` (all when omitted). */
export function logisticLoss(P: Logistic, theta: ArrayLike<number>, idx?: ArrayLike<number>): number {
  const prob = new Float64Array(P.K);
  const m = idx ? idx.length : P.N;
  let s = 0;
  for (let t = 0; t < m; t++) {
    const e = idx ? idx[t] : t;
    softmaxProbs(P, theta, e, prob);
    s -= Math.log(Math.max(prob[P.y[e]], 1e-300));
  }
  return s / m;
}

/** Per-example gradients of the cross-entropy (rows of an m × d matrix) for the examples `idx`. */
export function logisticGrads<T extends FloatArray>(
  P: Logistic,
  theta: ArrayLike<number>,
  idx: ArrayLike<number>,
  Type: { new (n: number): T },
): T {
  const { K, p, d, X, y } = P;
  const m = idx.length;
  const G = new Type(m * d);
  const prob = new Float64Array(K);
  for (let t = 0; t < m; t++) {
    const e = idx[t];
    softmaxProbs(P, theta, e, prob);
    for (let k = 0; k < K; k++) {
      const r = prob[k] - (y[e] === k ? 1 : 0);
      for (let j = 0; j < p; j++) G[t * d + k * p + j] = r * X[e * p + j];
      G[t * d + K * p + k] = r;
    }
  }
  return G;
}

/** Seeded minibatch index sequence: `steps` batches of `m` distinct-ish indices in [0, N). */
export function batchSchedule(seed: number, N: number, m: number, steps: number): Int32Array[] {
  const rng = new Rng(seed);
  const out: Int32Array[] = [];
  for (let s = 0; s < steps; s++) {
    const idx = new Int32Array(m);
    for (let i = 0; i < m; i++) idx[i] = rng.int(0, N - 1);
    out.push(idx);
  }
  return out;
}

/**
 * A float64 Woodbury solver for F = UᵀU + λI that forms the r × r matrix λI + UUᵀ once (r²·d/2
 * multiply-adds) and then solves any number of right-hand sides in O(r·d) each.
 */
export function woodburySolver(U: ArrayLike<number>, r: number, d: number, lambda: number): (g: ArrayLike<number>) => Float64Array {
  const M = gram64(U, r, d);
  for (let i = 0; i < r; i++) M[i * r + i] += lambda;
  return (g) => {
    const Ug = new Float64Array(r);
    for (let i = 0; i < r; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += U[i * d + j] * g[j];
      Ug[i] = s;
    }
    const z = spdSolve(M, r, Ug);
    const x = new Float64Array(d);
    for (let j = 0; j < d; j++) x[j] = g[j];
    for (let i = 0; i < r; i++) {
      const zi = z[i];
      for (let j = 0; j < d; j++) x[j] -= U[i * d + j] * zi;
    }
    for (let j = 0; j < d; j++) x[j] /= lambda;
    return x;
  };
}

/**
 * g minus its projection on the span of the rows of U (r × d, full row rank), in float64:
 * g − Uᵀ(UUᵀ)⁻¹Ug, applied twice (one re-orthogonalisation). Forms UUᵀ once; O(r·d) per vector.
 */
export function rowSpanComplement(U: ArrayLike<number>, r: number, d: number): (g: ArrayLike<number>) => Float64Array {
  const K = gram64(U, r, d);
  const once = (g: ArrayLike<number>): Float64Array => {
    const Ug = new Float64Array(r);
    for (let i = 0; i < r; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += U[i * d + j] * g[j];
      Ug[i] = s;
    }
    const z = spdSolve(K, r, Ug);
    const x = Float64Array.from(g);
    for (let i = 0; i < r; i++) {
      const zi = z[i];
      for (let j = 0; j < d; j++) x[j] -= U[i * d + j] * zi;
    }
    return x;
  };
  return (g) => once(once(g));
}

/**
 * A rows × cols matrix of uniform variates on [−√3, √3) (mean 0, variance 1): one generator call
 * per entry instead of the twelve of `randomMatrix`, for very large test matrices.
 */
export function uniformMatrix<T extends FloatArray>(rng: Rng, rows: number, cols: number, Type: { new (n: number): T }): T {
  const a = new Type(rows * cols);
  const s = 2 * Math.sqrt(3);
  for (let i = 0; i < a.length; i++) a[i] = (rng.uniform() - 0.5) * s;
  return a;
}
