// The part of benchmark.js (2.1, CommonJS, no bundled types) that the bench uses.
declare module 'benchmark' {
  export interface BenchmarkOptions {
    minSamples?: number;
    /** seconds */
    maxTime?: number;
    /** seconds */
    minTime?: number;
    initCount?: number;
  }
  export interface Benchmark {
    name: string;
    error?: unknown;
    /** sample: seconds per operation, one per cycle; rme: relative margin of error (%) */
    stats: { sample: number[]; rme: number; mean: number };
    run(options?: { async?: boolean }): Benchmark;
  }
  export interface Suite {
    readonly length: number;
    readonly [index: number]: Benchmark;
    add(name: string, fn: () => void, options?: BenchmarkOptions): Suite;
    on(type: string, listener: (event: { target: Benchmark }) => void): Suite;
    run(options?: { async?: boolean }): Suite;
  }
  const BenchmarkJs: {
    new (name: string, fn: () => void, options?: BenchmarkOptions): Benchmark;
    Suite: new (name?: string) => Suite;
  };
  export default BenchmarkJs;
}
