// Probe for assembly/tridiag.ts: checks stedc_f64 / sterf_f64 on the classic tridiagonal families
// and times them. Instantiates build/kernels.wasm directly.
//
//   node scripts/probe-tridiag.mjs check                 residuals, orthogonality, values vs sterf
//   node scripts/probe-tridiag.mjs bench [n …]           stedc alone: median (best) ms per family
//   env RUNS=9 timed runs (interleaved across families); NO_LIFTOFF=1 for TurboFan up front;
//   COMPARE=other.wasm times that build's stedc_f64 too, interleaved (e.g. stage 1's QL)
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.env.NO_LIFTOFF) (await import('node:v8')).setFlagsFromString('--no-liftoff');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wasmPath = process.env.WASM ?? join(root, 'build', 'kernels.wasm');
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), { env: { abort() { throw new Error('abort'); } } });
let K = instance.exports;
const memory = K.memory;
const align = (x, a) => Math.ceil(x / a) * a;

let top = align(Number(K.heap_base()), 64);
function alloc(bytes) {
  const p = align(top, 64);
  top = p + bytes;
  if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
  return p;
}
const f64 = (p, n) => new Float64Array(memory.buffer, p, n);

let s = 0x9e3779b9;
function rand() {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** the families: [d, e] of order n */
const FAMILIES = {
  random: (n) => [Array.from({ length: n }, () => rand() * 2 - 1), Array.from({ length: n - 1 }, () => rand() * 2 - 1)],
  '1-2-1': (n) => [new Array(n).fill(2), new Array(n - 1).fill(-1)],
  wilkinson: (n) => [Array.from({ length: n }, (_, i) => Math.abs(i - (n - 1) / 2)), new Array(n - 1).fill(1)],
  glued: (n) => {
    // glued Wilkinson W21+ blocks, glue 1e-10
    const d = [], e = [];
    for (let i = 0; i < n; i++) {
      const j = i % 21;
      d.push(Math.abs(j - 10));
      if (i < n - 1) e.push(j == 20 ? 1e-10 : 1);
    }
    return [d, e];
  },
  graded: (n) => [Array.from({ length: n }, (_, i) => Math.pow(1e-8, i / Math.max(1, n - 1))), Array.from({ length: n - 1 }, (_, i) => 0.5 * Math.pow(1e-8, (i + 0.5) / Math.max(1, n - 1)))],
  clement: (n) => [new Array(n).fill(0), Array.from({ length: n - 1 }, (_, i) => Math.sqrt((i + 1) * (n - 1 - i)))],
  glued14: (n) => {
    const d = [], e = [];
    for (let i = 0; i < n; i++) {
      const j = i % 21;
      d.push(Math.abs(j - 10));
      if (i < n - 1) e.push(j == 20 ? 1e-14 : 1);
    }
    return [d, e];
  },
  glued4: (n) => {
    const d = [], e = [];
    for (let i = 0; i < n; i++) {
      const j = i % 21;
      d.push(Math.abs(j - 10));
      if (i < n - 1) e.push(j == 20 ? 1e-4 : 1);
    }
    return [d, e];
  },
  wide: (n) => [Array.from({ length: n }, (_, i) => Math.pow(10, -300 * rand()) * (rand() - 0.5)), Array.from({ length: n - 1 }, () => Math.pow(10, -300 * rand()))],
  householder: (n) => householder(n),
  clusteredSpectrum: (n) => householder(n, (i) => (i % 3 == 0 ? 1 : i % 3 == 1 ? 1 + 1e-12 * rand() : -1 + 1e-10 * rand())),
  clustered: (n) => [Array.from({ length: n }, () => 1 + (rand() < 0.5 ? 1e-14 * rand() : 0)), Array.from({ length: n - 1 }, () => 1e-12 * (rand() - 0.5))],
};

/** the tridiagonal of Householder's reduction of a random symmetric matrix (spectrum: random, or Q diag(spec) Qᵀ) */
function householder(n, spec) {
  const A = new Float64Array(n * n);
  if (!spec) {
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = rand() * 2 - 1;
  } else {
    // Q from a few random reflectors
    for (let i = 0; i < n; i++) A[i * n + i] = spec(i);
    for (let r = 0; r < 3; r++) {
      const v = Array.from({ length: n }, () => rand() - 0.5);
      const vv = v.reduce((a, x) => a + x * x, 0);
      // A ← H A H, H = I − 2vvᵀ/vᵀv
      const Av = new Float64Array(n);
      for (let i = 0; i < n; i++) { let t = 0; for (let j = 0; j < n; j++) t += A[i * n + j] * v[j]; Av[i] = t; }
      const vAv = v.reduce((a, x, i) => a + x * Av[i], 0);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] += -2 * (v[i] * Av[j] + Av[i] * v[j]) / vv + 4 * v[i] * v[j] * vAv / (vv * vv);
    }
  }
  const d = [], e = [];
  for (let k = 0; k < n - 2; k++) {
    // reflector zeroing A[k+2.., k]
    let alpha = 0;
    for (let i = k + 1; i < n; i++) alpha += A[i * n + k] ** 2;
    alpha = Math.sqrt(alpha);
    if (A[(k + 1) * n + k] > 0) alpha = -alpha;
    const v = new Float64Array(n);
    for (let i = k + 1; i < n; i++) v[i] = A[i * n + k];
    v[k + 1] -= alpha;
    const vv = v.reduce((a, x) => a + x * x, 0);
    if (vv > 0) {
      const p = new Float64Array(n);
      for (let i = k; i < n; i++) { let t = 0; for (let j = k + 1; j < n; j++) t += A[i * n + j] * v[j]; p[i] = t * 2 / vv; }
      let K = 0;
      for (let i = k + 1; i < n; i++) K += v[i] * p[i];
      K /= vv;
      for (let i = k; i < n; i++) p[i] -= K * v[i];
      for (let i = k; i < n; i++) for (let j = k; j < n; j++) A[i * n + j] -= v[i] * p[j] + p[i] * v[j];
    }
  }
  for (let i = 0; i < n; i++) { d.push(A[i * n + i]); if (i < n - 1) e.push(A[(i + 1) * n + i]); }
  return [d, e];
}

