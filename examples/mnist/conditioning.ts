/**
 * The conditioned task's input map: a fixed seeded T = Q D (784 × 784), Q a random orthogonal
 * matrix, D diagonal with entries log-uniform over [1e-2, 1e2] (condition number up to 1e4),
 * applied to every digit: x ↦ T x. The logistic regression on T x is the same problem as on x
 * reparametrised (W ↦ W T⁻¹): a method invariant to affine maps of the inputs sees no
 * difference; SGD and Adam (whose per-coordinate scaling cannot undo the rotation) do.
 *
 * Same bits in every engine: Q is the eigenvector matrix of a seeded random symmetric matrix
 * (`linalg.eigh`, in wasm; the eigenvectors of a Gaussian symmetric matrix are a Haar-random
 * orthogonal matrix, and ours has near-Gaussian entries), D's powers of ten come from square
 * roots of 10 (Math.sqrt is exact), and T x is a wasm gemm. No Math.exp, log or pow.
 */
import { linalg } from '../../src/index.js';
import { SeededRandom } from '../../src/models/index.js';

export interface ConditioningMap {
  /** input length (784) */
  size: number;
  /** T = Q D, size × size row-major (f64) */
  T: Float64Array;
  /** the diagonal of D */
  scales: Float64Array;
}

/** Bits of the exponent's fraction: 10^(4·r/2^BITS) for an integer r < 2^BITS. */
const BITS = 24;

/**
 * 10^(4r/2^BITS − 2) for 0 ≤ r < 2^BITS: a product of the powers 10^(2^k / 2^(BITS − 2)) of
 * r's set bits, each from repeated square roots of 10 (or 10 and 100 for the top two bits).
 */
function makeLogUniform(): (r: number) => number {
  const pow: number[] = new Array(BITS);
  // bit BITS − 1 ↔ 10², bit BITS − 2 ↔ 10¹, bit k ↔ 10^(2^(k − BITS + 2))
  pow[BITS - 1] = 100;
  pow[BITS - 2] = 10;
  for (let k = BITS - 3; k >= 0; k--) pow[k] = Math.sqrt(pow[k + 1]);
  return (r) => {
    let v = 0.01;
    for (let k = BITS - 1; k >= 0; k--) if ((r >>> k) & 1) v *= pow[k];
    return v;
  };
}

/** A near-standard-normal draw: the sum of 12 uniforms minus 6 (Irwin–Hall; mean 0, variance 1). */
function normal(rng: SeededRandom): number {
  let s = -6;
  for (let k = 0; k < 12; k++) s += rng.uniform();
  return s;
}

/**
 * The map T = Q D of size `size` from `seed`.
 * @example conditioningMap(784, 7).scales  // 784 values in [0.01, 100), log-uniform
 */
export function conditioningMap(size: number, seed: number): ConditioningMap {
  const rng = new SeededRandom(seed);
  // Q: eigenvectors of a symmetric matrix with near-Gaussian entries
  const S = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      const v = normal(rng);
      S[i * size + j] = v;
      S[j * size + i] = v;
    }
  }
  const { vectors } = linalg.eigh(S, size);
  // vectors[k·size + i] is component i of eigenvector k: Q[i][k]
  const logUniform = makeLogUniform();
  const scales = new Float64Array(size);
  for (let j = 0; j < size; j++) scales[j] = logUniform(rng.nextU32() >>> (32 - BITS));
  const T = new Float64Array(size * size);
  for (let k = 0; k < size; k++) {
    for (let i = 0; i < size; i++) T[i * size + k] = vectors![k * size + i] * scales[k];
  }
  return { size, T, scales };
}

/**
 * The rows of x (n × size, row-major) mapped by T: out_i = T x_i, i.e. out = x Tᵀ (a wasm gemm
 * in f32, the precision of the demo's data).
 */
export function applyMap(map: ConditioningMap, x: Float32Array, n: number): Float32Array {
  const T32 = Float32Array.from(map.T);
  return linalg.gemm(x, T32, n, map.size, map.size, { transB: true }) as Float32Array;
}
