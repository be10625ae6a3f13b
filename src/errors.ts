/**
 * Thrown when a matrix is not (numerically) positive definite: the Cholesky factorisation met a
 * pivot that was ≤ 0 or not finite.
 *
 * `pivot` is LAPACK's `info`: the 1-based order of the leading minor that is not positive
 * definite. The leading `pivot − 1` rows and columns did factor.
 */
export class NotPositiveDefiniteError extends Error {
  override readonly name = 'NotPositiveDefiniteError';
  /** 1-based order of the first leading minor that is not positive definite */
  readonly pivot: number;

  constructor(pivot: number, detail = '') {
    super(
      `the matrix is not positive definite: the leading minor of order ${pivot} is not positive` +
        (detail ? ` (${detail})` : ''),
    );
    this.pivot = pivot;
  }
}
