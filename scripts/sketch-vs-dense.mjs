// The issue-13 scenario: the low-rank running average (FD sketch) against the dense one, d = 300, f64,
// decay 0.95, batches of 128 growing in scale. node scripts/sketch-vs-dense.mjs [batches] (after npm run build)
import { init, EmpiricalFisher } from '../dist/index.js';
await init();
const d = 300, n = 128, T = +(process.argv[2] ?? 30);
let seed = 7;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
// gradients with a decaying spectrum: G = Z·diag(σ)·Q-ish (random mixing)
const sig = Float64Array.from({ length: d }, (_, j) => 1 / (1 + j / 10));
const L = new EmpiricalFisher(d, { precision: 'f64', representation: 'lowrank', decay: 0.95 });
const D = new EmpiricalFisher(d, { precision: 'f64', representation: 'dense', decay: 0.95 });
const t0 = performance.now();
for (let t = 1; t <= T; t++) {
  const G = new Float64Array(n * d);
  const scale = 1 + t / 5;
  for (let i = 0; i < n * d; i++) G[i] = rnd() * sig[i % d] * scale;
  L.update(G, n); D.update(G, n);
  if ([5, 15, 30].includes(t)) {
    const A = L.toDense(), B = D.toDense();
    let num = 0, den = 0, ta = 0, tb = 0;
    for (let i = 0; i < d * d; i++) { num += (A[i] - B[i]) ** 2; den += B[i] ** 2; }
    for (let i = 0; i < d; i++) { ta += A[i * d + i]; tb += B[i * d + i]; }
    console.log(t, L.rank, (Math.sqrt(num / den)).toFixed(4), (ta / tb).toFixed(4), 'rho', L.sketchError.toExponential(3), 'lmax', (tb/d).toExponential(3), ((performance.now()-t0)/1000).toFixed(1)+'s');
  }
}
