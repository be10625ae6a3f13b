// Throughput of the linalg kernels (GFLOP/s) side by side with a plain TypeScript implementation
// and JavaScript peers, all in the same run, with benchmark.js; then gemm against syrk per flop,
// interleaved call by call (bench/gemm.ts).
//
//   npm run bench -- [--quick] [--filter <regex>] [--json <file>] [--sizes 64,256] [--max-time <s>]
//
// Per case (op × d × precision [× nrhs]) a benchmark.js suite runs ours, plain and every
// installed peer one after another on the same inputs, in two rounds whose samples are pooled.
// Inputs and outputs are allocated outside the timed call, every result feeds a sink, every
// contender is checked against plain before it is timed, and the wasm kernels are warmed up with
// short calls first (V8 has no on-stack replacement for wasm: a long first call would run from start
// to end in the baseline tier). Reported: the median and best of benchmark.js's samples (seconds
// per operation) as GFLOP/s with the counts of DESIGN §4, and the ratios of the medians; beside
// ours, its fraction of the one-thread SIMD peak (bench/peak.ts) measured right before and after
// the case. The sections after the table (model-scale Fisher, gemm vs syrk, layers, sketch,
// layers-step) print the peak measured around them. Last, the shared core (bench/core.ts): the
// cases of the page (`npm run bench:web`) on 1 and 2 threads, each row with its fraction of peak;
// `--core` runs it alone, and `--json` writes its rows (the page's window.benchResults shape)
// with the table's cases and the sections beside them.
//
// The package CLI can call `main(argv)` (prints the table, returns the exit code) or `runBench`
// and `formatReport`. benchmark.js must stay an external import resolved by Node: bundled by
// esbuild it cannot find lodash (it requires it through an indirection) and exports no Suite.

import Benchmark from 'benchmark';
import os from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { init, features, linalg } from '../src/index.js';
import { plainFor, type FloatArray, type Precision } from './plain.js';
import { runFisherBench, formatFisherResults } from './fisher.js';
import { runSketchBench, formatSketchResult, type SketchResult } from './sketch.js';
import { PEERS, type CaseInputs, type Op, type Peer, type Prepared } from './peers.js';
import { formatThreadsReport, runThreadsBench } from './threads.js';
import { formatGemmVsSyrk, runGemmVsSyrk, type GemmVsSyrk } from './gemm.js';
import { formatLayersStep, runLayersStepBench, type LayersStepResult } from './layers-step.js';
import { formatLayersBench, runLayersBench, type LayersBench } from './layers.js';
import { formatKroneckerBench, runKroneckerBench, type KroneckerBenchResult } from './kronecker.js';
import { formatRows, runCore, type BenchResults } from './core.js';
import type { PeakMeter } from './peak.js';
import { nodeMeta, nodePeakMeter } from './node-host.js';

// ---------------------------------------------------------------------------------------------
// Options

export interface BenchOptions {
  /** Small sizes and short timings: a smoke run of a few seconds. */
  quick?: boolean;
  /** Runs only the cases whose name matches, e.g. "syrk d=256 f32", "solve d=512 nrhs=64 f64". */
  filter?: string | RegExp;
  /** Writes every result (samples included) as JSON to this file. */
  json?: string;
  /** Overrides the sizes d. */
  sizes?: number[];
  /** Overrides benchmark.js's maxTime (seconds per contender and case). */
  maxTime?: number;
  /** false: no short warm-up calls of the wasm contenders (to see what they are worth). */
  warmUp?: boolean;
  /** Instead of the table: syrk and cholesky with this many worker threads against one. */
  threads?: number;
  /** With threads: init's blockMs. */
  blockMs?: number;
  /** Only the shared core (bench/core.ts: the page's cases, on 1 and 2 threads). */
  core?: boolean;
  /** The peak meter (bench/peak.ts); runBench starts a one-thread one when absent. */
  meter?: PeakMeter;
  /** Where the table goes (default: stdout). */
  write?: (text: string) => void;
  /** Where progress lines go (default: stderr); null silences them. */
  progress?: ((line: string) => void) | null;
}

interface Settings {
  sizes: number[];
  n: number;
  nrhsList: number[];
  precisions: Precision[];
  ops: Op[];
  /** benchmark.js, summed over all rounds: least samples, seconds per contender; seconds per sample */
  minSamples: number;
  maxTime: number;
  minTime: number;
  /** the suite of a case runs this many times, contenders interleaved, samples pooled */
  rounds: number;
  /** a contender whose minSamples calls would take longer than this many seconds is skipped */
  maxContenderSeconds: number;
}

function settingsFor(o: BenchOptions): Settings {
  const quick = !!o.quick;
  return {
    sizes: o.sizes ?? (quick ? [64, 128] : [64, 128, 256, 512, 1024]),
    n: 256,
    nrhsList: [1, 64],
    precisions: ['f32', 'f64'],
    ops: ['syrk', 'gemm', 'cholesky', 'solve', 'eigh', 'eigh-values'],
    minSamples: quick ? 3 : 5,
    maxTime: o.maxTime ?? (quick ? 0.05 : 1.5),
    minTime: quick ? 0.01 : 0.05,
    rounds: quick ? 1 : 2,
    maxContenderSeconds: quick ? 2 : 20,
  };
}

