/**
 * The package as users install it: `npm pack` (without the build: it already ran), the tarball
 * installed into a fresh temporary project, and there (a) imported as ESM, (b) required as
 * CommonJS, (c) type-checked with `tsc --strict` (node16, nodenext and bundler resolution),
 * (d) the README's quick start run, (e) the command line (`npx empirical-fisher`) run. The tarball
 * holds only what users need.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let work = '';
let project = '';
let tarball = '';
let files: { path: string; size: number }[] = [];
let packedSize = 0;

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ef-pack-'));
  const out = sh(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root);
  const info = JSON.parse(out.slice(out.indexOf('[')))[0] as { filename: string; size: number; files: { path: string; size: number }[] };
  tarball = join(work, info.filename);
  files = info.files;
  packedSize = statSync(tarball).size;
  // visible in the test output: the size users download
  console.log(`empirical-fisher tarball: ${info.filename}, ${packedSize} bytes packed, ${files.length} files:\n  ${files.map((f) => `${f.path} (${f.size})`).join('\n  ')}`);
  project = join(work, 'app');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'ef-consumer', version: '1.0.0', private: true }, null, 2));
  sh(npm, ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts=false'], project);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('holds only what users need: the bundles, their declarations, README, LICENSE, package.json', () => {
    const paths = files.map((f) => f.path).sort();
    for (const need of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/models.js', 'dist/models.cjs', 'dist/models.d.ts']) {
      expect(paths).toContain(need);
    }
    // every declaration file must be reachable from dist/index.d.ts or dist/models.d.ts; nothing else may ship
    const reachable = new Set<string>();
    const visit = (rel: string) => {
      if (reachable.has(rel)) return;
      reachable.add(rel);
      const text = readFileSync(join(root, rel), 'utf8');
      for (const m of text.matchAll(/(?:from |import\()['"](\.[^'"]+)['"]/g)) {
        visit(join(dirname(rel), m[1].replace(/\.js$/, '.d.ts')));
      }
    };
    visit('dist/index.d.ts');
    visit('dist/models.d.ts');
    expect(reachable).toContain('dist/models/mlp.d.ts');
    // bin/empirical-fisher.mjs: the CLI of `npx empirical-fisher bench|demo` (npm always packs bin files)
    const allowed = new Set(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.cjs', 'dist/models.js', 'dist/models.cjs', 'bin/empirical-fisher.mjs', ...reachable]);
    const extra = paths.filter((p) => !allowed.has(p));
    expect(extra, 'files in the tarball that users cannot use').toEqual([]);
  });

  // 202 KB with eigh (57 KB of wasm per build, the two builds in base64 in each of the two
  // bundles), 226 KB with gemm and the layer kit (61 KB of wasm per build), 252 KB with the models'
  // kernels (65 KB) and dist/models.{js,cjs,d.ts} (16 KB packed), then the command line and the
  // longer README, 289 KB with the Kronecker stores ('kronecker', 'ekfac'; about 15 KB packed),
  // 301 KB with the threads' worker as a module (issue 17: its minified bundle, ~10 KB, in each
  // bundle, next to the module itself for the calling thread) and the async methods;
  // a second copy of the wasm in a bundle would add about 30 KB packed
  it('is small (the wasm is embedded once per bundle): under 310 KB packed', () => {
    expect(packedSize).toBeGreaterThan(10_000);
    expect(packedSize).toBeLessThan(310_000);
    // the two builds (plain and threads), base64 from the wasm magic '\0asm'; none in the models bundles
    for (const f of ['dist/index.js', 'dist/index.cjs', 'dist/models.js', 'dist/models.cjs']) {
      const want = f.includes('models') ? 0 : 2;
      expect(readFileSync(join(root, f), 'utf8').split('AGFzbQ').length - 1, f).toBe(want);
    }
  });

  it('installs with no dependencies', () => {
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const installed = Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/'));
    expect(installed).toEqual(['node_modules/empirical-fisher']);
  });
});

describe('the installed package', () => {
  it('(a) imports as ESM', () => {
    writeFileSync(
      join(project, 'esm.mjs'),
      `import { init, linalg, EmpiricalFisher, EmpiricalFisherOptimizer, NotPositiveDefiniteError, features, memoryInfo } from 'empirical-fisher';
await init();
const x = linalg.solveSPD(new Float64Array([4, 2, 2, 5]), 2, new Float64Array([6, 7]));
const F = new EmpiricalFisher(3, { representation: 'lowrank' });
F.update(new Float32Array([1, 2, 3, 4, 5, 6]), 2);
const p = F.precondition(new Float32Array([1, 1, 1]));
F.dispose();
const params = new Float64Array(2);
const opt = new EmpiricalFisherOptimizer(params, { lr: 0.5 });
opt.step(new Float64Array([1, 0, 0, 1]), 2);
opt.dispose();
let npd = false;
try { linalg.cholesky(new Float64Array([-1]), 1); } catch (e) { npd = e instanceof NotPositiveDefiniteError; }
console.log(JSON.stringify({ x: Array.from(x), finite: Array.from(p).every(Number.isFinite), params: params.every(Number.isFinite), npd, simd: features().simd, live: memoryInfo().liveBlocks }));
`,
    );
    const out = JSON.parse(sh(process.execPath, ['esm.mjs'], project));
    expect(out).toMatchObject({ x: [1, 1], finite: true, params: true, npd: true, simd: true });
  });

  it('(b) requires as CommonJS', () => {
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const ef = require('empirical-fisher');
ef.initSync();
const L = ef.linalg.cholesky(new Float64Array([4, 2, 2, 5]), 2);
console.log(Array.from(L).join(','), typeof ef.EmpiricalFisher, require('empirical-fisher/package.json').name);
`,
    );
    expect(sh(process.execPath, ['cjs.cjs'], project).trim()).toBe('2,0,1,2 function empirical-fisher');
  });

  // empirical-fisher/models: a few steps of an MLP, with G and through the layer statistics; the
  // models use the core's engine (one init), and their bundle holds no second copy of the core
  const trainModels = (ef: string, models: string) => `const model = new ${models}.MLP({ sizes: [6, 5, 4, 3], activation: 'relu' });
const params = model.initialize(new Float32Array(model.size), 1);
const n = 12;
const x = new Float32Array(n * 6);
const labels = new Uint8Array(n);
for (let i = 0; i < n; i++) { labels[i] = i % 3; for (let j = 0; j < 6; j++) x[i * 6 + j] = ((i * 7 + j * 3) % 11) / 11 + (j % 3 === labels[i] ? 1 : 0); }
const before = model.evaluate(params, x, labels, n).loss;
const opt = new ${ef}.EmpiricalFisherOptimizer(params, { lr: 0.5, damping: 0.1 });
const G = new Float32Array(n * model.size);
for (let s = 0; s < 10; s++) { model.perExampleGradients(params, x, labels, n, G); opt.step(G, n); }
opt.dispose();
const sgd = new ${models}.SGD(params, { lr: 0.1 });
const g = new Float32Array(model.size);
const fb = model.forwardBackward(params, x, labels, n, { gradient: g });
sgd.step(g);
const after = model.evaluate(params, x, labels, n).loss;
console.log(JSON.stringify({ d: model.size, before, after, layers: fb.layers.length, adam: typeof ${models}.Adam, rng: new ${models}.SeededRandom(1).nextU32() > 0, logistic: new ${models}.LogisticRegression({ inputs: 4, classes: 2 }).size }));
`;
  const expectTrained = (out: { d: number; before: number; after: number; layers: number; adam: string; rng: boolean; logistic: number }) => {
    expect(out).toMatchObject({ d: 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3, layers: 3, adam: 'function', rng: true, logistic: 10 });
    expect(out.after).toBeLessThan(0.7 * out.before);
  };

  it('(a) imports empirical-fisher/models as ESM, sharing the core engine, and trains', () => {
    writeFileSync(
      join(project, 'models.mjs'),
      `import * as ef from 'empirical-fisher';
import * as models from 'empirical-fisher/models';
await ef.init();
${trainModels('ef', 'models')}`,
    );
    expectTrained(JSON.parse(sh(process.execPath, ['models.mjs'], project)));
    expect(readFileSync(join(project, 'node_modules/empirical-fisher/dist/models.js'), 'utf8')).not.toContain('KERNELS_WASM_BASE64');
  });

  it('(b) requires empirical-fisher/models as CommonJS and trains', () => {
    writeFileSync(
      join(project, 'models.cjs'),
      `const ef = require('empirical-fisher');
const models = require('empirical-fisher/models');
ef.initSync();
${trainModels('ef', 'models')}`,
    );
    expectTrained(JSON.parse(sh(process.execPath, ['models.cjs'], project)));
  });

  const TS = `import { init, initSync, linalg, EmpiricalFisher, EmpiricalFisherOptimizer, NotPositiveDefiniteError, memoryInfo } from 'empirical-fisher';
import type { EmpiricalFisherOptions, StepInfo, MemoryInfo, Representation } from 'empirical-fisher';
import { MLP, LogisticRegression, SGD, Adam, SeededRandom } from 'empirical-fisher/models';
import type { Classifier, Evaluation, MLPOptions, Activation, Loss, ForwardBackward } from 'empirical-fisher/models';

export async function main(): Promise<number> {
  await init();
  initSync();
  const A: Float64Array = linalg.solveSPD(new Float64Array([4, 2, 2, 5]), 2, new Float64Array([6, 7]));
  const L32: Float32Array = linalg.cholesky(new Float32Array([4, 2, 2, 5]), 2, { shift: 0 });
  const rep: Representation = 'diag';
  const opts: EmpiricalFisherOptions = { precision: 'f64', damping: 1e-3, representation: rep };
  const F = new EmpiricalFisher(2, opts);
  F.update(new Float64Array([1, 2, 3, 4]), 2);
  const x = F.precondition(new Float64Array([1, 1]));
  const q: number = F.quadratic(x);
  F.dispose();
  const params = new Float32Array(2);
  const opt = new EmpiricalFisherOptimizer(params, { lr: 0.1, momentum: 0.9 });
  const info: StepInfo = opt.step(new Float32Array([1, 0, 0, 1]), 2);
  opt.dispose();
  const m: MemoryInfo = memoryInfo();
  let pivot = 0;
  try {
    linalg.cholesky(new Float64Array([-1]), 1);
  } catch (e) {
    if (e instanceof NotPositiveDefiniteError) pivot = e.pivot;
  }
  const act: Activation = 'sigmoid';
  const loss: Loss = 'squared-error';
  const mo: MLPOptions = { sizes: [4, 3, 2], activation: act, loss, precision: 'f64' };
  const model: Classifier = new MLP(mo);
  const p64 = model.initialize(new Float64Array(model.size), 1);
  const ev: Evaluation = model.evaluate(p64, new Float64Array(4), [1], 1);
  const fb: ForwardBackward = model.forwardBackward(p64, new Float64Array(4), [1], 1);
  const a0: Float32Array | Float64Array = fb.layers[0].A;
  new SGD(p64, { lr: 0.1 }).step(new Float64Array(model.size));
  new Adam(p64).step(new Float64Array(model.size));
  const r: number = new SeededRandom(3).uniform() + new LogisticRegression({ inputs: 4, classes: 2 }).size;
  return A[0] + L32[0] + q + info.rate + m.allocatedBytes + pivot + ev.loss + a0.length + r;
}
`;

  for (const [module, resolution, lib] of [
    ['node16', 'node16', undefined],
    ['nodenext', 'nodenext', undefined],
    ['esnext', 'bundler', undefined],
    ['nodenext', 'nodenext', 'es2022,esnext.disposable'],
    ['esnext', 'bundler', 'es2022,dom,esnext.disposable'],
  ] as const) {
    it(`(c) type-checks with tsc --strict, module ${module}, moduleResolution ${resolution}, lib ${lib ?? 'default (es2022)'}`, () => {
      const dir = join(project, `ts-${resolution}-${lib ? 'lib' : 'default'}`);
      execFileSync('mkdir', ['-p', dir]);
      // a module file (.mts under node16/nodenext so that it is ESM whatever package.json says)
      const file = join(dir, resolution === 'bundler' ? 'use.ts' : 'use.mts');
      writeFileSync(file, TS);
      let out = '';
      try {
        out = sh(
          process.execPath,
          [tsc, '--strict', '--noEmit', '--target', 'es2022', '--module', module, '--moduleResolution', resolution, ...(lib ? ['--lib', lib] : []), file],
          project,
        );
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        out = `${err.stdout ?? ''}${err.stderr ?? ''}`;
        throw new Error(`tsc failed:\n${out}`);
      }
      expect(out).toBe('');
    });
  }

  it('(d) runs the README quick start and prints what it says', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Quick start'));
    const code = /```js\n([\s\S]*?)```/.exec(section)![1];
    writeFileSync(join(project, 'quick-start.mjs'), code);
    const stdout = sh(process.execPath, ['quick-start.mjs'], project);
    const expected = [...code.matchAll(/console\.log\(.*\);\s*\/\/\s*(.*)$/gm)].map((m) => m[1].trim());
    expect(stdout.trim().split('\n').map((l) => l.trim())).toEqual(expected);
  });
});

describe('the installed command line (npx empirical-fisher)', () => {
  const run = (...args: string[]) => {
    const r = spawnSync(join(project, 'node_modules', '.bin', 'empirical-fisher'), args, { cwd: project, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('--help prints the usage and exits 0; no command or an unknown one: usage on stderr, exit 2', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: empirical-fisher <command>/);
    expect(help.stdout).toMatch(/bench/);
    expect(help.stdout).toMatch(/demo/);
    const none = run();
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/Usage: empirical-fisher/);
    const unknown = run('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const badOption = run('bench', '--fast');
    expect(badOption.status).toBe(2);
    expect(badOption.stderr).toMatch(/unknown option '--fast'/);
    expect(run('bench', '--help').status).toBe(0);
  });

  it('demo says that it needs a clone of the repository and how to run it there (exit 1)', () => {
    const r = run('demo');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/needs a clone of the repository/);
    expect(r.stderr).toMatch(/npm run demo/);
    expect(r.stdout).toBe('');
  });

  it('bench --quick --json times every kernel in both precisions from dist/: finite, positive figures', () => {
    const r = run('bench', '--quick', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      machine: { package: string; simd: boolean };
      quick: boolean;
      results: { kernel: string; precision: string; flops: number | null; medianMs: number; bestMs: number; medianGflops: number | null; bestGflops: number | null; roundsMs: number[] }[];
    };
    expect(out.quick).toBe(true);
    expect(out.machine.simd).toBe(true);
    expect(out.machine.package).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    const kernels = new Set(out.results.map((x) => `${x.kernel} ${x.precision}`));
    for (const k of ['syrk', 'cholesky', 'gemm', 'eigh', 'fisher']) for (const p of ['f32', 'f64']) expect(kernels).toContain(`${k} ${p}`);
    for (const x of out.results) {
      const where = `${x.kernel} ${x.precision}`;
      for (const t of [x.medianMs, x.bestMs, ...x.roundsMs]) {
        expect(Number.isFinite(t) && t > 0, `${where}: time ${t}`).toBe(true);
      }
      expect(x.bestMs).toBeLessThanOrEqual(x.medianMs);
      if (x.kernel === 'eigh') {
        expect(x.flops).toBeNull();
        continue;
      }
      for (const g of [x.flops, x.medianGflops, x.bestGflops]) {
        expect(typeof g === 'number' && Number.isFinite(g) && g > 0, `${where}: ${g}`).toBe(true);
      }
      // GFLOP/s = flops / time, as the design counts them
      expect(x.medianGflops! * x.medianMs * 1e6).toBeCloseTo(x.flops!, -2);
    }
  });
});
