/**
 * Plain float64 TypeScript references for every operation the engine computes.
 *
 * Used only by tests (and benchmarks). Every input is any `ArrayLike<number>` (a Float32Array is
 * read exactly, since every f32 is an f64), every output a fresh Float64Array. Matrices are
 * row-major and dense (leading dimension = number of columns). Loops are ordered so the inner loop
 * walks a row contiguously, which keeps d = 513 fast enough for a test suite.
 *
 * Only + − × ÷ and Math.sqrt appear on numeric paths (no Math.pow, no `**`): the results are the
 * same bits in every JavaScript engine.
 */

/** Thrown by {@link refCholesky}; `pivot` is the 1-based order of the failing leading minor. */
export class RefNotPositiveDefinite extends Error {
  readonly pivot: number;
  constructor(pivot: number) {
    super(`reference Cholesky: leading minor of order ${pivot} is not positive definite`);
    this.pivot = pivot;
  }
}

/**
 * C ← β·C + α·GᵀG, the full symmetric d × d matrix. G is n × d. When β == 0, C is not read
 * (BLAS convention), so it may be absent or hold NaN.
 */
export function refSyrk(
  G: ArrayLike<number>,
  n: number,
  d: number,
  alpha = 1,
  beta = 0,
  C?: ArrayLike<number>,
): Float64Array {
  const acc = new Float64Array(d * d);
  for (let k = 0; k < n; k++) {
    const row = k * d;
    for (let i = 0; i < d; i++) {
      const gi = G[row + i];
      if (gi === 0) continue;
      const ci = i * d;
      for (let j = 0; j < d; j++) acc[ci + j] += gi * G[row + j];
    }
  }
  const out = new Float64Array(d * d);
  for (let t = 0; t < d * d; t++) {
    out[t] = alpha * acc[t] + (beta !== 0 && C ? beta * C[t] : 0);
  }
  return out;
}

/** Σ_k |g_ki|·|g_kj|: the scale of the rounding error of entry (i, j) of GᵀG. */
export function refSyrkAbs(G: ArrayLike<number>, n: number, d: number): Float64Array {
  const acc = new Float64Array(d * d);
  for (let k = 0; k < n; k++) {
    const row = k * d;
    for (let i = 0; i < d; i++) {
      const gi = Math.abs(G[row + i]);
      const ci = i * d;
      for (let j = 0; j < d; j++) acc[ci + j] += gi * Math.abs(G[row + j]);
    }
  }
  return acc;
}

/** The Gram matrix G·Gᵀ (n × n) of the rows of G (n × d). */
export function refGram(G: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += G[i * d + k] * G[j * d + k];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/**
 * Lower Cholesky factor L (upper triangle zero) with L·Lᵀ = A + shift·I. Reads only the lower
 * triangle of A (the diagonal included). Throws {@link RefNotPositiveDefinite} with the 1-based
 * pivot when a pivot is ≤ 0 or not finite.
 */
export function refCholesky(A: ArrayLike<number>, d: number, shift = 0): Float64Array {
  const L = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const rj = j * d;
    let s = A[rj + j] + shift;
    for (let k = 0; k < j; k++) s -= L[rj + k] * L[rj + k];
    if (!(s > 0) || !Number.isFinite(s)) throw new RefNotPositiveDefinite(j + 1);
    const ljj = Math.sqrt(s);
    L[rj + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      const ri = i * d;
      let t = A[ri + j];
      for (let k = 0; k < j; k++) t -= L[ri + k] * L[rj + k];
      L[ri + j] = t / ljj;
    }
  }
  return L;
}

/**
 * Solves L·Lᵀ X = B for nrhs right-hand sides stored one after another (B[k·d + i]).
 * Reads only the lower triangle of L.
 */
export function refCholeskySolve(
  L: ArrayLike<number>,
  d: number,
  B: ArrayLike<number>,
  nrhs: number,
): Float64Array {
  const X = new Float64Array(d * nrhs);
  const y = new Float64Array(d);
  for (let r = 0; r < nrhs; r++) {
    const off = r * d;
    // forward: L y = b
    for (let i = 0; i < d; i++) {
      const ri = i * d;
      let s = B[off + i];
      for (let k = 0; k < i; k++) s -= L[ri + k] * y[k];
      y[i] = s / L[ri + i];
    }
    // back: Lᵀ x = y, walking rows of L: once x_i is known, remove L[i,k]·x_i from y_k (k < i)
    for (let i = d - 1; i >= 0; i--) {
      const ri = i * d;
      const xi = y[i] / L[ri + i];
      X[off + i] = xi;
      for (let k = 0; k < i; k++) y[k] -= L[ri + k] * xi;
    }
  }
  return X;
}