export const BENCH_HELP = `Usage: npm run bench -- [options]     (or: npx empirical-fisher bench [options])

Throughput (GFLOP/s) of syrk, gemm (d × d times d × d), cholesky and the Cholesky solve (1 and 64
right-hand sides), for d in {64, 128, 256, 512, 1024}, n = 256, f32 and f64: ours (wasm) next to a
plain TypeScript implementation and installed JavaScript peers (ml-matrix, f64;
@tensorflow/tfjs-backend-wasm, f32 GᵀG and matMul, one thread), all in the same run. Also eigh
(values and vectors) and eigh-values (values only) for d up to 512, next to ml-matrix's
EigenvalueDecomposition, with milliseconds per call. Then gemm against syrk per flop at d = 1024
(256 with --quick), interleaved call by call (skipped when --filter does not match "gemm-vs-syrk"),
and the layer kit (gram, G v, Gᵀ u) on the MLP 784–1024–1024–10, n = 128, f32 (skipped when
--filter does not match "layers"). Then opt.stepLayers and F.updateLayers + precondition
('lowrank', decay 0) against one forward + backward pass on linalg.gemm of that MLP (784–256–256–10
with --quick), interleaved, with the peak wasm memory of the layers path against the materialised
one (skipped when --filter does not match "layers-step"). Then an optimizer step with 'kronecker'
('exact', 'pi') and 'ekfac' (updateEvery 10, refresh and ordinary steps apart) against an SGD step
of the shipped MLP 784–256–256–10, 784–1024–1024–10 (not with --quick) and 784–32–10, n = 128, with
the parts timed alone (skipped when --filter does not match "kronecker"). Last, the shared core: the cases of the
page (npm run bench:web) on 1 and 2 threads, with the same timing rule and JSON rows.

Every GFLOP/s comes with its fraction of the machine's wasm SIMD128 peak (bench/peak.ts: a
register-blocked multiply-add loop with no memory traffic) measured in the same run: in the table,
in rounds right before and after each case; in the shared core, in bursts between its samples.
The fraction is the fastest sample over the fastest burst: the stretches nearest to running
undisturbed on a host whose speed drifts by tens of percent within an hour.

Options:
  --quick            d in {64, 128} with short timings (a few seconds)
  --filter <regex>   only the cases whose name matches (case-insensitive), e.g.
                     'syrk', 'gemm', 'f32', 'd=1024', 'solve d=512 nrhs=64', 'cholesky.*f64'
  --json <file>      also write all results, samples included, as JSON
  --sizes <list>     comma-separated sizes d instead of the default
  --max-time <s>     seconds per contender and case, split over the rounds (default 1.5, quick 0.05)
  --core             only the shared core (the page's cases, 1 and 2 threads)
  --no-warmup        skip the short warm-up calls of the wasm code (to see their effect)
  --threads <k>      instead of the table: syrk and cholesky (d = 512, 1024 unless --sizes) on k
                     worker threads (linalg.syrkAsync, linalg.choleskyAsync) against one thread,
                     interleaved call by call, with a check that the results are bit-identical
                     (before and after: the host's ceiling, k independent one-thread
                     factorisations side by side against one alone)
  --block-ms <ms>    with --threads: init({ threads, blockMs }) (default 3: calls estimated under
                     3 ms have the calling thread take part; Infinity: all calls, 0: none)
  --help             this text
`;

/** Parses command-line arguments; returns 'help' for --help. Throws on unknown arguments. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions | 'help' {
  const o: BenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--quick':
        o.quick = true;
        break;
      case '--filter':
        o.filter = new RegExp(value(), 'i');
        break;
      case '--threads': {
        const v = value();
        const t = Number(v);
        if (!Number.isSafeInteger(t) || t < 1 || t > 64) throw new Error(`--threads: ${JSON.stringify(v)} is not an integer from 1 to 64`);
        o.threads = t;
        break;
      }
      case '--block-ms': {
        const v = value();
        const ms = v === 'Infinity' ? Infinity : Number(v);
        if (!(ms >= 0) || v.trim() === '') throw new Error(`--block-ms: ${JSON.stringify(v)} is not a number ≥ 0 (or Infinity)`);
        o.blockMs = ms;
        break;
      }
      case '--core':
        o.core = true;
        break;
      case '--no-warmup':
        o.warmUp = false;
        break;
      case '--json':
        o.json = value();
        break;
      case '--sizes': {
        const v = value();
        o.sizes = v.split(',').map((s) => {
          const d = Number(s);
          if (!Number.isSafeInteger(d) || d < 1) throw new Error(`--sizes: ${JSON.stringify(s)} is not a positive integer`);
          return d;
        });
        break;
      }
      case '--max-time': {
        const v = value();
        const t = Number(v);
        if (!(t > 0)) throw new Error(`--max-time: ${JSON.stringify(v)} is not a positive number of seconds`);
        o.maxTime = t;
        break;
      }
      default:
        throw new Error(`unknown argument ${JSON.stringify(a)} (see --help)`);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Results

export interface ContenderResult {
  name: string;
  /** seconds per operation, one per benchmark.js sample */
  samples: number[];
  medianSeconds: number;
  bestSeconds: number;
  medianGflops: number;
  bestGflops: number;
  /** why the contender did not run (unsupported precision, too slow, failed check, error) */
  skipped?: string;
  /** max |x − x_plain| / max |x_plain| over the result, before timing */
  maxRelDiffFromPlain?: number;
  /** bestGflops / the case's peakGflops */
  fractionOfPeak?: number;
}

