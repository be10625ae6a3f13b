// Probe for assembly/: checks every kernel of build/kernels.wasm against plain float64 JavaScript
// references, and measures GFLOP/s. Instantiates the wasm directly (no src/ layer).
//
//   node scripts/probe-kernels.mjs check            all correctness checks (both precisions)
//   node scripts/probe-kernels.mjs check syrk potrf only the named groups
//   node scripts/probe-kernels.mjs bench            the target benchmarks (n = 256)
//   node scripts/probe-kernels.mjs bench syrk:f32:512 potrf:f64:1024 potrs1:f32:1024 potrs64:f64:1024
//   env RUNS=7 for more timed runs; NO_LIFTOFF=1 to compile with TurboFan up front; TIMER=cpu to time CPU time instead of wall time (shared machine)
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// NO_LIFTOFF=1 compiles the module with TurboFan up front (no baseline tier): wasm has no
// on-stack replacement, so a long call that starts in Liftoff code stays there; on a loaded machine
// the background tier-up can lag behind the warm-up calls.
if (process.env.NO_LIFTOFF) (await import('node:v8')).setFlagsFromString('--no-liftoff');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wasmPath = process.env.WASM ?? join(root, 'build', 'kernels.wasm');
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {
  env: { abort() { throw new Error('abort'); }, seed: () => 1 },
});
const K = instance.exports;
const memory = K.memory;
const HEAP = Number(K.heap_base());
const WORK_BYTES = K.work_bytes();
const WORK = align(HEAP, 64);
const DATA0 = align(WORK + WORK_BYTES, 64);

function align(x, a) { return Math.ceil(x / a) * a; }

// ---------------------------------------------------------------------------------------------
// seeded random numbers (mulberry32)
let rngState = 0x9e3779b9;
function seed(s) { rngState = s >>> 0; }
function rand() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randn = () => rand() * 2 - 1;

// ---------------------------------------------------------------------------------------------
// a bump allocator in wasm memory; offsets may be only element-aligned (misaligned by up to 3 elements)
const P = {
  f32: { name: 'f32', Arr: Float32Array, S: 4, u: 2 ** -24 },
  f64: { name: 'f64', Arr: Float64Array, S: 8, u: 2 ** -53 },
};
let top = DATA0;
function reset() { top = DATA0; }
function alloc(p, count, misalign = 0) {
  const addr = align(top, 16) + misalign * p.S;
  top = addr + count * p.S + 64;
  const need = top + 1024;
  if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  return addr;
}
function view(p, addr, count) { return new p.Arr(memory.buffer, addr, count); }
function put(p, addr, arr) { view(p, addr, arr.length).set(arr); }
function get(p, addr, count) { return Array.from(view(p, addr, count)); }
function rnd(p, count, scale = 1) { const a = new p.Arr(count); for (let i = 0; i < count; i++) a[i] = randn() * scale; return a; }
const mis = () => Math.floor(rand() * 4);

// ---------------------------------------------------------------------------------------------
let failures = 0, checks = 0;
function fail(msg) { failures++; if (failures <= 40) console.log('FAIL', msg); }
function expectClose(what, got, want, tol) {
  checks++;
  if (!(Math.abs(got - want) <= tol)) { fail(`${what}: got ${got}, want ${want}, |err| ${Math.abs(got - want)} > tol ${tol}`); return false; }
  return true;
}
function expectEq(what, got, want) {
  checks++;
  if (!(Object.is(got, want) || got === want)) { fail(`${what}: got ${got}, want ${want}`); return false; }
  return true;
}
const SENT = 999;

const SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 255, 257];
// tile/block boundaries ±1: MR = 6 (5,6,7,11,12,13), NR f32 8 / f64 4, TB 64, MC 96, NB 128, KC 256
const BOUND = [5, 6, 11, 12, 13, 23, 24, 25, 95, 96, 97, 128, 256];
const ALL = [...new Set([...SIZES, ...BOUND])].sort((a, b) => a - b);