function run(n, d0, e0, wantz) {
  const save = top;
  const dp = alloc(8 * n), ep = alloc(8 * Math.max(n - 1, 1)), zp = wantz ? alloc(8 * n * n) : 0;
  const wb = K.stedc_work_bytes(n);
  const wp = wantz ? alloc(wb) : 0;
  f64(dp, n).set(d0);
  f64(ep, n - 1).set(e0);
  const t0 = performance.now();
  const info = wantz ? K.stedc_f64(n, dp, ep, zp, n, wp) : K.sterf_f64(n, dp, ep);
  const ms = performance.now() - t0;
  const out = { info, ms, d: Float64Array.from(f64(dp, n)), z: wantz ? Float64Array.from(f64(zp, n * n)) : null };
  top = save;
  return out;
}

function check(n, d0, e0) {
  const u = 2 ** -53;
  const a = run(n, d0, e0, true);
  const b = run(n, d0, e0, false);
  const { d, z } = a;
  let tn = 0;
  for (let i = 0; i < n; i++) tn += d0[i] ** 2 + (i < n - 1 ? 2 * e0[i] ** 2 : 0);
  tn = Math.sqrt(tn);
  // ‖T zₖ − λₖ zₖ‖ over rows k
  let res = 0, orth = 0, vals = 0, sorted = true;
  for (let k = 0; k < n; k++) {
    const zk = z.subarray(k * n, k * n + n);
    for (let i = 0; i < n; i++) {
      let t = d0[i] * zk[i] - d[k] * zk[i];
      if (i > 0) t += e0[i - 1] * zk[i - 1];
      if (i < n - 1) t += e0[i] * zk[i + 1];
      res += t * t;
    }
    if (k > 0 && d[k] < d[k - 1]) sorted = false;
    vals = Math.max(vals, Math.abs(d[k] - b.d[k]));
  }
  for (let k = 0; k < n; k++) for (let j = 0; j <= k; j++) {
    let t = 0;
    for (let i = 0; i < n; i++) t += z[k * n + i] * z[j * n + i];
    orth = Math.max(orth, Math.abs(t - (j === k ? 1 : 0)));
  }
  return { info: a.info + b.info, res: Math.sqrt(res) / tn / (n * u), orth: orth / (n * u), vals: vals / (tn * n * u), sorted };
}

// a second build on the same memory contents (its own memory; inputs copied in)
let K2 = null;
if (process.env.COMPARE) {
  const mem = new WebAssembly.Memory({ initial: 1 });
  K2 = (await WebAssembly.instantiate(readFileSync(process.env.COMPARE), { env: { abort() { throw new Error('abort'); }, memory: mem } })).instance.exports;
}

/** stedc of build X (its memory, its heap) timed */
function runOther(X, n, d0, e0) {
  const mem = X.memory;
  const base = align(Number(X.heap_base()), 64);
  const wb = X.stedc_work_bytes(n);
  const need = base + 8 * (2 * n + n * n) + wb + 1024;
  if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
  const dp = base, ep = dp + align(8 * n, 64), zp = ep + align(8 * n, 64), wp = zp + align(8 * n * n, 64);
  new Float64Array(mem.buffer, dp, n).set(d0);
  new Float64Array(mem.buffer, ep, n - 1).set(e0);
  const t0 = performance.now();
  X.stedc_f64(n, dp, ep, zp, n, wp);
  return performance.now() - t0;
}

const mode = process.argv[2] ?? 'check';
if (mode === 'check') {
  for (const n of (process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1, 2, 3, 5, 31, 32, 33, 64, 65, 100, 200, 300])) {
    for (const [name, f] of Object.entries(FAMILIES)) {
      const [d, e] = f(n);
      const r = check(n, d, e);
      const bad = r.info !== 0 || !(r.res <= 30) || !(r.orth <= 30) || !(r.vals <= 30) || !r.sorted;
      console.log(`${bad ? 'BAD ' : ''}n=${n} ${name}: info ${r.info} res ${r.res.toFixed(3)} orth ${r.orth.toFixed(3)} vals-vs-sterf ${r.vals.toFixed(3)} sorted ${r.sorted}`);
    }
  }
} else {
  const sizes = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [128, 256, 512, 1024];
  const runs = Number(process.env.RUNS ?? 7);
  const fams = (process.env.FAMILIES ?? 'random,1-2-1,wilkinson,glued').split(',');
  for (const n of sizes) {
    const inputs = fams.map((f) => FAMILIES[f](n));
    const times = fams.map(() => []);
    const other = fams.map(() => []);
    for (let w = 0; w < 2; w++) inputs.forEach(([d, e]) => { run(n, d, e, true); if (K2) runOther(K2, n, d, e); });
    for (let r = 0; r < runs; r++) inputs.forEach(([d, e], i) => { times[i].push(run(n, d, e, true).ms); if (K2) other[i].push(runOther(K2, n, d, e)); });
    const stat = (t) => { t.sort((x, y) => x - y); return `${t[t.length >> 1].toFixed(1)} (${t[0].toFixed(1)})`; };
    const line = fams.map((f, i) => `${f} ${stat(times[i])}${K2 ? ` vs ${stat(other[i])}` : ''}`);
    console.log(`n=${n}: ${line.join(', ')} ms`);
  }
}