export interface CaseResult {
  name: string;
  op: Op;
  d: number;
  n: number;
  nrhs: number;
  precision: Precision;
  flops: number;
  contenders: ContenderResult[];
  /** ours median / other median, by contender name */
  ratios: Record<string, number>;
  /** one-thread SIMD peak of this precision around the case (GFLOP/s): the fastest burst of the rounds right before and after */
  peakGflops?: number;
}

export interface BenchReport {
  meta: {
    node: string;
    cpu: string;
    cores: number;
    platform: string;
    /** os.loadavg() (1, 5, 15 min) before and after the run */
    loadavgStart: number[];
    loadavgEnd: number[];
    date: string;
    features: unknown;
    n: number;
    options: { quick: boolean; filter?: string; sizes: number[]; maxTime: number; minSamples: number; rounds: number; warmUp: boolean };
    peers: { name: string; loaded: boolean; error?: string }[];
    sink: number;
  };
  cases: CaseResult[];
}

// ---------------------------------------------------------------------------------------------
// Cases and inputs

/** eigh: nominal counts, the tridiagonalisation 4/3·d³ and (with vectors) the back-transformation
 *  2·d³; the tridiagonal solver is not counted (its work depends on the spectrum). */
const FLOPS: Record<Op, (d: number, n: number, nrhs: number) => number> = {
  syrk: (d, n) => n * d * (d + 1),
  gemm: (d) => 2 * d * d * d,
  cholesky: (d) => (d * d * d) / 3,
  solve: (d, _n, nrhs) => 2 * d * d * nrhs,
  eigh: (d) => (10 * d * d * d) / 3,
  'eigh-values': (d) => (4 * d * d * d) / 3,
};

/** The largest d of the eigh cases (ml-matrix takes over a second per call at 512). */
const EIGH_MAX_D = 512;

function caseName(op: Op, d: number, nrhs: number, precision: Precision): string {
  return op === 'solve' ? `${op} d=${d} nrhs=${nrhs} ${precision}` : `${op} d=${d} ${precision}`;
}

/** Deterministic uniform numbers in (−1, 1), never exactly 0 (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296; // [0, 1)
    return 2 * u - 1 + 1 / 4294967296;
  };
}

interface Inputs {
  G: FloatArray;
  A: FloatArray;
  /** d × d, uniform in (−1, 1): gemm's second operand */
  M: FloatArray;
  /** the largest B needed; cases use a prefix */
  B: FloatArray;
}

const ARRAY: Record<Precision, Float32ArrayConstructor | Float64ArrayConstructor> = {
  f32: Float32Array,
  f64: Float64Array,
};

/** G (n × d), A = GᵀG/n + (trace/d)/10·I (exactly symmetric, condition ≲ 100), B (64 × d), M (d × d). */
function makeInputs(d: number, n: number, maxNrhs: number, precision: Precision): Inputs {
  const P = ARRAY[precision];
  const rnd = random(0x5eed ^ (d * 7919) ^ (precision === 'f32' ? 1 : 2));
  const G = new P(n * d);
  for (let i = 0; i < G.length; i++) G[i] = rnd();
  const g64 = Float64Array.from(G);
  const A64 = plainFor('f64').syrk(g64, n, d, new Float64Array(d * d), new Float64Array(n * d));
  let trace = 0;
  for (let i = 0; i < d; i++) trace += A64[i * d + i];
  const shift = trace / n / d / 10;
  for (let i = 0; i < A64.length; i++) A64[i] /= n;
  for (let i = 0; i < d; i++) A64[i * d + i] += shift;
  const A = P.from(A64);
  const B = new P(maxNrhs * d);
  for (let i = 0; i < B.length; i++) B[i] = rnd();
  const M = new P(d * d);
  for (let i = 0; i < M.length; i++) M[i] = rnd();
  return { G, A, B, M };
}

// ---------------------------------------------------------------------------------------------
// Contenders: ours, plain, peers

/** Every timed call adds one element of its result here; printed in the JSON so it is observed. */
let sink = 0;

interface Contender {
  name: string;
  /** runs wasm (no on-stack replacement): needs short calls before the timed ones */
  wasm: boolean;
  supports(precision: Precision): boolean;
  prepare(c: CaseInputs): Prepared | undefined;
}

const ours: Contender = {
  name: 'ours',
  wasm: true,
  supports: () => true,
  prepare(c) {
    const P = ARRAY[c.precision];
    const { d, n, nrhs } = c;
    switch (c.op) {
      case 'syrk': {
        const C = new P(d * d);
        return { run: () => linalg.syrk(c.G, n, d, { out: C })[d], result: () => C };
      }
      case 'gemm': {
        const C = new P(d * d);
        return { run: () => linalg.gemm(c.A, c.M, d, d, d, { out: C })[d], result: () => C };
      }
      case 'cholesky': {
        const L = new P(d * d);
        return { run: () => linalg.cholesky(c.A, d, { out: L })[d], result: () => L };
      }
      case 'eigh': {
        const values = new P(d);
        const vectors = new P(d * d);
        return { run: () => linalg.eigh(c.A, d, { values, vectors }).vectors[d], result: () => values };
      }
      case 'eigh-values': {
        const values = new P(d);
        return { run: () => linalg.eigh(c.A, d, { values, valuesOnly: true }).values[d - 1], result: () => values };
      }
      case 'solve': {
        const chol = linalg.choleskyFactor(c.A, d);
        const X = new P(nrhs * d);
        return {
          run: () => chol.solve(c.B, { nrhs, out: X })[d - 1],
          result: () => X,
          dispose: () => chol.dispose(),
        };
      }
    }
  },
};