// ---------------------------------------------------------------------------------------------
// level 1
function checkLevel1(p) {
  const T = p.name;
  for (const n of ALL) {
    reset();
    const x = rnd(p, n), y = rnd(p, n);
    const px = alloc(p, n + 2, mis()), py = alloc(p, n + 2, mis());
    put(p, px, [...x, SENT, SENT]); put(p, py, [...y, SENT, SENT]);
    // dot
    let ref = 0, abs = 0;
    for (let i = 0; i < n; i++) { ref += x[i] * y[i]; abs += Math.abs(x[i] * y[i]); }
    expectClose(`dot_${T} n=${n}`, K[`dot_${T}`](n, px, py), ref, 2 * (n + 2) * p.u * abs + 1e-300);
    // axpy
    const alpha = 0.75;
    K[`axpy_${T}`](n, alpha, px, py);
    let got = get(p, py, n + 2);
    for (let i = 0; i < n; i++) expectClose(`axpy_${T} n=${n} i=${i}`, got[i], y[i] + alpha * x[i], 4 * p.u * (Math.abs(y[i]) + Math.abs(alpha * x[i])));
    expectEq(`axpy_${T} n=${n} sentinel`, got[n], SENT);
    // axpby beta = 0 (y NaN must not leak), beta = -0.5
    put(p, py, new Array(n).fill(NaN));
    K[`axpby_${T}`](n, alpha, px, 0, py);
    got = get(p, py, n + 1);
    for (let i = 0; i < n; i++) expectClose(`axpby_${T} b=0 n=${n} i=${i}`, got[i], alpha * x[i], 2 * p.u * Math.abs(x[i]));
    expectEq(`axpby_${T} sentinel`, got[n], SENT);
    put(p, py, y);
    K[`axpby_${T}`](n, alpha, px, -0.5, py);
    got = get(p, py, n + 1);
    for (let i = 0; i < n; i++) expectClose(`axpby_${T} n=${n} i=${i}`, got[i], alpha * x[i] - 0.5 * y[i], 4 * p.u * (Math.abs(x[i]) + Math.abs(y[i])));
    // scal
    K[`scal_${T}`](n, -1.5, px);
    got = get(p, px, n + 2);
    for (let i = 0; i < n; i++) expectClose(`scal_${T} n=${n} i=${i}`, got[i], -1.5 * x[i], 2 * p.u * Math.abs(x[i]));
    expectEq(`scal_${T} sentinel`, got[n], SENT);
    // first_nonfinite
    put(p, px, x);
    expectEq(`first_nonfinite_${T} n=${n} clean`, K[`first_nonfinite_${T}`](n, px), -1);
    if (n > 0) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const k = Math.floor(rand() * n);
        const k2 = Math.min(n - 1, k + 1 + Math.floor(rand() * 3));
        const z = Array.from(x); z[k] = bad; z[k2] = NaN;
        put(p, px, z);
        expectEq(`first_nonfinite_${T} n=${n} bad at ${k}`, K[`first_nonfinite_${T}`](n, px), k);
      }
    }
    // value just past the end must not count
    put(p, px, [...x, NaN]);
    expectEq(`first_nonfinite_${T} n=${n} NaN past end`, K[`first_nonfinite_${T}`](n, px), -1);
  }
}

// ---------------------------------------------------------------------------------------------
// matrices: row-major with leading dimension ld, padding sentinels
function matAlloc(p, rows, cols, ld, fill) {
  const addr = alloc(p, rows * ld + 2, mis());
  const a = new Float64Array(rows * ld + 2).fill(SENT);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) a[i * ld + j] = fill(i, j);
  put(p, addr, a);
  return addr;
}
function matGet(p, addr, rows, ld) { return get(p, addr, rows * ld + 2); }
function checkPadding(what, m, rows, cols, ld, allowed) {
  for (let i = 0; i < rows; i++) for (let j = cols; j < ld; j++) if (m[i * ld + j] !== SENT) return expectEq(`${what} padding (${i},${j})`, m[i * ld + j], SENT);
  if (m[rows * ld] !== SENT || m[rows * ld + 1] !== SENT) return expectEq(`${what} past end`, m[rows * ld], SENT);
  checks++;
  return true;
}
const oddLd = (cols) => cols + 1 + 2 * Math.floor(rand() * 3);

