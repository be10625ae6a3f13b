// npm run bench -- [options]: bundles bench/main.ts (which imports the library from ../src, so the
// bench always measures the current source) into build/bench.mjs with esbuild, then runs it with
// the command-line arguments. Packages (benchmark, ml-matrix) stay external and load from
// node_modules. The peak probe's worker (bench/peak-worker-node.ts) goes next to it as
// build/bench-peak-worker.mjs. The wasm must be built first: node scripts/build-wasm.mjs.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'build', 'bench.mjs');

try {
  await build({
    entryPoints: { bench: join(root, 'bench', 'main.ts'), 'bench-peak-worker': join(root, 'bench', 'peak-worker-node.ts') },
    outdir: join(root, 'build'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
} catch {
  // esbuild has already printed the errors
  process.exit(1);
}

const { main } = await import(pathToFileURL(outfile).href);
process.exitCode = await main(process.argv.slice(2));