const plain: Contender = {
  name: 'plain',
  wasm: false,
  supports: () => true,
  prepare(c) {
    const P = ARRAY[c.precision];
    const k = plainFor(c.precision);
    const { d, n, nrhs } = c;
    switch (c.op) {
      case 'syrk': {
        const C = new P(d * d);
        const work = new P(n * d);
        return { run: () => k.syrk(c.G, n, d, C, work)[d], result: () => C };
      }
      case 'gemm': {
        const C = new P(d * d);
        return { run: () => k.gemm(c.A, c.M, d, d, d, C)[d], result: () => C };
      }
      case 'cholesky': {
        // In place, so each call first copies A into the output (ours copies A in and L out too).
        const L = new P(d * d);
        return {
          run() {
            L.set(c.A);
            if (k.cholesky(L, d) !== 0) throw new Error('plain cholesky: not positive definite');
            return L[d];
          },
          result: () => L,
        };
      }
      case 'eigh':
      case 'eigh-values':
        // no plain eigh: ml-matrix's (a port of JAMA's tred2 + tql2) is one
        return undefined;
      case 'solve': {
        const L = P.from(c.A);
        if (k.cholesky(L, d) !== 0) throw new Error('plain cholesky: not positive definite');
        const X = new P(nrhs * d);
        return {
          run() {
            X.set(c.B);
            return k.choleskySolve(L, d, X, nrhs)[d - 1];
          },
          result: () => X,
        };
      }
    }
  },
};

function peerContender(peer: Peer, lib: unknown): Contender {
  return {
    name: peer.name,
    wasm: !!peer.wasm,
    supports: (p) => peer.precisions.includes(p),
    prepare: (c) => peer.prepare[c.op]?.(lib, c),
  };
}

async function loadPeers(): Promise<{ contenders: Contender[]; status: BenchReport['meta']['peers'] }> {
  const contenders: Contender[] = [];
  const status: BenchReport['meta']['peers'] = [];
  for (const peer of PEERS) {
    try {
      const mod: any = await peer.load();
      contenders.push(peerContender(peer, mod?.default && !mod.Matrix ? mod.default : mod));
      status.push({ name: peer.name, loaded: true });
    } catch (e) {
      status.push({ name: peer.name, loaded: false, error: String((e as Error)?.message ?? e) });
    }
  }
  return { contenders, status };
}

// ---------------------------------------------------------------------------------------------
// Running

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function maxRelDiff(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return x.length !== ref.length ? Infinity : diff / (scale || 1);
}

const TOLERANCE: Record<Precision, number> = { f32: 1e-3, f64: 1e-9 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Short calls at small sizes until V8 has compiled the wasm kernels (and the JS paths) with its
 * optimising tier: a wasm function only switches tier when it is entered again.
 */
async function warmUp(contenders: readonly Contender[], settings: Settings): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (const precision of settings.precisions) {
      for (const op of settings.ops) {
        for (const d of [17, 40, 136]) {
          const inp = makeInputs(d, 16, 4, precision);
          for (const nrhs of op === 'solve' ? [1, 4] : [1]) {
            const c: CaseInputs = { op, n: 16, d, nrhs, precision, G: inp.G, A: inp.A, M: inp.M, B: inp.B.subarray(0, nrhs * d) };
            for (const k of contenders) {
              if (!k.wasm || !k.supports(precision)) continue;
              const p = k.prepare(c);
              if (!p) continue;
              try {
                const t0 = performance.now();
                for (let i = 0; i < 100 && performance.now() - t0 < 20; i++) sink += p.run();
              } finally {
                p.dispose?.();
              }
            }
          }
        }
      }
    }
    await sleep(100); // let background compilation finish before the second round
  }
}

function fmtSeconds(s: number): string {
  return s >= 1 ? `${s.toFixed(1)} s` : `${(s * 1e3).toFixed(s >= 0.01 ? 0 : 2)} ms`;
}