function checkLevel2(p) {
  const T = p.name;
  const shapes = [];
  for (const m of ALL) for (const n of [0, 1, 3, 4, 5, 8, 9, 17, 33, 65]) shapes.push([m, n]);
  for (const n of ALL) for (const m of [0, 1, 2, 5, 7, 13]) shapes.push([m, n]);
  for (const [m, n] of shapes) {
    for (const beta of [0, 0.5]) {
      reset();
      const lda = oddLd(n);
      const A = rnd(p, m * n);
      const pa = matAlloc(p, m, n, lda, (i, j) => A[i * n + j]);
      const x = rnd(p, Math.max(m, n)), y = rnd(p, Math.max(m, n));
      const px = alloc(p, Math.max(m, n), mis()), py = alloc(p, Math.max(m, n) + 1, mis());
      const alpha = -1.25;
      // gemv_n: y (m)
      put(p, px, x); put(p, py, [...(beta === 0 ? new Array(m).fill(NaN) : y.slice(0, m)), SENT]);
      K[`gemv_n_${T}`](m, n, alpha, pa, lda, px, beta, py);
      let got = get(p, py, m + 1);
      for (let i = 0; i < m; i++) {
        let s = 0, ab = 0;
        for (let j = 0; j < n; j++) { s += A[i * n + j] * x[j]; ab += Math.abs(A[i * n + j] * x[j]); }
        expectClose(`gemv_n_${T} ${m}x${n} beta=${beta} i=${i}`, got[i], beta * (beta ? y[i] : 0) + alpha * s, 3 * (n + 3) * p.u * (Math.abs(alpha) * ab + Math.abs(beta * y[i])));
      }
      expectEq(`gemv_n_${T} ${m}x${n} sentinel`, got[m], SENT);
      // gemv_t: y (n)
      put(p, py, [...(beta === 0 ? new Array(n).fill(NaN) : y.slice(0, n)), SENT]);
      K[`gemv_t_${T}`](m, n, alpha, pa, lda, px, beta, py);
      got = get(p, py, n + 1);
      for (let j = 0; j < n; j++) {
        let s = 0, ab = 0;
        for (let i = 0; i < m; i++) { s += A[i * n + j] * x[i]; ab += Math.abs(A[i * n + j] * x[i]); }
        expectClose(`gemv_t_${T} ${m}x${n} beta=${beta} j=${j}`, got[j], (beta ? beta * y[j] : 0) + alpha * s, 3 * (m + 3) * p.u * (Math.abs(alpha) * ab + Math.abs(beta * y[j])));
      }
      expectEq(`gemv_t_${T} ${m}x${n} sentinel`, got[n], SENT);
      checkPadding(`gemv ${T} A`, matGet(p, pa, m, lda), m, n, lda);
      // sumsq_cols on A (m rows, n cols)
      put(p, py, [...(beta === 0 ? new Array(n).fill(NaN) : y.slice(0, n)), SENT]);
      K[`sumsq_cols_${T}`](m, n, 0.5, pa, lda, beta, py);
      got = get(p, py, n + 1);
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += A[i * n + j] ** 2;
        expectClose(`sumsq_cols_${T} ${m}x${n} j=${j}`, got[j], (beta ? beta * y[j] : 0) + 0.5 * s, 2 * (m + 3) * p.u * (s + Math.abs(beta * y[j])));
      }
      expectEq(`sumsq_cols_${T} sentinel`, got[n], SENT);
    }
  }
  // symv: upper triangle NaN (must not be read)
  for (const d of ALL) for (const beta of [0, 2]) {
    reset();
    const lda = oddLd(d);
    const A = rnd(p, d * d);
    const pa = matAlloc(p, d, d, lda, (i, j) => (j <= i ? A[i * d + j] : NaN));
    const x = rnd(p, d), y = rnd(p, d);
    const px = alloc(p, d, mis()), py = alloc(p, d + 1, mis());
    put(p, px, x); put(p, py, [...(beta === 0 ? new Array(d).fill(NaN) : y), SENT]);
    K[`symv_${T}`](d, 0.5, pa, lda, px, beta, py);
    const got = get(p, py, d + 1);
    for (let i = 0; i < d; i++) {
      let s = 0, ab = 0;
      for (let j = 0; j < d; j++) { const aij = j <= i ? A[i * d + j] : A[j * d + i]; s += aij * x[j]; ab += Math.abs(aij * x[j]); }
      expectClose(`symv_${T} d=${d} beta=${beta} i=${i}`, got[i], (beta ? beta * y[i] : 0) + 0.5 * s, 3 * (d + 3) * p.u * (ab + Math.abs(beta * y[i])));
    }
    expectEq(`symv_${T} sentinel`, got[d], SENT);
  }
}