/** Solves (A + shift·I) X = B with A symmetric positive definite (lower triangle read). */
export function refSolveSPD(
  A: ArrayLike<number>,
  d: number,
  B: ArrayLike<number>,
  nrhs: number,
  shift = 0,
): Float64Array {
  return refCholeskySolve(refCholesky(A, d, shift), d, B, nrhs);
}

/** y = A x, A m × n. */
export function refGemv(A: ArrayLike<number>, m: number, n: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += A[i * n + j] * x[j];
    y[i] = s;
  }
  return y;
}

/** y = Aᵀ x, A m × n (y has n entries). */
export function refGemvT(A: ArrayLike<number>, m: number, n: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    const xi = x[i];
    for (let j = 0; j < n; j++) y[j] += A[i * n + j] * xi;
  }
  return y;
}

/** y = A x with A symmetric d × d, only its lower triangle read. */
export function refSymvLower(A: ArrayLike<number>, d: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j <= i; j++) {
      const a = A[i * d + j];
      s += a * x[j];
      if (j !== i) y[j] += a * x[i];
    }
    y[i] += s;
  }
  return y;
}

/** Copies the lower triangle of A (d × d) into both triangles of a new symmetric matrix. */
export function symmetricFromLower(A: ArrayLike<number>, d: number): Float64Array {
  const S = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      S[i * d + j] = A[i * d + j];
      S[j * d + i] = A[i * d + j];
    }
  }
  return S;
}

/** L·Lᵀ of the lower triangle of L. */
export function refLLt(L: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k <= j; k++) s += L[i * d + k] * L[j * d + k];
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
  return out;
}

/** Frobenius norm (also the 2-norm of a vector). */
export function frobenius(A: ArrayLike<number>): number {
  // scaled sum of squares: no overflow for large entries, no Math.pow
  let scale = 0;
  for (let i = 0; i < A.length; i++) {
    const a = Math.abs(A[i]);
    if (a > scale) scale = a;
  }
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let i = 0; i < A.length; i++) {
    const a = A[i] / scale;
    s += a * a;
  }
  return scale * Math.sqrt(s);
}

/** Euclidean norm of a vector. */
export function norm2(x: ArrayLike<number>): number {
  return frobenius(x);
}

/** ‖A − B‖_F. */
export function frobeniusDiff(A: ArrayLike<number>, B: ArrayLike<number>): number {
  const D = new Float64Array(A.length);
  for (let i = 0; i < A.length; i++) D[i] = A[i] - B[i];
  return frobenius(D);
}

/** max_i |x_i|. */
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (!(a <= m)) m = a;
  }
  return m;
}

/** trace of a d × d matrix. */
export function trace(A: ArrayLike<number>, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += A[i * d + i];
  return s;
}

