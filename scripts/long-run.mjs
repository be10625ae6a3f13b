#!/usr/bin/env node
// Long run: many optimizer steps on a small least-squares problem with every representation.
// Checks that wasm memory stays flat, the parameters stay finite and the loss decreases; prints a
// summary and exits non-zero on a failure. Usage: node scripts/long-run.mjs [steps=10000] [--dist|--src]
// (imports dist/index.js, which `npm run build` makes).
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs the long run with the library `ef`; returns one summary row per configuration. */
export function longRun(ef, steps = 10_000, log = () => {}) {
  ef.initSync();
  const d = 8, m = 64, n = 16;
  let seed = 7;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
  const X = new Float64Array(m * d).map(rnd);
  const truth = new Float64Array(d).map(() => 2 * rnd());
  const y = new Float64Array(m);
  // noisy targets: the per-example gradients keep a floor, so F does not vanish at the optimum
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < d; j++) y[i] += X[i * d + j] * truth[j];
    y[i] += 0.1 * rnd();
  }
  const loss = (theta) => {
    let s = 0;
    for (let i = 0; i < m; i++) {
      let r = -y[i];
      for (let j = 0; j < d; j++) r += X[i * d + j] * theta[j];
      s += r * r;
    }
    return s / (2 * m);
  };
  const configs = [
    { representation: 'dense' },
    { representation: 'lowrank', rank: 32 },
    { representation: 'blockdiag', blocks: [3, 5] },
    { representation: 'diag' },
    { representation: 'dense', precision: 'f64', Type: Float64Array },
    { representation: 'lowrank', rank: 32, momentum: 0.5, Type: Float64Array },
  ];
  const rows = [];
  for (const c of configs) {
    const { Type = Float32Array, ...opts } = c;
    const params = new Type(d);
    const opt = new ef.EmpiricalFisherOptimizer(params, { lr: 0.2, damping: 1e-2, decay: 0.95, lossChangeBound: 1e-3, ...opts });
    const G = new Type(n * d);
    const losses = [];
    const first = loss(params);
    let memAt = undefined;
    let ok = true;
    let problem = '';
    const t0 = performance.now();
    for (let t = 0; t < steps; t++) {
      for (let k = 0; k < n; k++) {
        const i = (t * n + k) % m;
        let r = -y[i];
        for (let j = 0; j < d; j++) r += X[i * d + j] * params[j];
        for (let j = 0; j < d; j++) G[k * d + j] = r * X[i * d + j];
      }
      opt.step(G, n);
      if (t === Math.min(99, steps - 1)) memAt = ef.memoryInfo();
      if (t % 100 === 0 || t === steps - 1) {
        if (!params.every(Number.isFinite)) {
          ok = false;
          problem = `non-finite params at step ${t}`;
          break;
        }
        losses.push(loss(params));
      }
    }
    const mem = ef.memoryInfo();
    const last = loss(params);
    const q = Math.max(1, Math.floor(losses.length / 4));
    const early = losses.slice(0, q).reduce((a, b) => a + b, 0) / q;
    const late = losses.slice(-q).reduce((a, b) => a + b, 0) / q;
    if (ok && mem.wasmBytes !== memAt.wasmBytes) (ok = false), (problem = `wasm memory grew ${memAt.wasmBytes} → ${mem.wasmBytes}`);
    if (ok && mem.allocatedBytes !== memAt.allocatedBytes) (ok = false), (problem = `allocated bytes changed ${memAt.allocatedBytes} → ${mem.allocatedBytes}`);
    if (ok && !(last < first * 0.5)) (ok = false), (problem = `loss ${first} → ${last}: not halved`);
    if (ok && losses.length >= 4 && !(late <= early)) (ok = false), (problem = `late losses ${late} above early ${early}`);
    opt.dispose();
    const row = {
      config: JSON.stringify(opts) + (Type === Float64Array ? ' f64 params' : ''),
      steps,
      firstLoss: first,
      lastLoss: last,
      wasmBytes: mem.wasmBytes,
      allocatedBytes: mem.allocatedBytes,
      ms: Math.round(performance.now() - t0),
      ok,
      problem,
    };
    log(row);
    rows.push(row);
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const steps = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10_000);
  const ef = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  const rows = longRun(ef, steps, (r) =>
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.config.padEnd(56)} ${r.steps} steps  loss ${r.firstLoss.toExponential(3)} → ${r.lastLoss.toExponential(3)}  wasm ${r.wasmBytes} B  allocated ${r.allocatedBytes} B  ${r.ms} ms ${r.problem}`),
  );
  const failed = rows.filter((r) => !r.ok);
  console.log(failed.length ? `${failed.length} configuration(s) failed` : `all ${rows.length} configurations: memory flat, parameters finite, loss decreasing`);
  process.exitCode = failed.length ? 1 : 0;
}
