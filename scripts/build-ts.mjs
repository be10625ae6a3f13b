// Generates src/worker.generated.ts (scripts/build-worker.mjs), then bundles src/ into dist/index.js (ESM) and dist/index.cjs (CommonJS), each self-contained (the wasm
// bytes are inside; no imports at all), the models subpath into dist/models.js and dist/models.cjs
// (src/models only: the core stays an import of ./index.js / ./index.cjs, so the models and the
// core share one engine), and emits the type declarations with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

import { GENERATED, generatedText, workerSource } from './build-worker.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
writeFileSync(GENERATED, generatedText(await workerSource()));
rmSync(join(root, 'dist'), { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'neutral',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
};
const core = { ...common, entryPoints: [join(root, 'src/index.ts')] };
await build({ ...core, format: 'esm', outfile: join(root, 'dist/index.js') });
await build({ ...core, format: 'cjs', outfile: join(root, 'dist/index.cjs') });

/** src/models may reach the core only through '../index.js', which becomes the external `target`. */
const coreExternal = (target) => ({
  name: 'core-external',
  setup(b) {
    const models = join(root, 'src', 'models');
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point' || !args.importer) return undefined;
      const resolved = join(dirname(args.importer), args.path);
      if (resolved === join(root, 'src', 'index.js') || resolved === join(root, 'src', 'index.ts')) return { path: target, external: true };
      if (!resolved.startsWith(models + '/')) {
        throw new Error(`${relative(root, args.importer)} imports ${args.path}: src/models may import the core only from '../index.js'`);
      }
      return undefined;
    });
  },
});
const models = { ...common, entryPoints: [join(root, 'src/models/index.ts')] };
await build({ ...models, format: 'esm', outfile: join(root, 'dist/models.js'), plugins: [coreExternal('./index.js')] });
await build({ ...models, format: 'cjs', outfile: join(root, 'dist/models.cjs'), plugins: [coreExternal('./index.cjs')] });
for (const f of ['models.js', 'models.cjs']) {
  // the core (and its wasm) must not be inside the models bundle
  if (readFileSync(join(root, 'dist', f), 'utf8').includes('KERNELS_WASM_BASE64')) throw new Error(`dist/${f} holds a copy of the core`);
}

const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
writeFileSync(join(root, 'dist', 'models.d.ts'), "export * from './models/index.js';\n");
// keep only the declarations index.d.ts and models.d.ts reach (internal modules need none)
const reachable = new Set();
const visit = (rel) => {
  if (reachable.has(rel)) return;
  reachable.add(rel);
  const text = readFileSync(join(root, 'dist', rel), 'utf8');
  for (const m of text.matchAll(/(?:from |import\()['"](\.\.?\/[^'"]+)['"]/g)) {
    visit(posix.normalize(posix.join(posix.dirname(rel), m[1].replace(/\.js$/, '.d.ts'))));
  }
};
visit('index.d.ts');
visit('models.d.ts');
const prune = (dir) => {
  for (const f of readdirSync(join(root, 'dist', dir))) {
    const rel = dir ? `${dir}/${f}` : f;
    if (statSync(join(root, 'dist', rel)).isDirectory()) {
      prune(rel);
      if (readdirSync(join(root, 'dist', rel)).length === 0) rmSync(join(root, 'dist', rel), { recursive: true });
    } else if (rel.endsWith('.d.ts') && !reachable.has(rel)) rmSync(join(root, 'dist', rel));
  }
};
prune('');
console.log(`build-ts: dist/index.js, dist/index.cjs, dist/models.js, dist/models.cjs, ${[...reachable].join(', ')}`);