// ---------------------------------------------------------------------------------------------
// syrk / gram
function checkSyrkOne(p, kind, n, d, alpha, beta) {
  const T = p.name;
  reset();
  const ldg = oddLd(d);
  const G = rnd(p, n * d);
  const pg = matAlloc(p, n, d, ldg, (i, j) => G[i * d + j]);
  const N = kind === 'syrk' ? d : n; // C is N × N
  const ldc = oddLd(N);
  const C0 = rnd(p, N * N);
  const pc = matAlloc(p, N, N, ldc, (i, j) => (j > i ? SENT : beta === 0 ? NaN : C0[i * N + j]));
  const pw = WORK;
  K[`${kind}_${T}`](n, d, alpha, pg, ldg, beta, pc, ldc, pw);
  const Cg = matGet(p, pc, N, ldc);
  let ok = true;
  for (let i = 0; i < N && ok; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0, ab = 0;
      if (kind === 'syrk') for (let k = 0; k < n; k++) { const t = G[k * d + i] * G[k * d + j]; s += t; ab += Math.abs(t); }
      else for (let k = 0; k < d; k++) { const t = G[i * d + k] * G[j * d + k]; s += t; ab += Math.abs(t); }
      const want = (beta ? beta * C0[i * N + j] : 0) + alpha * s;
      const depth = kind === 'syrk' ? n : d;
      if (!expectClose(`${kind}_${T} n=${n} d=${d} beta=${beta} (${i},${j})`, Cg[i * ldc + j], want, 3 * (depth + 3) * p.u * (Math.abs(alpha) * ab + Math.abs(beta * C0[i * N + j])))) { ok = false; break; }
    }
    for (let j = i + 1; j < N; j++) if (Cg[i * ldc + j] !== SENT) { ok = expectEq(`${kind}_${T} n=${n} d=${d} upper (${i},${j})`, Cg[i * ldc + j], SENT); break; }
  }
  checkPadding(`${kind}_${T} n=${n} d=${d} C`, Cg, N, N, ldc);
  checkPadding(`${kind}_${T} n=${n} d=${d} G`, matGet(p, pg, n, ldg), n, d, ldg);
}
function checkSyrk(p) {
  const pairs = [];
  for (const d of ALL) for (const n of [0, 1, 3, 17, 64]) pairs.push([n, d]);
  for (const n of ALL) for (const d of [1, 7, 13, 33]) pairs.push([n, d]);
  pairs.push([255, 65], [256, 65], [257, 65], [513, 40], [5, 1023], [3, 1025], [2, 2049]);
  for (const [n, d] of pairs) {
    for (const [alpha, beta] of [[1 / 3, 0], [-1, 1], [0.5, -0.25]]) {
      checkSyrkOne(p, 'syrk', n, d, alpha, beta);
      if (d <= 300 && n <= 600) checkSyrkOne(p, 'gram', d, n, alpha, beta); // gram: C is (first arg) × (first arg)
    }
  }
}

function checkSmallHelpers(p) {
  const T = p.name;
  for (const d of ALL) {
    reset();
    const ldc = oddLd(d);
    const C = rnd(p, d * d);
    let pc = matAlloc(p, d, d, ldc, (i, j) => C[i * d + j]);
    K[`symmetrize_${T}`](d, pc, ldc);
    let g = matGet(p, pc, d, ldc);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      const want = j <= i ? C[i * d + j] : C[j * d + i];
      if (!expectEq(`symmetrize_${T} d=${d} (${i},${j})`, g[i * ldc + j], want)) { i = d; break; }
    }
    checkPadding(`symmetrize_${T}`, g, d, d, ldc);
    pc = matAlloc(p, d, d, ldc, (i, j) => C[i * d + j]);
    K[`zero_upper_${T}`](d, pc, ldc);
    K[`add_diag_${T}`](d, 0.5, pc, ldc);
    g = matGet(p, pc, d, ldc);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      const want = j < i ? C[i * d + j] : j === i ? Math.fround(C[i * d + i] + 0.5) : 0;
      const w = p.S === 4 ? Math.fround(want) : (j === i ? C[i * d + i] + 0.5 : want);
      if (!expectEq(`zero_upper/add_diag_${T} d=${d} (${i},${j})`, g[i * ldc + j], w)) { i = d; break; }
    }
    checkPadding(`zero_upper_${T}`, g, d, d, ldc);
  }
}