function runCase(c: CaseInputs, contenders: readonly Contender[], settings: Settings, progress: (l: string) => void): CaseResult {
  const flops = FLOPS[c.op](c.d, c.n, c.nrhs);
  const name = caseName(c.op, c.d, c.nrhs, c.precision);
  const results = new Map<Contender, ContenderResult>();
  const prepared: { k: Contender; p: Prepared; result: ContenderResult }[] = [];
  let reference: Float64Array | undefined;

  try {
    // Prepare and check plain first (it is the reference), then the others; time them in the
    // order of `contenders`.
    const ready = new Map<Contender, Prepared>();
    const order = [...contenders].sort((a, b) => Number(b === plain) - Number(a === plain));
    for (const k of order) {
      const result: ContenderResult = {
        name: k.name, samples: [], medianSeconds: NaN, bestSeconds: NaN, medianGflops: NaN, bestGflops: NaN,
      };
      results.set(k, result);
      if (!k.supports(c.precision)) {
        result.skipped = `no ${c.precision}`;
        continue;
      }
      let p: Prepared | undefined;
      try {
        p = k.prepare(c);
        if (!p) {
          result.skipped = 'not offered';
          continue;
        }
        // One call to check the result against plain and to estimate the cost per call.
        const t0 = performance.now();
        sink += p.run();
        const once = (performance.now() - t0) / 1e3;
        const r = p.result();
        // plain is the reference; without it (eigh), the first contender that ran
        if (k === plain || reference === undefined) reference = Float64Array.from(r);
        else if (reference) {
          result.maxRelDiffFromPlain = maxRelDiff(r, reference);
          if (!(result.maxRelDiffFromPlain <= TOLERANCE[c.precision])) {
            result.skipped = `result differs from plain by ${result.maxRelDiffFromPlain.toExponential(1)} (relative)`;
            p.dispose?.();
            continue;
          }
        }
        if (once * settings.minSamples > settings.maxContenderSeconds) {
          result.skipped = `too slow: ~${fmtSeconds(once)} per call`;
          p.dispose?.();
          continue;
        }
        ready.set(k, p);
      } catch (e) {
        result.skipped = `error: ${(e as Error)?.message ?? e}`;
        p?.dispose?.();
      }
    }
    // benchmark.js times one contender after the other; on a busy machine a burst of load would
    // then hit one contender only. So the suite runs in rounds (ours, plain, peers, ours, …) and
    // the samples of all rounds are pooled.
    const timed = contenders.filter((k) => ready.has(k));
    for (const k of timed) prepared.push({ k, p: ready.get(k)!, result: results.get(k)! });
    for (let round = 0; round < settings.rounds; round++) {
      const suite = new Benchmark.Suite(`${name} #${round + 1}`);
      for (const { k, p, result } of prepared) {
        if (result.skipped) continue;
        const run = p.run;
        suite.add(k.name, () => {
          sink += run();
        }, {
          minSamples: Math.ceil(settings.minSamples / settings.rounds),
          maxTime: settings.maxTime / settings.rounds,
          minTime: settings.minTime,
        });
      }
      suite.run({ async: false });
      for (let i = 0; i < suite.length; i++) {
        const bench = suite[i];
        const result = prepared.find((x) => x.k.name === bench.name)!.result;
        if (bench.error) result.skipped = `error: ${(bench.error as Error)?.message ?? bench.error}`;
        else result.samples.push(...bench.stats.sample);
      }
    }
    for (const { result } of prepared) {
      if (result.skipped) continue;
      const samples = result.samples;
      if (!samples.length) {
        result.skipped = 'no samples';
        continue;
      }
      result.medianSeconds = median(samples);
      result.bestSeconds = Math.min(...samples);
      result.medianGflops = flops / result.medianSeconds / 1e9;
      result.bestGflops = flops / result.bestSeconds / 1e9;
    }
  } finally {
    for (const { p } of prepared) p.dispose?.();
  }

  const ordered = contenders.map((k) => results.get(k)!);
  const oursResult = results.get(ours);
  const ratios: Record<string, number> = {};
  for (const r of ordered) {
    if (r.name === 'ours' || !oursResult) continue;
    const q = oursResult.medianGflops / r.medianGflops;
    if (Number.isFinite(q)) ratios[r.name] = q;
  }
  const line = ordered
    .filter((r) => !(r.skipped?.startsWith('no ') || r.skipped === 'not offered'))
    .map((r) => `${r.name} ${r.skipped ? `skipped (${r.skipped})` : `${fmtG(r.medianGflops)} GFLOP/s`}`)
    .join(', ');
  progress(`  ${line}`);
  return { name, op: c.op, d: c.d, n: c.n, nrhs: c.nrhs, precision: c.precision, flops, contenders: ordered, ratios };
}