/** vᵀ A v for a full d × d matrix. */
export function refQuadratic(A: ArrayLike<number>, d: number, v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < d; i++) {
    let t = 0;
    for (let j = 0; j < d; j++) t += A[i * d + j] * v[j];
    s += v[i] * t;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Empirical Fisher

/** The minibatch empirical Fisher F̂ = (1/n) GᵀG (mean of the outer products g_i g_iᵀ). */
export function refFisherBatch(G: ArrayLike<number>, n: number, d: number): Float64Array {
  const F = refSyrk(G, n, d);
  for (let t = 0; t < F.length; t++) F[t] /= n;
  return F;
}

/**
 * The running empirical Fisher: F_t = β F_{t−1} + (1−β) F̂_t from F_0 = 0, reported as
 * F_t / (1 − β^t) with bias correction. β^t is tracked by repeated multiplication.
 *
 * Alongside F it tracks the same recurrence on |G| (`scale()`), the natural scale of the rounding
 * error of each entry.
 */
export class RefRunningFisher {
  readonly d: number;
  readonly decay: number;
  readonly biasCorrection: boolean;
  steps = 0;
  examples = 0;
  private F: Float64Array;
  private Fabs: Float64Array;
  private decayPower = 1;

  constructor(d: number, decay = 0, biasCorrection = true) {
    this.d = d;
    this.decay = decay;
    this.biasCorrection = biasCorrection;
    this.F = new Float64Array(d * d);
    this.Fabs = new Float64Array(d * d);
  }

  update(G: ArrayLike<number>, n: number): this {
    const d = this.d;
    const batch = refFisherBatch(G, n, d);
    const batchAbs = refSyrkAbs(G, n, d);
    const b = this.decay;
    for (let t = 0; t < d * d; t++) {
      this.F[t] = b * this.F[t] + (1 - b) * batch[t];
      this.Fabs[t] = b * this.Fabs[t] + (1 - b) * (batchAbs[t] / n);
    }
    this.decayPower *= b;
    this.steps++;
    this.examples += n;
    return this;
  }

  /** The bias correction factor 1 / (1 − β^t) (1 without bias correction or before any step). */
  private correction(): number {
    if (!this.biasCorrection || this.steps === 0) return 1;
    return 1 / (1 - this.decayPower);
  }

  /** F as reported (bias-corrected when enabled). */
  dense(): Float64Array {
    const c = this.correction();
    const out = new Float64Array(this.F.length);
    for (let t = 0; t < out.length; t++) out[t] = this.F[t] * c;
    return out;
  }

  /** The entrywise error scale: the same recurrence applied to |g_i||g_j|. */
  scale(): Float64Array {
    const c = this.correction();
    const out = new Float64Array(this.Fabs.length);
    for (let t = 0; t < out.length; t++) out[t] = this.Fabs[t] * c;
    return out;
  }

  reset(): void {
    this.F.fill(0);
    this.Fabs.fill(0);
    this.decayPower = 1;
    this.steps = 0;
    this.examples = 0;
  }
}

/** (F + λI)⁻¹ g in float64 for a full symmetric F. */
export function refPrecondition(F: ArrayLike<number>, d: number, damping: number, g: ArrayLike<number>): Float64Array {
  return refSolveSPD(F, d, g, 1, damping);
}

/**
 * Eigenvalues (ascending) of the symmetric d × d matrix whose lower triangle A holds, by the cyclic
 * Jacobi method (rotations chosen as in Golub & Van Loan §8.5, smaller angle), on a float64 copy.
 * Sweeps until the off-diagonal mass is below 1e-17 of ‖A‖_F (or 60 sweeps). Accurate to a few
 * ulps of ‖A‖₂; O(d³) per sweep, 6–10 sweeps.
 */
export function refEigenvaluesJacobi(A: ArrayLike<number>, d: number): Float64Array {
  const S = symmetricFromLower(A, d);
  const total = frobenius(S);
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) off += S[i * d + j] * S[i * d + j];
    if (!(Math.sqrt(2 * off) > 1e-17 * total)) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = S[p * d + q];
        if (apq === 0) continue;
        const theta = (S[q * d + q] - S[p * d + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // S ← Jᵀ S J with J the rotation in the (p, q) plane: rows, then columns
        const rp = p * d;
        const rq = q * d;
        for (let k = 0; k < d; k++) {
          const x = S[rp + k];
          const y = S[rq + k];
          S[rp + k] = c * x - s * y;
          S[rq + k] = s * x + c * y;
        }
        for (let k = 0; k < d; k++) {
          const x = S[k * d + p];
          const y = S[k * d + q];
          S[k * d + p] = c * x - s * y;
          S[k * d + q] = s * x + c * y;
        }
        S[p * d + q] = 0;
        S[q * d + p] = 0;
      }
    }
  }
  const w = new Float64Array(d);
  for (let i = 0; i < d; i++) w[i] = S[i * d + i];
  return w.sort();
}

/**
 * out (m × n) = α·op(A)·op(B) + β·C, the definition of GEMM on row-major arrays: op(A) is A
 * (stored m × k) or, with transA, Aᵀ (A stored k × m); op(B) is B (stored k × n) or, with transB,
 * Bᵀ (B stored n × k). When β == 0, C is not read (it may be absent or hold NaN).
 * With `abs`, returns |α|·|op(A)|·|op(B)| + |β|·|C| instead: the scale of the rounding error.
 */
export function refGemm(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  m: number,
  n: number,
  k: number,
  transA = false,
  transB = false,
  alpha = 1,
  beta = 0,
  C?: ArrayLike<number>,
  abs = false,
): Float64Array {
  const f = abs ? Math.abs : (x: number) => x;
  // op(B) as a dense k × n float64 matrix, so the inner loop walks a row
  const Bop = new Float64Array(k * n);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) Bop[p * n + j] = f(transB ? B[j * k + p] : B[p * n + j]);
  const acc = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const a = f(transA ? A[p * m + i] : A[i * k + p]);
      const bp = p * n;
      for (let j = 0; j < n; j++) acc[ci + j] += a * Bop[bp + j];
    }
  }
  const out = new Float64Array(m * n);
  for (let t = 0; t < m * n; t++) out[t] = f(alpha) * acc[t] + (beta !== 0 && C ? f(beta) * f(C[t]) : 0);
  return out;
}