// ---------------------------------------------------------------------------------------------
// Cholesky
function spd(p, d, nG = 0) {
  // A = GᵀG / n + I with G n × d, computed in float64 then rounded to p
  const n = nG || Math.max(4, Math.min(64, d));
  const G = rnd(p, n * d);
  const A = new Float64Array(d * d);
  for (let k = 0; k < n; k++) for (let i = 0; i < d; i++) {
    const gi = G[k * d + i];
    for (let j = 0; j <= i; j++) A[i * d + j] += gi * G[k * d + j];
  }
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) { A[i * d + j] = A[i * d + j] / n + (i === j ? 1 : 0); A[j * d + i] = A[i * d + j]; }
  return p.S === 4 ? Float64Array.from(Float32Array.from(A)) : A;
}
function cholResidual(d, A, L, ld) {
  let num = 0, den = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) {
    let s = 0;
    for (let k = 0; k <= j; k++) s += L[i * ld + k] * L[j * ld + k];
    num += (s - A[i * d + j]) ** 2 * (i === j ? 1 : 2);
    den += A[i * d + j] ** 2 * (i === j ? 1 : 2);
  }
  return den === 0 ? 0 : Math.sqrt(num / den);
}
function checkPotrf(p) {
  const T = p.name;
  const sizes = [...new Set([...ALL, 191, 192, 193, 383, 384, 385])].sort((a, b) => a - b);
  for (const d of sizes) {
    reset();
    const A = spd(p, d);
    const lda = oddLd(d);
    const pa = matAlloc(p, d, d, lda, (i, j) => (j > i ? SENT : A[i * d + j]));
    const info = K[`potrf_${T}`](d, pa, lda, WORK);
    expectEq(`potrf_${T} d=${d} info`, info, 0);
    const L = matGet(p, pa, d, lda);
    const res = cholResidual(d, A, L, lda);
    checks++;
    if (!(res <= 10 * Math.max(d, 1) * p.u)) fail(`potrf_${T} d=${d} residual ${res.toExponential(2)} > 10·d·u = ${(10 * d * p.u).toExponential(2)}`);
    let upperOk = true;
    for (let i = 0; i < d && upperOk; i++) for (let j = i + 1; j < d; j++) if (L[i * lda + j] !== SENT) { upperOk = expectEq(`potrf_${T} d=${d} upper (${i},${j})`, L[i * lda + j], SENT); break; }
    checkPadding(`potrf_${T} d=${d}`, L, d, d, lda);
    if (process.env.VERBOSE) console.log(`potrf_${T} d=${d} residual/(d·u) = ${(res / (Math.max(d, 1) * p.u)).toFixed(3)}`);
  }
  // failures: pivot k made negative / NaN / +∞ → info = k + 1, leading block still a valid factor
  for (const d of [1, 2, 5, 7, 64, 65, 127, 128, 129, 200, 257]) {
    for (const kind of ['neg', 'zero', 'nan', 'inf']) {
      reset();
      const A = spd(p, d);
      const k = kind === 'neg' && d > 3 ? Math.floor(rand() * d) : d - 1 - Math.floor(rand() * Math.min(d, 3));
      const bad = { neg: -1e3, zero: null, nan: NaN, inf: Infinity }[kind];
      const B = Float64Array.from(A);
      if (kind === 'zero') {
        // make the leading (k+1) minor exactly singular: row/col k = row/col 0 (k > 0), or A00 = 0
        if (k === 0) B[0] = 0; else { for (let j = 0; j < d; j++) { B[k * d + j] = B[0 * d + j]; B[j * d + k] = B[j * d + 0]; } B[k * d + k] = B[0]; }
      } else B[k * d + k] = bad;
      const lda = oddLd(d);
      const pa = matAlloc(p, d, d, lda, (i, j) => (j > i ? SENT : B[i * d + j]));
      const info = K[`potrf_${T}`](d, pa, lda, WORK);
      if (kind === 'zero' && k > 0) {
        // rounding may make the exactly-singular pivot tiny positive; accept k+1 or success with a tiny pivot
        checks++;
        if (!(info === k + 1 || info === 0 || info > k)) fail(`potrf_${T} d=${d} singular at ${k}: info ${info}`);
      } else expectEq(`potrf_${T} d=${d} ${kind} pivot ${k} info`, info, k + 1);
      const L = matGet(p, pa, d, lda);
      if (k > 0 && kind !== 'zero') {
        const res = cholResidual(k, A.filter((_, idx) => (idx % d) < k && Math.floor(idx / d) < k), L, lda);
        checks++;
        if (!(res <= 10 * k * p.u)) fail(`potrf_${T} d=${d} partial factor (${k}) residual ${res}`);
      }
      let upperOk = true;
      for (let i = 0; i < d && upperOk; i++) for (let j = i + 1; j < d; j++) if (L[i * lda + j] !== SENT) { upperOk = expectEq(`potrf_${T} fail d=${d} upper (${i},${j})`, L[i * lda + j], SENT); break; }
    }
  }
}