/** Runs the benchmarks and returns the report (also writes the JSON file when asked). */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const settings = settingsFor(options);
  const progress = options.progress === null ? () => {} : (options.progress ?? ((l: string) => process.stderr.write(l + '\n')));
  const filter = typeof options.filter === 'string' ? new RegExp(options.filter, 'i') : options.filter;

  await init();
  const meter = options.meter ?? (await nodePeakMeter(1));
  const peers = await loadPeers();
  const contenders: Contender[] = [ours, plain, ...peers.contenders];

  type Planned = { op: Op; d: number; nrhs: number; precision: Precision };
  const plan: Planned[] = [];
  for (const op of settings.ops) {
    for (const d of settings.sizes) {
      if ((op === 'eigh' || op === 'eigh-values') && d > EIGH_MAX_D) continue;
      for (const nrhs of op === 'solve' ? settings.nrhsList : [0]) {
        for (const precision of settings.precisions) {
          if (!filter || filter.test(caseName(op, d, nrhs, precision))) plan.push({ op, d, nrhs, precision });
        }
      }
    }
  }

  const meta: BenchReport['meta'] = {
    node: process.version,
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cores: os.cpus().length,
    platform: `${os.platform()} ${os.arch()}`,
    loadavgStart: os.loadavg(),
    loadavgEnd: [],
    date: new Date().toISOString(),
    features: features(),
    n: settings.n,
    options: {
      quick: !!options.quick,
      filter: filter?.source,
      sizes: settings.sizes,
      maxTime: settings.maxTime,
      minSamples: settings.minSamples,
      rounds: settings.rounds,
      warmUp: options.warmUp !== false,
    },
    peers: peers.status,
    sink: 0,
  };

  if (options.warmUp !== false) {
    const t0 = performance.now();
    await warmUp(contenders, settings);
    progress(`warmed up ${contenders.filter((k) => k.wasm).map((k) => k.name).join(', ')} in ${fmtSeconds((performance.now() - t0) / 1e3)}`);
  }

  const cases: CaseResult[] = [];
  const inputs = new Map<string, Inputs>();
  const maxNrhs = Math.max(...settings.nrhsList);
  for (let i = 0; i < plan.length; i++) {
    const { op, d, nrhs, precision } = plan[i];
    const key = `${d} ${precision}`;
    let inp = inputs.get(key);
    if (!inp) {
      inp = makeInputs(d, settings.n, maxNrhs, precision);
      inputs.set(key, inp);
    }
    const c: CaseInputs = {
      op, n: settings.n, d, nrhs, precision, G: inp.G, A: inp.A, M: inp.M, B: inp.B.subarray(0, nrhs * d),
    };
    progress(`[${i + 1}/${plan.length}] ${caseName(op, d, nrhs, precision)}`);
    const before = await meter.round(precision, 1);
    const r = runCase(c, contenders, settings, progress);
    const after = await meter.round(precision, 1);
    r.peakGflops = Math.max(before, after);
    for (const k of r.contenders) if (!k.skipped) k.fractionOfPeak = k.bestGflops / r.peakGflops;
    cases.push(r);
    await sleep(0); // let the event loop breathe between suites
  }
  if (!options.meter) await meter.close();
  meta.sink = sink;
  meta.loadavgEnd = os.loadavg();

  const report: BenchReport = { meta, cases };
  if (options.json) writeFileSync(options.json, JSON.stringify(report, null, 2) + '\n');
  return report;
}

// ---------------------------------------------------------------------------------------------
// Table

function fmtG(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toFixed(3);
}

function fmtRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/** The aligned text table of a report, with its header. */
export function formatReport(report: BenchReport): string {
  const m = report.meta;
  const peerNames = m.peers.filter((p) => p.loaded).map((p) => p.name);
  const header = [
    `empirical-fisher bench — GFLOP/s (SYRK n·d·(d+1), GEMM 2mnk = 2·d³, Cholesky d³/3, solve 2·d²·nrhs, eigh 10/3·d³, eigh-values 4/3·d³ nominal), n = ${m.n}`,
    `Node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.platform}, ${m.date}`,
    `load average ${m.loadavgStart.map((x) => x.toFixed(2)).join(' ')} before, ${m.loadavgEnd.map((x) => x.toFixed(2)).join(' ')} after; ` +
      `features ${JSON.stringify(m.features)}`,
    `benchmark.js: ≥ ${m.options.minSamples} samples and ~${m.options.maxTime} s per contender and case, in ${m.options.rounds} interleaved round(s)` +
      `${m.options.quick ? ' (quick)' : ''}` +
      `${m.options.warmUp ? '' : '; NO warm-up'}` +
      `${m.options.filter ? `; filter /${m.options.filter}/i` : ''}`,
    `peers: ${m.peers.map((p) => (p.loaded ? p.name : `${p.name} (not installed)`)).join(', ') || 'none'}`,
    `ratios are of medians; "ours ×" = ours / plain and ours / peer (above 1: ours is faster)`,
    `peak: one-thread wasm SIMD128 multiply-add peak of the precision, the fastest burst of the rounds right before and after the case; "of peak" = ours best / peak`,
    '',
  ];

  const cols = ['op', 'd', 'nrhs', 'prec', 'ours med', 'ours best', 'peak', 'of peak', 'plain med', 'ours ×'];
  for (const p of peerNames) cols.push(`${p} med`, 'ours ×');
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const c of report.cases) {
    const get = (name: string) => c.contenders.find((r) => r.name === name);
    const cell = (r: ContenderResult | undefined, v: number) => {
      if (!r) return '—';
      if (r.skipped) {
        if (r.skipped.startsWith('no ') || r.skipped === 'not offered') return 'n/a';
        notes.push(`${c.name}: ${r.name} skipped: ${r.skipped}`);
        return `skip[${notes.length}]`;
      }
      return fmtG(v);
    };
    const o = get('ours');
    const pl = get('plain');
    const row = [
      c.op, String(c.d), c.op === 'solve' ? String(c.nrhs) : '', c.precision,
      cell(o, o?.medianGflops ?? NaN), o && !o.skipped ? fmtG(o.bestGflops) : '',
      fmtG(c.peakGflops ?? NaN), o && !o.skipped && o.fractionOfPeak !== undefined ? o.fractionOfPeak.toFixed(2) : '',
      cell(pl, pl?.medianGflops ?? NaN),
      fmtRatio(c.ratios.plain),
    ];
    for (const p of peerNames) {
      const r = get(p);
      row.push(cell(r, r?.medianGflops ?? NaN), r && !r.skipped ? fmtRatio(c.ratios[p]) : '');
    }
    rows.push(row);
  }
  const numeric = (i: number) => i === 1 || i === 2 || i >= 4;
  const widths = cols.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmtRow = (r: string[]) =>
    r.map((s, i) => (numeric(i) ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ').trimEnd();
  const lines = [...header, fmtRow(cols), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmtRow)];
  if (notes.length) lines.push('', ...notes.map((s, i) => `[${i + 1}] ${s}`));
  const perFlop = gemmPerSyrk(report);
  if (perFlop.length) {
    lines.push('', 'gemm / syrk per flop, same run (rows above; not interleaved: see the interleaved comparison below): medians (bests)');
    lines.push(...perFlop.map((l) => `  ${l}`));
  }
  const eigh = report.cases.filter((c) => c.op === 'eigh' || c.op === 'eigh-values');
  if (eigh.length) {
    // the eigh rows again in milliseconds per call (the flop counts above are nominal)
    lines.push('', 'eigh, ms per call: ours median (best); ml-matrix median (best) (its full decomposition, also for eigh-values); ml-matrix / ours of the medians');
    for (const c of eigh) {
      const ms = (r: ContenderResult | undefined) =>
        !r || r.skipped ? 'n/a' : `${(r.medianSeconds * 1e3).toFixed(2)} (${(r.bestSeconds * 1e3).toFixed(2)})`;
      const o = c.contenders.find((r) => r.name === 'ours');
      const ml = c.contenders.find((r) => r.name === 'ml-matrix');
      const ratio = o && ml && !o.skipped && !ml.skipped ? `${(ml.medianSeconds / o.medianSeconds).toFixed(1)}×` : '';
      lines.push(`  ${c.name.padEnd(24)} ours ${ms(o).padEnd(18)} ml-matrix ${ms(ml).padEnd(20)} ${ratio}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** "d = 1024 f32: 1.05 (1.08)" for every d and precision with both a syrk and a gemm row. */
function gemmPerSyrk(report: BenchReport): string[] {
  const out: string[] = [];
  for (const g of report.cases) {
    if (g.op !== 'gemm') continue;
    const s = report.cases.find((c) => c.op === 'syrk' && c.d === g.d && c.precision === g.precision);
    const go = g.contenders.find((r) => r.name === 'ours');
    const so = s?.contenders.find((r) => r.name === 'ours');
    if (!go || !so || go.skipped || so.skipped) continue;
    out.push(`d = ${g.d} ${g.precision}: ${(go.medianGflops / so.medianGflops).toFixed(2)} (${(go.bestGflops / so.bestGflops).toFixed(2)})`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entry point (npm run bench → bench/run.mjs; the package CLI can call this too)

/** Parses argv, runs, prints the table; returns the process exit code. */
export async function main(argv: readonly string[] = process.argv.slice(2), write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseBenchArgs(argv);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  if (options === 'help') {
    write(BENCH_HELP);
    return 0;
  }
  if (options.threads !== undefined) {
    const filter = typeof options.filter === 'string' ? new RegExp(options.filter, 'i') : options.filter;
    // the library's workers first (init in runThreadsBench), then the peak meter's
    await init(options.blockMs === undefined ? { threads: options.threads } : { threads: options.threads, blockMs: options.blockMs });
    const meter = await nodePeakMeter(features().threads);
    let r;
    try {
      r = await runThreadsBench({
        threads: options.threads, blockMs: options.blockMs, sizes: options.sizes, quick: options.quick, filter, meter,
        progress: (l) => process.stderr.write(l + '\n'),
      });
    } finally {
      await meter.close();
    }
    const meta = {
      node: process.version, cpu: os.cpus()[0]?.model?.trim() ?? 'unknown', cores: os.cpus().length,
      platform: `${os.platform()} ${os.arch()}`, loadavg: os.loadavg(), date: new Date().toISOString(),
    };
    write(formatThreadsReport(r, [
      `empirical-fisher bench --threads ${options.threads}${options.blockMs === undefined ? '' : ` --block-ms ${options.blockMs}`} — GFLOP/s, n = 256; interleaved call by call, ${options.quick ? 5 : 21} samples each; "after idling": ${options.quick ? 3 : 11} more of each, 10 ms after the last call`,
      `Node ${meta.node}, ${meta.cpu}, ${meta.cores} cores, ${meta.platform}, ${meta.date}, load average ${meta.loadavg.map((x) => x.toFixed(2)).join(' ')}`,
      `features ${JSON.stringify(r.features)}`,
    ]));
    if (options.json) {
      writeFileSync(options.json, JSON.stringify({ meta, ...r }, null, 2) + '\n');
      write(`\nresults written to ${options.json}\n`);
    }
    return 0;
  }
  // two threads for the shared core's threaded rows: the library's workers and two peak workers
  const threads = Math.min(2, os.cpus().length);
  await init(threads > 1 ? { threads } : undefined);
  const meter = await nodePeakMeter(threads);
  try {
    return await runAll(options, meter, write);
  } finally {
    await meter.close();
  }
}

async function runAll(options: BenchOptions, meter: PeakMeter, write: (s: string) => void): Promise<number> {
  const filter = typeof options.filter === 'string' ? new RegExp(options.filter, 'i') : options.filter;
  const sections: Record<string, unknown> = {};
  // a section's one-thread peak: the higher of the rounds right before and after it
  const around = async <T>(run: () => T): Promise<{ r: T; peak: Record<Precision, number> }> => {
    const b = { f32: await meter.round('f32', 1), f64: await meter.round('f64', 1) };
    const r = run();
    const a = { f32: await meter.round('f32', 1), f64: await meter.round('f64', 1) };
    return { r, peak: { f32: Math.max(a.f32, b.f32), f64: Math.max(a.f64, b.f64) } };
  };
  const peakLine = (p: Record<Precision, number>) =>
    `  one-thread SIMD peak around this section (bench/peak.ts): f32 ${fmtG(p.f32)}, f64 ${fmtG(p.f64)} GFLOP/s`;
  let report: BenchReport | undefined;
  if (!options.core) {
    report = await runBench({ ...options, meter, json: undefined });
    write(formatReport(report));
    // the EmpiricalFisher's own work at model scale (lowrank d = 100,000, blockdiag 10 × 1,000, …)
    const { r: fisher, peak: fisherPeak } = await around(() => runFisherBench({ quick: options.quick, filter }));
    sections.fisher = fisher;
    if (fisher.length) {
      sections.fisherPeakGflops = fisherPeak;
      write(`\nEmpiricalFisher at model scale (f32, one thread, damping 1e-3; benchmark.js, median and best):\n`);
      write(formatFisherResults(fisher) + '\n' + peakLine(fisherPeak) + '\n');
    }
    // gemm against syrk per flop, interleaved call by call (the issue-14 bar: ≥ 0.9 at d = 1024)
    if (!filter || filter.test('gemm-vs-syrk')) {
      const { r: gemmVsSyrk, peak } = await around((): GemmVsSyrk => runGemmVsSyrk({ quick: options.quick, sizes: options.sizes }));
      sections.gemmVsSyrk = { ...gemmVsSyrk, peakGflops: peak };
      write(`\n${formatGemmVsSyrk(gemmVsSyrk, peak)}\n`);
    }
    // the layer kit on the 784–1024–1024–10 MLP, n = 128 (gram, G v, Gᵀ u)
    if (!filter || filter.test('layers')) {
      const { r: layersBench, peak } = await around((): LayersBench => runLayersBench({ quick: options.quick }));
      sections.layers = { ...layersBench, peakGflops: peak.f32 };
      write(`\n${formatLayersBench(layersBench, peak.f32)}\n`);
    }
    // the low-rank running average (Frequent-Directions sketch) against the latest batch
    if (!options.quick && (!filter || filter.test('sketch lowrank'))) {
      const { r: sketch, peak } = await around((): SketchResult => runSketchBench());
      sections.sketch = { ...sketch, peakGflops: peak };
      write(`\n${formatSketchResult(sketch)}\n${peakLine(peak)}\n`);
    }
    // the optimizer's step through the layer kit against a forward + backward pass (issue 14: ≤ 4×)
    if (!filter || filter.test('layers-step')) {
      const { r: layersStep, peak } = await around((): LayersStepResult => runLayersStepBench({ quick: options.quick }));
      sections.layersStep = { ...layersStep, peakGflops: peak };
      write(`\n${formatLayersStep(layersStep)}\n${peakLine(peak)}\n`);
    }
    // 'kronecker' and 'ekfac' steps against an SGD step of the same model (issue 15)
    if (!filter || filter.test('kronecker')) {
      const { r: kronecker, peak } = await around((): KroneckerBenchResult => runKroneckerBench({ quick: options.quick }));
      sections.kronecker = { ...kronecker, peakGflops: peak };
      write(`\n${formatKroneckerBench(kronecker)}\n${peakLine(peak)}\n`);
    }
  }
  // the shared core: the page's cases (npm run bench:web), 1 and 2 threads, fraction of peak
  const progress = options.progress === null ? () => {} : (options.progress ?? ((l: string) => process.stderr.write(l + '\n')));
  const core: BenchResults = await runCore({
    quick: options.quick,
    sizes: options.sizes,
    filter,
    maxTime: options.maxTime,
    meter,
    meta: nodeMeta(),
    progress: (done, total, label, row) => {
      if (row) progress(`  ${row.gflops.toFixed(2)} GFLOP/s, ${row.fractionOfPeak.toFixed(2)} of peak (${row.peakGflops.toFixed(1)})`);
      else progress(`[core ${done + 1}/${total}] ${label}`);
    },
  });
  if (core.rows.length) {
    const m = core.meta;
    write(
      `\nshared core (the page's cases: npm run bench:web), ${m.runtime}, ${m.cores} cores, ${m.date}; ` +
        `GFLOP/s from the mean time per call, and from the best sample; "peak": the wasm SIMD128 multiply-add peak of the precision on ` +
        `as many threads, the fastest of ~5 ms bursts interleaved with the case's samples; "of peak" = best / peak; ms: mean per call\n`,
    );
    write(formatRows(core.rows) + '\n');
  }
  if (options.json) {
    const meta = { ...(report?.meta ?? {}), ...core.meta };
    writeFileSync(options.json, JSON.stringify({ ...core, meta, cases: report?.cases ?? [], ...sections }, null, 2) + '\n');
    write(`\nresults written to ${options.json}\n`);
  }
  return 0;
}
