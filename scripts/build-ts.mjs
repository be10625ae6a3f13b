// Bundles src/ into dist/index.js (ESM) and dist/index.cjs (CommonJS), each self-contained (the wasm
// bytes are inside; no imports at all), and emits the type declarations with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, posix, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
rmSync(join(root, 'dist'), { recursive: true, force: true });
const common = {
  entryPoints: [join(root, 'src/index.ts')],
  bundle: true,
  platform: 'neutral',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
};
await build({ ...common, format: 'esm', outfile: join(root, 'dist/index.js') });
await build({ ...common, format: 'cjs', outfile: join(root, 'dist/index.cjs') });
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
// keep only the declarations index.d.ts reaches (internal modules need none)
const reachable = new Set();
const visit = (rel) => {
  if (reachable.has(rel)) return;
  reachable.add(rel);
  const text = readFileSync(join(root, 'dist', rel), 'utf8');
  for (const m of text.matchAll(/(?:from |import\()['"](\.\.?\/[^'"]+)['"]/g)) {
    visit(posix.join(posix.dirname(rel), m[1]).replace(/\.js$/, '.d.ts'));
  }
};
visit('index.d.ts');
for (const f of readdirSync(join(root, 'dist'), { recursive: true })) {
  const rel = String(f).split(sep).join('/');
  if (rel.endsWith('.d.ts') && !reachable.has(rel)) rmSync(join(root, 'dist', rel));
}
console.log(`build-ts: dist/index.js, dist/index.cjs, ${[...reachable].join(', ')}`);