function factorFor(p, d) {
  // well-conditioned L from the reference A, factored in float64, rounded to p
  const A = spd(p, d);
  const L = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j];
    for (let k = 0; k < j; k++) s -= L[j * d + k] ** 2;
    L[j * d + j] = Math.sqrt(s);
    for (let i = j + 1; i < d; i++) {
      let t = A[i * d + j];
      for (let k = 0; k < j; k++) t -= L[i * d + k] * L[j * d + k];
      L[i * d + j] = t / L[j * d + j];
    }
  }
  return p.S === 4 ? Float64Array.from(Float32Array.from(L)) : L;
}
function checkSolves(p) {
  const T = p.name;
  const sizes = [...new Set([...ALL, 191, 192, 193])].sort((a, b) => a - b);
  for (const d of sizes) {
    reset();
    const L = factorFor(p, d);
    const ldl = oddLd(d);
    const pl = matAlloc(p, d, d, ldl, (i, j) => (j > i ? NaN : L[i * d + j])); // upper never read
    // trsv / trsv_t: residual of the triangular system
    const b = rnd(p, d);
    const px = alloc(p, d + 1, mis());
    for (const which of ['trsv', 'trsv_t']) {
      put(p, px, [...b, SENT]);
      K[`${which}_${T}`](d, pl, ldl, px);
      const x = get(p, px, d + 1);
      expectEq(`${which}_${T} d=${d} sentinel`, x[d], SENT);
      let rn = 0, xn = 0, bn = 0;
      for (let i = 0; i < d; i++) {
        let s = 0;
        if (which === 'trsv') for (let k = 0; k <= i; k++) s += L[i * d + k] * x[k];
        else for (let k = i; k < d; k++) s += L[k * d + i] * x[k];
        rn += (s - b[i]) ** 2; xn += x[i] ** 2; bn += b[i] ** 2;
      }
      checks++;
      const rel = Math.sqrt(rn) / (Math.sqrt(bn) + 1e-300);
      if (!(rel <= 10 * Math.max(d, 1) * p.u) || !Number.isFinite(rel)) fail(`${which}_${T} d=${d} relative residual ${rel}`);
    }
    // potrs: nrhs rows
    for (const nrhs of [0, 1, 2, 3, 4, 5, 7, 16, 33]) {
      if (d > 129 && ![1, 5, 33].includes(nrhs)) continue;
      const ldb = oddLd(d);
      const B = rnd(p, nrhs * d);
      const pb = matAlloc(p, nrhs, d, ldb, (i, j) => B[i * d + j]);
      K[`potrs_${T}`](d, nrhs, pl, ldl, pb, ldb, WORK);
      const X = matGet(p, pb, nrhs, ldb);
      checkPadding(`potrs_${T} d=${d} nrhs=${nrhs}`, X, nrhs, d, ldb);
      for (let r = 0; r < nrhs; r++) {
        const x = X.slice(r * ldb, r * ldb + d);
        // y = Lᵀx, z = L y; compare z with b
        const y = new Float64Array(d);
        for (let i = 0; i < d; i++) { let s = 0; for (let k = i; k < d; k++) s += L[k * d + i] * x[k]; y[i] = s; }
        let rn = 0, bn = 0;
        for (let i = 0; i < d; i++) { let s = 0; for (let k = 0; k <= i; k++) s += L[i * d + k] * y[k]; rn += (s - B[r * d + i]) ** 2; bn += B[r * d + i] ** 2; }
        const rel = Math.sqrt(rn / (bn + 1e-300));
        checks++;
        if (!(rel <= 20 * Math.max(d, 1) * p.u)) { fail(`potrs_${T} d=${d} nrhs=${nrhs} row ${r} relative residual ${rel}`); break; }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// benchmarks
// TIMER=cpu measures the process's CPU time (user + system) instead of wall time: on a shared
// machine, time spent preempted by other processes then does not count.
const cpuClock = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const clock = process.env.TIMER === 'cpu' ? cpuClock : () => performance.now();
function timeIt(fn, runs) {
  const ts = [];
  for (let r = 0; r < runs; r++) { const t0 = clock(); fn(); ts.push(clock() - t0); }
  ts.sort((a, b) => a - b);
  return { med: ts[Math.floor(ts.length / 2)], best: ts[0] };
}
function bench(spec, runs) {
  const [kind, T, dStr, nStr] = spec.split(':');
  const p = P[T];
  const d = Number(dStr);
  reset();
  let fn, flops, reps = 1;
  if (kind === 'syrk' || kind === 'gram') {
    const n = Number(nStr ?? 256);
    const pg = alloc(p, n * d); put(p, pg, rnd(p, n * d));
    const N = kind === 'syrk' ? d : n;
    const pc = alloc(p, N * N);
    fn = () => K[`${kind}_${T}`](n, d, 1 / n, pg, d, 0, pc, N, WORK);
    flops = kind === 'syrk' ? n * d * (d + 1) : d * n * (n + 1);
  } else if (kind === 'potrf') {
    const A = spd(p, d, 256);
    const src = alloc(p, d * d); put(p, src, A);
    const pa = alloc(p, d * d);
    fn = () => { new Uint8Array(memory.buffer).copyWithin(pa, src, src + d * d * p.S); const info = K[`potrf_${T}`](d, pa, d, WORK); if (info) throw new Error('potrf info ' + info); };
    flops = d ** 3 / 3;
  } else if (kind.startsWith('potrs')) {
    const nrhs = Number(kind.slice(5));
    const L = factorFor(p, d);
    const pl = alloc(p, d * d); put(p, pl, L);
    const pb = alloc(p, nrhs * d); put(p, pb, rnd(p, nrhs * d));
    fn = () => K[`potrs_${T}`](d, nrhs, pl, d, pb, d, WORK);
    flops = 2 * d * d * nrhs;
    if (nrhs === 1) reps = 20;
  } else throw new Error('unknown bench ' + spec);
  const f = reps > 1 ? () => { for (let i = 0; i < reps; i++) fn(); } : fn;
  f(); f(); // warm up (tier-up)
  const { med, best } = timeIt(f, runs);
  const g = (t) => (flops * reps / (t * 1e6));
  return { spec, med: g(med), best: g(best), ms: med / reps };
}

// ---------------------------------------------------------------------------------------------
const [mode = 'check', ...rest] = process.argv.slice(2);
if (mode === 'check') {
  const groups = { level1: checkLevel1, level2: checkLevel2, syrk: checkSyrk, helpers: checkSmallHelpers, potrf: checkPotrf, solves: checkSolves };
  const want = rest.length ? rest : Object.keys(groups);
  for (const name of want) for (const p of [P.f32, P.f64]) {
    seed(12345 + name.length);
    const t0 = performance.now();
    const f0 = failures;
    groups[name](p);
    console.log(`${name} ${p.name}: ${failures - f0 ? 'FAILED ' + (failures - f0) : 'ok'} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  console.log(`${checks} checks, ${failures} failures`);
  process.exit(failures ? 1 : 0);
} else if (mode === 'bench') {
  seed(7);
  const specs = rest.length ? rest : [
    'syrk:f32:256', 'syrk:f32:512', 'syrk:f32:1024', 'syrk:f64:256', 'syrk:f64:512', 'syrk:f64:1024',
    'potrf:f32:256', 'potrf:f32:512', 'potrf:f32:1024', 'potrf:f64:256', 'potrf:f64:512', 'potrf:f64:1024',
    'potrs1:f32:1024', 'potrs1:f64:1024', 'potrs64:f32:1024', 'potrs64:f64:1024',
  ];
  const runs = Number(process.env.RUNS ?? 7);
  // short warm-up calls of every kernel first (no on-stack replacement in wasm)
  for (const s of specs) { const [k, T] = s.split(':'); bench(`${k}:${T}:64`, 1); }
  for (const s of specs) {
    const r = bench(s, runs);
    console.log(`${r.spec.padEnd(20)} median ${r.med.toFixed(2).padStart(7)} GFLOP/s   best ${r.best.toFixed(2).padStart(7)}   (${r.ms.toFixed(3)} ms)`);
  }
}
