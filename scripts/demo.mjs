#!/usr/bin/env node
// `npm run demo`: bundles examples/mnist/main.ts with esbuild into build/demo.mjs and runs it,
// forwarding the command-line arguments (npm run demo -- --quick). scripts/sweep.mjs reuses
// bundleAndRun for examples/mnist/sweep.ts.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bundles `entry` (relative to the repository root) into build/`name`.mjs, runs it with `args`
 * in a child Node process that shares this terminal, and returns its exit code.
 */
export async function bundleAndRun(entry, name, args) {
  const outfile = join(root, 'build', `${name}.mjs`);
  await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external', // the mnist package (and anything else in node_modules) loads at run time
    outfile,
    logLevel: 'warning',
  });
  const { status, signal } = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit' });
  return status ?? (signal ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await bundleAndRun('examples/mnist/main.ts', 'demo', process.argv.slice(2));
}
